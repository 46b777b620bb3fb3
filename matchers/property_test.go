package matchers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
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

// harden adds to a generated input what makes consecutive runs disagree
// when the matcher depends on the window read or on arrival order (issue
// 13): reversals one to three days after their payments (the payment
// marked reversed, or not), ledger entries days apart sharing a provider
// reference with one record between them, payments in parts of which some
// sets sum to the ledger amount (beside an extra part), records at the very
// instant of their ledger entry and of each other, and times on a minute
// grid so that many items share an instant.
func harden(seed uint64, ledger []reconcile.LedgerEntry, recs []reconcile.Record, w reconcile.Window) ([]reconcile.LedgerEntry, []reconcile.Record) {
	rng := rand.New(rand.NewPCG(seed, 2))
	span := w.To.Sub(w.From)
	at := func() time.Time {
		return w.From.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Minute)
	}
	p := testprov.KopoKopo
	id := int64(len(ledger)) + 1000
	entry := func(ref string, t time.Time, amount int64) reconcile.LedgerEntry {
		id++
		return reconcile.LedgerEntry{ID: id, Reference: ref, Provider: p, Direction: reconcile.In,
			Amount: reconcile.Money{Minor: amount, Currency: "KES"}, Status: reconcile.LedgerPaid, OccurredAt: t}
	}
	payment := func(tx string, t time.Time, amount int64) reconcile.Record {
		return reconcile.Record{Provider: p, Kind: reconcile.KindPayment, TxID: tx,
			Amount: reconcile.Money{Minor: amount, Currency: "KES"}, AmountKnown: true,
			Status: reconcile.StatusSucceeded, OccurredAt: t}
	}
	for i := range 40 {
		// A payment and a reversal days later.
		t := at()
		l := entry(fmt.Sprintf("HR%d", i), t, 70000)
		if rng.IntN(3) == 0 {
			l.Status = reconcile.LedgerRefunded
		}
		ledger = append(ledger, l)
		pay := payment(fmt.Sprintf("HRT%d", i), t.Add(time.Duration(rng.IntN(3))*time.Minute), 70000)
		pay.MerchantRef = l.Reference
		if rng.IntN(2) == 0 {
			pay.Status = reconcile.StatusReversed
		}
		recs = append(recs, pay, reconcile.Record{Provider: p, Kind: reconcile.KindReversal, TxID: "V" + pay.TxID,
			RelatedTxID: pay.TxID, Amount: pay.Amount, AmountKnown: true, Status: reconcile.StatusSucceeded,
			OccurredAt: pay.OccurredAt.Add(time.Duration(1+rng.IntN(72)) * time.Hour)})

		// Two entries 20 to 40 hours apart sharing a provider reference,
		// one record between them within Grace of at least one.
		t = at()
		gap := time.Duration(20+rng.IntN(21)) * time.Hour
		a, b := entry(fmt.Sprintf("DA%d", i), t, 40000), entry(fmt.Sprintf("DB%d", i), t.Add(gap), 40000)
		a.ProviderReference, b.ProviderReference = fmt.Sprintf("QD%06d", i), fmt.Sprintf("QD%06d", i)
		if rng.IntN(3) == 0 {
			// The later entry names the record's merchant reference.
			b.ProviderReference = ""
		}
		ledger = append(ledger, a, b)
		r := payment(fmt.Sprintf("DT%d", i), t.Add(gap/2+time.Duration(rng.IntN(120)-60)*time.Minute).Truncate(time.Minute), 40000)
		r.ProviderRef = fmt.Sprintf("QD%06d", i)
		if b.ProviderReference == "" {
			r.MerchantRef = b.Reference
		}
		recs = append(recs, r)

		// Parts: 3 or 4 records of which a set sums to the entry.
		t = at()
		g := entry(fmt.Sprintf("GP%d", i), t, 100000)
		ledger = append(ledger, g)
		parts := [][]int64{{30000, 70000, 25000}, {50000, 20000, 30000, 20000}, {60000, 30000}, {10000, 90000, 45000, 55000}}[rng.IntN(4)]
		for j, amount := range parts {
			pr := payment(fmt.Sprintf("GT%d-%d", i, j), t.Add(time.Duration(rng.IntN(3))*time.Hour), amount)
			pr.MerchantRef = g.Reference
			if rng.IntN(3) == 0 {
				pr.OccurredAt = g.OccurredAt // the very instant of its entry
			}
			recs = append(recs, pr)
		}
	}
	slices.SortStableFunc(ledger, func(a, b reconcile.LedgerEntry) int { return a.OccurredAt.Compare(b.OccurredAt) })
	slices.SortStableFunc(recs, func(a, b reconcile.Record) int { return a.OccurredAt.Compare(b.OccurredAt) })
	return ledger, recs
}

// shuffleInstants shuffles the items of each instant, as another import
// order (other ids) would leave them.
func shuffleInstants[T any](rng *rand.Rand, items []T, at func(T) time.Time) []T {
	items = slices.Clone(items)
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && at(items[j]).Equal(at(items[i])) {
			j++
		}
		g := items[i:j]
		rng.Shuffle(len(g), func(a, b int) { g[a], g[b] = g[b], g[a] })
		i = j
	}
	return items
}

// bytesCollector keeps every report in full, every field but the ledger
// entry's id (the store's insertion id, which reports do not show), so that
// two outputs compare byte for byte.
type bytesCollector struct{ lines []string }

func (b *bytesCollector) Match(m reconcile.Match) error {
	m.Ledger.ID = 0
	b.lines = append(b.lines, fmt.Sprintf("match %+v", m))
	return nil
}

func (b *bytesCollector) Discrepancy(d reconcile.Discrepancy) error {
	l := "-"
	if d.Ledger != nil {
		e := *d.Ledger
		e.ID = 0
		l = fmt.Sprintf("%+v", e)
	}
	d.Ledger = nil
	b.lines = append(b.lines, fmt.Sprintf("discrepancy %+v ledger %s", d, l))
	return nil
}

// TestWindowsAddUp checks, over seeded random inputs, that each match and
// discrepancy is reported in the window of its anchor (the ledger entry, else
// the first record; for a pending item reported as stale, when it became
// stale) and in no other, so that the runs of consecutive days report
// exactly what one run over all of them reports — each run reading only
// its own ReadWindow, as the run job does, with payments found as the store
// finds them. The input is hardened (harden): reversals days after their
// payments, provider references shared by entries days apart, parts whose
// subsets sum, same-instant items; and a run over the same items arriving
// in another order at each instant gives the same reports, byte for byte.
func TestWindowsAddUp(t *testing.T) {
	t.Parallel()
	grace := 24 * time.Hour
	const ndays = 4
	var days []reconcile.Window
	for d := range ndays {
		days = append(days, reconcile.Window{From: day.From.AddDate(0, 0, d), To: day.From.AddDate(0, 0, d+1)})
	}
	all := reconcile.Window{From: days[0].From, To: days[ndays-1].To}
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			span := all.Grow(2 * grace)
			ledger, recs := generate(seed, 900, span)
			ledger, recs = harden(seed, ledger, recs, span)
			lookup := paymentLookup(recs)
			lines := map[reconcile.Window][]reconcile.SummaryLine{}
			full := map[reconcile.Window][]string{}
			report := func(w reconcile.Window, ledger []reconcile.LedgerEntry, recs []reconcile.Record) []string {
				// Each run judges pending items at the end of its own
				// window, as nightly runs do.
				cfg := matchers.Config{
					Window: w, Grace: grace, Tolerance: 40 * time.Minute, Now: w.To, Payment: lookup,
					HeuristicProviders: []reconcile.Provider{testprov.KopoKopo},
				}
				read := cfg.ReadWindow()
				ledger = readIn(ledger, read, func(l reconcile.LedgerEntry) time.Time { return l.OccurredAt })
				recs = readIn(recs, read, func(r reconcile.Record) time.Time { return r.OccurredAt })
				var c collector
				var b bytesCollector
				sum := matchers.NewSummary(w)
				st, err := matchers.Match(context.Background(), cfg, seq(ledger), seq(recs), matchers.Tee(&c, &b, sum))
				if err != nil {
					t.Fatal(err)
				}
				full[w] = b.lines
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
				return b.lines
			}
			var daily []string
			for _, w := range days {
				daily = append(daily, report(w, ledger, recs)...)
			}
			whole := report(all, ledger, recs)
			// A pending item's age is measured at each run's own end (Now):
			// whether and how long it has been stale is the one thing a
			// detail may say differently.
			age := regexp.MustCompile(`still pending( after \d+ hours)?`)
			unaged := func(lines []string) []string {
				out := make([]string, len(lines))
				for i, l := range lines {
					out[i] = age.ReplaceAllString(l, "still pending")
				}
				slices.Sort(out)
				return out
			}
			if got, want := unaged(daily), unaged(whole); !slices.Equal(got, want) {
				extra, missing := diffLines(got, want)
				t.Errorf("the %d daily runs report %d items, the range run %d: they differ\nonly daily: %q\nonly range: %q", ndays, len(got), len(want), extra, missing)
			}
			kinds := map[string]int{}
			for _, l := range whole {
				kinds[strings.Fields(l)[0]]++
			}
			if kinds["match"] == 0 || kinds["discrepancy"] == 0 {
				t.Errorf("generator too tame: %v", kinds)
			}

			// The same items in another order at each instant: the same
			// bytes.
			rng := rand.New(rand.NewPCG(seed, 3))
			sl := shuffleInstants(rng, ledger, func(l reconcile.LedgerEntry) time.Time { return l.OccurredAt })
			sr := shuffleInstants(rng, recs, func(r reconcile.Record) time.Time { return r.OccurredAt })
			for i := range sl {
				sl[i].ID = int64(len(sl) - i) // other insertion ids
			}
			for i := range ledger {
				ledger[i].ID = int64(len(sl) - i)
			}
			want := report(all, ledger, recs)
			if got := report(all, sl, sr); !slices.Equal(got, want) {
				t.Errorf("shuffled arrival changes the reports:\n%s", firstDiff(got, want))
			}

			// The daily summaries add up to the summary of all days, line
			// by line, counts and totals.
			type key struct {
				p reconcile.Provider
				c reconcile.Currency
			}
			added := map[key]reconcile.SummaryLine{}
			for _, w := range days {
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
			for _, l := range lines[all] {
				if got := added[key{l.Provider, l.Currency}]; got != l {
					t.Errorf("daily summaries add up to %+v, all days' is %+v", got, l)
				}
			}
		})
	}
}

// diffLines returns the lines only in a and only in b (both sorted).
func diffLines(a, b []string) (onlyA, onlyB []string) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return onlyA, onlyB
}

// firstDiff describes where two outputs first differ.
func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(a), len(b))
}
