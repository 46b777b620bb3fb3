package matchers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/matchers"
)

// TestPartialRedemptionDetail: a single short record the provider marks
// Partial says so; two partial redemptions summing to the ledger amount are
// one match.
func TestPartialRedemptionDetail(t *testing.T) {
	t.Parallel()
	partial := func(minor int64) func(*reconcile.Record) {
		return func(r *reconcile.Record) { r.Provider, r.Amount.Minor, r.Partial = testprov.Kora, minor, true }
	}
	kora := func(l *reconcile.LedgerEntry) { l.Provider = testprov.Kora }

	c, _ := run(t, []reconcile.LedgerEntry{led("V1", kora)}, []reconcile.Record{rec("KPY-1", "V1", partial(40000))}, nil)
	if len(c.discs) != 1 || c.discs[0].Kind != reconcile.AmountMismatch ||
		!strings.HasSuffix(c.discs[0].Detail, "— 600.00 short: a partial redemption") {
		t.Errorf("single partial redemption: %+v", c.discs)
	}

	c, _ = run(t, []reconcile.LedgerEntry{led("V2", kora)},
		[]reconcile.Record{rec("KPY-2", "V2", partial(40000)), rec("KPY-3", "V2", partial(60000), rAt(1))}, nil)
	if len(c.discs) != 0 || len(c.matches) != 1 || len(c.matches[0].Records) != 2 {
		t.Errorf("two partial redemptions adding up: %d discrepancies %+v, %d matches", len(c.discs), c.discs, len(c.matches))
	}
}

// TestSettlementFeeOnPayer: a fee the payer paid on top of the amount does
// not reduce the merchant's net.
func TestSettlementFeeOnPayer(t *testing.T) {
	t.Parallel()
	window := reconcile.Window{From: eat(2, 0, 0).UTC(), To: eat(3, 0, 0).UTC()}
	s, err := matchers.NewSettlement(matchers.SettlementConfig{Window: window, Zone: nairobi, Fees: testFees(), PerCompany: perCompany})
	if err != nil {
		t.Fatal(err)
	}
	ngn := func(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "NGN"} }
	for _, r := range []reconcile.Record{
		settleRec(testprov.Kora, reconcile.KindPayment, "K1", ngn(500000), eat(2, 11, 0), func(r *reconcile.Record) {
			r.Account, r.Fee, r.VAT, r.FeeKnown = "", ngn(7500), ngn(563), true
		}),
		settleRec(testprov.Kora, reconcile.KindPayment, "K2", ngn(100000), eat(2, 12, 0), func(r *reconcile.Record) {
			r.Account, r.Fee, r.VAT, r.FeeKnown, r.FeeOnPayer = "", ngn(1500), ngn(113), true, true
		}),
	} {
		if err := s.AddRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	rows, _ := s.Result()
	if len(rows) != 1 || rows[0].Gross != 600000 || rows[0].Fees != 8063 || rows[0].NetExpected != 600000-8063 {
		t.Errorf("rows %+v, want gross 6,000.00, fees 80.63 (K1's only), net 5,919.37", rows)
	}
}

// TestSettlementByBankOnly: a provider that reports no settlements (Kora)
// is settled by its bank credits, compared with what it owes (T+1).
func TestSettlementByBankOnly(t *testing.T) {
	t.Parallel()
	ngn := func(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "NGN"} }
	window := reconcile.Window{From: eat(2, 0, 0).UTC(), To: eat(5, 0, 0).UTC()}
	for _, tt := range []struct {
		name       string
		credit     int64
		wantDiscs  int
		wantDetail string
	}{
		{"credit as owed", 500000 - 8063, 0, ""},
		{"credit short", 500000 - 8063 - 15050, 1, "Kora settled 4,768.87 NGN on 2026-03-03; 4,919.37 NGN was owed up to the end of 2026-03-02 — 150.50 short"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := matchers.NewSettlement(matchers.SettlementConfig{Window: window, Zone: nairobi, Fees: testFees(), PerCompany: perCompany, Tolerance: 100})
			if err != nil {
				t.Fatal(err)
			}
			r := settleRec(testprov.Kora, reconcile.KindPayment, "K1", ngn(500000), eat(2, 11, 0), func(r *reconcile.Record) {
				r.Account, r.Fee, r.VAT, r.FeeKnown = "", ngn(7500), ngn(563), true
			})
			if err := s.AddRecord(r); err != nil {
				t.Fatal(err)
			}
			if err := s.AddBankLine(reconcile.BankLine{ValueDate: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), Amount: ngn(tt.credit), Provider: testprov.Kora}); err != nil {
				t.Fatal(err)
			}
			rows, discs := s.Result()
			if len(discs) != tt.wantDiscs || (tt.wantDiscs > 0 && discs[0].Detail != tt.wantDetail) {
				t.Errorf("discrepancies %+v, want %d saying %q", discs, tt.wantDiscs, tt.wantDetail)
			}
			// What the credit fell short of is still owed (carried).
			if len(rows) != 2 || rows[1].Settled != tt.credit || rows[1].Unsettled != 500000-8063-tt.credit {
				t.Errorf("rows %+v, want the credit as 3 March's settlement", rows)
			}
		})
	}
}
