package matchers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/matchers"
)

// big is 90,000,000,000,000,000.00 KES in minor units: one fits in int64,
// two do not.
const big int64 = 9_000_000_000_000_000_000

// TestSummaryOverflow: totals near math.MaxInt64 that would wrap are an
// error naming the provider, currency and total, never a negative total.
func TestSummaryOverflow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		ledger []reconcile.LedgerEntry
		recs   []reconcile.Record
		want   string // "" = no error
		total  int64  // LedgerTotal when want == ""
	}{
		{name: "one 9e16 KES entry fits",
			ledger: []reconcile.LedgerEntry{led("L1", lAmount(big))}, total: big},
		{name: "two 9e16 KES entries missing at the provider",
			ledger: []reconcile.LedgerEntry{led("L1", lAmount(big)), led("L2", lAmount(big), lAt(time.Minute))},
			want:   "kopokopo KES: the ledger total sums beyond"},
		{name: "two 9e16 KES entries matched",
			ledger: []reconcile.LedgerEntry{led("L1", lAmount(big)), led("L2", lAmount(big), lAt(time.Minute))},
			recs:   []reconcile.Record{rec("T1", "L1", rAmount(big)), rec("T2", "L2", rAmount(big), rAt(time.Minute))},
			want:   "kopokopo KES: the matched total sums beyond"},
		{name: "two 9e16 KES records missing in the ledger",
			recs: []reconcile.Record{rec("T1", "X1", rAmount(big)), rec("T2", "X2", rAmount(big), rAt(time.Minute))},
			want: "kopokopo KES: the discrepancy total sums beyond"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for i := range tt.ledger {
				tt.ledger[i].ID = int64(i + 1)
			}
			sum := matchers.NewSummary(day)
			cfg := matchers.Config{Window: day, Now: day.To}
			_, err := matchers.Match(context.Background(), cfg, seq(tt.ledger), seq(tt.recs), sum)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				lines := sum.Lines()
				if len(lines) != 1 || lines[0].LedgerTotal != tt.total {
					t.Fatalf("lines %+v, want one with ledger total %d", lines, tt.total)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			for _, l := range sum.Lines() {
				if l.LedgerTotal < 0 || l.ProviderTotal < 0 || l.MatchedTotal < 0 {
					t.Errorf("a total wrapped: %+v", l)
				}
			}
		})
	}
}

// TestAccountOverflow: a report whose records sum beyond int64 is an error
// of Account, and of the engine reporting it.
func TestAccountOverflow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    reconcile.Discrepancy
		want string
	}{
		{"records sum beyond int64", reconcile.Discrepancy{Kind: reconcile.MissingInLedger, Provider: "kopokopo", Currency: "KES",
			Records: []reconcile.Record{rec("T1", "X", rAmount(big)), rec("T2", "X", rAmount(big))}},
			"kopokopo KES: the provider amounts of the missing_in_ledger report sums beyond"},
		{"difference beyond int64", reconcile.Discrepancy{Kind: reconcile.AmountMismatch, Provider: "kopokopo", Currency: "KES",
			Ledger:  ptr(led("L1", lAmount(big), func(l *reconcile.LedgerEntry) { l.Direction = reconcile.Out })),
			Records: []reconcile.Record{rec("T1", "L1", rAmount(big))}},
			"kopokopo KES: the difference of the amount_mismatch report sums beyond"},
		{"fits", reconcile.Discrepancy{Kind: reconcile.MissingInLedger, Provider: "kopokopo", Currency: "KES",
			Records: []reconcile.Record{rec("T1", "X", rAmount(big))}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.d
			err := matchers.Account(&d)
			if tt.want == "" {
				if err != nil || d.ProviderCounted != big {
					t.Fatalf("Account: %v, provider counted %d, want %d", err, d.ProviderCounted, big)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if d.ProviderCounted != 0 || d.Difference != 0 {
				t.Errorf("fields left wrapped: counted %d, difference %d", d.ProviderCounted, d.Difference)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
