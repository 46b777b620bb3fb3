package matchers

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/mizani/reconcile"
)

// Summary accumulates the summary report: one line per provider and
// currency, each a reconciliation statement that bridges the ledger total to
// the provider total kind by kind (see reconcile.SummaryLine for the
// definitions). It is an UnreportedOutput, so it can sit beside the report
// writers (see Tee) and count the items that needed no report too, and it
// takes settlement_variance discrepancies the same way, as a second bridge.
//
// Counts (LedgerCount, ProviderCount) cover every item whose own time is in
// the window, as Stats counts them. Totals cover the money of the matches
// and discrepancies reported in the window — each report belongs to exactly
// one window, so the summaries of consecutive windows add up — and every
// discrepancy's Difference is what it adds to the provider total less what
// it adds to the ledger total (Account). A match adds the same amount to
// both. Hence, per line, LedgerTotal + DiscrepancyTotal = ProviderTotal to
// the minor unit, whatever the input. Every total is summed with an
// overflow check: a total beyond int64 is an error of Match or Discrepancy
// (naming the provider, currency and total), never a wrap.
type Summary struct {
	window reconcile.Window
	lines  map[sumKey]*reconcile.SummaryLine
}

type sumKey struct {
	p reconcile.Provider
	c reconcile.Currency
}

// NewSummary returns an empty Summary of the run over window. Ledger and
// provider counts take the items whose own time lies in window — as Stats
// counts them — while totals take the items of the reports filed under it,
// whatever their times.
func NewSummary(window reconcile.Window) *Summary {
	return &Summary{window: window, lines: make(map[sumKey]*reconcile.SummaryLine)}
}

func (s *Summary) line(p reconcile.Provider, c reconcile.Currency) *reconcile.SummaryLine {
	k := sumKey{p, c}
	l := s.lines[k]
	if l == nil {
		l = &reconcile.SummaryLine{Provider: p, Currency: c}
		s.lines[k] = l
	}
	return l
}

// countLedger counts e when its own time is in the window.
func (s *Summary) countLedger(e *reconcile.LedgerEntry) {
	if s.window.Contains(e.OccurredAt) {
		s.line(e.Provider, e.Amount.Currency).LedgerCount++
	}
}

// countRecords counts the records whose own time is in the window.
func (s *Summary) countRecords(recs []reconcile.Record) {
	for _, r := range recs {
		if s.window.Contains(r.OccurredAt) {
			s.line(r.Provider, r.Amount.Currency).ProviderCount++
		}
	}
}

// Match counts m. A match adds the ledger's amount to both totals: the
// engine matched its records at that amount (they sum to it, or the
// provider reported no amount and confirmed it by reference and status).
// It fails only when a total would overflow int64.
func (s *Summary) Match(m reconcile.Match) error {
	l := s.line(m.Ledger.Provider, m.Ledger.Amount.Currency)
	amt := moved(&m.Ledger)
	err := addAll([]sum{
		{l, amt, "the matched total", &l.MatchedTotal},
		{l, amt, "the ledger total", &l.LedgerTotal},
		{l, amt, "the provider total", &l.ProviderTotal},
	})
	if err != nil {
		return fmt.Errorf("summary: match of ledger entry %s: %w", m.Ledger.Reference, err)
	}
	s.countLedger(&m.Ledger)
	s.countRecords(m.Records)
	l.MatchedCount++
	if m.Ledger.Status == reconcile.LedgerPaid {
		l.LedgerPaid++
	}
	for i := range m.Records {
		if movedMoney(&m.Records[i]) {
			l.ProviderMoved++
		}
	}
	return nil
}

// Discrepancy counts d, accounting it first (Account) if that was not done.
// A settlement_variance goes to the second bridge only. It fails only when
// an amount or total would overflow int64; the summary is then left as it
// was.
func (s *Summary) Discrepancy(d reconcile.Discrepancy) error {
	if err := s.discrepancy(d); err != nil {
		return fmt.Errorf("summary: %s: %w", d.Kind, err)
	}
	return nil
}

func (s *Summary) discrepancy(d reconcile.Discrepancy) error {
	if d.Kind == reconcile.SettlementVariance {
		l := s.line(d.Provider, d.Currency)
		step := &l.Bridge[reconcile.KindIndex(d.Kind)]
		if err := addAll([]sum{{l, d.Difference, "the " + string(d.Kind) + " bridge amount", &step.Amount}}); err != nil {
			return err
		}
		step.Count++
		return nil
	}
	if d.ProviderCurrency == "" {
		if err := Account(&d); err != nil {
			return err
		}
	}
	k := reconcile.KindIndex(d.Kind)
	l := s.line(d.Provider, d.Currency)
	pl := l
	if d.ProviderCurrency != d.Currency {
		pl = s.line(d.Provider, d.ProviderCurrency)
	}
	sums := []sum{
		{l, d.LedgerCounted, "the ledger total", &l.LedgerTotal},
		{l, d.Difference, "the discrepancy total", &l.DiscrepancyTotal},
		{pl, d.ProviderCounted, "the provider total", &pl.ProviderTotal},
	}
	if pl != l {
		// The provider's money is in another currency: it joins that
		// currency's line, and leaves nothing in this one.
		sums = append(sums, sum{pl, d.ProviderCounted, "the discrepancy total", &pl.DiscrepancyTotal})
		if k >= 0 {
			sums = append(sums, sum{pl, d.ProviderCounted, "the " + string(d.Kind) + " bridge amount", &pl.Bridge[k].Amount})
		}
	}
	if k >= 0 {
		sums = append(sums, sum{l, d.Difference, "the " + string(d.Kind) + " bridge amount", &l.Bridge[k].Amount})
	}
	if err := addAll(sums); err != nil {
		return err
	}

	if d.Ledger != nil && d.Kind != reconcile.DuplicatePayment {
		s.countLedger(d.Ledger)
	}
	s.countRecords(d.Records)
	l.DiscrepancyCount++
	if d.Ledger != nil && d.Kind != reconcile.DuplicatePayment && d.Ledger.Status == reconcile.LedgerPaid {
		l.LedgerPaid++
	}
	if pl != l && k >= 0 {
		pl.Bridge[k].Count++
	}
	for i := range d.Records {
		if r := &d.Records[i]; r.Amount.Currency == d.ProviderCurrency && movedMoney(r) {
			pl.ProviderMoved++
		}
	}
	if k >= 0 {
		l.Bridge[k].Count++
	}
	return nil
}

// sum is one amount v to add to a total (dst) of line l; what names the
// total in an error.
type sum struct {
	l    *reconcile.SummaryLine
	v    int64
	what string
	dst  *int64
}

// addAll adds each sum to its total (the totals are distinct), or, when
// one would overflow int64, changes none and names it.
func addAll(sums []sum) error {
	next := make([]int64, len(sums))
	for i, x := range sums {
		v, ok := addMinor(*x.dst, x.v)
		if !ok {
			return overflow(x.l.Provider, x.l.Currency, x.what)
		}
		next[i] = v
	}
	for i, x := range sums {
		*x.dst = next[i]
	}
	return nil
}

// overflow is the error of a sum of provider p's amounts in currency c
// beyond int64: what names the sum.
func overflow(p reconcile.Provider, c reconcile.Currency, what string) error {
	return fmt.Errorf("%s %s: %s sums beyond the largest amount Mizani can hold (%d minor units)",
		p, c, what, int64(math.MaxInt64))
}

// Account fills the bridge fields of a discrepancy of the matcher from its
// ledger entry and records: ProviderCurrency, LedgerCounted, ProviderCounted
// and Difference. The engine accounts every discrepancy it reports; a
// settlement_variance (settled − owed) is left as it is, but for its
// ProviderCurrency.
//
//   - LedgerCounted is the entry's amount when it says paid (negative for a
//     payout), else nothing; a duplicate_payment's entry is context only (its
//     match counts it), so nothing.
//   - ProviderCurrency is the currency of the first record with an amount
//     reported, else Currency.
//   - ProviderCounted sums the records in ProviderCurrency that say money
//     moved: a succeeded payment or payout, a succeeded reversal (negative),
//     a payment marked reversed when a reversal of it is listed too (the
//     reversal then takes the money back; marked reversed without one, it
//     nets to nothing). Amounts not reported count nothing.
//   - Difference = ProviderCounted − LedgerCounted when both are in
//     Currency; when the provider's currency differs, only −LedgerCounted is
//     in Currency (ProviderCounted joins the provider currency's line).
//
// So a duplicate shows its extra money, a reversal what was reversed, a
// missing side its full amount and a side that moved no money (pending,
// failed, not reported) nothing.
//
// The sums are checked: when ProviderCounted or Difference would overflow
// int64, Account returns an error naming the provider, currency and sum,
// and leaves those fields zero.
func Account(d *reconcile.Discrepancy) error {
	if d.Kind == reconcile.SettlementVariance {
		d.ProviderCurrency = cmp.Or(d.ProviderCurrency, d.Currency)
		return nil
	}
	d.LedgerCounted = 0
	if d.Ledger != nil && d.Kind != reconcile.DuplicatePayment {
		d.LedgerCounted = moved(d.Ledger)
	}
	d.ProviderCurrency = d.Currency
	for i := range d.Records {
		if r := &d.Records[i]; r.AmountKnown && r.Amount.Currency != "" {
			d.ProviderCurrency = r.Amount.Currency
			break
		}
	}
	d.ProviderCounted = 0
	for i := range d.Records {
		r := &d.Records[i]
		if r.Amount.Currency != d.ProviderCurrency {
			continue
		}
		if r.Status == reconcile.StatusReversed && r.Kind != reconcile.KindReversal && !reversalListed(d.Records, r) {
			continue
		}
		sum, ok := addMinor(d.ProviderCounted, counted(r))
		if !ok {
			d.ProviderCounted, d.Difference = 0, 0
			return overflow(d.Provider, d.ProviderCurrency, "the provider amounts of the "+string(d.Kind)+" report")
		}
		d.ProviderCounted = sum
	}
	var ok bool
	if d.ProviderCurrency == d.Currency {
		d.Difference, ok = reconcile.SubMinor(d.ProviderCounted, d.LedgerCounted)
	} else {
		d.Difference, ok = reconcile.SubMinor(0, d.LedgerCounted)
	}
	if !ok {
		d.ProviderCounted, d.Difference = 0, 0
		return overflow(d.Provider, d.Currency, "the difference of the "+string(d.Kind)+" report")
	}
	return nil
}

// movedMoney reports whether a record says money moved: it succeeded or
// was reversed (after it moved), with an amount reported.
func movedMoney(r *reconcile.Record) bool {
	return r.AmountKnown && (r.Status == reconcile.StatusSucceeded || r.Status == reconcile.StatusReversed)
}

// counted is what a record adds to the provider total when it says money
// moved: its amount, negative for payouts and reversals.
func counted(r *reconcile.Record) int64 {
	if !movedMoney(r) {
		return 0
	}
	return signed(abs(r.Amount.Minor), r.Direction())
}

// reversalListed reports whether recs list a reversal of payment p.
func reversalListed(recs []reconcile.Record, p *reconcile.Record) bool {
	for i := range recs {
		if r := &recs[i]; r.Kind == reconcile.KindReversal && p.TxID != "" && r.RelatedTxID == p.TxID {
			return true
		}
	}
	return false
}

// Lines returns the summary sorted by provider (in reconcile.Providers()
// order, unknown providers after, by name) and currency.
func (s *Summary) Lines() []reconcile.SummaryLine {
	out := make([]reconcile.SummaryLine, 0, len(s.lines))
	for _, l := range s.lines {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b reconcile.SummaryLine) int {
		return cmp.Or(cmp.Compare(reconcile.ProviderOrder(a.Provider), reconcile.ProviderOrder(b.Provider)), cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Currency, b.Currency))
	})
	return out
}

// moved is what a ledger entry says moved, net: its amount when paid
// (negative for a payout), nothing when refunded (in, then back out, as the
// provider's payment and reversal net to nothing) or not paid.
func moved(e *reconcile.LedgerEntry) int64 {
	if e.Status != reconcile.LedgerPaid {
		return 0
	}
	return signed(e.Amount.Minor, e.Direction)
}

func signed(minor int64, d reconcile.Direction) int64 {
	if d == reconcile.Out {
		return -minor
	}
	return minor
}

// Tee returns an Output that hands every match and discrepancy to each of
// outs in turn, stopping at the first error.
func Tee(outs ...Output) Output { return tee(outs) }

type tee []Output

func (t tee) Match(m reconcile.Match) error {
	for _, o := range t {
		if err := o.Match(m); err != nil {
			return err
		}
	}
	return nil
}

// Unreported passes the item on to every output that hears of unreported
// items.
func (t tee) Unreported(l *reconcile.LedgerEntry, r *reconcile.Record) {
	for _, o := range t {
		if u, ok := o.(UnreportedOutput); ok {
			u.Unreported(l, r)
		}
	}
}

func (t tee) Discrepancy(d reconcile.Discrepancy) error {
	for _, o := range t {
		if err := o.Discrepancy(d); err != nil {
			return err
		}
	}
	return nil
}

// Unreported counts an item of the window that needed no report in it — a
// failed, cancelled or pending item, or one of a report filed under another
// window (a payment received at 00:01 for a sale booked at 23:59) — in the
// counts. Its money, if any, is in the totals of the window its report is
// filed under.
func (s *Summary) Unreported(l *reconcile.LedgerEntry, r *reconcile.Record) {
	switch {
	case l != nil:
		s.countLedger(l)
	case r != nil:
		s.countRecords([]reconcile.Record{*r})
	}
}
