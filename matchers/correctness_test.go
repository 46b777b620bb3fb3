package matchers_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/matchers"
)

// Scenarios of issue 13 ("Matching correctness"), one table per item where
// the item is about one run; TestDailyRunsAddUp covers the items about
// several.

func lRef(ref string) func(*reconcile.LedgerEntry) {
	return func(l *reconcile.LedgerEntry) { l.Reference = ref }
}
func lProvRef(ref string) func(*reconcile.LedgerEntry) {
	return func(l *reconcile.LedgerEntry) { l.ProviderReference = ref }
}
func rMerchRef(ref string) func(*reconcile.Record) {
	return func(r *reconcile.Record) { r.MerchantRef = ref }
}

// TestMatchCorrectness covers items 1, 3, 4, 6, 7 and 8 of issue 13.
func TestMatchCorrectness(t *testing.T) {
	t.Parallel()
	type L = []reconcile.LedgerEntry
	type R = []reconcile.Record
	const phone = "+254744000004"
	till := func(mods ...func(*reconcile.LedgerEntry)) reconcile.LedgerEntry {
		return led("TILL-V4", append([]func(*reconcile.LedgerEntry){lAmount(18000), lPhone(phone)}, mods...)...)
	}
	tillPay := func(mods ...func(*reconcile.Record)) reconcile.Record {
		return rec("T1", "", append([]func(*reconcile.Record){rAmount(18000), rPhone(phone), rProvRef("QTV4000001"), rAt(4 * time.Minute)}, mods...)...)
	}
	// A Kopo Kopo reversal webhook: the payment marked reversed, and a
	// reversal at the same instant (sources/kopokopo).
	reversedPay := tillPay(rStatus(reconcile.StatusReversed))
	reversal := tillPay(rReverses("T1"), func(r *reconcile.Record) { r.TxID = "V1" })
	laterReversal := tillPay(rReverses("T1"), rAt(2*time.Hour), func(r *reconcile.Record) { r.TxID = "V1" })
	const max = 1<<63 - 1
	big := func(tx string, minor int64) reconcile.Record { return rec(tx, "X1", rAmount(minor)) }
	tests := []struct {
		name   string
		ledger L
		recs   R
		want   []string
	}{
		// Item 1: a reversed till sale matched by pass 2.
		{"1: refunded + heuristic payment + reversal is a match", L{till(lStatus(reconcile.LedgerRefunded))}, R{reversedPay, reversal},
			[]string{"match~ TILL-V4 T1,V1"}},
		{"1: paid + heuristic payment + reversal is one reversed", L{till()}, R{reversedPay, reversal},
			[]string{"reversed TILL-V4 T1,V1"}},
		{"1: refunded + heuristic payment + later reversal", L{till(lStatus(reconcile.LedgerRefunded))}, R{tillPay(), laterReversal},
			[]string{"match~ TILL-V4 T1,V1"}},
		{"1: paid + heuristic payment + later reversal", L{till()}, R{tillPay(), laterReversal},
			[]string{"reversed TILL-V4 T1,V1"}},
		{"1: refunded + payment marked reversed, no reversal record", L{till(lStatus(reconcile.LedgerRefunded))}, R{reversedPay},
			[]string{"match~ TILL-V4 T1"}},

		// Item 3: grouping searches subsets.
		{"3: 100 + 200 of 300 match, 50 is a duplicate", L{led("G5", lAmount(30000))},
			R{rec("T1", "G5", rAmount(10000)), rec("T2", "G5", rAmount(20000), rAt(time.Minute)), rec("T3", "G5", rAmount(5000), rAt(2*time.Minute))},
			[]string{"match G5 T1,T2", "duplicate_payment G5 T3"}},
		{"3: subset found whatever the order", L{led("G5", lAmount(30000))},
			R{rec("T1", "G5", rAmount(5000)), rec("T2", "G5", rAmount(20000), rAt(time.Minute)), rec("T3", "G5", rAmount(10000), rAt(2*time.Minute))},
			[]string{"match G5 T2,T3", "duplicate_payment G5 T1"}},
		{"3: fewest records win", L{led("G5", lAmount(30000))},
			R{rec("T1", "G5", rAmount(10000)), rec("T2", "G5", rAmount(10000), rAt(time.Minute)), rec("T3", "G5", rAmount(10000), rAt(2*time.Minute)), rec("T4", "G5", rAmount(20000), rAt(3*time.Minute))},
			[]string{"match G5 T1,T4", "duplicate_payment G5 T2", "duplicate_payment G5 T3"}},
		{"3: equal subsets: the earliest records", L{led("G5", lAmount(30000))},
			R{rec("T1", "G5", rAmount(10000)), rec("T2", "G5", rAmount(20000), rAt(time.Minute)), rec("T3", "G5", rAmount(10000), rAt(2*time.Minute)), rec("T4", "G5", rAmount(20000), rAt(3*time.Minute))},
			[]string{"match G5 T1,T2", "duplicate_payment G5 T3", "duplicate_payment G5 T4"}},
		{"3: three parts", L{led("G5", lAmount(60000))},
			R{rec("T1", "G5", rAmount(10000)), rec("T2", "G5", rAmount(20000), rAt(time.Minute)), rec("T3", "G5", rAmount(30000), rAt(2*time.Minute)), rec("T4", "G5", rAmount(45000), rAt(3*time.Minute))},
			[]string{"match G5 T1,T2,T3", "duplicate_payment G5 T4"}},
		{"3: none sums, all short together: one shortfall", L{led("G5", lAmount(30000))},
			R{rec("T1", "G5", rAmount(10000)), rec("T2", "G5", rAmount(15000), rAt(time.Minute))},
			[]string{"amount_mismatch G5 T1,T2"}},
		{"3: none sums, closest below wins", L{led("G5", lAmount(30000))},
			R{rec("T1", "G5", rAmount(10000)), rec("T2", "G5", rAmount(17000), rAt(time.Minute)), rec("T3", "G5", rAmount(25000), rAt(2*time.Minute))},
			[]string{"amount_mismatch G5 T1,T2", "duplicate_payment G5 T3"}},
		{"3: an overpayment beside partial ones", L{led("G5", lAmount(30000))},
			R{rec("T1", "G5", rAmount(10000)), rec("T2", "G5", rAmount(40000), rAt(time.Minute))},
			[]string{"amount_mismatch G5 T1", "duplicate_payment G5 T2"}},

		// Item 4: the merchant reference wins whatever arrives first.
		{"4: merchant reference wins, entries after the record", L{led("QC2A000001", lAt(5*time.Minute)), led("ORD-B", lAt(10*time.Minute))},
			R{rec("T1", "ORD-B", rProvRef("QC2A000001"))},
			[]string{"missing_in_provider QC2A000001 -", "match ORD-B T1"}},
		{"4: merchant reference wins, entries before the record", L{led("QC2A000001", lAt(-10*time.Minute)), led("ORD-B", lAt(-5*time.Minute))},
			R{rec("T1", "ORD-B", rProvRef("QC2A000001"))},
			[]string{"missing_in_provider QC2A000001 -", "match ORD-B T1"}},
		{"4: merchant reference wins, arriving last", L{led("QC2A000001", lAt(-10*time.Minute)), led("ORD-B", lAt(10*time.Minute))},
			R{rec("T1", "ORD-B", rProvRef("QC2A000001"))},
			[]string{"missing_in_provider QC2A000001 -", "match ORD-B T1"}},
		{"4: ledger reference = provider reference beats ledger provider reference", L{led("ORD-P", lProvRef("QC2A000001"), lAt(-10*time.Minute)), led("QC2A000001", lAt(10*time.Minute))},
			R{rec("T1", "", rProvRef("QC2A000001"))},
			[]string{"missing_in_provider ORD-P -", "match QC2A000001 T1"}},
		{"4: two entries by provider reference: the earliest", L{led("ORD-A", lProvRef("QC4A000001"), lAt(-10*time.Hour)), led("ORD-B", lProvRef("QC4A000001"), lAt(3*time.Hour))},
			R{rec("T1", "", rProvRef("QC4A000001"))},
			[]string{"match ORD-A T1", "missing_in_provider ORD-B -"}},

		// Item 6: sums never wrap.
		{"6: overflowing parts never match", L{led("X1", lAmount(553255926290448384))},
			R{big("T1", 9_000_000_000_000_000_000), big("T2", 9_000_000_000_000_000_000), big("T3", 1_000_000_000_000_000_000)},
			[]string{"amount_mismatch X1 T1", "duplicate_payment X1 T2", "duplicate_payment X1 T3"}},
		{"6: parts near the int64 limit sum exactly", L{led("X1", lAmount(max))},
			R{big("T1", max-1), big("T2", 1), big("T3", max)},
			[]string{"match X1 T3", "duplicate_payment X1 T1", "duplicate_payment X1 T2"}},
		{"6: parts near the int64 limit", L{led("X1", lAmount(max))},
			R{big("T1", max-1), big("T2", 1), big("T4", max-2)},
			[]string{"match X1 T1,T2", "duplicate_payment X1 T4"}},

		// Item 7: same instant, stable keys (input order is reversed in the
		// second case, the answer is not).
		{"7: same instant, by transaction id", L{led("ORD-D1")}, R{rec("T1", "ORD-D1"), rec("T2", "ORD-D1")},
			[]string{"match ORD-D1 T1", "duplicate_payment ORD-D1 T2"}},
		{"7: same instant, arrived the other way", L{led("ORD-D1")}, R{rec("T2", "ORD-D1"), rec("T1", "ORD-D1")},
			[]string{"match ORD-D1 T1", "duplicate_payment ORD-D1 T2"}},
		{"7: same-instant reports in reference order", L{led("ORD-Z"), led("ORD-A")}, nil,
			[]string{"missing_in_provider ORD-A -", "missing_in_provider ORD-Z -"}},
		{"7: reversal before its payment in the input", L{led("A1")}, R{rec("V1", "", rReverses("T1")), rec("T1", "A1")},
			[]string{"reversed A1 T1,V1"}},

		// Item 8: references normalized on both sides.
		{"8: spaces around a record's reference", L{led("ORD-C5")}, R{rec("T1", " ORD-C5 ")}, []string{"match ORD-C5 T1"}},
		{"8: spaces around the ledger's reference", L{led("\tORD-C5\u00a0")}, R{rec("T1", "ORD-C5")}, []string{"match \tORD-C5\u00a0 T1"}},
		{"8: invisible characters", L{led("ORD-C5")}, R{rec("T1", "\ufeffORD-C5\u200b")}, []string{"match ORD-C5 T1"}},
		{"8: provider reference trimmed", L{led("ORD-C6", lProvRef(" QC6 "))}, R{rec("T1", "", rProvRef("QC6\n"))}, []string{"match ORD-C6 T1"}},
		{"8: case is kept", L{led("ORD-C5")}, R{rec("T1", "ord-c5")}, []string{"missing_in_provider ORD-C5 -", "missing_in_ledger - T1"}},
		{"8: inner space is kept", L{led("ORD C5")}, R{rec("T1", "ORDC5")}, []string{"missing_in_provider ORD C5 -", "missing_in_ledger - T1"}},
		{"8: blank references never match", L{led(" ")}, R{rec("T1", "  ")}, []string{"missing_in_provider   -", "missing_in_ledger - T1"}},
	}
	noHeur := func(c *matchers.Config) { c.HeuristicProviders = nil }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mod := noHeur
			if strings.HasPrefix(tt.name, "1:") {
				mod = nil
			}
			c, st := run(t, tt.ledger, tt.recs, mod)
			if !slices.Equal(c.order, tt.want) {
				t.Errorf("got  %q\nwant %q", c.order, tt.want)
			}
			if st.Matches != len(c.matches) || st.Discrepancies != len(c.discs) {
				t.Errorf("stats %+v disagree with %d matches, %d discrepancies", st, len(c.matches), len(c.discs))
			}
			for _, d := range c.discs {
				if d.ProviderAmount < 0 || d.LedgerAmount < 0 {
					t.Errorf("negative amount (wrapped?): %+v", d)
				}
			}
		})
	}
}

// TestGroupDetail checks the sentence of a shortfall of several partial
// payments.
func TestGroupDetail(t *testing.T) {
	t.Parallel()
	c, _ := run(t, []reconcile.LedgerEntry{led("G5", lAmount(30000))},
		[]reconcile.Record{rec("T1", "G5", rAmount(10000)), rec("T2", "G5", rAmount(15000), rAt(time.Minute))}, nil)
	if len(c.discs) != 1 {
		t.Fatalf("got %q", c.order)
	}
	d := c.discs[0]
	want := "Ledger says 300.00 KES paid for G5; Kopo Kopo received 250.00 KES in 2 payments (T1, reference G5; T2, reference G5) — 50.00 short: no set of its payments adds up to the ledger amount"
	if d.Detail != want {
		t.Errorf("detail %q\nwant   %q", d.Detail, want)
	}
	if d.ProviderAmount != 25000 || d.Difference != -5000 {
		t.Errorf("provider amount %d, difference %d; want 25000, -5000", d.ProviderAmount, d.Difference)
	}
}

// TestOverflowIsAnError checks that an amount the matcher must report but
// cannot hold is an error naming it, never a wrapped number.
func TestOverflowIsAnError(t *testing.T) {
	t.Parallel()
	const nine = 9_000_000_000_000_000_000
	ledger := []reconcile.LedgerEntry{led("X1", lStatus(reconcile.LedgerPending))}
	recs := []reconcile.Record{rec("T1", "X1", rAmount(nine)), rec("T2", "X1", rAmount(nine))}
	_, err := matchers.Match(context.Background(), matchers.Config{Window: day, Now: day.To}, seq(ledger), seq(recs), &collector{})
	if err == nil || !strings.Contains(err.Error(), "sum beyond the largest amount") || !strings.Contains(err.Error(), "X1") {
		t.Fatalf("error %v, want an overflow error naming X1", err)
	}
}

// TestMatchIgnoresSameInstantOrder runs every permutation of items sharing
// one instant and expects the same output, byte for byte (item 7).
func TestMatchIgnoresSameInstantOrder(t *testing.T) {
	t.Parallel()
	ledger := []reconcile.LedgerEntry{led("D1"), led("D2", lAmount(50000)), led("D3", lProvRef("QD3"))}
	recs := []reconcile.Record{
		rec("T1", "D1"), rec("T2", "D1"), rec("T3", "D2", rAmount(20000)), rec("T4", "D2", rAmount(30000)),
		rec("T5", "", rProvRef("QD3")), rec("V2", "", rReverses("T2")), rec("T6", "", rPhone("0712000009")),
	}
	var want []string
	perms := 0
	var permute func(k int)
	permute = func(k int) {
		if k == len(recs) {
			perms++
			for _, ls := range [][]reconcile.LedgerEntry{ledger, {ledger[2], ledger[0], ledger[1]}} {
				c, _ := run(t, ls, recs, nil)
				got := fmt.Sprintf("%q", c.order)
				for _, d := range c.discs {
					got += d.Detail
				}
				if want == nil {
					want = []string{got}
				} else if got != want[0] {
					t.Fatalf("order %v gives\n%s\nwant\n%s", txIDs(recs), got, want[0])
				}
			}
			return
		}
		for i := k; i < len(recs); i++ {
			recs[k], recs[i] = recs[i], recs[k]
			permute(k + 1)
			recs[k], recs[i] = recs[i], recs[k]
		}
	}
	permute(0)
	t.Logf("%d arrival orders, one answer: %s", perms, want[0])
}

// paymentLookup finds payments and payouts in recs by transaction id, as
// the store does for the run job.
func paymentLookup(recs []reconcile.Record) func(context.Context, reconcile.Provider, string) (reconcile.Record, bool, error) {
	return func(_ context.Context, p reconcile.Provider, tx string) (reconcile.Record, bool, error) {
		for _, r := range recs {
			if r.Provider == p && r.TxID == tx && (r.Kind == reconcile.KindPayment || r.Kind == reconcile.KindPayout) {
				return r, true, nil
			}
		}
		return reconcile.Record{}, false, nil
	}
}

// within returns the items whose time lies in w, as the store reads them.
func readIn[T any](items []T, w reconcile.Window, at func(T) time.Time) []T {
	var out []T
	for _, it := range items {
		if w.Contains(at(it)) {
			out = append(out, it)
		}
	}
	return out
}

// runRead matches what a run over w reads: both streams over
// cfg.ReadWindow(), sorted by time (keeping the given order otherwise).
func runRead(t *testing.T, ledger []reconcile.LedgerEntry, recs []reconcile.Record, cfg matchers.Config) (*collector, matchers.Stats) {
	t.Helper()
	read := cfg.ReadWindow()
	ledger = readIn(ledger, read, func(l reconcile.LedgerEntry) time.Time { return l.OccurredAt })
	recs = readIn(recs, read, func(r reconcile.Record) time.Time { return r.OccurredAt })
	slices.SortStableFunc(ledger, func(a, b reconcile.LedgerEntry) int { return a.OccurredAt.Compare(b.OccurredAt) })
	slices.SortStableFunc(recs, func(a, b reconcile.Record) int { return a.OccurredAt.Compare(b.OccurredAt) })
	var c collector
	st, err := matchers.Match(context.Background(), cfg, seq(ledger), seq(recs), &c)
	if err != nil {
		t.Fatalf("Match over %s: %v", cfg.Window, err)
	}
	return &c, st
}

// TestDailyRunsAddUp covers item 2 of issue 13: every item is reported once
// across consecutive daily runs, which add up to the range run, whatever
// the gap between a payment and its reversal or between ledger entries
// sharing a reference.
func TestDailyRunsAddUp(t *testing.T) {
	t.Parallel()
	nairobi := time.FixedZone("EAT", 3*3600)
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, nairobi).UTC() }
	ledAt := func(ref string, when time.Time, mods ...func(*reconcile.LedgerEntry)) reconcile.LedgerEntry {
		return led(ref, append(mods, func(l *reconcile.LedgerEntry) { l.OccurredAt = when })...)
	}
	recAt := func(tx, ref string, when time.Time, mods ...func(*reconcile.Record)) reconcile.Record {
		return rec(tx, ref, append(mods, func(r *reconcile.Record) { r.OccurredAt = when })...)
	}
	tests := []struct {
		name   string
		ledger []reconcile.LedgerEntry
		recs   []reconcile.Record
		want   []string // the range run's report, sorted
	}{
		{"2a: reversal three days after a payment marked reversed",
			[]reconcile.LedgerEntry{ledAt("ORD-R", at(2, 10, 0))},
			[]reconcile.Record{recAt("T1", "ORD-R", at(2, 10, 1), rStatus(reconcile.StatusReversed)), recAt("V1", "", at(5, 9, 0), rReverses("T1"))},
			[]string{"reversed ORD-R T1"}},
		{"2a: reversal three days after a payment that stayed succeeded",
			[]reconcile.LedgerEntry{ledAt("ORD-R", at(2, 10, 0))},
			[]reconcile.Record{recAt("T1", "ORD-R", at(2, 10, 1)), recAt("V1", "", at(5, 9, 0), rReverses("T1"))},
			[]string{"match ORD-R T1", "reversed - V1"}},
		{"2a: reversal 23 h after the payment, 25 h after its ledger entry",
			[]reconcile.LedgerEntry{ledAt("ORD-R", at(2, 8, 0))},
			[]reconcile.Record{recAt("T1", "ORD-R", at(2, 10, 0)), recAt("V1", "", at(3, 9, 0), rReverses("T1"))},
			[]string{"match ORD-R T1", "reversed - V1"}},
		{"2a: reversal 20 h after the payment",
			[]reconcile.LedgerEntry{ledAt("ORD-R", at(2, 10, 0))},
			[]reconcile.Record{recAt("T1", "ORD-R", at(2, 10, 1)), recAt("V1", "", at(3, 6, 0), rReverses("T1"))},
			[]string{"reversed ORD-R T1,V1"}},
		{"2a: reversal of a payment found nowhere",
			nil,
			[]reconcile.Record{recAt("V1", "", at(5, 9, 0), rReverses("T9"))},
			[]string{"reversed - V1"}},
		{"2b: one record, two entries sharing its provider reference 24h40m apart",
			[]reconcile.LedgerEntry{ledAt("ORD-A", at(1, 23, 30), lProvRef("QC4A000001")), ledAt("ORD-B", at(3, 0, 10), lProvRef("QC4A000001"))},
			[]reconcile.Record{recAt("T1", "", at(2, 1, 0), rProvRef("QC4A000001"))},
			[]string{"match ORD-A T1", "missing_in_provider ORD-B -"}},
		{"2b: a merchant reference beyond the first day's read",
			[]reconcile.LedgerEntry{ledAt("ORD-P", at(1, 23, 30), lProvRef("QC5A000001")), ledAt("ORD-M", at(3, 0, 50))},
			[]reconcile.Record{recAt("T1", "ORD-M", at(2, 1, 0), rProvRef("QC5A000001"))},
			[]string{"match ORD-M T1", "missing_in_provider ORD-P -"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first := time.Date(2026, 3, 1, 0, 0, 0, 0, nairobi)
			cfg := func(w reconcile.Window) matchers.Config {
				return matchers.Config{Window: w, Now: w.To, Payment: paymentLookup(tt.recs),
					HeuristicProviders: []reconcile.Provider{testprov.KopoKopo}}
			}
			all := reconcile.Window{From: first.UTC(), To: first.AddDate(0, 0, 6).UTC()}
			whole, _ := runRead(t, tt.ledger, tt.recs, cfg(all))
			got := slices.Sorted(slices.Values(whole.order))
			if !slices.Equal(got, tt.want) {
				t.Errorf("range run: got %q\nwant %q", got, tt.want)
			}
			var days []string
			for d := range 6 {
				w := reconcile.Window{From: first.AddDate(0, 0, d).UTC(), To: first.AddDate(0, 0, d+1).UTC()}
				c, _ := runRead(t, tt.ledger, tt.recs, cfg(w))
				days = append(days, c.order...)
			}
			slices.Sort(days)
			if !slices.Equal(days, got) {
				t.Errorf("daily runs: %q\nrange run:  %q", days, got)
			}
		})
	}
}

// TestLateReversalDetail checks what a reversal long after its payment
// says.
func TestLateReversalDetail(t *testing.T) {
	t.Parallel()
	pay := rec("T1", "A1", rAt(-36*time.Hour))
	rev := rec("V1", "", rReverses("T1"))
	recs := []reconcile.Record{pay, rev}
	cfg := matchers.Config{Window: day, Now: day.To, Payment: paymentLookup(recs)}
	c, _ := runRead(t, nil, recs, cfg)
	if len(c.discs) != 1 || !strings.Contains(c.discs[0].Detail, "of payment T1, reference A1 of 2026-02-28T00:00:00Z, which was reported as received then") {
		t.Fatalf("got %q %+v", c.order, c.discs)
	}
	cfg.Payment = paymentLookup(nil)
	c, _ = runRead(t, nil, recs[1:], cfg)
	if len(c.discs) != 1 || !strings.Contains(c.discs[0].Detail, "payment T1, of which Mizani has no record") {
		t.Fatalf("got %q %+v", c.order, c.discs)
	}
}

// TestReadWindow checks the span the streams should cover.
func TestReadWindow(t *testing.T) {
	t.Parallel()
	cfg := matchers.Config{Window: day, Grace: 6 * time.Hour, Tolerance: 40 * time.Minute}
	if got, want := cfg.ReadWindow(), day.Grow(12*time.Hour+80*time.Minute); got != want {
		t.Errorf("ReadWindow %s, want %s", got, want)
	}
	if got, want := (matchers.Config{Window: day}).ReadWindow(), day.Grow(49*time.Hour); got != want {
		t.Errorf("default ReadWindow %s, want %s", got, want)
	}
}

// TestNormalizeRef documents the normalization of references.
func TestNormalizeRef(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ORD-1": "ORD-1", " ORD-1 ": "ORD-1", "\tORD-1\r\n": "ORD-1", "\u00a0ORD-1\u2003": "ORD-1",
		"\ufeffORD-1\u200b": "ORD-1", "\u2060ORD 1\u200d": "ORD 1", "ord-1": "ord-1", "": "", "  ": "",
		"ÖRD-1 ": "ÖRD-1",
	} {
		if got := matchers.NormalizeRef(in); got != want {
			t.Errorf("NormalizeRef(%q) = %q, want %q", in, got, want)
		}
	}
}
