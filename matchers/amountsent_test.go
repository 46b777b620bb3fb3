package matchers_test

import (
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
)

// TestAmountSentUnread covers records whose amount as sent could not be
// read in their currency (Record.AmountSent with AmountKnown false): more
// precise than the ledger's currency allows, it is an amount_mismatch saying
// so, never rounded into a match; with no currency at all (no ledger entry)
// the missing_in_ledger sentence shows the amount as sent.
func TestAmountSentUnread(t *testing.T) {
	t.Parallel()
	type L = []reconcile.LedgerEntry
	type R = []reconcile.Record
	pixelXOF := func(minor int64) func(*reconcile.LedgerEntry) {
		return func(l *reconcile.LedgerEntry) {
			l.Provider, l.Amount = testprov.Pixel, reconcile.Money{Minor: minor, Currency: "XOF"}
		}
	}
	sent := func(s string, cur reconcile.Currency) func(*reconcile.Record) {
		return func(r *reconcile.Record) {
			r.Provider, r.ProviderRef = testprov.Pixel, "MP.1"
			r.Amount, r.AmountKnown, r.AmountSent = reconcile.Money{Currency: cur}, false, s
		}
	}
	tests := []struct {
		name   string
		ledger L
		recs   R
		kind   reconcile.DiscrepancyKind
		want   string
	}{
		{"more precise than XOF", L{led("O1", pixelXOF(200))}, R{rec("T1", "O1", sent("200.50", "XOF"))},
			reconcile.AmountMismatch,
			"Ledger says 200 XOF paid for O1; Pixel reported 200.50, more precise than XOF allows (MP.1, reference O1)"},
		{"no currency, no ledger entry", nil, R{rec("T1", "O9", sent("100", ""))},
			reconcile.MissingInLedger,
			"Pixel received 100 (MP.1, reference O9; currency not reported); the ledger has no entry for it"},
		{"more precise, no ledger entry", nil, R{rec("T1", "O9", sent("7.5", "XOF"))},
			reconcile.MissingInLedger,
			"Pixel received 7.5 (MP.1, reference O9; more precise than XOF allows); the ledger has no entry for it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := run(t, tt.ledger, tt.recs, nil)
			if len(c.discs) != 1 || len(c.matches) != 0 {
				t.Fatalf("got %d discrepancies %q and %d matches; want one discrepancy", len(c.discs), details(c.discs), len(c.matches))
			}
			d := c.discs[0]
			if d.Kind != tt.kind || d.Detail != tt.want {
				t.Fatalf("got %s %q\nwant %s %q", d.Kind, d.Detail, tt.kind, tt.want)
			}
			// The bridge counts no provider money for it (matchers.Account):
			// Difference is minus the ledger amount counted.
			if d.ProviderAmountKnown || d.ProviderCounted != 0 || d.Difference != -d.LedgerCounted {
				t.Errorf("an unread amount was counted: provider %d known %v counted %d diff %d", d.ProviderAmount, d.ProviderAmountKnown, d.ProviderCounted, d.Difference)
			}
		})
	}
}

func details(ds []reconcile.Discrepancy) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Detail
	}
	return out
}
