package main

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestTuningFlagsZero checks that --grace 0 and --tolerance 0 are refused
// as bad input, not silently replaced by the defaults, and that what is
// given is what the run uses (issue 13, item 5).
func TestTuningFlagsZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args          []string
		wantErr       string
		grace, tolera time.Duration
	}{
		{nil, "", 24 * time.Hour, 30 * time.Minute},
		{[]string{"--grace", "0"}, "--grace 0s and --tolerance 30m0s must be positive", 0, 0},
		{[]string{"--tolerance", "0"}, "--grace 24h0m0s and --tolerance 0s must be positive", 0, 0},
		{[]string{"--grace", "0s", "--tolerance", "0s"}, "must be positive", 0, 0},
		{[]string{"--grace", "-1h"}, "must not be negative", 0, 0},
		{[]string{"--grace", "2h", "--tolerance", "1m"}, "", 2 * time.Hour, time.Minute},
		{[]string{"--grace", "1m", "--tolerance", "2m"}, "must not exceed --grace", 0, 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var o runOptions
			f := pflag.NewFlagSet("run", pflag.ContinueOnError)
			o.addTuningFlags(f)
			if err := f.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			o.tz = "Africa/Nairobi" // whatever RECONCILE_TZ says
			cfg, err := o.tuning()
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case cfg.Grace != tt.grace || cfg.Tolerance != tt.tolera:
				t.Errorf("grace %s, tolerance %s; want %s, %s", cfg.Grace, cfg.Tolerance, tt.grace, tt.tolera)
			}
		})
	}
}
