package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/reports"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// TestRunReadsBackToTheLastSettlement: a merchant settled on weekdays. The
// nightly run of Monday 9 March 2026 must compare Monday's settlement with
// Friday to Sunday's takings, which lie before its 24 h look-around.
func TestRunReadsBackToTheLastSettlement(t *testing.T) {
	t.Parallel()
	// Friday's settlement pays Thursday; Friday, Saturday and Sunday take
	// 1,000.00 KES each; Monday's settlement pays the 3,000.00.
	st, nairobi := storeWithRecords(t, `
		('kopokopo', 'settlement', 'S-FRI', '', '', '', 'KES', 50000, 'succeeded', 'Transferred', '2026-03-06 06:00+03', '', 'webhook'),
		('kopokopo', 'payment', 'P-FRI', '', 'OJA', 'T1', 'KES', 100000, 'succeeded', 'Received', '2026-03-06 12:00+03', '', 'webhook'),
		('kopokopo', 'payment', 'P-SAT', '', 'OJB', 'T1', 'KES', 100000, 'succeeded', 'Received', '2026-03-07 12:00+03', '', 'webhook'),
		('kopokopo', 'payment', 'P-SUN', '', 'OJC', 'T1', 'KES', 100000, 'succeeded', 'Received', '2026-03-08 12:00+03', '', 'webhook'),
		('kopokopo', 'settlement', 'S-MON', '', '', '', 'KES', 300000, 'succeeded', 'Transferred', '2026-03-09 06:00+03', '', 'webhook')`)
	ctx := context.Background()
	monday, err := reconcile.ParseWindow("2026-03-09", "2026-03-09", nairobi)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		lookBack  time.Duration
		variances int
	}{
		{"a week back finds Friday's settlement", 0, 0},
		{"the look-around alone misses Friday", 24 * time.Hour, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(ctx, st, RunConfig{Window: monday, Zone: nairobi, Formats: reports.FormatCSV,
				OutDir: t.TempDir(), SettlementLookBack: tt.lookBack, PerCompany: []reconcile.Provider{testprov.KopoKopo}})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.ByKind[reconcile.SettlementVariance]; got != tt.variances {
				t.Errorf("%d settlement variances, want %d: %+v", got, tt.variances, res.Settlements)
			}
		})
	}
}

// TestRunReadsBackForStaleAfter: with --stale-after longer than the
// look-around, the nightly run of the day a pending STK push becomes stale
// still sees it, and reports it once.
func TestRunReadsBackForStaleAfter(t *testing.T) {
	t.Parallel()
	st, nairobi := storeWithRecords(t, `
		('kopokopo', 'payment', 'STK-1', 'ORDER-1', '', 'T1', 'KES', 0, 'pending', 'Pending', '2026-03-07 10:00+03', '', 'import')`)
	ctx := context.Background()
	reported := 0
	for _, day := range []string{"2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"} {
		w, err := reconcile.ParseWindow(day, day, nairobi)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(ctx, st, RunConfig{Window: w, Zone: nairobi, Formats: reports.FormatCSV, OutDir: t.TempDir(), StaleAfter: 48 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		n := res.ByKind[reconcile.StatusMismatch]
		if want := map[bool]int{true: 1, false: 0}[day == "2026-03-09"]; n != want {
			t.Errorf("%s: %d stale reports, want %d", day, n, want)
		}
		reported += n
	}
	if reported != 1 {
		t.Errorf("reported %d times over four nightly runs, want once", reported)
	}
}

// storeWithRecords returns a private store holding the provider records of
// values, a list of SQL row tuples, and the Nairobi zone.
func storeWithRecords(t *testing.T, values string) (*store.Store, *time.Location) {
	t.Helper()
	st := store.New(pgtest.New(t))
	nairobi, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().ExecContext(context.Background(), `INSERT INTO provider_records
		(provider, kind, tx_id, merchant_ref, provider_ref, account, currency, amount_minor, status, provider_status, occurred_at, counterparty, source)
		VALUES `+values); err != nil {
		t.Fatal(err)
	}
	return st, nairobi
}
