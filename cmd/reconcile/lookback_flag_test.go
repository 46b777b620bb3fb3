package main

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/mizani/reconcile/jobs"
	"github.com/mizani/reconcile/matchers"
)

// TestSettlementLookBackFlag (issue 14, item 9): --settlement-look-back 0
// asks for the least look-back, never silently for the week's default;
// --bank-lag-days is passed on, and below a day refused.
func TestSettlementLookBackFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		wantErr  string
		lookBack time.Duration
		lag      int
	}{
		{nil, "", jobs.DefaultSettlementLookBack, matchers.DefaultBankLagDays},
		{[]string{"--settlement-look-back", "0"}, "", jobs.LeastSettlementLookBack, matchers.DefaultBankLagDays},
		{[]string{"--settlement-look-back", "1s"}, "", time.Second, matchers.DefaultBankLagDays},
		{[]string{"--settlement-look-back", "240h", "--bank-lag-days", "1"}, "", 240 * time.Hour, 1},
		{[]string{"--settlement-look-back", "-1h"}, "must not be negative", 0, 0},
		{[]string{"--bank-lag-days", "0"}, "--bank-lag-days must be at least 1", 0, 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var o runOptions
			f := pflag.NewFlagSet("run", pflag.ContinueOnError)
			o.addTuningFlags(f)
			if err := f.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			o.tz = "Africa/Nairobi"
			cfg, err := o.tuning()
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case cfg.SettlementLookBack != tt.lookBack || cfg.BankLagDays != tt.lag:
				t.Errorf("look-back %s, bank lag %d; want %s, %d", cfg.SettlementLookBack, cfg.BankLagDays, tt.lookBack, tt.lag)
			}
		})
	}
}
