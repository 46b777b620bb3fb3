package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/reports"
)

// TestSettlementLookBackUsed (issue 14, item 9): the least look-back is
// the matcher's read-back, not the week's default; zero is the default; a
// negative look-back other than LeastSettlementLookBack is refused; and the
// run records the look-back it used.
func TestSettlementLookBackUsed(t *testing.T) {
	t.Parallel()
	w := reconcile.Window{From: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)}
	least := RunConfig{Window: w, OutDir: "x"}
	if err := least.validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		given   time.Duration
		want    time.Duration
		wantErr string
	}{
		{"zero: the default", 0, DefaultSettlementLookBack, ""},
		{"the least", LeastSettlementLookBack, least.readBack(), ""},
		{"a second: the least", time.Second, least.readBack(), ""},
		{"ten days", 240 * time.Hour, 240 * time.Hour, ""},
		{"negative", -2 * time.Hour, 0, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := RunConfig{Window: w, OutDir: "x", SettlementLookBack: tt.given}
			err := c.validate()
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case c.SettlementLookBack != tt.want:
				t.Errorf("look-back %s, want %s", c.SettlementLookBack, tt.want)
			}
		})
	}

	st, nairobi := storeWithRecords(t, `
		('kopokopo', 'payment', 'P-SUN', '', 'OJC', 'T1', 'KES', 100000, 'succeeded', 'Received', '2026-03-08 12:00+03', '', 'webhook')`)
	monday, err := reconcile.ParseWindow("2026-03-09", "2026-03-09", nairobi)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), st, RunConfig{Window: monday, Zone: nairobi, Formats: reports.FormatCSV, OutDir: t.TempDir(),
		SettlementLookBack: LeastSettlementLookBack, PerCompany: []reconcile.Provider{testprov.KopoKopo}})
	if err != nil {
		t.Fatal(err)
	}
	var recorded string
	if err := st.DB().QueryRowContext(context.Background(), `SELECT params->>'settlement_look_back' FROM runs WHERE id = $1`, res.RunID).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != least.readBack().String() {
		t.Errorf("the run recorded a look-back of %q, want the one it used, %s", recorded, least.readBack())
	}
}
