package settlement_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/settlement"
)

// The tests of this file are issue 14's scenarios, dated March 2026 with
// Kopo Kopo settling the whole company at 10:00 EAT (T+1).

func kesM(major int64) reconcile.Money { return reconcile.Money{Minor: major * 100, Currency: "KES"} }

// k2 is a Kopo Kopo record of the whole company at day d, h:00 EAT.
func k2(kind reconcile.Kind, tx string, major int64, d, h int, mods ...func(*reconcile.Record)) reconcile.Record {
	return settleRec(testprov.KopoKopo, kind, tx, kesM(major), eat(d, h, 0), append([]func(*reconcile.Record){
		func(r *reconcile.Record) { r.Account = "" }}, mods...)...)
}

func status(s reconcile.Status) func(*reconcile.Record) {
	return func(r *reconcile.Record) { r.Status = s }
}

// k2Bank is a Kopo Kopo credit of major KES value-dated day d.
func k2Bank(major int64, d int) reconcile.BankLine {
	return reconcile.BankLine{ValueDate: time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC), Amount: kesM(major),
		Provider: testprov.KopoKopo, Reference: "STL"}
}

// settleDays runs the settlement over days from..to (both included) with a
// look-back of lookBack days, and returns its rows and discrepancies.
func settleDays(t *testing.T, from, to, lookBack, lag int, recs []reconcile.Record, bank []reconcile.BankLine) ([]reconcile.SettlementDay, []reconcile.Discrepancy) {
	t.Helper()
	w := reconcile.Window{From: eat(from, 0, 0).UTC(), To: eat(to+1, 0, 0).UTC()}
	s, err := settlement.New(settlement.Config{Window: w, Zone: nairobi, Fees: testFees(), PerCompany: perCompany,
		LoadedFrom: w.From.AddDate(0, 0, -lookBack), BankLagDays: lag})
	if err != nil {
		t.Fatal(err)
	}
	loaded := w.From.AddDate(0, 0, -lookBack)
	for _, r := range recs {
		if r.OccurredAt.Before(loaded) && (r.Kind != reconcile.KindPayment || r.ReversedAt.Before(loaded) || !r.ReversedAt.Before(w.To)) {
			continue // as jobs reads: from the look-back on, and the payments seen reversed since (Store.LateReversals)
		}
		if err := s.AddRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range bank {
		if err := s.AddBankLine(b); err != nil {
			t.Fatal(err)
		}
	}
	return s.Result()
}

// dailyEqualsRange checks that the runs of each day from..to report, row
// for row and sentence for sentence, what one run over them does, and
// returns the range run's.
func dailyEqualsRange(t *testing.T, from, to, lookBack, lag int, recs []reconcile.Record, bank []reconcile.BankLine) ([]reconcile.SettlementDay, []reconcile.Discrepancy) {
	t.Helper()
	rows, discs := settleDays(t, from, to, lookBack, lag, recs, bank)
	var dRows []reconcile.SettlementDay
	var dDiscs []reconcile.Discrepancy
	for d := from; d <= to; d++ {
		r, ds := settleDays(t, d, d, lookBack, lag, recs, bank)
		dRows, dDiscs = append(dRows, r...), append(dDiscs, ds...)
	}
	if got, want := dumpRows(dRows), dumpRows(rows); got != want {
		t.Errorf("daily runs' rows:\n%s\nthe range run's:\n%s", got, want)
	}
	if got, want := strings.Join(details(dDiscs), "\n"), strings.Join(details(discs), "\n"); got != want {
		t.Errorf("daily runs say:\n%s\nthe range run says:\n%s", got, want)
	}
	return rows, discs
}

// shortWord finds the "— 500.00 short" of a detail.
var shortWord = regexp.MustCompile(`— [0-9,.]+ short`)

func wantDetails(t *testing.T, discs []reconcile.Discrepancy, want ...string) {
	t.Helper()
	if got := details(discs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("discrepancies\n got %q\nwant %q", got, want)
	}
	for _, d := range discs {
		if d.Difference != d.ProviderAmount-d.LedgerAmount || (d.Difference < 0) != shortWord.MatchString(d.Detail) {
			t.Errorf("sign: difference %d, settled %d, owed %d, %q", d.Difference, d.ProviderAmount, d.LedgerAmount, d.Detail)
		}
	}
}

// TestSettlementEverySettlementMeetsTheBank (item 1): a settlement that
// never reached the bank is reported once its lag is over, by the daily
// run of that day as by a range run.
func TestSettlementEverySettlementMeetsTheBank(t *testing.T) {
	t.Parallel()
	recs := []reconcile.Record{
		k2(reconcile.KindPayment, "P1", 1000, 2, 12),
		k2(reconcile.KindSettlement, "S1", 1000, 3, 10),
		k2(reconcile.KindPayment, "P2", 2000, 3, 12),
		k2(reconcile.KindSettlement, "S2", 2000, 4, 10),
	}
	bank := []reconcile.BankLine{k2Bank(2000, 4)}
	const lag = 1
	_, discs := dailyEqualsRange(t, 3, 4, 7, lag, recs, bank)
	wantDetails(t, discs, "Kopo Kopo reports settling 1,000.00 KES on 2026-03-03; the bank statement shows no credit of it from Kopo Kopo by 2026-03-04 — 1,000.00 short")
	if len(discs) == 1 && (discs[0].Difference != -100000 || !discs[0].OccurredAt.Equal(eat(4, 0, 0))) {
		t.Errorf("bank discrepancy %+v, want −1,000.00 on 4 March", discs[0])
	}
	// Statements that do not reach the end of the lag yet: not reported.
	if _, discs := settleDays(t, 3, 4, 7, 3, recs, bank); len(discs) != 0 {
		t.Errorf("lag not over: %q", details(discs))
	}
}

// TestSettlementLateReversal (item 2): a reversal counts on the day it
// happened, so the days before it do not change; its payment's reversed
// status is not counted again on the payment's day.
func TestSettlementLateReversal(t *testing.T) {
	t.Parallel()
	selfLinked := func(r *reconcile.Record) { r.Status, r.RelatedTxID = reconcile.StatusReversed, r.TxID }
	recs := []reconcile.Record{
		k2(reconcile.KindPayment, "P1", 2000, 2, 12, selfLinked),
		k2(reconcile.KindSettlement, "S1", 2000, 3, 10),
		k2(reconcile.KindPayment, "P2", 3000, 4, 12),
		k2(reconcile.KindReversal, "P1", 2000, 4, 15, func(r *reconcile.Record) { r.Status, r.RelatedTxID = reconcile.StatusReversed, "P1" }),
		k2(reconcile.KindSettlement, "S2", 1000, 5, 10),
	}
	rows, discs := dailyEqualsRange(t, 2, 5, 7, 0, recs, nil)
	wantDetails(t, discs)
	if len(rows) != 4 || rows[0].Reversals != 0 || rows[2].Reversals != 200000 || rows[3].Unsettled != 0 {
		t.Errorf("rows:\n%s want the reversal on 4 March only, nothing owed after 5 March", dumpRows(rows))
	}
	// The reversal is read even when its payment is older than the look-back.
	if _, discs := settleDays(t, 5, 5, 1, 0, recs, nil); len(discs) != 0 {
		t.Errorf("look-back of a day: %q", details(discs))
	}
}

// TestSettlementPolledReversal (item 2): a payment whose reversal is
// only its new status (a polled transaction, Reversed) counts the reversal
// on the day the store first saw it so (Record.ReversedAt), not on the
// payment's day; one reversed at first sight counts on its own day; one
// seen reversed after the window is not the window's.
func TestSettlementPolledReversal(t *testing.T) {
	t.Parallel()
	seenReversed := func(d, h int) func(*reconcile.Record) {
		return func(r *reconcile.Record) { r.Status, r.ReversedAt = reconcile.StatusReversed, eat(d, h, 0).UTC() }
	}
	recs := []reconcile.Record{
		k2(reconcile.KindPayment, "P1", 2000, 2, 12, seenReversed(4, 15)),
		k2(reconcile.KindSettlement, "S1", 2000, 3, 10),
		k2(reconcile.KindPayment, "P2", 3000, 4, 12),
		k2(reconcile.KindSettlement, "S2", 1000, 5, 10),
	}
	rows, discs := dailyEqualsRange(t, 2, 5, 7, 0, recs, nil)
	wantDetails(t, discs)
	if len(rows) != 4 || rows[0].Reversals != 0 || rows[2].Reversals != 200000 || rows[3].Unsettled != 0 {
		t.Errorf("rows:\n%s want the reversal on 4 March only, nothing owed after 5 March", dumpRows(rows))
	}
	// Read even when its payment is older than the look-back.
	for lookBack := 1; lookBack <= 2; lookBack++ {
		if _, discs := settleDays(t, 5, 5, lookBack, 0, recs, nil); len(discs) != 0 {
			t.Errorf("look-back of %d days: %q", lookBack, details(discs))
		}
	}
	// Before the store saw it reversed, 3 March's run saw a clean day;
	// a re-run after it still does.
	if _, discs := settleDays(t, 3, 3, 7, 0, recs, nil); len(discs) != 0 {
		t.Errorf("3 March re-run: %q", details(discs))
	}

	// Reversed at first sight (no earlier sighting): on its own day.
	first := []reconcile.Record{
		k2(reconcile.KindPayment, "P1", 2000, 2, 12, status(reconcile.StatusReversed)),
		k2(reconcile.KindPayment, "P2", 500, 2, 13),
		k2(reconcile.KindSettlement, "S1", 500, 3, 10),
	}
	rows, discs = dailyEqualsRange(t, 2, 3, 7, 0, first, nil)
	wantDetails(t, discs)
	if len(rows) != 2 || rows[0].Reversals != 200000 {
		t.Errorf("rows:\n%s want the reversal on 2 March", dumpRows(rows))
	}

	// Seen reversed after the window: not yet reversed as of its end.
	later := []reconcile.Record{
		k2(reconcile.KindPayment, "P1", 2000, 2, 12, seenReversed(9, 1)),
		k2(reconcile.KindSettlement, "S1", 2000, 3, 10),
	}
	rows, discs = settleDays(t, 2, 3, 7, 0, later, nil)
	wantDetails(t, discs)
	if len(rows) != 2 || rows[0].Reversals != 0 || rows[1].Reversals != 0 {
		t.Errorf("rows:\n%s want no reversal before 9 March", dumpRows(rows))
	}
}

// TestSettlementReversedSettlementAndPayout (items 3 and 4): reversed or
// failed settlement money is not settled; a reversed payout gives the money
// back.
func TestSettlementReversedSettlementAndPayout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		recs []reconcile.Record
	}{
		{"disbursement reversed, paid again the next day", []reconcile.Record{
			k2(reconcile.KindPayment, "P1", 1000, 2, 12),
			k2(reconcile.KindSettlement, "S1", 1000, 3, 10, status(reconcile.StatusReversed)),
			k2(reconcile.KindSettlement, "S2", 1000, 4, 10),
		}},
		{"payout reversed", []reconcile.Record{
			k2(reconcile.KindPayment, "P1", 1000, 2, 12),
			k2(reconcile.KindPayout, "PAY1", 250, 2, 13, status(reconcile.StatusReversed)),
			k2(reconcile.KindSettlement, "S1", 1000, 3, 10),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, discs := dailyEqualsRange(t, 2, 4, 7, 0, tt.recs, nil)
			wantDetails(t, discs)
			if last := rows[len(rows)-1]; last.Unsettled != 0 {
				t.Errorf("rows:\n%s want nothing owed at the end", dumpRows(rows))
			}
		})
	}
}

// TestSettlementShortfallCarried (item 7): Friday falls 500.00 short and
// Monday pays it back: the shortfall is reported once, carried in
// Unsettled until paid, and Monday's settlement recovers it.
func TestSettlementShortfallCarried(t *testing.T) {
	t.Parallel()
	recs := []reconcile.Record{
		// Settled in full the day before: the run's look-back reaches a
		// settlement before Friday's.
		k2(reconcile.KindPayment, "P4", 800, 4, 12),
		k2(reconcile.KindSettlement, "S5", 800, 5, 10),
		k2(reconcile.KindPayment, "P5", 1000, 5, 12),
		k2(reconcile.KindSettlement, "S6", 500, 6, 10),
		k2(reconcile.KindPayment, "P6", 1000, 6, 12),
		k2(reconcile.KindPayment, "P7", 1000, 7, 12),
		k2(reconcile.KindPayment, "P8", 1000, 8, 12),
		k2(reconcile.KindSettlement, "S9", 3500, 9, 10),
	}
	rows, discs := dailyEqualsRange(t, 6, 9, 7, 0, recs, nil)
	wantDetails(t, discs, "Kopo Kopo settled 500.00 KES on 2026-03-06; 1,000.00 KES was owed up to the end of 2026-03-05 — 500.00 short")
	want := []struct{ variance, unsettled, recovered int64 }{{-50000, 150000, 0}, {0, 250000, 0}, {0, 350000, 0}, {0, 0, 50000}}
	if len(rows) != len(want) {
		t.Fatalf("rows:\n%s", dumpRows(rows))
	}
	for i, w := range want {
		if r := rows[i]; r.Variance != w.variance || r.Unsettled != w.unsettled || r.Recovered != w.recovered {
			t.Errorf("row %d: %+v, want variance %d, unsettled %d, recovered %d", i, r, w.variance, w.unsettled, w.recovered)
		}
	}
	if !rows[3].RecoveredFrom.Equal(eat(6, 0, 0)) {
		t.Errorf("Monday recovers the shortfall of %s, want 2026-03-06", rows[3].RecoveredFrom)
	}
	// A catch-up paying more than the shortfall: the rest is over, and the
	// sentence says what it paid back.
	recs[len(recs)-1] = k2(reconcile.KindSettlement, "S9", 3600, 9, 10)
	_, discs = dailyEqualsRange(t, 6, 9, 7, 0, recs, nil)
	wantDetails(t, discs,
		"Kopo Kopo settled 500.00 KES on 2026-03-06; 1,000.00 KES was owed up to the end of 2026-03-05 — 500.00 short",
		"Kopo Kopo settled 3,600.00 KES on 2026-03-09; 3,000.00 KES was owed for 2026-03-06 to 2026-03-08, and 500.00 KES of the shortfall of the settlement of 2026-03-06 was still due — 100.00 over")
}

// TestSettlementBankSignLagAndGroups (item 8): the bank check uses the
// provider's sign rule; a credit a day late, or a weekend credited as one
// on Monday, agrees.
func TestSettlementBankSignLagAndGroups(t *testing.T) {
	t.Parallel()
	daily := []reconcile.Record{
		k2(reconcile.KindPayment, "P4", 100, 4, 12), k2(reconcile.KindSettlement, "S5", 100, 5, 10),
		k2(reconcile.KindPayment, "P5", 1000, 5, 12), k2(reconcile.KindSettlement, "S6", 1000, 6, 10),
		k2(reconcile.KindPayment, "P6", 2000, 6, 12), k2(reconcile.KindSettlement, "S7", 2000, 7, 10),
		k2(reconcile.KindPayment, "P7", 3000, 7, 12), k2(reconcile.KindSettlement, "S8", 3000, 8, 10),
		k2(reconcile.KindPayment, "P8", 4000, 8, 12), k2(reconcile.KindSettlement, "S9", 4000, 9, 10),
	}
	tests := []struct {
		name string
		bank []reconcile.BankLine
		want []string
	}{
		{"each credited the same day", []reconcile.BankLine{k2Bank(100, 5), k2Bank(1000, 6), k2Bank(2000, 7), k2Bank(3000, 8), k2Bank(4000, 9)}, nil},
		{"a credit one day late", []reconcile.BankLine{k2Bank(100, 5), k2Bank(1000, 7), k2Bank(2000, 7), k2Bank(3000, 8), k2Bank(4000, 9)}, nil},
		{"the weekend credited on Monday", []reconcile.BankLine{k2Bank(100, 5), k2Bank(1000, 6), k2Bank(9000, 9)}, nil},
		{"a credit short", []reconcile.BankLine{k2Bank(100, 5), k2Bank(1000, 6), k2Bank(1900, 7), k2Bank(3000, 8), k2Bank(4000, 9)},
			[]string{"Kopo Kopo reports settling 2,000.00 KES on 2026-03-07; the bank statement shows 1,900.00 KES from Kopo Kopo that day — 100.00 short"}},
		{"a credit with no settlement", []reconcile.BankLine{k2Bank(100, 5), k2Bank(1000, 6), k2Bank(2000, 7), k2Bank(3000, 8), k2Bank(4000, 9), k2Bank(50, 9)},
			[]string{"The bank statement shows 50.00 KES from Kopo Kopo on 2026-03-09; Kopo Kopo reports no settlement of it from 2026-03-06 to 2026-03-09 — 50.00 over"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, discs := dailyEqualsRange(t, 6, 9, 7, 3, daily, tt.bank)
			wantDetails(t, discs, tt.want...)
		})
	}
}

// TestSettlementSentenceWindowIndependent (item 10): a settlement with none
// before it in the look-back reads the same in a daily and a range run.
func TestSettlementSentenceWindowIndependent(t *testing.T) {
	t.Parallel()
	recs := []reconcile.Record{
		k2(reconcile.KindSettlement, "S1", 100, 1, 10),
		k2(reconcile.KindPayment, "P1", 1000, 2, 12),
		k2(reconcile.KindPayment, "P2", 700, 6, 12),
		k2(reconcile.KindSettlement, "S2", 900, 12, 10),
	}
	_, discs := dailyEqualsRange(t, 2, 12, 7, 0, recs, nil)
	wantDetails(t, discs, "Kopo Kopo settled 900.00 KES on 2026-03-12; 700.00 KES was owed for 2026-03-06 to 2026-03-11 — 200.00 over"+
		" (no earlier settlement since 2026-03-05, as far back as the run looked: it may pay for earlier days too; see --settlement-look-back)")
}
