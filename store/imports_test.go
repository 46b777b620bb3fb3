package store_test

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

func entry(ref string, minor int64, status reconcile.LedgerStatus) reconcile.LedgerEntry {
	return reconcile.LedgerEntry{Reference: ref, Provider: testprov.Kora, Direction: reconcile.In,
		Amount: reconcile.Money{Minor: minor, Currency: "NGN"}, Status: status, OccurredAt: t0, Account: "M1"}
}

func seq(entries ...reconcile.LedgerEntry) iter.Seq2[reconcile.LedgerEntry, error] {
	return func(yield func(reconcile.LedgerEntry, error) bool) {
		for _, e := range entries {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// failing yields entries, then err.
func failing(err error, entries ...reconcile.LedgerEntry) iter.Seq2[reconcile.LedgerEntry, error] {
	return func(yield func(reconcile.LedgerEntry, error) bool) {
		for e := range seq(entries...) {
			if !yield(e, nil) {
				return
			}
		}
		yield(reconcile.LedgerEntry{}, err)
	}
}

// TestImportLedger runs each case against a ledger holding only A=100 pending
// (prior import) or nothing, so both the COPY path and the merge path are
// exercised.
func TestImportLedger(t *testing.T) {
	t.Parallel()
	a := entry("A", 100, reconcile.LedgerPending)
	b := entry("B", 200, reconcile.LedgerPaid)
	aPaid := entry("A", 100, reconcile.LedgerPaid)
	aOut := entry("A", 100, reconcile.LedgerRefunded)
	aOut.Direction = reconcile.Out
	boom := errors.New("line 7: bad amount")
	tests := []struct {
		name    string
		prior   []reconcile.LedgerEntry
		entries iter.Seq2[reconcile.LedgerEntry, error]
		want    store.LedgerImport
		wantErr error
		// wantRows maps reference/direction to status after the import.
		wantRows map[string]reconcile.LedgerStatus
	}{
		{"into empty ledger", nil, seq(a, b), store.LedgerImport{New: 2}, nil,
			map[string]reconcile.LedgerStatus{"A/in": "pending", "B/in": "paid"}},
		{"same entries again", []reconcile.LedgerEntry{a}, seq(a), store.LedgerImport{Unchanged: 1}, nil,
			map[string]reconcile.LedgerStatus{"A/in": "pending"}},
		{"changed, new and other direction", []reconcile.LedgerEntry{a}, seq(aPaid, b, aOut), store.LedgerImport{New: 2, Updated: 1}, nil,
			map[string]reconcile.LedgerStatus{"A/in": "paid", "B/in": "paid", "A/out": "refunded"}},
		{"nothing to import", []reconcile.LedgerEntry{a}, seq(), store.LedgerImport{}, nil,
			map[string]reconcile.LedgerStatus{"A/in": "pending"}},
		{"error into empty ledger", nil, failing(boom, a, b), store.LedgerImport{}, boom, map[string]reconcile.LedgerStatus{}},
		{"error while merging", []reconcile.LedgerEntry{a}, failing(boom, aPaid, b), store.LedgerImport{}, boom,
			map[string]reconcile.LedgerStatus{"A/in": "pending"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := newStore(t)
			if len(tt.prior) > 0 {
				if _, err := s.ImportLedger(ctx, seq(tt.prior...)); err != nil {
					t.Fatal(err)
				}
			}
			var before time.Time
			s.DB().Get(&before, `SELECT coalesce(max(updated_at), 'epoch') FROM ledger_entries`)
			got, err := s.ImportLedger(ctx, tt.entries)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("ImportLedger = %+v, %v; want %+v, %v", got, err, tt.want, tt.wantErr)
			}
			rows := map[string]reconcile.LedgerStatus{}
			for e, err := range s.LedgerEntries(ctx, store.Filter{Window: reconcile.Window{From: t0, To: t0.Add(time.Hour)}}) {
				if err != nil {
					t.Fatal(err)
				}
				if e.Amount.Currency != "NGN" || e.Account != "M1" || !e.OccurredAt.Equal(t0) {
					t.Errorf("entry read back wrong: %+v", e)
				}
				rows[e.Reference+"/"+string(e.Direction)] = e.Status
			}
			if len(rows) != len(tt.wantRows) {
				t.Fatalf("ledger holds %v, want %v", rows, tt.wantRows)
			}
			for k, st := range tt.wantRows {
				if rows[k] != st {
					t.Fatalf("ledger holds %v, want %v", rows, tt.wantRows)
				}
			}
			if tt.want.New+tt.want.Updated == 0 {
				var after time.Time
				s.DB().Get(&after, `SELECT coalesce(max(updated_at), 'epoch') FROM ledger_entries`)
				if !after.Equal(before) {
					t.Fatalf("an import that changed nothing moved updated_at from %v to %v", before, after)
				}
			}
		})
	}
}

// TestImportLedgerConcurrent: imports of the same new entries racing into an
// empty ledger are serialized; one inserts, the others find them unchanged.
func TestImportLedgerConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	const n = 4
	var wg sync.WaitGroup
	results := make([]store.LedgerImport, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = s.ImportLedger(ctx, seq(entry("A", 1, reconcile.LedgerPaid), entry("B", 2, reconcile.LedgerPaid)))
		})
	}
	wg.Wait()
	var sum store.LedgerImport
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		sum.New += results[i].New
		sum.Updated += results[i].Updated
		sum.Unchanged += results[i].Unchanged
	}
	if want := (store.LedgerImport{New: 2, Unchanged: 2 * (n - 1)}); sum != want {
		t.Fatalf("imports summed to %+v, want %+v", sum, want)
	}
}

// generated yields n ledger entries: four providers and currencies, eleven
// columns, as BenchmarkLedgerImport1M in cmd/reconcile writes them to CSV.
func generated(n int) iter.Seq2[reconcile.LedgerEntry, error] {
	providers := []reconcile.Provider{testprov.KopoKopo, testprov.Pixel, testprov.IKhokha, testprov.Kora}
	currencies := []reconcile.Currency{"KES", "XOF", "ZAR", "NGN"}
	return func(yield func(reconcile.LedgerEntry, error) bool) {
		for i := range n {
			num := strconv.Itoa(i)
			e := reconcile.LedgerEntry{Reference: "REF-" + num, Provider: providers[i%4], Direction: reconcile.In,
				Amount: reconcile.Money{Minor: int64(1000 + i%900000), Currency: currencies[i%4]}, Status: reconcile.LedgerPaid,
				OccurredAt: t0.Add(time.Duration(i) * 600 * time.Millisecond), Account: "ACC" + strconv.Itoa(i%7),
				ProviderReference: "PR" + num, CustomerPhone: "+2547" + num, Description: "order " + num}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// BenchmarkImportLedger1M imports 1,000,000 entries through the store alone
// (no CSV), into an empty ledger and again over the same entries, reporting
// rows/s.
func BenchmarkImportLedger1M(b *testing.B) {
	const rows = 1_000_000
	ctx := context.Background()
	s := store.New(pgtest.New(b))
	for _, bc := range []struct {
		name string
		want store.LedgerImport
	}{
		{"empty", store.LedgerImport{New: rows}},
		{"reimport", store.LedgerImport{Unchanged: rows}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				if bc.name == "empty" {
					b.StopTimer()
					if _, err := s.DB().Exec(`TRUNCATE ledger_entries`); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				res, err := s.ImportLedger(ctx, generated(rows))
				if err != nil || res != bc.want {
					b.Fatalf("ImportLedger = %+v, %v; want %+v", res, err, bc.want)
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
