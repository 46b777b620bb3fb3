package matchers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/matchers"
)

// counter is an Output that only counts, so the benchmark measures matching.
type counter struct{ matches, discs int }

func (c *counter) Match(reconcile.Match) error             { c.matches++; return nil }
func (c *counter) Discrepancy(reconcile.Discrepancy) error { c.discs++; return nil }

// benchInput is n ledger entries and n records spread evenly over 30 days,
// one pair per order: 9 in 10 joined by reference, 1 in 10 a Kopo Kopo till
// payment without one (pass 2), and 1% planted discrepancies — short
// amounts, failed payments, missing records and stray records.
func benchInput(n int) ([]reconcile.LedgerEntry, []reconcile.Record, reconcile.Window) {
	w := reconcile.Window{From: day.From, To: day.From.AddDate(0, 0, 30)}
	step := w.To.Sub(w.From) / time.Duration(n)
	rng := rand.New(rand.NewPCG(1, 2))
	ledger := make([]reconcile.LedgerEntry, n)
	recs := make([]reconcile.Record, n)
	for i := range n {
		t := w.From.Add(time.Duration(i) * step)
		ref := fmt.Sprintf("ORD%08d", i)
		amount := reconcile.Money{Minor: 100 * (1 + rng.Int64N(500000)), Currency: "KES"}
		p := testprov.Pixel
		if i%10 == 0 {
			p = testprov.KopoKopo
		}
		ledger[i] = reconcile.LedgerEntry{ID: int64(i + 1), Reference: ref, Provider: p, Direction: reconcile.In,
			Amount: amount, Status: reconcile.LedgerPaid, OccurredAt: t}
		r := reconcile.Record{Provider: p, Kind: reconcile.KindPayment, TxID: fmt.Sprintf("TX%08d", i), MerchantRef: ref,
			ProviderRef: fmt.Sprintf("Q%09d", i), Amount: amount, AmountKnown: true, Status: reconcile.StatusSucceeded,
			OccurredAt: t.Add(time.Duration(rng.Int64N(int64(2 * time.Minute))))}
		if p == testprov.KopoKopo {
			r.MerchantRef, r.Counterparty = "", fmt.Sprintf("2547%08d", i)
			ledger[i].CustomerPhone = "07" + r.Counterparty[4:]
		}
		switch i % 400 {
		case 1:
			r.Amount.Minor -= 100
		case 2:
			r.Status = reconcile.StatusFailed
		case 3:
			r.MerchantRef, r.ProviderRef = "", fmt.Sprintf("STRAY%08d", i)
		case 4:
			ledger[i].Reference = "MISSING" + ref
		}
		recs[i] = r
	}
	// A record may land after the next ledger entry; keep records ordered.
	for i := 1; i < n; i++ {
		if recs[i].OccurredAt.Before(recs[i-1].OccurredAt) {
			recs[i].OccurredAt = recs[i-1].OccurredAt
		}
	}
	return ledger, recs, w
}

func BenchmarkMatch1M(b *testing.B) {
	const n = 1_000_000
	ledger, recs, w := benchInput(n)
	cfg := matchers.Config{Window: w, Now: w.To, HeuristicProviders: []reconcile.Provider{testprov.KopoKopo}}
	b.ReportAllocs()
	b.ResetTimer()
	var st matchers.Stats
	var c counter
	for b.Loop() {
		c = counter{}
		var err error
		if st, err = matchers.Match(context.Background(), cfg, seq(ledger), seq(recs), &c); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s/side")
	b.ReportMetric(float64(st.PeakPending), "peak-pending")
	if c.matches < n*97/100 || c.discs < n/200 {
		b.Fatalf("unexpected result: %d matches, %d discrepancies", c.matches, c.discs)
	}
}

// TestMemoryBoundedByWindow checks that the items held at once depend on
// the look-around span, not on the length of the streams: 200,000 orders
// over 30 days (about 6,700 a day) with a 24 h grace never hold more than
// about two days' worth of items.
func TestMemoryBoundedByWindow(t *testing.T) {
	t.Parallel()
	const n = 200_000
	ledger, recs, w := benchInput(n)
	cfg := matchers.Config{Window: w, Now: w.To, HeuristicProviders: []reconcile.Provider{testprov.KopoKopo}}
	st, err := matchers.Match(context.Background(), cfg, seq(ledger), seq(recs), &counter{})
	if err != nil {
		t.Fatal(err)
	}
	perDay := 2 * n / 30
	if st.PeakPending > 2*perDay+perDay/2 {
		t.Errorf("held %d items at once; a day has %d", st.PeakPending, perDay)
	}
	t.Logf("held at most %d of %d items (%d a day)", st.PeakPending, 2*n, perDay)
}
