package matchers

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mizani/reconcile"
)

// resolveLedger decides what a finalized ledger entry is: a match, a
// discrepancy, or nothing to report.
func (e *engine) resolveLedger(l *ledgerNode) error {
	recs, heuristic := l.records, false
	if len(recs) == 0 && l.heur == nil {
		pair, cands := e.heur.pairLedger(l)
		switch {
		case pair != nil:
			pair.owner, pair.heuristic, l.heur = l, true, pair
		case len(cands) > 0:
			return e.ledgerTie(l, cands)
		}
	}
	if len(recs) == 0 && l.heur != nil {
		recs, heuristic = []*recordNode{l.heur}, true
	}
	e.trimReversals(l, recs)
	if len(recs) > 1 {
		// Join order follows arrival; judge them in a stable order.
		slices.SortStableFunc(recs, func(a, b *recordNode) int {
			return cmp.Or(a.r.OccurredAt.Compare(b.r.OccurredAt), compareRecord(*a.r, *b.r))
		})
	}
	if len(recs) == 0 {
		if paidSide(l.e.Status) {
			d, err := e.newDiscrepancy(reconcile.MissingInProvider, l, nil)
			if err != nil {
				return err
			}
			d.Detail = fmt.Sprintf("%s; %s has no record of it", ledgerSays(l.e), l.e.Provider.DisplayName())
			return e.emitDiscrepancy(d, l, nil)
		}
		e.quiet(l)
		return nil
	}
	return e.resolveGroup(l, recs, heuristic)
}

// trimReversals detaches from recs the reversals that come more than Grace
// after l, the anchor of their report: a run over the window of l reads
// records up to Grace past it, so a later reversal would be in that report
// in some runs and not in others. A detached reversal is judged alone
// (resolveRecord), in its own window, against its payment (lateOf).
func (e *engine) trimReversals(l *ledgerNode, recs []*recordNode) {
	limit := l.e.OccurredAt.Add(e.cfg.Grace)
	for _, r := range recs {
		if len(r.reversals) == 0 {
			continue
		}
		kept := r.reversals[:0]
		for _, v := range r.reversals {
			if v.r.OccurredAt.After(limit) {
				v.reversalOf, v.lateOf = nil, r
				continue
			}
			kept = append(kept, v)
		}
		clear(r.reversals[len(kept):])
		r.reversals = kept
	}
}

// paidSide reports whether the ledger says money moved.
func paidSide(s reconcile.LedgerStatus) bool {
	return s == reconcile.LedgerPaid || s == reconcile.LedgerRefunded
}

// received reports whether a record says money moved (it may since have
// been reversed).
func received(r *recordNode) bool {
	return r.r.Status == reconcile.StatusSucceeded || r.r.Status == reconcile.StatusReversed
}

func allReceived(recs []*recordNode) bool {
	for _, r := range recs {
		if !received(r) {
			return false
		}
	}
	return true
}

func wasReversed(r *recordNode) bool {
	return r.r.Status == reconcile.StatusReversed || len(r.reversals) > 0
}

// resolveGroup judges a ledger entry against the records joined to it.
func (e *engine) resolveGroup(l *ledgerNode, recs []*recordNode, heuristic bool) error {
	got, attempts := recs, []*recordNode(nil)
	if !allReceived(recs) {
		got = nil
		for _, r := range recs {
			if received(r) {
				got = append(got, r)
			} else {
				attempts = append(attempts, r)
			}
		}
	}
	if len(got) == 0 {
		return e.nothingReceived(l, attempts)
	}
	// Failed or pending attempts beside a payment that went through are
	// the normal history of a payment, not a difference.
	e.quiet(nil, withReversals(attempts)...)
	if !paidSide(l.e.Status) {
		d, err := e.newDiscrepancy(reconcile.StatusMismatch, l, got)
		if err != nil {
			return err
		}
		d.Detail = fmt.Sprintf("%s; %s", ledgerSays(l.e), providerSays(got[0]))
		return e.emitDiscrepancy(d, l, withReversals(got))
	}

	main, extras := pickMain(l.e, got)
	if err := e.judgeMain(l, main, heuristic); err != nil {
		return err
	}
	for _, x := range extras {
		d, err := e.newDiscrepancy(reconcile.DuplicatePayment, l, []*recordNode{x})
		if err != nil {
			return err
		}
		d.Detail = fmt.Sprintf("Extra payment: %s, but %s (%s) is already accounted for by %s",
			providerSays(x), l.e.Reference, l.e.Amount.Human(), labels(main))
		if wasReversed(x) {
			d.Detail += "; the extra payment was reversed"
		}
		if err := e.emitDiscrepancy(d, l, withReversals([]*recordNode{x})); err != nil {
			return err
		}
	}
	return nil
}

// MaxGroupSearch bounds the subset search of grouping: among more partial
// payments of one ledger entry, only the first MaxGroupSearch (by time, then
// transaction id) are searched for a set that sums to the ledger amount,
// which costs at most 2^MaxGroupSearch sums.
const MaxGroupSearch = 16

// pickMain chooses the records that answer for the ledger entry, in this
// order: the first with exactly its amount; else the first whose amount was
// not reported; else the fewest partial payments (same currency, below the
// ledger amount) that sum to it, the earliest such set on a tie (compared
// record by record in order); else the partial payments whose total comes
// closest to the ledger amount from below (then the fewest, then the
// earliest) — all of them when together they fall short — which is one
// amount_mismatch; else the first record in the ledger's currency, else the
// first. The rest are extras. Sums that overflow int64 exceed any ledger
// amount, so they never match.
func pickMain(l reconcile.LedgerEntry, got []*recordNode) (main, extras []*recordNode) {
	if len(got) == 1 {
		return got, nil
	}
	split := func(in []int) ([]*recordNode, []*recordNode) {
		main := make([]*recordNode, 0, len(in))
		rest := make([]*recordNode, 0, len(got)-len(in))
		j := 0
		for i, r := range got {
			if j < len(in) && in[j] == i {
				main = append(main, r)
				j++
			} else {
				rest = append(rest, r)
			}
		}
		return main, rest
	}
	for i, r := range got {
		if r.r.AmountKnown && r.r.Amount == l.Amount {
			return split([]int{i})
		}
	}
	for i, r := range got {
		if !r.r.AmountKnown {
			return split([]int{i})
		}
	}
	var partial []int // indexes into got
	for i, r := range got {
		if r.r.Amount.Currency == l.Amount.Currency && r.r.Amount.Minor >= 0 && r.r.Amount.Minor < l.Amount.Minor {
			partial = append(partial, i)
		}
	}
	if len(partial) > 0 {
		return split(bestSubset(got, partial, l.Amount.Minor))
	}
	for i, r := range got {
		if r.r.Amount.Currency == l.Amount.Currency {
			return split([]int{i})
		}
	}
	return split([]int{0})
}

// bestSubset returns the indexes (ascending) of the set of partial payments
// chosen by pickMain: the fewest summing to target, else the largest total
// below it, then the fewest, then the earliest. Every amount is in
// [0, target), so a running sum that stays ≤ target cannot overflow.
func bestSubset(got []*recordNode, partial []int, target int64) []int {
	var total int64
	overflow := false
	for _, i := range partial {
		var ok bool
		if total, ok = addMinor(total, got[i].r.Amount.Minor); !ok {
			overflow = true
		}
	}
	if !overflow && total < target {
		return partial // all of them together fall short: no set sums
	}
	cand := partial
	if len(cand) > MaxGroupSearch {
		cand = cand[:MaxGroupSearch]
	}
	var (
		best    []int
		bestSum int64 = -1
		cur     []int
	)
	better := func(sum int64) bool {
		switch {
		case best == nil:
			return true
		case sum != bestSum:
			return sum > bestSum
		case len(cur) != len(best):
			return len(cur) < len(best)
		}
		return slices.Compare(cur, best) < 0
	}
	var walk func(k int, sum int64)
	walk = func(k int, sum int64) {
		if len(cur) > 0 && better(sum) {
			best, bestSum = slices.Clone(cur), sum
		}
		if bestSum == target && len(cur)+1 > len(best) {
			return // nothing deeper can beat an exact set with fewer records
		}
		for j := k; j < len(cand); j++ {
			a := got[cand[j]].r.Amount.Minor
			if a > target-sum {
				continue // would exceed the target
			}
			cur = append(cur, cand[j])
			walk(j+1, sum+a)
			cur = cur[:len(cur)-1]
		}
	}
	walk(0, 0)
	return best
}

// addMinor returns a+b and whether it did not overflow int64.
func addMinor(a, b int64) (int64, bool) { return reconcile.AddMinor(a, b) }

// sumMinor sums the amounts of recs, refusing an int64 overflow.
func sumMinor(recs []*recordNode) (int64, error) {
	var sum int64
	for _, r := range recs {
		var ok bool
		if sum, ok = addMinor(sum, r.r.Amount.Minor); !ok {
			return 0, fmt.Errorf("the amounts of %s (%s) sum beyond the largest amount Mizani can hold (%d minor units)",
				labels(recs), r.r.Provider, int64(math.MaxInt64))
		}
	}
	return sum, nil
}

// judgeMain reports the ledger entry against its main records: currency,
// then amount, then reversal and refund.
func (e *engine) judgeMain(l *ledgerNode, main []*recordNode, heuristic bool) error {
	all := withReversals(main)
	reversed, reversal := false, ""
	for _, r := range main {
		if wasReversed(r) {
			reversed, reversal = true, reversalsSay(r)
		}
	}
	first := main[0]
	d, err := e.newDiscrepancy(reconcile.AmountMismatch, l, main)
	if err != nil {
		return err
	}
	switch {
	case first.r.AmountKnown && first.r.Amount.Currency != l.e.Amount.Currency:
		d.Kind = reconcile.CurrencyMismatch
		d.Detail = fmt.Sprintf("%s; %s — a different currency%s", ledgerSays(l.e), providerSays(first), reversal)
	case !first.r.AmountKnown && first.r.AmountSent != "":
		// The provider sent an amount that cannot be read in the
		// currency (more precise than it allows): reported, never rounded.
		d.Detail = fmt.Sprintf("%s; %s%s", ledgerSays(l.e), unreadAmount(first.r), reversal)
	case d.ProviderAmountKnown && d.ProviderAmount != d.LedgerAmount:
		// Several main records are partial payments that together fall
		// short (pickMain); one record may be short or over.
		d.Difference = d.ProviderAmount - d.LedgerAmount
		short := "over"
		if d.Difference < 0 {
			short = "short"
		}
		if l.e.Direction == reconcile.Out {
			// Money out: more paid out is less money, as the signed
			// Difference (Account) says; "over" would read the other way.
			short = "more paid out"
			if d.Difference < 0 {
				short = "less paid out"
			}
		}
		partial := false
		for _, r := range main {
			partial = partial || r.r.Partial
		}
		if partial && d.Difference < 0 {
			short += ": a partial redemption"
		}
		says := providerSays(first)
		if len(main) > 1 {
			says = providerSaysGroup(main)
			if !partial && d.Difference < 0 {
				short += ": no set of its payments adds up to the ledger amount"
			}
		}
		d.Detail = fmt.Sprintf("%s; %s — %s %s%s", ledgerSays(l.e), says, number(abs(d.Difference), d.Currency), short, reversal)
	case reversed && l.e.Status == reconcile.LedgerRefunded:
		return e.emitMatch(l, all, heuristic)
	case reversed:
		d.Kind = reconcile.Reversed
		d.Detail = fmt.Sprintf("%s; %s%s", ledgerSays(l.e), providerSays(first), reversal)
	case l.e.Status == reconcile.LedgerRefunded:
		d.Kind = reconcile.StatusMismatch
		d.Detail = fmt.Sprintf("%s; %s and shows no refund or reversal", ledgerSays(l.e), providerSays(first))
	default:
		return e.emitMatch(l, all, heuristic)
	}
	return e.emitDiscrepancy(d, l, all)
}

// providerSaysGroup is "Kopo Kopo received 900.00 KES in 2 payments (T1;
// T2)" for several records whose amounts pickMain has summed.
func providerSaysGroup(recs []*recordNode) string {
	first := recs[0].r
	moved, what := "received", "payments"
	if first.Direction() == reconcile.Out {
		moved, what = "paid out", "payouts"
	}
	var sum int64
	for _, r := range recs {
		sum += r.r.Amount.Minor // checked by newDiscrepancy before
	}
	return fmt.Sprintf("%s %s %s in %d %s (%s)", first.Provider.DisplayName(), moved,
		human(sum, first.Amount.Currency), len(recs), what, labels(recs))
}

// nothingReceived judges a ledger entry whose records all failed or are
// pending.
func (e *engine) nothingReceived(l *ledgerNode, attempts []*recordNode) error {
	last := attempts[len(attempts)-1]
	stale := e.staleness(last)
	if !paidSide(l.e.Status) && stale == "" {
		e.quiet(l, withReversals(attempts)...)
		return nil
	}
	d, err := e.newDiscrepancy(reconcile.StatusMismatch, l, attempts)
	if err != nil {
		return err
	}
	d.Detail = fmt.Sprintf("%s; %s%s", ledgerSays(l.e), providerSays(last), stale)
	if !paidSide(l.e.Status) { // reported only for being stale
		return e.emitDiscrepancyAt(d, l, withReversals(attempts), e.staleAnchor(last, l.e.OccurredAt))
	}
	return e.emitDiscrepancy(d, l, withReversals(attempts))
}

// resolveRecord decides what a finalized record that joined no ledger entry
// is.
func (e *engine) resolveRecord(r *recordNode) error {
	if r.r.Kind == reconcile.KindReversal {
		return e.resolveReversal(r)
	}

	pair, cands := e.heur.pairRecord(r)
	switch {
	case pair != nil:
		// Reported with the ledger entry, which is finalized later.
		r.owner, r.heuristic, pair.heur = pair, true, r
		return nil
	case len(cands) == 1 && !cands[0].done && len(e.heur.ledgerCandidates(cands[0])) > 1:
		// The ledger entry has other candidates too: it reports the tie
		// and lists this record when it is finalized.
		return nil
	case len(cands) > 0:
		refs := make([]string, len(cands))
		for i, l := range cands {
			refs[i] = l.e.Reference
		}
		d, err := e.newDiscrepancy(reconcile.MissingInLedger, nil, []*recordNode{r})
		if err != nil {
			return err
		}
		d.Detail = fmt.Sprintf("%s; no ledger entry carries its reference, and %d ledger entries of the same amount within %s could be it (%s) — not matched automatically",
			providerSays(r), len(cands), duration(e.cfg.Tolerance), strings.Join(refs, ", "))
		return e.emitDiscrepancy(d, nil, withReversals([]*recordNode{r}))
	}

	all := withReversals([]*recordNode{r})
	switch {
	case wasReversed(r) && received(r):
		d, err := e.newDiscrepancy(reconcile.Reversed, nil, []*recordNode{r})
		if err != nil {
			return err
		}
		d.Detail = fmt.Sprintf("%s%s; the ledger has no entry for it", providerSays(r), reversalsSay(r))
		return e.emitDiscrepancy(d, nil, all)
	case r.r.Status == reconcile.StatusSucceeded:
		d, err := e.newDiscrepancy(reconcile.MissingInLedger, nil, []*recordNode{r})
		if err != nil {
			return err
		}
		d.Detail = providerSays(r) + "; the ledger has no entry for it"
		return e.emitDiscrepancy(d, nil, all)
	case r.r.Status == reconcile.StatusPending:
		if stale := e.staleness(r); stale != "" {
			d, err := e.newDiscrepancy(reconcile.StatusMismatch, nil, []*recordNode{r})
			if err != nil {
				return err
			}
			d.Detail = providerSays(r) + stale + "; the ledger has no entry for it"
			return e.emitDiscrepancyAt(d, nil, all, e.staleAnchor(r, r.r.OccurredAt))
		}
	}
	e.quiet(nil, all...)
	return nil
}

// resolveReversal judges a reversal record not reported with its payment:
// one whose payment is not among the records read within Grace before it,
// or came more than Grace after its payment's report's anchor. It looks
// for the payment (in the stream, else through Config.Payment), so the
// answer is the same whatever window was read:
//   - the payment's own status says reversed (its report says so), or it
//     never succeeded: nothing to report;
//   - it succeeded: a `reversed` discrepancy naming it, reported with this
//     reversal, since the payment's report (of its own day) showed no
//     reversal;
//   - it is nowhere: a `reversed` discrepancy of a payment Mizani has no
//     record of.
func (e *engine) resolveReversal(r *recordNode) error {
	if r.r.Status != reconcile.StatusSucceeded && r.r.Status != reconcile.StatusReversed {
		e.quiet(nil, r)
		return nil
	}
	name := r.r.Provider.DisplayName()
	var (
		pay   *reconcile.Record
		found bool
	)
	switch {
	case r.lateOf != nil:
		pay, found = r.lateOf.r, true
	case r.r.RelatedTxID != "" && e.cfg.Payment != nil:
		p, ok, err := e.cfg.Payment(e.ctx, r.r.Provider, r.r.RelatedTxID)
		if err != nil {
			return fmt.Errorf("looking up payment %s that %s reversal %s names: %w", r.r.RelatedTxID, r.r.Provider, r.r.TxID, err)
		}
		pay, found = &p, ok
	}
	if found && (pay.Status == reconcile.StatusReversed || pay.Status != reconcile.StatusSucceeded) {
		e.quiet(nil, r)
		return nil
	}
	of := "a payment it did not name"
	switch {
	case found:
		of = fmt.Sprintf("payment %s of %s, which was reported as received then", label(pay), pay.OccurredAt.UTC().Format(time.RFC3339))
	case r.r.RelatedTxID != "" && e.cfg.Payment != nil:
		of = "payment " + r.r.RelatedTxID + ", of which Mizani has no record"
	case r.r.RelatedTxID != "":
		of = "payment " + r.r.RelatedTxID + ", which is not in this run"
	}
	d, err := e.newDiscrepancy(reconcile.Reversed, nil, []*recordNode{r})
	if err != nil {
		return err
	}
	d.Detail = fmt.Sprintf("%s reversed %s of %s", name, amountAndLabel(r.r), of)
	return e.emitDiscrepancy(d, nil, []*recordNode{r})
}

// ledgerTie reports a paid ledger entry that pass 2 could not pair without
// guessing. With several candidates, those not yet reported are listed in
// Records; with one (which fits other ledger entries too, and reports that
// tie itself) it is only named.
func (e *engine) ledgerTie(l *ledgerNode, cands []*recordNode) error {
	d, err := e.newDiscrepancy(reconcile.MissingInProvider, l, nil)
	if err != nil {
		return err
	}
	name, what := l.e.Provider.DisplayName(), "payment"
	if l.e.Direction == reconcile.Out {
		what = "payout"
	}
	if len(cands) == 1 {
		d.Detail = fmt.Sprintf("%s; no %s record carries that reference, and %s %s (%s) of the same amount within %s fits other ledger entries too — not matched automatically",
			ledgerSays(l.e), name, name, what, labels(cands), duration(e.cfg.Tolerance))
		return e.emitDiscrepancy(d, l, nil)
	}
	var open []*recordNode
	for _, r := range cands {
		if !r.done && r.owner == nil {
			open = append(open, r)
		}
	}
	e.trimReversals(l, open)
	d.Detail = fmt.Sprintf("%s; no %s record carries that reference, and %d %ss of the same amount within %s could be it (%s) — not matched automatically",
		ledgerSays(l.e), name, len(cands), what, duration(e.cfg.Tolerance), labels(cands))
	return e.emitDiscrepancy(d, l, withReversals(open))
}

// staleness returns " after N hours", which completes providerSays' "still
// pending", for a pending record older than StaleAfter at Now, else "".
func (e *engine) staleness(r *recordNode) string {
	if r.r.Status != reconcile.StatusPending {
		return ""
	}
	age := e.cfg.Now.Sub(r.r.OccurredAt)
	if age <= e.cfg.StaleAfter {
		return ""
	}
	return fmt.Sprintf(" after %d hours", int64(age/time.Hour))
}

// staleAnchor is the time a report made only because pending record r is
// stale is filed under: the moment r became stale, StaleAfter after it, so
// that the nightly run of that day reports it (the run of the day r was
// made judges it at the end of that day, when it is not stale yet). When
// it became stale after the window — only a run judged later than its
// window's end (--as-of) sees that — the report is filed under the item's
// own time instead.
func (e *engine) staleAnchor(r *recordNode, item time.Time) time.Time {
	if at := r.r.OccurredAt.Add(e.cfg.StaleAfter); at.Before(e.cfg.Window.To) {
		return at
	}
	return item
}

// newDiscrepancy fills the fields every discrepancy of kind carries; main
// are the payment or payout records whose amount is compared. Their amounts
// are summed with an overflow check: a sum beyond int64 is an error.
func (e *engine) newDiscrepancy(kind reconcile.DiscrepancyKind, l *ledgerNode, main []*recordNode) (reconcile.Discrepancy, error) {
	d := reconcile.Discrepancy{Kind: kind}
	if l != nil {
		d.Provider, d.Direction, d.Account = l.e.Provider, l.e.Direction, l.e.Account
		d.Currency, d.LedgerAmount, d.OccurredAt = l.e.Amount.Currency, l.e.Amount.Minor, l.e.OccurredAt
	}
	if len(main) > 0 {
		first := main[0].r
		if l == nil {
			d.Provider, d.Direction, d.Account = first.Provider, first.Direction(), first.Account
			d.Currency, d.OccurredAt = first.Amount.Currency, first.OccurredAt
		}
		if d.Account == "" {
			d.Account = first.Account
		}
		d.ProviderAmountKnown = true
		for _, r := range main {
			d.ProviderAmountKnown = d.ProviderAmountKnown && r.r.AmountKnown
		}
		if d.ProviderAmountKnown {
			sum, err := sumMinor(main)
			if err != nil {
				return d, fmt.Errorf("%s for %s: %w", kind, describe(l, main), err)
			}
			d.ProviderAmount = sum
		}
	}
	return d, nil
}

// describe names the subject of a report in an error.
func describe(l *ledgerNode, recs []*recordNode) string {
	if l != nil {
		return fmt.Sprintf("ledger entry %s (%s)", l.e.Reference, l.e.Provider)
	}
	return labels(recs)
}

// withReversals returns recs followed by the reversal records joined to them.
func withReversals(recs []*recordNode) []*recordNode {
	n := 0
	for _, r := range recs {
		n += len(r.reversals)
	}
	if n == 0 {
		return recs
	}
	out := make([]*recordNode, 0, len(recs)+n)
	out = append(out, recs...)
	for _, r := range recs {
		out = append(out, r.reversals...)
	}
	return out
}

// ledgerSays is "Ledger says 1,500.00 KES paid for A123".
func ledgerSays(l reconcile.LedgerEntry) string {
	status := string(l.Status)
	if l.Status == reconcile.LedgerPaid && l.Direction == reconcile.Out {
		status = "paid out"
	}
	return fmt.Sprintf("Ledger says %s %s for %s", l.Amount.Human(), status, l.Reference)
}

// providerSays is "Kopo Kopo received 1,000.00 KES (OJM6Q1W84K)", worded by
// the record's status and direction.
func providerSays(r *recordNode) string {
	name, what := r.r.Provider.DisplayName(), amountAndLabel(r.r)
	moved := "received"
	if r.r.Direction() == reconcile.Out {
		moved = "paid out"
	}
	switch r.r.Status {
	case reconcile.StatusSucceeded, reconcile.StatusReversed:
		return fmt.Sprintf("%s %s %s", name, moved, what)
	case reconcile.StatusPending:
		return fmt.Sprintf("%s shows %s still pending", name, what)
	}
	return fmt.Sprintf("%s shows %s as %s", name, what, r.r.Status)
}

// reversalsSay is " and reversed it (R1, R2)" or " and reversed it".
func reversalsSay(r *recordNode) string {
	if len(r.reversals) == 0 {
		return " and reversed it"
	}
	return " and reversed it (" + labels(r.reversals) + ")"
}

// amountAndLabel names a record in a sentence: "1,000.00 KES (OJM6Q1W84K)",
// or "a payment (OJM6Q1W84K; amount not reported)" when the provider did
// not report the amount (Pixel status responses, pending STK pushes).
func amountAndLabel(r *reconcile.Record) string {
	if r.AmountKnown {
		return r.Amount.Human() + " (" + label(r) + ")"
	}
	if r.AmountSent != "" {
		if r.Amount.Currency == "" {
			return r.AmountSent + " (" + label(r) + "; currency not reported)"
		}
		return fmt.Sprintf("%s (%s; more precise than %s allows)", r.AmountSent, label(r), r.Amount.Currency)
	}
	what := "a payment"
	switch {
	case r.Kind == reconcile.KindReversal:
		what = "an amount"
	case r.Direction() == reconcile.Out:
		what = "a payout"
	}
	return what + " (" + label(r) + "; amount not reported)"
}

// unreadAmount is "Pixel reported 200.50, more precise than XOF allows
// (TR1, reference ORD1)": a record whose amount as sent (AmountSent) could
// not be read in its currency.
func unreadAmount(r *reconcile.Record) string {
	name := r.Provider.DisplayName()
	if r.Amount.Currency == "" {
		return fmt.Sprintf("%s reported %s without a currency (%s)", name, r.AmountSent, label(r))
	}
	return fmt.Sprintf("%s reported %s, more precise than %s allows (%s)", name, r.AmountSent, r.Amount.Currency, label(r))
}

// label names a record the way its provider does: the provider reference
// (an M-PESA code), else the transaction id, plus the merchant reference.
func label(r *reconcile.Record) string {
	id := r.ProviderRef
	if id == "" {
		id = r.TxID
	}
	switch {
	case id == "":
		return r.MerchantRef
	case r.MerchantRef != "" && r.MerchantRef != id:
		return id + ", reference " + r.MerchantRef
	}
	return id
}

func labels(recs []*recordNode) string {
	s := make([]string, len(recs))
	for i, r := range recs {
		s[i] = label(r.r)
	}
	return strings.Join(s, "; ")
}

// human is minor units of c as "1,500.00 KES".
func human(minor int64, c reconcile.Currency) string {
	return reconcile.Money{Minor: minor, Currency: c}.Human()
}

// number is minor units of c as "1,500.00", without the currency code.
func number(minor int64, c reconcile.Currency) string {
	return reconcile.Money{Minor: minor, Currency: c}.Grouped()
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// duration is "30 minutes" or "2 hours".
func duration(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d hours", int64(d/time.Hour))
	}
	return fmt.Sprintf("%d minutes", int64(d/time.Minute))
}
