package matchers

import (
	"cmp"
	"slices"

	"github.com/mizani/reconcile"
)

// Summary accumulates the summary report: one line per provider and
// currency over the items of a run's window. It is an UnreportedOutput, so
// it can sit beside the report writers (see Tee) and count the items that
// needed no report too, and it takes settlement_variance discrepancies the
// same way. Ledger and provider counts cover every item of the window;
// matched and discrepancy counts what was reported.
//
// Totals are net minor units from the merchant's point of view: money in
// counts positive, payouts and reversals negative. Ledger and provider
// totals count only what says money moved (ledger paid — a refunded entry
// nets to nothing, as its payment and reversal do; records succeeded or
// reversed, with an amount reported). A ledger entry counts
// once, even when duplicate payments name it. The discrepancy total is the
// amount at stake: the difference for amount_mismatch and
// settlement_variance, else the ledger amount, else the provider amount.
type Summary struct {
	window reconcile.Window
	lines  map[sumKey]*reconcile.SummaryLine
}

type sumKey struct {
	p reconcile.Provider
	c reconcile.Currency
}

// NewSummary returns an empty Summary of the run over window. Ledger and
// provider counts and totals take the items whose own time lies in window —
// as Stats counts them, so that consecutive windows add up — while a report
// counts in the window it is filed under, whatever the times of its items.
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

func (s *Summary) addLedger(e *reconcile.LedgerEntry) {
	if !s.window.Contains(e.OccurredAt) {
		return
	}
	l := s.line(e.Provider, e.Amount.Currency)
	l.LedgerCount++
	l.LedgerTotal += moved(e)
}

func (s *Summary) addRecords(recs []reconcile.Record) {
	for _, r := range recs {
		if !s.window.Contains(r.OccurredAt) {
			continue
		}
		l := s.line(r.Provider, r.Amount.Currency)
		l.ProviderCount++
		if r.AmountKnown && (r.Status == reconcile.StatusSucceeded || r.Status == reconcile.StatusReversed) {
			l.ProviderTotal += signed(abs(r.Amount.Minor), r.Direction())
		}
	}
}

// Match counts m. It never fails.
func (s *Summary) Match(m reconcile.Match) error {
	s.addLedger(&m.Ledger)
	s.addRecords(m.Records)
	l := s.line(m.Ledger.Provider, m.Ledger.Amount.Currency)
	l.MatchedCount++
	l.MatchedTotal += moved(&m.Ledger)
	return nil
}

// Discrepancy counts d. It never fails.
func (s *Summary) Discrepancy(d reconcile.Discrepancy) error {
	if d.Ledger != nil && d.Kind != reconcile.DuplicatePayment {
		s.addLedger(d.Ledger)
	}
	s.addRecords(d.Records)
	l := s.line(d.Provider, d.Currency)
	l.DiscrepancyCount++
	switch {
	case d.Kind == reconcile.AmountMismatch || d.Kind == reconcile.SettlementVariance:
		l.DiscrepancyTotal += abs(d.Difference)
	case d.Ledger != nil:
		l.DiscrepancyTotal += d.LedgerAmount
	default:
		l.DiscrepancyTotal += d.ProviderAmount
	}
	return nil
}

// Lines returns the summary sorted by provider (in reconcile.Providers
// order, unknown providers after, by name) and currency.
func (s *Summary) Lines() []reconcile.SummaryLine {
	out := make([]reconcile.SummaryLine, 0, len(s.lines))
	for _, l := range s.lines {
		out = append(out, *l)
	}
	rank := func(p reconcile.Provider) int {
		if i := slices.Index(reconcile.Providers, p); i >= 0 {
			return i
		}
		return len(reconcile.Providers)
	}
	slices.SortFunc(out, func(a, b reconcile.SummaryLine) int {
		return cmp.Or(cmp.Compare(rank(a.Provider), rank(b.Provider)), cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Currency, b.Currency))
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
// counts and, when it says money moved, the totals.
func (s *Summary) Unreported(l *reconcile.LedgerEntry, r *reconcile.Record) {
	switch {
	case l != nil:
		s.addLedger(l)
	case r != nil:
		s.addRecords([]reconcile.Record{*r})
	}
}
