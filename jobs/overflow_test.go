package jobs

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/reports"
	"github.com/mizani/reconcile/store"
)

// TestRunFailsOnOverflow: amounts whose sums go beyond int64 — two ledger
// entries of 90,000,000,000,000,000.00 KES, or two such payments — fail the
// run with an error saying which provider, currency and sum, record it
// failed and publish no report, instead of a negative ledger_total.
func TestRunFailsOnOverflow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		records string
		ledger  string
		want    []string
	}{
		{name: "two 9e16 KES ledger entries",
			records: `('kopokopo', 'payment', 'P-1', '', 'OJA', 'T1', 'KES', 100000, 'succeeded', 'Received', '2026-03-02 12:00+03', '', 'webhook')`,
			ledger: `('kopokopo', 'OJA', 100000, 'KES', 'paid', '2026-03-02 11:59+03'),
				('kopokopo', 'BIG-1', 9000000000000000000, 'KES', 'paid', '2026-03-02 10:00+03'),
				('kopokopo', 'BIG-2', 9000000000000000000, 'KES', 'paid', '2026-03-02 10:01+03')`,
			want: []string{"run: matching:", "kopokopo KES: the ledger total sums beyond the largest amount Mizani can hold"}},
		{name: "two 9e16 KES payments",
			records: `('kopokopo', 'payment', 'P-1', '', 'OJA', 'T1', 'KES', 9000000000000000000, 'succeeded', 'Received', '2026-03-02 12:00+03', '', 'webhook'),
				('kopokopo', 'payment', 'P-2', '', 'OJB', 'T1', 'KES', 9000000000000000000, 'succeeded', 'Received', '2026-03-02 12:01+03', '', 'webhook')`,
			ledger: `('kopokopo', 'OJA', 9000000000000000000, 'KES', 'paid', '2026-03-02 11:59+03'),
				('kopokopo', 'OJB', 9000000000000000000, 'KES', 'paid', '2026-03-02 12:00+03')`,
			// The settlement's gross (on the reading goroutine) or the
			// summary's matched total (in the matcher) overflows first.
			want: []string{"run: ", "kopokopo KES", "sums beyond the largest amount Mizani can hold"}},
		{name: "a balance owed beyond int64 over two days",
			// The day before the window only opens the balance: its
			// payment is reported in its own window, the window's is
			// matched, and the two days owed together overflow.
			records: `('kopokopo', 'payment', 'P-0', '', 'OJ0', 'T1', 'KES', 9000000000000000000, 'succeeded', 'Received', '2026-03-01 12:00+03', '', 'webhook'),
				('kopokopo', 'payment', 'P-1', '', 'OJA', 'T1', 'KES', 9000000000000000000, 'succeeded', 'Received', '2026-03-02 12:00+03', '', 'webhook')`,
			ledger: `('kopokopo', 'OJ0', 9000000000000000000, 'KES', 'paid', '2026-03-01 11:59+03'),
				('kopokopo', 'OJA', 9000000000000000000, 'KES', 'paid', '2026-03-02 11:59+03')`,
			want: []string{"run: settlement: kopokopo KES", "on 2026-03-02: the unsettled balance sums beyond the largest amount Mizani can hold"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, nairobi := storeWithRecords(t, tt.records)
			ctx := context.Background()
			if _, err := st.DB().ExecContext(ctx, `INSERT INTO ledger_entries (provider, reference, amount_minor, currency, status, occurred_at) VALUES `+tt.ledger); err != nil {
				t.Fatal(err)
			}
			day, err := reconcile.ParseWindow("2026-03-02", "2026-03-02", nairobi)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			res, err := Run(ctx, st, RunConfig{Window: day, Zone: nairobi, Formats: reports.FormatCSV | reports.FormatXLSX, OutDir: out,
				Providers: []reconcile.Provider{testprov.KopoKopo}})
			if err == nil {
				t.Fatalf("the run succeeded: summary %+v", res.Summary)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			t.Logf("run failed: %v", err)
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Errorf("the failed run published %q in --out", entries[0].Name())
			}
			var outcome string
			if err := st.DB().GetContext(ctx, &outcome, `SELECT outcome FROM runs WHERE job = 'run' ORDER BY id DESC LIMIT 1`); err != nil {
				t.Fatal(err)
			}
			if outcome != store.OutcomeFailed {
				t.Errorf("the failed run is recorded %q, want %q", outcome, store.OutcomeFailed)
			}
		})
	}
}
