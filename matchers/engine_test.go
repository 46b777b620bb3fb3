package matchers_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/matchers"
)

// The run window of most tests: 1 March 2026, UTC.
var (
	day = reconcile.Window{
		From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		To:   time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
	}
	noon = day.From.Add(12 * time.Hour)
)

// led is a paid 1,000.00 KES Kopo Kopo ledger entry at noon; mods adjust it.
func led(ref string, mods ...func(*reconcile.LedgerEntry)) reconcile.LedgerEntry {
	l := reconcile.LedgerEntry{
		Reference: ref, Provider: testprov.KopoKopo, Direction: reconcile.In,
		Amount: reconcile.Money{Minor: 100000, Currency: "KES"}, Status: reconcile.LedgerPaid,
		OccurredAt: noon,
	}
	for _, m := range mods {
		m(&l)
	}
	return l
}

// rec is a succeeded 1,000.00 KES Kopo Kopo payment at noon carrying
// merchant reference ref; mods adjust it.
func rec(tx, ref string, mods ...func(*reconcile.Record)) reconcile.Record {
	r := reconcile.Record{
		Provider: testprov.KopoKopo, Kind: reconcile.KindPayment, TxID: tx, MerchantRef: ref,
		Amount: reconcile.Money{Minor: 100000, Currency: "KES"}, AmountKnown: true,
		Status: reconcile.StatusSucceeded, OccurredAt: noon,
	}
	for _, m := range mods {
		m(&r)
	}
	return r
}

func lAt(d time.Duration) func(*reconcile.LedgerEntry) {
	return func(l *reconcile.LedgerEntry) { l.OccurredAt = noon.Add(d) }
}
func lAmount(minor int64) func(*reconcile.LedgerEntry) {
	return func(l *reconcile.LedgerEntry) { l.Amount.Minor = minor }
}
func lStatus(s reconcile.LedgerStatus) func(*reconcile.LedgerEntry) {
	return func(l *reconcile.LedgerEntry) { l.Status = s }
}
func lPhone(p string) func(*reconcile.LedgerEntry) {
	return func(l *reconcile.LedgerEntry) { l.CustomerPhone = p }
}
func rAt(d time.Duration) func(*reconcile.Record) {
	return func(r *reconcile.Record) { r.OccurredAt = noon.Add(d) }
}
func rAmount(minor int64) func(*reconcile.Record) {
	return func(r *reconcile.Record) { r.Amount.Minor = minor }
}
func rStatus(s reconcile.Status) func(*reconcile.Record) {
	return func(r *reconcile.Record) { r.Status = s }
}
func rPhone(p string) func(*reconcile.Record) {
	return func(r *reconcile.Record) { r.Counterparty = p }
}
func rProvRef(ref string) func(*reconcile.Record) {
	return func(r *reconcile.Record) { r.ProviderRef = ref }
}
func rKind(k reconcile.Kind) func(*reconcile.Record) {
	return func(r *reconcile.Record) { r.Kind = k }
}
func rReverses(tx string) func(*reconcile.Record) {
	return func(r *reconcile.Record) { r.Kind, r.RelatedTxID = reconcile.KindReversal, tx }
}

// collector is an Output that keeps everything.
type collector struct {
	matches []reconcile.Match
	discs   []reconcile.Discrepancy
	order   []string
}

func (c *collector) Match(m reconcile.Match) error {
	c.matches = append(c.matches, m)
	c.order = append(c.order, matchLine(m))
	return nil
}

func (c *collector) Discrepancy(d reconcile.Discrepancy) error {
	c.discs = append(c.discs, d)
	c.order = append(c.order, discLine(d))
	return nil
}

func txIDs(recs []reconcile.Record) string {
	if len(recs) == 0 {
		return "-"
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.TxID
	}
	return strings.Join(ids, ",")
}

// matchLine is "match A1 T1,T2" ("match~" when heuristic).
func matchLine(m reconcile.Match) string {
	kind := "match"
	if m.Heuristic {
		kind = "match~"
	}
	return fmt.Sprintf("%s %s %s", kind, m.Ledger.Reference, txIDs(m.Records))
}

// discLine is "amount_mismatch A1 T1" ("-" for a missing side).
func discLine(d reconcile.Discrepancy) string {
	ref := "-"
	if d.Ledger != nil {
		ref = d.Ledger.Reference
	}
	return fmt.Sprintf("%s %s %s", d.Kind, ref, txIDs(d.Records))
}

func seq[T any](items []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
}

// run sorts the inputs by time (keeping the given order among equal times)
// and matches them with the default test config adjusted by mod.
func run(t *testing.T, ledger []reconcile.LedgerEntry, records []reconcile.Record, mod func(*matchers.Config)) (*collector, matchers.Stats) {
	t.Helper()
	ledger, records = slices.Clone(ledger), slices.Clone(records)
	for i := range ledger {
		ledger[i].ID = int64(i + 1)
	}
	slices.SortStableFunc(ledger, func(a, b reconcile.LedgerEntry) int { return a.OccurredAt.Compare(b.OccurredAt) })
	slices.SortStableFunc(records, func(a, b reconcile.Record) int { return a.OccurredAt.Compare(b.OccurredAt) })
	cfg := matchers.Config{Window: day, Now: day.To, HeuristicProviders: []reconcile.Provider{testprov.KopoKopo}}
	if mod != nil {
		mod(&cfg)
	}
	var c collector
	st, err := matchers.Match(context.Background(), cfg, seq(ledger), seq(records), &c)
	if err != nil {
		t.Fatalf("Match: %v", err)
	}
	return &c, st
}

func TestMatchRules(t *testing.T) {
	t.Parallel()
	type L = []reconcile.LedgerEntry
	type R = []reconcile.Record
	noHeur := func(c *matchers.Config) { c.HeuristicProviders = nil }
	grace2h := func(c *matchers.Config) { c.Grace = 2 * time.Hour }
	tests := []struct {
		name   string
		ledger L
		recs   R
		mod    func(*matchers.Config)
		want   []string
	}{
		// Pass 1 keys.
		{"reference = merchant ref", L{led("A1")}, R{rec("T1", "A1")}, nil, []string{"match A1 T1"}},
		{"reference = provider ref (till code typed in)", L{led("OJM6Q1W84K")}, R{rec("T1", "", rProvRef("OJM6Q1W84K"))}, noHeur, []string{"match OJM6Q1W84K T1"}},
		{"provider reference = provider ref", L{led("A1", func(l *reconcile.LedgerEntry) { l.ProviderReference = "PL9" })}, R{rec("T1", "", rProvRef("PL9"))}, noHeur, []string{"match A1 T1"}},
		{"record before ledger", L{led("A1", lAt(time.Hour))}, R{rec("T1", "A1")}, nil, []string{"match A1 T1"}},
		{"empty keys never match", L{led("A1")}, R{rec("T1", "")}, noHeur, []string{"missing_in_provider A1 -", "missing_in_ledger - T1"}},
		{"other provider", L{led("A1")}, R{rec("T1", "A1", func(r *reconcile.Record) { r.Provider = testprov.Pixel })}, nil,
			[]string{"missing_in_provider A1 -", "missing_in_ledger - T1"}},
		{"other direction", L{led("A1")}, R{rec("T1", "A1", rKind(reconcile.KindPayout))}, nil,
			[]string{"missing_in_provider A1 -", "missing_in_ledger - T1"}},
		{"payout matches out entry", L{led("P1", func(l *reconcile.LedgerEntry) { l.Direction = reconcile.Out })}, R{rec("T1", "P1", rKind(reconcile.KindPayout))}, nil,
			[]string{"match P1 T1"}},
		{"gap of exactly grace", L{led("A1", lAt(-time.Hour))}, R{rec("T1", "A1", rAt(time.Hour))}, grace2h, []string{"match A1 T1"}},
		{"gap beyond grace", L{led("A1", lAt(-time.Hour))}, R{rec("T1", "A1", rAt(time.Hour+time.Nanosecond))}, grace2h,
			[]string{"missing_in_provider A1 -", "missing_in_ledger - T1"}},
		{"settlement and fee records never match", L{led("A1")}, R{rec("S1", "A1", rKind(reconcile.KindSettlement)), rec("F1", "A1", rKind(reconcile.KindFee))}, nil,
			[]string{"missing_in_provider A1 -"}},

		// Amounts and currencies.
		{"amount short", L{led("A1", lAmount(150000))}, R{rec("T1", "A1")}, nil, []string{"amount_mismatch A1 T1"}},
		{"amount over", L{led("A1", lAmount(50000))}, R{rec("T1", "A1")}, nil, []string{"amount_mismatch A1 T1"}},
		{"currency differs", L{led("A1")}, R{rec("T1", "A1", func(r *reconcile.Record) { r.Amount.Currency = "UGX" })}, nil, []string{"currency_mismatch A1 T1"}},
		{"amount not reported", L{led("A1")}, R{rec("T1", "A1", func(r *reconcile.Record) { r.AmountKnown, r.Amount.Minor = false, 0 })}, nil, []string{"match A1 T1"}},

		// Statuses.
		{"ledger pending, provider succeeded", L{led("A1", lStatus(reconcile.LedgerPending))}, R{rec("T1", "A1")}, nil, []string{"status_mismatch A1 T1"}},
		{"ledger cancelled, provider succeeded", L{led("A1", lStatus(reconcile.LedgerCancelled))}, R{rec("T1", "A1")}, nil, []string{"status_mismatch A1 T1"}},
		{"ledger paid, provider failed", L{led("A1")}, R{rec("T1", "A1", rStatus(reconcile.StatusFailed))}, nil, []string{"status_mismatch A1 T1"}},
		{"ledger paid, provider pending", L{led("A1")}, R{rec("T1", "A1", rStatus(reconcile.StatusPending))}, nil, []string{"status_mismatch A1 T1"}},
		{"both failed", L{led("A1", lStatus(reconcile.LedgerFailed))}, R{rec("T1", "A1", rStatus(reconcile.StatusFailed))}, nil, nil},
		{"ledger failed, no record", L{led("A1", lStatus(reconcile.LedgerFailed))}, nil, nil, nil},
		{"ledger cancelled, no record", L{led("A1", lStatus(reconcile.LedgerCancelled))}, nil, nil, nil},
		{"ledger pending, no record", L{led("A1", lStatus(reconcile.LedgerPending))}, nil, nil, nil},
		{"ledger paid, no record", L{led("A1")}, nil, nil, []string{"missing_in_provider A1 -"}},
		{"record failed, no ledger", nil, R{rec("T1", "A1", rStatus(reconcile.StatusFailed))}, nil, nil},
		{"record succeeded, no ledger", nil, R{rec("T1", "A1")}, nil, []string{"missing_in_ledger - T1"}},
		{"failed attempt then success", L{led("A1")}, R{rec("T0", "A1", rStatus(reconcile.StatusFailed), rAt(-time.Minute)), rec("T1", "A1")}, nil, []string{"match A1 T1"}},
		{"pending exactly StaleAfter", nil, R{rec("T1", "A1", rStatus(reconcile.StatusPending))}, func(c *matchers.Config) { c.Now = noon.Add(24 * time.Hour) }, nil},
		{"pending past StaleAfter", nil, R{rec("T1", "A1", rStatus(reconcile.StatusPending))}, func(c *matchers.Config) { c.Now = noon.Add(24*time.Hour + time.Second) },
			[]string{"status_mismatch - T1"}},
		{"both pending, record stale", L{led("A1", lStatus(reconcile.LedgerPending))}, R{rec("T1", "A1", rStatus(reconcile.StatusPending))},
			func(c *matchers.Config) { c.Now = noon.Add(48 * time.Hour) }, []string{"status_mismatch A1 T1"}},
		// A nightly run judges the day at its end: what was made yesterday
		// and became stale today is today's to report, not yesterday's.
		{"pending from the day before, stale today", nil, R{rec("T1", "A1", rStatus(reconcile.StatusPending), rAt(-14*time.Hour))}, nil,
			[]string{"status_mismatch - T1"}},
		{"both pending from the day before, stale today", L{led("A1", lStatus(reconcile.LedgerPending), func(l *reconcile.LedgerEntry) { l.OccurredAt = noon.Add(-14 * time.Hour) })},
			R{rec("T1", "A1", rStatus(reconcile.StatusPending), rAt(-14*time.Hour))}, nil, []string{"status_mismatch A1 T1"}},
		{"pending today, stale only tomorrow", nil, R{rec("T1", "A1", rStatus(reconcile.StatusPending))}, nil, nil},

		// Grouping and duplicates.
		{"instalments sum to ledger", L{led("A1")}, R{rec("T1", "A1", rAmount(60000)), rec("T2", "A1", rAmount(40000), rAt(time.Minute))}, nil, []string{"match A1 T1,T2"}},
		{"exact one plus extras", L{led("A1")}, R{rec("T1", "A1", rAmount(60000)), rec("T2", "A1", rAt(time.Minute)), rec("T3", "A1", rAt(2*time.Minute))}, nil,
			[]string{"match A1 T2", "duplicate_payment A1 T1", "duplicate_payment A1 T3"}},
		// Partial payments that sum to nothing are one shortfall, not a
		// mismatch and a duplicate (issue 13, item 3).
		{"parts not summing", L{led("A1")}, R{rec("T1", "A1", rAmount(60000)), rec("T2", "A1", rAmount(30000), rAt(time.Minute))}, nil,
			[]string{"amount_mismatch A1 T1,T2"}},

		// Reversals.
		{"paid then reversed", L{led("A1")}, R{rec("T1", "A1"), rec("V1", "", rReverses("T1"), rAt(time.Hour))}, nil, []string{"reversed A1 T1,V1"}},
		{"refunded and reversed", L{led("A1", lStatus(reconcile.LedgerRefunded))}, R{rec("T1", "A1"), rec("V1", "", rReverses("T1"), rAt(time.Hour))}, nil, []string{"match A1 T1,V1"}},
		{"refunded, no reversal", L{led("A1", lStatus(reconcile.LedgerRefunded))}, R{rec("T1", "A1")}, nil, []string{"status_mismatch A1 T1"}},
		{"payment status reversed", L{led("A1")}, R{rec("T1", "A1", rStatus(reconcile.StatusReversed))}, nil, []string{"reversed A1 T1"}},
		{"reversal of unknown payment", nil, R{rec("V1", "", rReverses("T9"))}, nil, []string{"reversed - V1"}},
		{"received and reversed, no ledger", nil, R{rec("T1", "A1"), rec("V1", "", rReverses("T1"), rAt(time.Hour))}, nil, []string{"reversed - T1,V1"}},
		{"reversal of a failed attempt", L{led("A1")}, R{rec("T0", "A1", rStatus(reconcile.StatusFailed)), rec("T1", "A1", rAt(time.Minute)), rec("V0", "", rReverses("T0"), rAt(time.Hour))}, nil,
			[]string{"match A1 T1"}},

		// Pass 2.
		{"heuristic unique", L{led("A1", lPhone("0712345678"))}, R{rec("T1", "", rAt(10*time.Minute), rPhone("+254712345678"))}, nil, []string{"match~ A1 T1"}},
		{"heuristic, record first", L{led("A1", lAt(10*time.Minute))}, R{rec("T1", "")}, nil, []string{"match~ A1 T1"}},
		{"heuristic at tolerance", L{led("A1")}, R{rec("T1", "", rAt(30*time.Minute))}, nil, []string{"match~ A1 T1"}},
		{"heuristic beyond tolerance", L{led("A1")}, R{rec("T1", "", rAt(30*time.Minute+time.Second))}, nil, []string{"missing_in_provider A1 -", "missing_in_ledger - T1"}},
		{"heuristic phone forms", L{led("A1", lPhone("254 712 345 678"))}, R{rec("T1", "", rPhone("0712-345-678"))}, nil, []string{"match~ A1 T1"}},
		{"heuristic masked phone counts as none", L{led("A1", lPhone("0712345678"))}, R{rec("T1", "", rPhone("2547****5999"))}, nil, []string{"match~ A1 T1"}},
		{"heuristic phone differs", L{led("A1", lPhone("254712345678"))}, R{rec("T1", "", rPhone("254799999999"))}, nil, []string{"missing_in_provider A1 -", "missing_in_ledger - T1"}},
		{"heuristic amount differs", L{led("A1")}, R{rec("T1", "", rAmount(99900))}, nil, []string{"missing_in_provider A1 -", "missing_in_ledger - T1"}},
		{"heuristic not configured", L{led("A1")}, R{rec("T1", "")}, noHeur, []string{"missing_in_provider A1 -", "missing_in_ledger - T1"}},
		{"heuristic only for leftovers", L{led("A1"), led("A2")}, R{rec("T1", "A1", rAt(time.Minute))}, nil, []string{"match A1 T1", "missing_in_provider A2 -"}},
		{"heuristic tie: two records", L{led("A1")}, R{rec("T1", "", rAt(-5*time.Minute)), rec("T2", "", rAt(5*time.Minute))}, nil, []string{"missing_in_provider A1 T1,T2"}},
		{"heuristic tie: two ledger entries", L{led("A1", lAt(-5*time.Minute)), led("A2", lAt(5*time.Minute))}, R{rec("T1", "")}, nil,
			[]string{"missing_in_provider A1 -", "missing_in_ledger - T1", "missing_in_provider A2 -"}},
		{"heuristic chain is not guessed", L{led("A1"), led("A2", lAt(40*time.Minute))}, R{rec("T1", "", rAt(20*time.Minute))}, nil,
			[]string{"missing_in_provider A1 -", "missing_in_ledger - T1", "missing_in_provider A2 -"}},
		{"heuristic phone breaks the tie", L{led("A1", lPhone("0712000001")), led("A2", lPhone("0712000002"), lAt(time.Minute))}, R{rec("T1", "", rPhone("254712000002"), rAt(2*time.Minute))}, nil,
			[]string{"missing_in_provider A1 -", "match~ A2 T1"}},

		// Window edges.
		{"23:59 ledger, 00:01 record next day", L{led("A1", func(l *reconcile.LedgerEntry) { l.OccurredAt = day.To.Add(-time.Minute) })},
			R{rec("T1", "A1", func(r *reconcile.Record) { r.OccurredAt = day.To.Add(time.Minute) })}, nil, []string{"match A1 T1"}},
		{"record in window, ledger after: the next day reports it", L{led("A1", func(l *reconcile.LedgerEntry) { l.OccurredAt = day.To.Add(time.Minute) })},
			R{rec("T1", "A1", func(r *reconcile.Record) { r.OccurredAt = day.To.Add(-time.Minute) })}, nil, nil},
		{"record in window, ledger before: the day before reports it", L{led("A1", func(l *reconcile.LedgerEntry) { l.OccurredAt = day.From.Add(-time.Minute) })},
			R{rec("T1", "A1", func(r *reconcile.Record) { r.OccurredAt = day.From.Add(time.Minute) })}, nil, nil},
		{"margin-only pair not reported", L{led("A1", func(l *reconcile.LedgerEntry) { l.OccurredAt = day.From.Add(-time.Hour) })},
			R{rec("T1", "A1", func(r *reconcile.Record) { r.OccurredAt = day.From.Add(-time.Minute) })}, nil, nil},
		{"margin-only missing items not reported", L{led("A1", func(l *reconcile.LedgerEntry) { l.OccurredAt = day.To })},
			R{rec("T1", "A2", func(r *reconcile.Record) { r.OccurredAt = day.From.Add(-time.Nanosecond) })}, nil, nil},
		{"item at From is reported", L{led("A1", func(l *reconcile.LedgerEntry) { l.OccurredAt = day.From })}, nil, nil, []string{"missing_in_provider A1 -"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, st := run(t, tt.ledger, tt.recs, tt.mod)
			if !slices.Equal(c.order, tt.want) {
				t.Errorf("got  %q\nwant %q", c.order, tt.want)
			}
			if st.Matches != len(c.matches) || st.Discrepancies != len(c.discs) {
				t.Errorf("stats %+v disagree with %d matches, %d discrepancies", st, len(c.matches), len(c.discs))
			}
		})
	}
}

func TestMatchInputErrors(t *testing.T) {
	t.Parallel()
	cfg := matchers.Config{Window: day, Now: day.To}
	boom := errors.New("connection reset")
	failing := func(yield func(reconcile.Record, error) bool) {
		if yield(rec("T1", "A1"), nil) {
			yield(reconcile.Record{}, boom)
		}
	}
	tests := []struct {
		name    string
		cfg     matchers.Config
		ledger  iter.Seq2[reconcile.LedgerEntry, error]
		records iter.Seq2[reconcile.Record, error]
		want    string
	}{
		{"ledger out of order", cfg, seq([]reconcile.LedgerEntry{led("A1", lAt(time.Hour)), led("A2")}), seq[reconcile.Record](nil),
			"ledger stream out of order: entry 0 (A2)"},
		{"records out of order", cfg, seq[reconcile.LedgerEntry](nil), seq([]reconcile.Record{rec("T1", "", rAt(time.Hour)), rec("T2", "")}),
			"provider record stream out of order: kopokopo payment T2"},
		{"record stream fails", cfg, seq([]reconcile.LedgerEntry{led("A1", lAt(time.Hour))}), failing, "reading provider records: connection reset"},
		{"no Now", matchers.Config{Window: day}, seq[reconcile.LedgerEntry](nil), seq[reconcile.Record](nil), "Now is required"},
		{"empty window", matchers.Config{Window: reconcile.Window{From: day.To, To: day.From}, Now: day.To}, seq[reconcile.LedgerEntry](nil), seq[reconcile.Record](nil), "empty window"},
		{"tolerance above grace", matchers.Config{Window: day, Now: day.To, Grace: time.Minute}, seq[reconcile.LedgerEntry](nil), seq[reconcile.Record](nil),
			"Tolerance 30m0s exceeds Grace 1m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := matchers.Match(context.Background(), tt.cfg, tt.ledger, tt.records, &collector{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// failOutput refuses everything, as a full disk would.
type failOutput struct{ err error }

func (f failOutput) Match(reconcile.Match) error             { return f.err }
func (f failOutput) Discrepancy(reconcile.Discrepancy) error { return f.err }

var errDisk = errors.New("disk full")

func TestMatchOutputError(t *testing.T) {
	t.Parallel()
	disk := errDisk
	_, err := matchers.Match(context.Background(), matchers.Config{Window: day, Now: day.To},
		seq([]reconcile.LedgerEntry{led("A1")}), seq([]reconcile.Record{rec("T1", "A1")}), failOutput{disk})
	if !errors.Is(err, disk) {
		t.Fatalf("error %v, want %v", err, disk)
	}
}

func TestMatchStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	ledger, recs, w := benchInput(10_000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := matchers.Match(ctx, matchers.Config{Window: w, Now: w.To}, seq(ledger), seq(recs), &counter{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want %v", err, context.Canceled)
	}
}
