package matchers_test

import (
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/matchers"
)

// TestDetails pins the sentence of every kind, and the amounts reported
// beside it. The difference is the bridge's (matchers.Account): what the
// discrepancy adds to the provider total less what it adds to the ledger
// total, payouts and reversals negative — a tie counts the candidates it
// lists, a currency mismatch only the ledger amount leaving its currency.
func TestDetails(t *testing.T) {
	t.Parallel()
	type L = []reconcile.LedgerEntry
	type R = []reconcile.Record
	code := rProvRef("OJM6Q1W84K")
	unknown := func(r *reconcile.Record) { r.AmountKnown, r.Amount.Minor, r.Provider = false, 0, testprov.Pixel }
	tests := []struct {
		name   string
		ledger L
		recs   R
		mod    func(*matchers.Config)
		want   string
		ledAmt int64
		prov   int64
		known  bool
		diff   int64
	}{
		{"amount short", L{led("A1", lAmount(150000))}, R{rec("T1", "A1", code)}, nil,
			"Ledger says 1,500.00 KES paid for A1; Kopo Kopo received 1,000.00 KES (OJM6Q1W84K, reference A1) — 500.00 short", 150000, 100000, true, -50000},
		{"amount over", L{led("A1", lAmount(50000))}, R{rec("T1", "A1", code)}, nil,
			"Ledger says 500.00 KES paid for A1; Kopo Kopo received 1,000.00 KES (OJM6Q1W84K, reference A1) — 500.00 over", 50000, 100000, true, 50000},
		{"payout over", L{led("A1", lAmount(50000), func(e *reconcile.LedgerEntry) { e.Direction = reconcile.Out })}, R{rec("T1", "A1", code, rKind(reconcile.KindPayout))}, nil,
			"Ledger says 500.00 KES paid out for A1; Kopo Kopo paid out 1,000.00 KES (OJM6Q1W84K, reference A1) — 500.00 more paid out", 50000, 100000, true, -50000},
		{"payout short", L{led("A1", lAmount(150000), func(e *reconcile.LedgerEntry) { e.Direction = reconcile.Out })}, R{rec("T1", "A1", code, rKind(reconcile.KindPayout))}, nil,
			"Ledger says 1,500.00 KES paid out for A1; Kopo Kopo paid out 1,000.00 KES (OJM6Q1W84K, reference A1) — 500.00 less paid out", 150000, 100000, true, 50000},
		{"missing in provider", L{led("A1")}, nil, nil,
			"Ledger says 1,000.00 KES paid for A1; Kopo Kopo has no record of it", 100000, 0, false, -100000},
		{"missing in ledger", nil, R{rec("T1", "", code)}, nil,
			"Kopo Kopo received 1,000.00 KES (OJM6Q1W84K); the ledger has no entry for it", 0, 100000, true, 100000},
		{"missing in ledger, amount not reported", nil, R{rec("T1", "A1", unknown)}, nil,
			"Pixel received a payment (T1, reference A1; amount not reported); the ledger has no entry for it", 0, 0, false, 0},
		{"currency", L{led("A1")}, R{rec("T1", "A1", func(r *reconcile.Record) { r.Amount.Currency = "UGX" })}, nil,
			"Ledger says 1,000.00 KES paid for A1; Kopo Kopo received 100,000 UGX (T1, reference A1) — a different currency", 100000, 100000, true, -100000},
		{"status: ledger pending", L{led("A1", lStatus(reconcile.LedgerPending))}, R{rec("T1", "A1")}, nil,
			"Ledger says 1,000.00 KES pending for A1; Kopo Kopo received 1,000.00 KES (T1, reference A1)", 100000, 100000, true, 100000},
		{"status: provider failed", L{led("A1")}, R{rec("T1", "A1", rStatus(reconcile.StatusFailed))}, nil,
			"Ledger says 1,000.00 KES paid for A1; Kopo Kopo shows 1,000.00 KES (T1, reference A1) as failed", 100000, 100000, true, -100000},
		{"status: refunded without reversal", L{led("A1", lStatus(reconcile.LedgerRefunded))}, R{rec("T1", "A1")}, nil,
			"Ledger says 1,000.00 KES refunded for A1; Kopo Kopo received 1,000.00 KES (T1, reference A1) and shows no refund or reversal", 100000, 100000, true, 100000},
		{"stale pending", nil, R{rec("T1", "", code, rStatus(reconcile.StatusPending))}, func(c *matchers.Config) { c.Now = noon.Add(30 * time.Hour) },
			"Kopo Kopo shows 1,000.00 KES (OJM6Q1W84K) still pending after 30 hours; the ledger has no entry for it", 0, 100000, true, 0},
		{"duplicate", L{led("A1")}, R{rec("T1", "A1"), rec("T2", "A1", rAt(time.Minute))}, nil,
			"Extra payment: Kopo Kopo received 1,000.00 KES (T2, reference A1), but A1 (1,000.00 KES) is already accounted for by T1, reference A1", 100000, 100000, true, 100000},
		{"paid, provider still pending", L{led("A1")}, R{rec("T1", "A1", rStatus(reconcile.StatusPending))}, func(c *matchers.Config) { c.Now = noon.Add(25 * time.Hour) },
			"Ledger says 1,000.00 KES paid for A1; Kopo Kopo shows 1,000.00 KES (T1, reference A1) still pending after 25 hours", 100000, 100000, true, -100000},
		{"paid out, not in ledger", nil, R{rec("T1", "", code, rKind(reconcile.KindPayout))}, nil,
			"Kopo Kopo paid out 1,000.00 KES (OJM6Q1W84K); the ledger has no entry for it", 0, 100000, true, -100000},
		{"reversed", L{led("A1")}, R{rec("T1", "A1", code), rec("V1", "", rReverses("T1"), rAt(time.Hour))}, nil,
			"Ledger says 1,000.00 KES paid for A1; Kopo Kopo received 1,000.00 KES (OJM6Q1W84K, reference A1) and reversed it (V1)", 100000, 100000, true, -100000},
		{"lone reversal", nil, R{rec("V1", "", rReverses("T9"))}, nil,
			"Kopo Kopo reversed 1,000.00 KES (V1) of payment T9, which is not in this run", 0, 100000, true, -100000},
		{"tie", L{led("A1")}, R{rec("T1", "", rAt(-5*time.Minute)), rec("T2", "", rAt(5*time.Minute))}, nil,
			"Ledger says 1,000.00 KES paid for A1; no Kopo Kopo record carries that reference, and 2 payments of the same amount within 30 minutes could be it (T1; T2) — not matched automatically", 100000, 0, false, 100000},
		{"tie from the record", L{led("A1", lAt(-5*time.Minute)), led("A2", lAt(5*time.Minute))}, R{rec("T1", "")}, nil,
			"Kopo Kopo received 1,000.00 KES (T1); no ledger entry carries its reference, and 2 ledger entries of the same amount within 30 minutes could be it (A1, A2) — not matched automatically", 0, 100000, true, 100000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := run(t, tt.ledger, tt.recs, tt.mod)
			var d *reconcile.Discrepancy
			for i := range c.discs {
				if c.discs[i].Detail == tt.want {
					d = &c.discs[i]
				}
			}
			if d == nil {
				var got []string
				for _, d := range c.discs {
					got = append(got, d.Detail)
				}
				t.Fatalf("no discrepancy says\n  %s\ngot\n  %q", tt.want, got)
			}
			if d.LedgerAmount != tt.ledAmt || d.ProviderAmount != tt.prov || d.ProviderAmountKnown != tt.known || d.Difference != tt.diff {
				t.Errorf("amounts ledger=%d provider=%d known=%v diff=%d, want %d %d %v %d",
					d.LedgerAmount, d.ProviderAmount, d.ProviderAmountKnown, d.Difference, tt.ledAmt, tt.prov, tt.known, tt.diff)
			}
			if d.Currency == "" || d.Provider == "" || d.Direction == "" || d.OccurredAt.IsZero() {
				t.Errorf("discrepancy lacks provider, direction, currency or time: %+v", d)
			}
		})
	}
}
