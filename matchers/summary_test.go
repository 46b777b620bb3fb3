package matchers_test

import (
	"context"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/matchers"
)

func TestSummary(t *testing.T) {
	t.Parallel()
	ledger := []reconcile.LedgerEntry{
		led("A1"),                  // matched
		led("A2", lAmount(150000)), // amount_mismatch: 500.00 short
		led("A3"),                  // missing_in_provider
		led("A4", lStatus(reconcile.LedgerFailed)), // quiet: counted, no money moved
		led("A5"), // matched, plus a duplicate
		led("P1", func(l *reconcile.LedgerEntry) { l.Direction, l.Provider = reconcile.Out, testprov.Pixel }), // payout matched
	}
	recs := []reconcile.Record{
		rec("T1", "A1"),
		rec("T2", "A2"),
		rec("T5", "A5"),
		rec("T7", "Z9", rAmount(30000)), // missing_in_ledger
		rec("T6", "A5", rAt(time.Minute)),
		rec("TP-later", "P1-none", rStatus(reconcile.StatusFailed), rAt(2*time.Minute)), // quiet: counted, no money moved
		rec("TP", "P1", rKind(reconcile.KindPayout), rAt(3*time.Minute), func(r *reconcile.Record) { r.Provider = testprov.Pixel }),
	}
	for i := range ledger {
		ledger[i].ID = int64(i + 1)
	}
	sum := matchers.NewSummary(day)
	var c collector
	cfg := matchers.Config{Window: day, Now: day.To}
	if _, err := matchers.Match(context.Background(), cfg, seq(ledger), seq(recs), matchers.Tee(&c, sum)); err != nil {
		t.Fatal(err)
	}
	if len(c.matches) != 3 || len(c.discs) != 4 {
		t.Fatalf("tee passed on %d matches and %d discrepancies, want 3 and 4", len(c.matches), len(c.discs))
	}
	if err := sum.Discrepancy(reconcile.Discrepancy{Kind: reconcile.SettlementVariance, Provider: testprov.KopoKopo, Currency: "KES", Difference: -275}); err != nil {
		t.Fatal(err)
	}
	// Differences: A2 −500.00 short, A3 −1,000.00 missing, T7 +300.00 not
	// in the ledger, T6 +1,000.00 extra; the settlement variance is the
	// second bridge, outside the discrepancy count and total.
	kes := reconcile.SummaryLine{Provider: testprov.KopoKopo, Currency: "KES",
		LedgerCount: 5, LedgerTotal: 100000 + 150000 + 100000 + 100000,
		ProviderCount: 6, ProviderTotal: 5*100000 - 70000,
		MatchedCount: 2, MatchedTotal: 200000,
		DiscrepancyCount: 4, DiscrepancyTotal: -50000 - 100000 + 30000 + 100000,
		LedgerPaid: 4, ProviderMoved: 5}
	kes.Bridge[reconcile.KindIndex(reconcile.MissingInProvider)] = reconcile.BridgeStep{Count: 1, Amount: -100000}
	kes.Bridge[reconcile.KindIndex(reconcile.MissingInLedger)] = reconcile.BridgeStep{Count: 1, Amount: 30000}
	kes.Bridge[reconcile.KindIndex(reconcile.AmountMismatch)] = reconcile.BridgeStep{Count: 1, Amount: -50000}
	kes.Bridge[reconcile.KindIndex(reconcile.DuplicatePayment)] = reconcile.BridgeStep{Count: 1, Amount: 100000}
	kes.Bridge[reconcile.KindIndex(reconcile.SettlementVariance)] = reconcile.BridgeStep{Count: 1, Amount: -275}
	want := []reconcile.SummaryLine{
		kes,
		{Provider: testprov.Pixel, Currency: "KES",
			LedgerCount: 1, LedgerTotal: -100000, ProviderCount: 1, ProviderTotal: -100000,
			MatchedCount: 1, MatchedTotal: -100000, LedgerPaid: 1, ProviderMoved: 1},
	}
	for _, l := range want {
		if u := l.Unexplained(); u != 0 {
			t.Errorf("%s %s: the wanted line leaves %d unexplained", l.Provider, l.Currency, u)
		}
	}
	got := sum.Lines()
	if len(got) != len(want) {
		t.Fatalf("lines %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestTeeStopsAtFirstError(t *testing.T) {
	t.Parallel()
	var after collector
	out := matchers.Tee(failOutput{errDisk}, &after)
	if err := out.Match(reconcile.Match{}); err != errDisk {
		t.Errorf("Match error %v, want %v", err, errDisk)
	}
	if err := out.Discrepancy(reconcile.Discrepancy{}); err != errDisk {
		t.Errorf("Discrepancy error %v, want %v", err, errDisk)
	}
	if len(after.order) != 0 {
		t.Errorf("outputs after the failing one were called: %q", after.order)
	}
}

// TestSummaryRefundNetsToNothing: a payment refunded in the ledger and
// reversed by the provider moved no money on either side, so the ledger,
// provider and matched totals all leave it out, while counting it.
func TestSummaryRefundNetsToNothing(t *testing.T) {
	t.Parallel()
	ledger := []reconcile.LedgerEntry{led("A1"), led("A2", lStatus(reconcile.LedgerRefunded))}
	recs := []reconcile.Record{
		rec("T1", "A1"),
		rec("T2", "A2", rStatus(reconcile.StatusReversed), rAt(time.Minute)),
		rec("V2", "", rReverses("T2"), rAt(time.Hour)),
	}
	for i := range ledger {
		ledger[i].ID = int64(i + 1)
	}
	sum := matchers.NewSummary(day)
	var c collector
	if _, err := matchers.Match(context.Background(), matchers.Config{Window: day, Now: day.To}, seq(ledger), seq(recs), matchers.Tee(&c, sum)); err != nil {
		t.Fatal(err)
	}
	want := reconcile.SummaryLine{Provider: testprov.KopoKopo, Currency: "KES",
		LedgerCount: 2, LedgerTotal: 100000, ProviderCount: 3, ProviderTotal: 100000, MatchedCount: 2, MatchedTotal: 100000,
		LedgerPaid: 1, ProviderMoved: 3}
	if got := sum.Lines(); len(got) != 1 || got[0] != want {
		t.Errorf("summary %+v\nwant %+v (matches %v, discrepancies %v)", got, want, c.order, c.discs)
	}
}

// TestAccount pins the bridge fields of each shape of discrepancy: what it
// adds to the ledger and the provider totals, and the difference between
// them, payouts and reversals negative.
func TestAccount(t *testing.T) {
	t.Parallel()
	paid := led("A1")
	payout := led("P1", func(l *reconcile.LedgerEntry) { l.Direction = reconcile.Out })
	refunded := led("A2", lStatus(reconcile.LedgerRefunded))
	pay := rec("T1", "A1")
	usd := rec("T1", "A1", func(r *reconcile.Record) { r.Amount = reconcile.Money{Minor: 2000, Currency: "USD"} })
	reversedNoRecord := rec("T1", "A1", rStatus(reconcile.StatusReversed))
	reversal := rec("V1", "", rReverses("T1"))
	paidOut := rec("T9", "P1", rKind(reconcile.KindPayout), rAmount(120000))
	pending := rec("T1", "A1", rStatus(reconcile.StatusPending))
	tests := []struct {
		name                  string
		d                     reconcile.Discrepancy
		ledger, provider, dif int64
		pcur                  reconcile.Currency
	}{
		{"missing at provider", reconcile.Discrepancy{Kind: reconcile.MissingInProvider, Ledger: &paid, Currency: "KES"}, 100000, 0, -100000, "KES"},
		{"missing in ledger", reconcile.Discrepancy{Kind: reconcile.MissingInLedger, Records: []reconcile.Record{pay}, Currency: "KES"}, 0, 100000, 100000, "KES"},
		{"payout over: the merchant has less", reconcile.Discrepancy{Kind: reconcile.AmountMismatch, Ledger: &payout, Records: []reconcile.Record{paidOut}, Currency: "KES"}, -100000, -120000, -20000, "KES"},
		{"duplicate: its extra money", reconcile.Discrepancy{Kind: reconcile.DuplicatePayment, Ledger: &paid, Records: []reconcile.Record{pay}, Currency: "KES"}, 0, 100000, 100000, "KES"},
		{"reversed, with its reversal", reconcile.Discrepancy{Kind: reconcile.Reversed, Ledger: &paid, Records: []reconcile.Record{pay, reversal}, Currency: "KES"}, 100000, 0, -100000, "KES"},
		{"marked reversed, no reversal listed", reconcile.Discrepancy{Kind: reconcile.Reversed, Ledger: &paid, Records: []reconcile.Record{reversedNoRecord}, Currency: "KES"}, 100000, 0, -100000, "KES"},
		{"refunded, provider kept it", reconcile.Discrepancy{Kind: reconcile.StatusMismatch, Ledger: &refunded, Records: []reconcile.Record{pay}, Currency: "KES"}, 0, 100000, 100000, "KES"},
		{"pending side: nothing", reconcile.Discrepancy{Kind: reconcile.StatusMismatch, Records: []reconcile.Record{pending}, Currency: "KES"}, 0, 0, 0, "KES"},
		{"currency: the ledger amount leaves KES", reconcile.Discrepancy{Kind: reconcile.CurrencyMismatch, Ledger: &paid, Records: []reconcile.Record{usd}, Currency: "KES"}, 100000, 2000, -100000, "USD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.d
			matchers.Account(&d)
			if d.LedgerCounted != tt.ledger || d.ProviderCounted != tt.provider || d.Difference != tt.dif || d.ProviderCurrency != tt.pcur {
				t.Errorf("ledger %d provider %d %s difference %d, want %d %d %s %d",
					d.LedgerCounted, d.ProviderCounted, d.ProviderCurrency, d.Difference, tt.ledger, tt.provider, tt.pcur, tt.dif)
			}
		})
	}
	// A settlement variance keeps its own difference (settled − owed).
	sv := reconcile.Discrepancy{Kind: reconcile.SettlementVariance, Currency: "KES", Difference: -500}
	matchers.Account(&sv)
	if sv.Difference != -500 || sv.ProviderCurrency != "KES" {
		t.Errorf("settlement variance accounted as %+v", sv)
	}
}
