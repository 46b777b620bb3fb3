package matchers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/matchers"
)

// generate builds a messy, seeded input over the window grown by grace:
// shared and missing references, several records per reference, every
// status, unknown amounts, reversals, settlements, and few distinct amounts
// and phones so that pass 2 meets ties.
func generate(seed uint64, n int, w reconcile.Window) ([]reconcile.LedgerEntry, []reconcile.Record) {
	rng := rand.New(rand.NewPCG(seed, 1))
	span := w.To.Sub(w.From)
	at := func() time.Time { return w.From.Add(time.Duration(rng.Int64N(int64(span)))) }
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	providers := []reconcile.Provider{testprov.KopoKopo, testprov.Pixel}
	amounts := []int64{50000, 100000, 100000, 150000}
	phones := []string{"", "0712000001", "+254712000002", "254712000001"}

	var ledger []reconcile.LedgerEntry
	var recs []reconcile.Record
	for i := range n {
		p := providers[rng.IntN(2)]
		dir := reconcile.In
		if rng.IntN(8) == 0 {
			dir = reconcile.Out
		}
		l := reconcile.LedgerEntry{
			ID: int64(i + 1), Reference: fmt.Sprintf("L%d", i), Provider: p, Direction: dir,
			Amount:        reconcile.Money{Minor: amounts[rng.IntN(len(amounts))], Currency: "KES"},
			Status:        reconcile.LedgerStatus(pick("paid", "paid", "paid", "pending", "failed", "cancelled", "refunded")),
			OccurredAt:    at(),
			CustomerPhone: phones[rng.IntN(len(phones))],
		}
		if rng.IntN(10) > 0 {
			ledger = append(ledger, l)
		}
		// 0–3 records for this entry, by merchant ref, provider ref or none.
		for j := range rng.IntN(4) {
			kind := reconcile.KindPayment
			if dir == reconcile.Out {
				kind = reconcile.KindPayout
			}
			r := reconcile.Record{
				Provider: p, Kind: kind, TxID: fmt.Sprintf("T%d-%d", i, j),
				Amount: l.Amount, AmountKnown: rng.IntN(12) > 0,
				Status:       reconcile.Status(pick("succeeded", "succeeded", "succeeded", "pending", "failed", "reversed", "expired")),
				OccurredAt:   l.OccurredAt.Add(time.Duration(rng.Int64N(int64(4*time.Hour))) - 2*time.Hour),
				Counterparty: phones[rng.IntN(len(phones))],
			}
			switch rng.IntN(4) {
			case 0:
				r.ProviderRef = l.Reference
			case 1:
				// no reference at all: only pass 2 can find it
			default:
				r.MerchantRef = l.Reference
			}
			if rng.IntN(6) == 0 {
				r.Amount.Minor = amounts[rng.IntN(len(amounts))]
			}
			if !r.AmountKnown {
				r.Amount.Minor = 0
			}
			recs = append(recs, r)
			if rng.IntN(10) == 0 {
				recs = append(recs, reconcile.Record{
					Provider: p, Kind: reconcile.KindReversal, TxID: "V" + r.TxID, RelatedTxID: r.TxID,
					Amount: r.Amount, AmountKnown: true, Status: reconcile.StatusSucceeded,
					OccurredAt: r.OccurredAt.Add(time.Duration(rng.Int64N(int64(3 * time.Hour)))),
				})
			}
		}
		if rng.IntN(50) == 0 {
			recs = append(recs, reconcile.Record{
				Provider: p, Kind: reconcile.KindSettlement, TxID: fmt.Sprintf("S%d", i),
				Amount: l.Amount, AmountKnown: true, Status: reconcile.StatusSucceeded, OccurredAt: at(),
			})
		}
	}
	slices.SortStableFunc(ledger, func(a, b reconcile.LedgerEntry) int { return a.OccurredAt.Compare(b.OccurredAt) })
	slices.SortStableFunc(recs, func(a, b reconcile.Record) int { return a.OccurredAt.Compare(b.OccurredAt) })
	return ledger, recs
}

// TestEveryItemOnce checks, over seeded random inputs, that every ledger
// entry and record is reported exactly once or counted quiet, that what
// must be reported is, that every match balances, and that output is
// deterministic. The window holds all the input; TestWindowsAddUp checks
// what a smaller window reports.
func TestEveryItemOnce(t *testing.T) {
	t.Parallel()
	grace := 6 * time.Hour
	span := reconcile.Window{From: day.From, To: day.From.Add(48 * time.Hour)}
	// Records fall up to 2 h either side of their entry, reversals up to 3 h
	// after: a window grace wider than the span holds them all.
	w := span.Grow(grace)
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			ledger, recs := generate(seed, 600, span)
			cfg := matchers.Config{
				Window: w, Grace: grace, Tolerance: 40 * time.Minute, Now: w.To,
				HeuristicProviders: []reconcile.Provider{testprov.KopoKopo},
			}
			var c collector
			st, err := matchers.Match(context.Background(), cfg, seq(ledger), seq(recs), &c)
			if err != nil {
				t.Fatal(err)
			}

			seenL := map[int64]int{}
			seenR := map[string]int{}
			note := func(inWindow *bool, l *reconcile.LedgerEntry, rs []reconcile.Record) {
				if l != nil && w.Contains(l.OccurredAt) {
					seenL[l.ID]++
					*inWindow = true
				}
				for _, r := range rs {
					if w.Contains(r.OccurredAt) {
						seenR[r.TxID]++
						*inWindow = true
					}
				}
			}
			for _, m := range c.matches {
				in := false
				note(&in, &m.Ledger, m.Records)
				if !in {
					t.Errorf("match outside the window reported: %s", matchLine(m))
				}
				var sum int64
				known := true
				for _, r := range m.Records {
					if r.Kind != reconcile.KindReversal {
						sum += r.Amount.Minor
						known = known && r.AmountKnown
					}
				}
				if known && sum != m.Ledger.Amount.Minor {
					t.Errorf("match does not balance: ledger %d, records %d: %s", m.Ledger.Amount.Minor, sum, matchLine(m))
				}
			}
			for _, d := range c.discs {
				in := false
				if d.Kind == reconcile.DuplicatePayment {
					// The ledger entry is context here: its match reports it.
					note(&in, nil, d.Records)
					in = in || (d.Ledger != nil && w.Contains(d.Ledger.OccurredAt))
				} else {
					note(&in, d.Ledger, d.Records)
				}
				if !in {
					t.Errorf("discrepancy outside the window reported: %s", discLine(d))
				}
				if d.Detail == "" {
					t.Errorf("discrepancy without detail: %s", discLine(d))
				}
				// The bridge difference (matchers.Account; bridge_test.go
				// checks the totals it bridges).
				if d.ProviderCurrency == d.Currency && d.Difference != d.ProviderCounted-d.LedgerCounted {
					t.Errorf("difference %d is not provider %d − ledger %d counted", d.Difference, d.ProviderCounted, d.LedgerCounted)
				}
			}

			var wantL, wantR, mustTotal, gotTotal int64
			for _, l := range ledger {
				if !w.Contains(l.OccurredAt) {
					continue
				}
				wantL++
				if n := seenL[l.ID]; n > 1 {
					t.Errorf("ledger %s reported %d times", l.Reference, n)
				} else if (l.Status == reconcile.LedgerPaid || l.Status == reconcile.LedgerRefunded) && n == 0 {
					t.Errorf("paid ledger entry %s not reported", l.Reference)
				}
				if l.Status == reconcile.LedgerPaid || l.Status == reconcile.LedgerRefunded {
					mustTotal += l.Amount.Minor
					if seenL[l.ID] == 1 {
						gotTotal += l.Amount.Minor
					}
				}
			}
			for _, r := range recs {
				if !w.Contains(r.OccurredAt) || r.Kind == reconcile.KindSettlement {
					continue
				}
				wantR++
				n := seenR[r.TxID]
				switch {
				case n > 1:
					t.Errorf("record %s reported %d times", r.TxID, n)
				case n == 0 && r.Kind != reconcile.KindReversal && (r.Status == reconcile.StatusSucceeded || r.Status == reconcile.StatusReversed):
					t.Errorf("received record %s not reported", r.TxID)
				}
			}
			if int64(st.Ledger) != wantL || int64(st.Records) != wantR {
				t.Errorf("stats count %d ledger, %d records; want %d, %d", st.Ledger, st.Records, wantL, wantR)
			}
			if reported := len(seenL) + len(seenR); reported+st.Quiet != st.Ledger+st.Records {
				t.Errorf("%d reported + %d quiet ≠ %d items in the window", reported, st.Quiet, st.Ledger+st.Records)
			}
			if gotTotal != mustTotal {
				t.Errorf("paid ledger total reported %d, want %d", gotTotal, mustTotal)
			}
			if len(c.matches) == 0 || len(c.discs) == 0 {
				t.Errorf("generator too tame: %d matches, %d discrepancies", len(c.matches), len(c.discs))
			}

			var again collector
			if _, err := matchers.Match(context.Background(), cfg, seq(ledger), seq(recs), &again); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.order, again.order) {
				t.Error("two runs over the same input differ")
			}
		})
	}
}

// TestWindowsAddUp checks, over seeded random inputs, that each match and
// discrepancy is reported in the window of its anchor (the ledger entry, else
// the first record; for a pending item reported as stale, when it became
// stale) and in no other, so that the runs of two consecutive days report
// exactly what one run over both days reports.
func TestWindowsAddUp(t *testing.T) {
	t.Parallel()
	grace := 6 * time.Hour
	day1 := reconcile.Window{From: day.From, To: day.From.Add(24 * time.Hour)}
	day2 := reconcile.Window{From: day1.To, To: day1.To.Add(24 * time.Hour)}
	both := reconcile.Window{From: day1.From, To: day2.To}
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			ledger, recs := generate(seed, 600, both.Grow(grace))
			lines := map[reconcile.Window][]reconcile.SummaryLine{}
			report := func(w reconcile.Window) []string {
				// Each run judges pending items at the end of its own
				// window, as nightly runs do.
				cfg := matchers.Config{
					Window: w, Grace: grace, Tolerance: 40 * time.Minute, Now: w.To,
					HeuristicProviders: []reconcile.Provider{testprov.KopoKopo},
				}
				var c collector
				sum := matchers.NewSummary(w)
				st, err := matchers.Match(context.Background(), cfg, seq(ledger), seq(recs), matchers.Tee(&c, sum))
				if err != nil {
					t.Fatal(err)
				}
				// The summary counts what the run counts: every item of
				// the window, once.
				var ledgerCount, providerCount int
				for _, l := range sum.Lines() {
					ledgerCount += l.LedgerCount
					providerCount += l.ProviderCount
				}
				if ledgerCount != st.Ledger || providerCount != st.Records {
					t.Errorf("%s: summary counts %d ledger entries and %d records, the run %d and %d", w, ledgerCount, providerCount, st.Ledger, st.Records)
				}
				lines[w] = sum.Lines()
				if reported := len(c.matches) + len(c.discs); reported != st.Matches+st.Discrepancies {
					t.Errorf("%s: %d reported, stats say %d", w, reported, st.Matches+st.Discrepancies)
				}
				for _, m := range c.matches {
					if !w.Contains(m.Ledger.OccurredAt) {
						t.Errorf("%s: match with its ledger entry outside reported: %s", w, matchLine(m))
					}
				}
				for _, d := range c.discs {
					if strings.Contains(d.Detail, "still pending after") && (d.Ledger == nil || d.Ledger.Status != reconcile.LedgerPaid) {
						continue // filed when it became stale, checked by the sums below
					}
					if d.Ledger == nil && len(d.Records) == 0 {
						t.Fatalf("discrepancy with neither side: %+v", d)
					}
					var anchor time.Time
					if d.Ledger != nil {
						anchor = d.Ledger.OccurredAt
					} else {
						anchor = d.Records[0].OccurredAt
					}
					if !w.Contains(anchor) {
						t.Errorf("%s: discrepancy anchored outside reported: %s", w, discLine(d))
					}
				}
				return c.order
			}
			days := append(report(day1), report(day2)...)
			whole := report(both)
			slices.Sort(days)
			slices.Sort(whole)
			if !slices.Equal(days, whole) {
				t.Errorf("day 1 and day 2 report %d items, both days %d: they differ", len(days), len(whole))
			}
			// The daily summaries add up to the summary of both days, line
			// by line, counts and totals.
			type key struct {
				p reconcile.Provider
				c reconcile.Currency
			}
			added := map[key]reconcile.SummaryLine{}
			for _, w := range []reconcile.Window{day1, day2} {
				for _, l := range lines[w] {
					a := added[key{l.Provider, l.Currency}]
					a.Provider, a.Currency = l.Provider, l.Currency
					a.LedgerCount += l.LedgerCount
					a.LedgerTotal += l.LedgerTotal
					a.ProviderCount += l.ProviderCount
					a.ProviderTotal += l.ProviderTotal
					a.MatchedCount += l.MatchedCount
					a.MatchedTotal += l.MatchedTotal
					a.DiscrepancyCount += l.DiscrepancyCount
					a.DiscrepancyTotal += l.DiscrepancyTotal
					a.LedgerPaid += l.LedgerPaid
					a.ProviderMoved += l.ProviderMoved
					for i := range a.Bridge {
						a.Bridge[i].Count += l.Bridge[i].Count
						a.Bridge[i].Amount += l.Bridge[i].Amount
					}
					added[key{l.Provider, l.Currency}] = a
				}
			}
			for _, l := range lines[both] {
				if got := added[key{l.Provider, l.Currency}]; got != l {
					t.Errorf("daily summaries add up to %+v, both days' is %+v", got, l)
				}
			}
		})
	}
}
