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

// withCurrencies makes generated input speak several currencies: some
// ledger entries are in USD, some records in UGX (no decimals), so that
// currency mismatches, and duplicates and ties in another currency, occur.
func withCurrencies(seed uint64, ledger []reconcile.LedgerEntry, recs []reconcile.Record) {
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := range ledger {
		if rng.IntN(12) == 0 {
			ledger[i].Amount.Currency = "USD"
		}
	}
	for i := range recs {
		if recs[i].Kind != reconcile.KindSettlement && rng.IntN(15) == 0 {
			recs[i].Amount.Currency = "UGX"
		}
	}
}

type lineKey struct {
	p reconcile.Provider
	c reconcile.Currency
}

// TestBridgeIdentity checks, over seeded random inputs in several
// currencies and for a day window and the window of the whole input, that
// every summary line is a statement that closes: ledger_total + Σ difference
// = provider_total to the minor unit, where Σ difference adds the
// discrepancies of the line's currency and, for those whose provider side is
// in another currency, that provider amount to the provider currency's line.
// The ledger total is recomputed from the input (the paid entries of the
// window, payouts negative); the provider total from the reports (matches at
// their ledger amount, discrepancies' records by the rules of
// matchers.Account, recomputed here).
func TestBridgeIdentity(t *testing.T) {
	t.Parallel()
	grace := 6 * time.Hour
	day1 := reconcile.Window{From: day.From, To: day.From.Add(24 * time.Hour)}
	both := reconcile.Window{From: day1.From, To: day1.From.Add(48 * time.Hour)}
	for seed := range uint64(30) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			ledger, recs := generate(seed, 500, both.Grow(grace))
			withCurrencies(seed, ledger, recs)
			for _, w := range []reconcile.Window{day1, both.Grow(2 * grace)} {
				cfg := matchers.Config{
					Window: w, Grace: grace, Tolerance: 40 * time.Minute, Now: w.To,
					HeuristicProviders: []reconcile.Provider{testprov.KopoKopo},
				}
				var c collector
				sum := matchers.NewSummary(w)
				if _, err := matchers.Match(context.Background(), cfg, seq(ledger), seq(recs), matchers.Tee(&c, sum)); err != nil {
					t.Fatal(err)
				}
				checkBridge(t, w, ledger, &c, sum.Lines())
			}
		})
	}
}

func checkBridge(t *testing.T, w reconcile.Window, ledger []reconcile.LedgerEntry, c *collector, lines []reconcile.SummaryLine) {
	t.Helper()
	ledgerTotal := map[lineKey]int64{}
	for _, l := range ledger {
		if w.Contains(l.OccurredAt) && l.Status == reconcile.LedgerPaid {
			ledgerTotal[lineKey{l.Provider, l.Amount.Currency}] += signedMinor(l.Amount.Minor, l.Direction)
		}
	}
	providerTotal := map[lineKey]int64{}
	bridged := map[lineKey]int64{} // ledger total + Σ difference, as a reader adds them
	for k, v := range ledgerTotal {
		bridged[k] = v
	}
	for _, m := range c.matches {
		if m.Ledger.Status == reconcile.LedgerPaid {
			providerTotal[lineKey{m.Ledger.Provider, m.Ledger.Amount.Currency}] += signedMinor(m.Ledger.Amount.Minor, m.Ledger.Direction)
		}
	}
	kinds := map[reconcile.DiscrepancyKind]int{}
	for _, d := range c.discs {
		kinds[d.Kind]++
		pc := d.ProviderCurrency
		if pc == "" {
			t.Fatalf("discrepancy without a provider currency: %s", discLine(d))
		}
		got := providerCounted(d, pc)
		if got != d.ProviderCounted {
			t.Errorf("%s: provider counted %d, recomputed %d", discLine(d), d.ProviderCounted, got)
		}
		providerTotal[lineKey{d.Provider, pc}] += got
		bridged[lineKey{d.Provider, d.Currency}] += d.Difference
		if pc != d.Currency {
			bridged[lineKey{d.Provider, pc}] += got
		} else if want := got - ledgerCounted(d); d.Difference != want {
			t.Errorf("%s: difference %d, want provider − ledger counted %d", discLine(d), d.Difference, want)
		}
	}
	if kinds[reconcile.CurrencyMismatch] == 0 && w.To.Sub(w.From) > 24*time.Hour {
		t.Errorf("generator too tame: no currency mismatch (%v)", kinds)
	}
	seen := map[lineKey]bool{}
	for _, l := range lines {
		k := lineKey{l.Provider, l.Currency}
		seen[k] = true
		if l.Unexplained() != 0 {
			t.Errorf("%s %s %s: %d unexplained", w, l.Provider, l.Currency, l.Unexplained())
		}
		if l.LedgerTotal != ledgerTotal[k] {
			t.Errorf("%s %s %s: ledger total %d, the paid entries of the window sum to %d", w, l.Provider, l.Currency, l.LedgerTotal, ledgerTotal[k])
		}
		if l.ProviderTotal != providerTotal[k] {
			t.Errorf("%s %s %s: provider total %d, the reports' records sum to %d", w, l.Provider, l.Currency, l.ProviderTotal, providerTotal[k])
		}
		if bridged[k] != l.ProviderTotal {
			t.Errorf("%s %s %s: ledger total %d + Σ difference = %d, provider total %d", w, l.Provider, l.Currency, l.LedgerTotal, bridged[k], l.ProviderTotal)
		}
		var steps int64
		for i, s := range l.Bridge {
			if reconcile.DiscrepancyKinds[i] != reconcile.SettlementVariance {
				steps += s.Amount
			}
		}
		if steps != l.DiscrepancyTotal {
			t.Errorf("%s %s %s: bridge steps sum to %d, discrepancy total %d", w, l.Provider, l.Currency, steps, l.DiscrepancyTotal)
		}
	}
	for k, v := range ledgerTotal {
		if v != 0 && !seen[k] {
			t.Errorf("%s: ledger total %d of %s %s has no summary line", w, v, k.p, k.c)
		}
	}
	for k, v := range providerTotal {
		if v != 0 && !seen[k] {
			t.Errorf("%s: provider total %d of %s %s has no summary line", w, v, k.p, k.c)
		}
	}
}

func signedMinor(minor int64, d reconcile.Direction) int64 {
	if minor < 0 {
		minor = -minor
	}
	if d == reconcile.Out {
		return -minor
	}
	return minor
}

// ledgerCounted is what a discrepancy's ledger entry adds to the ledger
// total: its amount when paid, unless it is only named (a duplicate).
func ledgerCounted(d reconcile.Discrepancy) int64 {
	if d.Ledger == nil || d.Kind == reconcile.DuplicatePayment || d.Ledger.Status != reconcile.LedgerPaid {
		return 0
	}
	return signedMinor(d.Ledger.Amount.Minor, d.Ledger.Direction)
}

// providerCounted recomputes what a discrepancy's records in currency c add
// to the provider total: records that succeeded, or were reversed with their
// reversal listed, with an amount reported; payouts and reversals negative.
func providerCounted(d reconcile.Discrepancy, c reconcile.Currency) int64 {
	var n int64
	for _, r := range d.Records {
		if !r.AmountKnown || r.Amount.Currency != c {
			continue
		}
		switch r.Status {
		case reconcile.StatusSucceeded:
		case reconcile.StatusReversed:
			listed := false
			for _, v := range d.Records {
				listed = listed || (v.Kind == reconcile.KindReversal && r.TxID != "" && v.RelatedTxID == r.TxID)
			}
			if r.Kind != reconcile.KindReversal && !listed {
				continue
			}
		default:
			continue
		}
		n += signedMinor(r.Amount.Minor, r.Direction())
	}
	return n
}
