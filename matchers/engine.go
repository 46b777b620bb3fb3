// Package matchers reconciles the merchant ledger against provider records
// (SPEC §6) and accumulates the summary report (§11). The settlement math
// (§7) is package settlement; its names here (Settlement, FeeSchedule…) are
// aliases.
//
// Matching is a time-ordered sliding-window join over two streams, each
// ordered by occurred_at (items of one instant are taken in the order of
// stable keys, never of their ids): the two are merged by time, items
// waiting for a counterpart are indexed by their keys in hash maps, a record
// chooses its ledger entry once the stream is Grace past it, and an item is
// finalized once the stream has moved past its own time plus 2×Grace +
// 2×Tolerance. Memory is bounded by the number of items inside that span,
// not by the length of the streams. The package does no I/O of its own
// (Config.Payment is the caller's).
package matchers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/mizani/reconcile"
)

// Defaults for Config.
const (
	DefaultGrace      = 24 * time.Hour
	DefaultTolerance  = 30 * time.Minute
	DefaultStaleAfter = 24 * time.Hour
)

// Output receives what a run finds. The run job writes it to CSV, XLSX and
// the store. An error stops the run and is returned by Match.
type Output interface {
	Match(reconcile.Match) error
	Discrepancy(reconcile.Discrepancy) error
}

// UnreportedOutput is an Output that also hears of every item inside the
// window that needed no report (those Stats.Quiet counts): a failed or
// cancelled ledger entry, a failed attempt, a pending record not yet stale.
// Exactly one of l and r is set. Summary uses it so that its counts cover
// every ledger entry and record of the window.
type UnreportedOutput interface {
	Output
	Unreported(l *reconcile.LedgerEntry, r *reconcile.Record)
}

// Config configures a matching run.
type Config struct {
	// Window is the run window [From, To). Only matches and discrepancies
	// whose anchor (the ledger entry, else the first record) lies inside it
	// are reported.
	Window reconcile.Window
	// Grace is the greatest time between a ledger entry and a provider
	// record that match by reference (default DefaultGrace), and between a
	// payment and a reversal reported with it. The input streams must cover
	// ReadWindow() for the runs of consecutive windows to add up to the run
	// of their union.
	Grace time.Duration
	// HeuristicProviders are the providers whose leftovers go through pass
	// 2: matching by amount, currency, phone and time (e.g. Kopo Kopo tills).
	HeuristicProviders []reconcile.Provider
	// Tolerance is the greatest time between a ledger entry and a record
	// matched by pass 2 (default DefaultTolerance). It must not exceed Grace.
	Tolerance time.Duration
	// StaleAfter is the age, at Now, past which a pending record is reported
	// as status_mismatch (default DefaultStaleAfter).
	StaleAfter time.Duration
	// Now is the instant staleness is measured at. Required: the matcher
	// never reads the clock, so a re-run gives the same answer.
	Now time.Time
	// Payment, when set, finds the payment or payout of provider p with
	// transaction id tx wherever it lies (the run job asks the store): a
	// reversal too long after its payment to be reported with it (see
	// Match) is then judged against it, whatever the window read. found is
	// false when there is none. Without it, such a payment is known only if
	// it is among the records read.
	Payment func(ctx context.Context, p reconcile.Provider, tx string) (r reconcile.Record, found bool, err error)
}

// LookAround is Window grown by Grace (or DefaultGrace) on both sides: the
// least the input streams must cover for a pair across midnight to be
// matched. ReadWindow is what they should cover.
func (c Config) LookAround() reconcile.Window {
	return c.Window.Grow(cmp.Or(c.Grace, DefaultGrace))
}

// ReadWindow is the span both input streams should cover: Window grown by
// 2×Grace + 2×Tolerance (defaults applied). Every decision about an item of
// the window depends on items within that span only — the records within
// Grace of a ledger entry, the ledger entries those records could join
// instead (Grace further), and pass 2's candidates of candidates — so a run
// over the window gives the answers a run over any larger span gives for
// it, and daily runs add up to the range run.
func (c Config) ReadWindow() reconcile.Window {
	g, t := cmp.Or(c.Grace, DefaultGrace), cmp.Or(c.Tolerance, DefaultTolerance)
	return c.Window.Grow(2*g + 2*min(t, g))
}

func (c Config) withDefaults() (Config, error) {
	c.Grace = cmp.Or(c.Grace, DefaultGrace)
	c.Tolerance = cmp.Or(c.Tolerance, DefaultTolerance)
	c.StaleAfter = cmp.Or(c.StaleAfter, DefaultStaleAfter)
	switch {
	case !c.Window.From.Before(c.Window.To):
		return c, fmt.Errorf("matcher config: empty window %s", c.Window)
	case c.Grace < 0 || c.Tolerance < 0 || c.StaleAfter < 0:
		return c, errors.New("matcher config: Grace, Tolerance and StaleAfter must not be negative")
	case c.Tolerance > c.Grace:
		return c, fmt.Errorf("matcher config: Tolerance %s exceeds Grace %s", c.Tolerance, c.Grace)
	case c.Now.IsZero():
		return c, errors.New("matcher config: Now is required")
	}
	return c, nil
}

// Stats counts what a run saw and reported. Counts cover items inside the
// window only: every such ledger entry and payment, payout or reversal record
// is either part of exactly one reported match or discrepancy, or Quiet.
type Stats struct {
	Ledger  int // ledger entries inside the window
	Records int // payment, payout and reversal records inside the window
	// Skipped counts settlement and fee records inside the window; they
	// never match ledger entries (they feed the settlement report).
	Skipped       int
	Matches       int // matches reported
	Discrepancies int // discrepancies reported
	// Quiet counts items inside the window that needed no report in it: a
	// failed or cancelled ledger entry without a record, a failed record
	// without a ledger entry, a pending record not yet stale, a failed
	// attempt beside a successful payment, and the items of a report filed
	// under another window (a record whose ledger entry is of the next day).
	Quiet int
	// PeakPending is the largest number of items held at once: the memory
	// the run needed.
	PeakPending int
}

// Match reconciles ledger against records and sends every reported match
// and discrepancy to out, in order of each report's anchor — the ledger
// entry when there is one, else the first record — as the anchors appear in
// the merged input: by occurred_at, then ledger entries before records at the
// same instant, then by stable keys (see below), never by input order. A
// ledger entry's duplicate payments follow its match. The same items
// therefore always yield the same sequence, whatever order items of the same
// instant arrive in.
//
// Both streams must be ordered by occurred_at and should cover
// cfg.ReadWindow(); an out-of-order item is an error. Items of the same
// instant are taken in the order of stable keys: ledger entries by
// provider, direction, reference, provider reference, then their other
// fields; records by provider, kind (payments and payouts before reversals),
// transaction id, merchant reference, provider reference, then their other
// fields. A match or discrepancy is reported when its anchor lies inside the
// window: a pair across midnight is matched, not reported missing, and
// reported once, in the window of its ledger entry, so consecutive windows
// add up to their union. References are compared normalized (NormalizeRef).
// The rules are those of SPEC §6:
//
//   - Pass 1 joins each record to one ledger entry of the same provider and
//     direction, within Grace of it, by the first of these that finds one:
//     the ledger reference equals the record's merchant reference; the
//     ledger reference equals its provider reference; the ledger provider
//     reference equals its provider reference. Among several entries found
//     the same way, the earliest wins (then the smaller reference). A record
//     joins once every entry within Grace of it has been seen, so the
//     merchant reference wins whatever order the items arrive in.
//   - Several succeeded records of one ledger entry whose amounts sum to the
//     ledger amount are one match: one record of exactly that amount, else
//     the fewest records that sum to it (searched among the first
//     MaxGroupSearch partial payments; the earliest such set when several
//     do). Any other succeeded record is a duplicate_payment (naming the
//     ledger entry, which its match reports). When no set sums to it, the
//     partial payments (those below the ledger amount) whose total comes
//     closest to it from below are one amount_mismatch for the real
//     shortfall. Failed or pending attempts beside a succeeded record are not
//     reported. Amounts are summed with overflow checks: a sum beyond int64
//     is never a match, and an amount to report that overflows is an error.
//   - A joined pair is judged on currency, then amount (Difference = provider
//     − ledger, set for amount_mismatch and settlement_variance only), then
//     status: paid or refunded against succeeded is consistent, pending,
//     failed or cancelled against succeeded — or paid against a record that
//     did not succeed — is a status_mismatch. A record whose amount was not
//     reported matches on reference and status alone (its AmountKnown is
//     false; so is a discrepancy's ProviderAmountKnown).
//   - A reversal record is reported with the payment it reverses
//     (RelatedTxID) when it comes no more than Grace after that payment and
//     after the anchor of the payment's report. A reversed payment is a
//     `reversed` discrepancy, unless the ledger says refunded: then the
//     payment and its reversal are a consistent match (Records lists the
//     payment, then its reversals). A ledger entry saying refunded whose
//     payment was not reversed is a status_mismatch. A later reversal is
//     judged alone, against its payment as the stream or cfg.Payment finds
//     it: nothing to report when the payment's own status says reversed (its
//     report says so) or it never succeeded; else a `reversed` discrepancy
//     of its own, as is a reversal of a payment found nowhere.
//   - Pass 2 (HeuristicProviders only) pairs a paid or refunded ledger entry
//     and a received (succeeded or reversed) record left over by pass 1 with
//     the same amount, currency and phone (when both have one) within
//     Tolerance, when each is the other's only candidate. Ties are never
//     guessed: a ledger entry with several candidates is a
//     missing_in_provider listing them in Records, a record with several is a
//     missing_in_ledger naming them in Detail.
//   - Left alone, a paid or refunded ledger entry is missing_in_provider and
//     a succeeded record missing_in_ledger; a record pending for longer than
//     StaleAfter at Now is a status_mismatch ("still pending after N hours");
//     anything else is not reported (Stats.Quiet).
//   - Settlement and fee records are skipped: they feed Settlement.
func Match(ctx context.Context, cfg Config, ledger iter.Seq2[reconcile.LedgerEntry, error], records iter.Seq2[reconcile.Record, error], out Output) (Stats, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Stats{}, err
	}
	e := newEngine(ctx, cfg, out)

	nextLed, stopLed := iter.Pull2(ledger)
	defer stopLed()
	nextRec, stopRec := iter.Pull2(records)
	defer stopRec()
	led := &peeked[reconcile.LedgerEntry]{next: nextLed}
	recs := &peeked[reconcile.Record]{next: nextRec}
	led.advance()
	recs.advance()
	n := 0
	for {
		if led.err != nil {
			return e.stats, fmt.Errorf("reading ledger: %w", led.err)
		}
		if recs.err != nil {
			return e.stats, fmt.Errorf("reading provider records: %w", recs.err)
		}
		if !led.ok && !recs.ok {
			break
		}
		// Take every item of the next instant from one stream — ledger
		// entries first at equal times — and add them in key order.
		if led.ok && (!recs.ok || !recs.cur.OccurredAt.Before(led.cur.OccurredAt)) {
			batch := led.instant(func(l *reconcile.LedgerEntry) time.Time { return l.OccurredAt }, compareLedger)
			for i := range batch {
				if err := e.addLedger(batch[i]); err != nil {
					return e.stats, err
				}
			}
			n += len(batch)
		} else {
			batch := recs.instant(func(r *reconcile.Record) time.Time { return r.OccurredAt }, compareRecord)
			for i := range batch {
				if err := e.addRecord(batch[i]); err != nil {
					return e.stats, err
				}
			}
			n += len(batch)
		}
		if n >= 4096 {
			n = 0
			if ctx.Err() != nil {
				return e.stats, ctx.Err()
			}
		}
	}
	if err := e.flush(); err != nil {
		return e.stats, err
	}
	return e.stats, nil
}

// peeked is a pulled stream with its next item at hand (cur, when ok; err
// when reading failed).
type peeked[T any] struct {
	next func() (T, error, bool)
	cur  T
	ok   bool
	err  error
	buf  []T
}

// advance reads the next item.
func (p *peeked[T]) advance() {
	p.cur, p.err, p.ok = p.next()
	if p.ok && p.err != nil {
		p.ok = false
	}
}

// instant takes every item of the current item's instant (at), sorted by
// order; the slice is reused by the next call.
func (p *peeked[T]) instant(at func(*T) time.Time, order func(a, b T) int) []T {
	t := at(&p.cur)
	p.buf = p.buf[:0]
	for p.ok && at(&p.cur).Equal(t) {
		p.buf = append(p.buf, p.cur)
		p.advance()
	}
	if len(p.buf) > 1 {
		slices.SortStableFunc(p.buf, order)
	}
	return p.buf
}

// compareLedger orders ledger entries of the same instant by stable keys,
// so that the order they were stored in (their ids) changes no answer.
func compareLedger(a, b reconcile.LedgerEntry) int {
	return cmp.Or(
		cmp.Compare(a.Provider, b.Provider),
		cmp.Compare(a.Direction, b.Direction),
		cmp.Compare(NormalizeRef(a.Reference), NormalizeRef(b.Reference)),
		cmp.Compare(NormalizeRef(a.ProviderReference), NormalizeRef(b.ProviderReference)),
		cmp.Compare(a.Amount.Currency, b.Amount.Currency),
		cmp.Compare(a.Amount.Minor, b.Amount.Minor),
		cmp.Compare(a.Status, b.Status),
		cmp.Compare(a.Account, b.Account),
		cmp.Compare(a.CustomerPhone, b.CustomerPhone),
		cmp.Compare(a.Reference, b.Reference),
		cmp.Compare(a.ProviderReference, b.ProviderReference),
		cmp.Compare(a.Description, b.Description),
	)
}

// kindRank orders record kinds at the same instant: a payment before the
// reversal of it.
func kindRank(k reconcile.Kind) int {
	switch k {
	case reconcile.KindPayment:
		return 0
	case reconcile.KindPayout:
		return 1
	case reconcile.KindReversal:
		return 2
	case reconcile.KindSettlement:
		return 3
	case reconcile.KindFee:
		return 4
	}
	return 5
}

// compareRecord orders records of the same instant by stable keys: the
// provider's transaction id and references first, never the order they
// were stored in.
func compareRecord(a, b reconcile.Record) int {
	return cmp.Or(
		cmp.Compare(a.Provider, b.Provider),
		cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.TxID, b.TxID),
		cmp.Compare(NormalizeRef(a.MerchantRef), NormalizeRef(b.MerchantRef)),
		cmp.Compare(NormalizeRef(a.ProviderRef), NormalizeRef(b.ProviderRef)),
		cmp.Compare(a.RelatedTxID, b.RelatedTxID),
		cmp.Compare(a.Status.Precedence(), b.Status.Precedence()),
		cmp.Compare(a.Status, b.Status),
		boolCompare(a.AmountKnown, b.AmountKnown),
		cmp.Compare(a.Amount.Currency, b.Amount.Currency),
		cmp.Compare(a.Amount.Minor, b.Amount.Minor),
		cmp.Compare(a.AmountSent, b.AmountSent),
		cmp.Compare(a.Account, b.Account),
		cmp.Compare(a.Counterparty, b.Counterparty),
		cmp.Compare(a.MerchantRef, b.MerchantRef),
		cmp.Compare(a.ProviderRef, b.ProviderRef),
		cmp.Compare(a.Source, b.Source),
	)
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// NormalizeRef is a reference as the matcher compares it: with leading and
// trailing white space (Unicode) and invisible format characters (zero-width
// space, joiners, word joiner, byte-order mark) removed. Nothing else
// changes: references are case-sensitive, and inner spaces count. The same
// normalization applies to ledger references and provider references and
// to records' merchant and provider references; reports show them as
// received.
func NormalizeRef(s string) string {
	if s == "" || (s[0] > ' ' && s[0] < 0x7f && s[len(s)-1] > ' ' && s[len(s)-1] < 0x7f) {
		return s // the common case: nothing to trim
	}
	return strings.TrimFunc(s, func(r rune) bool {
		switch r {
		case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
			return true
		}
		return unicode.IsSpace(r)
	})
}

// Tap returns seq with f called on every item as it passes, so that one
// stream can feed Match and an accumulator (Settlement.AddRecord) at once.
// An error from f ends the stream with that error.
func Tap[T any](seq iter.Seq2[T, error], f func(T) error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for v, err := range seq {
			if err == nil {
				if err = f(v); err != nil {
					var zero T
					yield(zero, err)
					return
				}
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

// ledgerNode is a ledger entry waiting for, or holding, its records.
type ledgerNode struct {
	e       reconcile.LedgerEntry
	records []*recordNode // joined by reference (pass 1); starts in first
	first   [1]*recordNode
	heur    *recordNode // joined by pass 2
	// refSlot and provSlot are the slots the entry is indexed in, if any.
	refSlot, provSlot *slot
	inWindow          bool
	done              bool
}

// recordNode is a provider record waiting for its ledger entry.
type recordNode struct {
	// r is the record, stored as the single element of one, so that a
	// match or discrepancy of this record alone can hand it over as is.
	r   *reconcile.Record
	one []reconcile.Record
	// owner is the ledger entry the record joined; heuristic says how.
	owner     *ledgerNode
	heuristic bool
	// reversals are reversal records of this payment; reversalOf is the
	// payment a reversal record joined.
	reversals  []*recordNode
	reversalOf *recordNode
	// lateOf is the payment a reversal names when it came too late to be
	// reported with it (see trimReversals), for the reversal's own report.
	lateOf *recordNode
	// sameTx is the payment indexed before it under the same hash (txIndex).
	sameTx *recordNode
	// mSlot and pSlot are the slots the record waits in, under its
	// merchant and provider references, until it joins a ledger entry.
	mSlot, pSlot *slot
	inWindow     bool
	done         bool
}

// queued is one item in arrival order; exactly one of l and r is set. It
// carries the item's time (Unix nanoseconds), so that walking the queue
// reads the queue alone.
type queued struct {
	at int64
	l  *ledgerNode
	r  *recordNode
}

type engine struct {
	ctx   context.Context
	cfg   Config
	out   Output
	unrep UnreportedOutput // out, if it hears of unreported items; else nil
	stats Stats
	// hold is how long after its own time an item is finalized: by then
	// every record within Grace of it has chosen its ledger entry (which
	// needs the entries Grace further), and every heuristic candidate of it
	// and of its candidates has been joined or left over (2×Tolerance).
	hold       time.Duration
	now        time.Time
	lastLedger time.Time
	lastRecord time.Time

	queue []queued
	head  int
	// decided is the queue position of the next record to join by its
	// provider reference: records more than Grace old have seen every
	// ledger entry they could join (see decide).
	decided int
	// offered is the queue position of the next item to offer to pass 2:
	// items offered are those more than 2×Grace old, whose reference joins
	// are all known (see offer).
	offered int

	ids   interner
	slots slotIndex
	txs   txIndex
	heur  *heuristics

	ledgerNodes slab[ledgerNode]
	recordNodes slab[recordNode]
	records     slab[reconcile.Record]
}

func newEngine(ctx context.Context, cfg Config, out Output) *engine {
	unrep, _ := out.(UnreportedOutput)
	return &engine{
		ctx:   ctx,
		cfg:   cfg,
		out:   out,
		unrep: unrep,
		hold:  2*cfg.Grace + 2*cfg.Tolerance,
		slots: newSlotIndex(),
		txs:   txIndex{seed: maphash.MakeSeed(), span: cfg.Grace + 2*cfg.Tolerance},
		heur:  newHeuristics(cfg),
	}
}

// within reports whether a and b are at most d apart.
func within(a, b time.Time, d time.Duration) bool {
	diff := a.Sub(b)
	return diff <= d && diff >= -d
}

func (e *engine) addLedger(l reconcile.LedgerEntry) error {
	if l.OccurredAt.Before(e.lastLedger) {
		return fmt.Errorf("ledger stream out of order: entry %d (%s) at %s comes after %s",
			l.ID, l.Reference, l.OccurredAt.Format(time.RFC3339Nano), e.lastLedger.Format(time.RFC3339Nano))
	}
	e.lastLedger = l.OccurredAt
	if err := e.advance(l.OccurredAt); err != nil {
		return err
	}
	n := e.ledgerNodes.new()
	n.e, n.inWindow = l, e.cfg.Window.Contains(l.OccurredAt)
	n.records = n.first[:0]
	if n.inWindow {
		e.stats.Ledger++
	}
	pd := e.ids.id(l.Provider, l.Direction)
	if ref := NormalizeRef(l.Reference); ref != "" {
		s := e.slots.take(key{ref, pd})
		s.ledgers, n.refSlot = append(s.ledgers, n), s
		// A record waiting under this merchant reference found no earlier
		// entry with it within Grace (it would have joined it), so this
		// one is the earliest: the record is its.
		e.claim(n, s.byMerchant)
	}
	if ref := NormalizeRef(l.ProviderReference); ref != "" {
		s := e.slots.take(key{ref, pd})
		s.ledgersProv, n.provSlot = append(s.ledgersProv, n), s
	}
	e.push(queued{at: l.OccurredAt.UnixNano(), l: n})
	return nil
}

// release forgets s once nothing waits in it.
func (e *engine) release(s *slot) {
	if s != nil && s.empty() {
		e.slots.drop(s)
	}
}

// claim joins to n the waiting records that are within Grace of it.
func (e *engine) claim(n *ledgerNode, waiting []*recordNode) {
	if len(waiting) == 0 {
		return
	}
	for _, r := range slices.Clone(waiting) {
		if r.owner == nil && !r.done && within(r.r.OccurredAt, n.e.OccurredAt, e.cfg.Grace) {
			e.join(n, r)
		}
	}
}

func (e *engine) join(n *ledgerNode, r *recordNode) {
	r.owner = n
	n.records = append(n.records, r)
	e.unindexRecord(r)
}

func (e *engine) addRecord(r reconcile.Record) error {
	if r.OccurredAt.Before(e.lastRecord) {
		return fmt.Errorf("provider record stream out of order: %s %s %s at %s comes after %s",
			r.Provider, r.Kind, r.TxID, r.OccurredAt.Format(time.RFC3339Nano), e.lastRecord.Format(time.RFC3339Nano))
	}
	e.lastRecord = r.OccurredAt
	if err := e.advance(r.OccurredAt); err != nil {
		return err
	}
	inWindow := e.cfg.Window.Contains(r.OccurredAt)
	switch r.Kind {
	case reconcile.KindSettlement, reconcile.KindFee:
		if inWindow {
			e.stats.Skipped++
		}
		return nil
	}
	n := e.recordNodes.new()
	n.one = e.records.one()
	n.one[0] = r
	n.r, n.inWindow = &n.one[0], inWindow
	if inWindow {
		e.stats.Records++
	}
	if r.Kind == reconcile.KindReversal {
		if r.RelatedTxID != "" {
			if orig := e.txs.get(r.Provider, r.RelatedTxID); orig != nil {
				if !orig.done && r.OccurredAt.Sub(orig.r.OccurredAt) <= e.cfg.Grace {
					n.reversalOf = orig
					orig.reversals = append(orig.reversals, n)
				} else {
					n.lateOf = orig
				}
			}
		}
		e.push(queued{at: r.OccurredAt.UnixNano(), r: n})
		return nil
	}
	if r.TxID != "" {
		e.txs.add(n)
	}
	e.placeRecord(n)
	e.push(queued{at: r.OccurredAt.UnixNano(), r: n})
	return nil
}

// placeRecord joins n to the earliest ledger entry within Grace whose
// reference is its merchant reference: no entry seen later can take
// precedence over it. Otherwise n waits under its references: under the
// merchant reference for such an entry to come, under the provider
// reference until decide.
func (e *engine) placeRecord(n *recordNode) {
	r := n.r
	pd := e.ids.id(r.Provider, r.Direction())
	mref, pref := NormalizeRef(r.MerchantRef), NormalizeRef(r.ProviderRef)
	var ms *slot
	if mref != "" {
		ms = e.slots.get(key{mref, pd})
		if ms != nil {
			if l := e.earliest(ms.ledgers, r); l != nil {
				e.join(l, n)
				return
			}
		}
		if ms == nil {
			ms = e.slots.take(key{mref, pd})
		}
		ms.byMerchant, n.mSlot = append(ms.byMerchant, n), ms
	}
	if pref != "" {
		ps := e.slots.take(key{pref, pd})
		ps.byProvider, n.pSlot = append(ps.byProvider, n), ps
	}
}

// earliest returns the first ledger entry of ls (which are in arrival
// order) that r may join.
func (e *engine) earliest(ls []*ledgerNode, r *reconcile.Record) *ledgerNode {
	for _, l := range ls {
		if e.joinable(l, r) {
			return l
		}
	}
	return nil
}

// decide joins a record that is more than Grace old and joined no entry by
// its merchant reference to a ledger entry by its provider reference: the
// earliest within Grace whose reference is that reference, else the
// earliest whose provider reference is. Every entry within Grace of the
// record has been seen by then, so the choice does not depend on arrival
// order or on the window read.
func (e *engine) decide(n *recordNode) {
	if n.owner != nil || n.done || n.r.Kind == reconcile.KindReversal {
		return
	}
	r := n.r
	pd := e.ids.id(r.Provider, r.Direction())
	var l *ledgerNode
	if mref := NormalizeRef(r.MerchantRef); mref != "" {
		if s := e.slots.get(key{mref, pd}); s != nil {
			l = e.earliest(s.ledgers, r)
		}
	}
	if pref := NormalizeRef(r.ProviderRef); l == nil && pref != "" {
		if s := e.slots.get(key{pref, pd}); s != nil {
			if l = e.earliest(s.ledgers, r); l == nil {
				l = e.earliest(s.ledgersProv, r)
			}
		}
	}
	if l != nil {
		e.join(l, n)
		return
	}
	// No entry seen later is within Grace of it: stop waiting.
	e.unindexRecord(n)
}

func (e *engine) joinable(l *ledgerNode, r *reconcile.Record) bool {
	return l != nil && !l.done && within(l.e.OccurredAt, r.OccurredAt, e.cfg.Grace)
}

// unindexRecord takes r out of the slots it waits in.
func (e *engine) unindexRecord(r *recordNode) {
	if s := r.mSlot; s != nil {
		s.byMerchant = remove(s.byMerchant, r)
		r.mSlot = nil
		e.release(s)
	}
	if s := r.pSlot; s != nil {
		s.byProvider = remove(s.byProvider, r)
		r.pSlot = nil
		e.release(s)
	}
}

func remove[T comparable](list []T, x T) []T {
	if i := slices.Index(list, x); i >= 0 {
		return slices.Delete(list, i, i+1)
	}
	return list
}

func (e *engine) push(q queued) {
	e.queue = append(e.queue, q)
	if p := len(e.queue) - e.head; p > e.stats.PeakPending {
		e.stats.PeakPending = p
	}
}

// advance moves stream time to t, lets the records that have seen every
// ledger entry they could join choose one, offers pass 2 the items whose
// reference joins are known, and finalizes every item held long enough.
func (e *engine) advance(t time.Time) error {
	if t.After(e.now) {
		e.now = t
	}
	e.decideUpTo(e.now.Add(-e.cfg.Grace).UnixNano())
	e.offer(e.now.Add(-2 * e.cfg.Grace).UnixNano())
	cutoff := e.now.Add(-e.hold)
	for c := cutoff.UnixNano(); e.head < len(e.queue) && e.queue[e.head].at < c; e.head++ {
		if err := e.finalize(e.queue[e.head]); err != nil {
			return err
		}
		e.queue[e.head] = queued{}
	}
	// Reuse the queue's storage once most of it is consumed.
	if e.head > 1024 && e.head*2 > len(e.queue) {
		n := copy(e.queue, e.queue[e.head:])
		clear(e.queue[n:])
		e.queue = e.queue[:n]
		e.offered -= e.head
		e.decided -= e.head
		e.head = 0
	}
	e.heur.retire(cutoff)
	return nil
}

// decideUpTo lets the records that arrived before settled choose their
// ledger entry (decide).
func (e *engine) decideUpTo(settled int64) {
	for ; e.decided < len(e.queue) && e.queue[e.decided].at < settled; e.decided++ {
		if q := e.queue[e.decided]; q.r != nil {
			e.decide(q.r)
		}
	}
}

// offer hands pass 2 the items that arrived before settled and joined
// nothing by reference. An item more than 2×Grace older than the stream has
// every reference join it will ever get (its records chose at most Grace
// after themselves), and pass 2 only pairs items without one, so indexing
// the leftovers alone changes no answer — and spares indexing the great
// majority that pass 1 joins. Finalizing reaches at most 2×Tolerance past
// an item, still before settled (hold = 2×Grace + 2×Tolerance), so every
// candidate it may see has been offered.
func (e *engine) offer(settled int64) {
	for ; e.offered < len(e.queue) && e.queue[e.offered].at < settled; e.offered++ {
		switch q := e.queue[e.offered]; {
		case q.l != nil:
			if len(q.l.records) == 0 {
				e.heur.addLedger(q.l)
			}
		case q.r.owner == nil && q.r.r.Kind != reconcile.KindReversal:
			e.heur.addRecord(q.r)
		}
	}
}

// flush finalizes everything still held at the end of the streams.
func (e *engine) flush() error {
	e.decideUpTo(math.MaxInt64)
	e.offer(math.MaxInt64)
	for ; e.head < len(e.queue); e.head++ {
		if err := e.finalize(e.queue[e.head]); err != nil {
			return err
		}
	}
	e.queue, e.head, e.offered, e.decided = nil, 0, 0, 0
	return nil
}

func (e *engine) finalize(q queued) error {
	if q.l != nil {
		l := q.l
		if s := l.refSlot; s != nil {
			s.ledgers, l.refSlot = remove(s.ledgers, l), nil
			e.release(s)
		}
		if s := l.provSlot; s != nil {
			s.ledgersProv, l.provSlot = remove(s.ledgersProv, l), nil
			e.release(s)
		}
		if l.done {
			return nil
		}
		return e.resolveLedger(l)
	}
	r := q.r
	e.unindexRecord(r)
	if r.owner != nil || r.done || r.reversalOf != nil {
		return nil // reported with its ledger entry or its payment
	}
	return e.resolveRecord(r)
}

// emitMatch reports m if its anchor lies inside the window (see settle).
func (e *engine) emitMatch(l *ledgerNode, recs []*recordNode, heuristic bool) error {
	if !e.settle(l, recs, anchor(l, recs)) {
		return nil
	}
	m := reconcile.Match{Ledger: l.e, Records: records(recs), Heuristic: heuristic}
	e.stats.Matches++
	return e.out.Match(m)
}

// emitDiscrepancy reports d if its anchor lies inside the window (see
// settle); d.Ledger and d.Records are filled from l and recs.
func (e *engine) emitDiscrepancy(d reconcile.Discrepancy, l *ledgerNode, recs []*recordNode) error {
	return e.emitDiscrepancyAt(d, l, recs, anchor(l, recs))
}

// emitDiscrepancyAt is emitDiscrepancy with the anchor given: a pending
// item reported for being stale belongs to the window in which it became
// stale, so that the nightly run of that day reports it.
func (e *engine) emitDiscrepancyAt(d reconcile.Discrepancy, l *ledgerNode, recs []*recordNode, at time.Time) error {
	if !e.settle(l, recs, at) {
		return nil
	}
	if l != nil {
		le := l.e
		d.Ledger = &le
	}
	d.Records = records(recs)
	if err := Account(&d); err != nil { // the bridge fields and Difference (summary.go)
		return fmt.Errorf("%s for %s: %w", d.Kind, describe(l, recs), err)
	}
	e.stats.Discrepancies++
	return e.out.Discrepancy(d)
}

// anchor is the time a report is filed under: its ledger entry's, else its
// first record's.
func anchor(l *ledgerNode, recs []*recordNode) time.Time {
	if l != nil {
		return l.e.OccurredAt
	}
	return recs[0].r.OccurredAt
}

// settle marks l and recs done and reports whether the report's anchor at
// lies in the window. Each report belongs to exactly one window, so the runs
// of consecutive days add up to the run of all of them: a payment booked at
// 23:59 and received at 00:01 is reported on the day of its ledger entry,
// never on both days. Items inside the window of a report filed under
// another window need no report here: they count as Quiet.
func (e *engine) settle(l *ledgerNode, recs []*recordNode, at time.Time) bool {
	if e.cfg.Window.Contains(at) {
		if l != nil {
			l.done = true
		}
		for _, r := range recs {
			r.done = true
		}
		return true
	}
	e.quiet(l, recs...)
	return false
}

// quiet marks items that need no report, and counts those in the window.
func (e *engine) quiet(l *ledgerNode, recs ...*recordNode) {
	if l != nil && !l.done {
		l.done = true
		if l.inWindow {
			e.stats.Quiet++
			if e.unrep != nil {
				e.unrep.Unreported(&l.e, nil)
			}
		}
	}
	for _, r := range recs {
		if !r.done {
			r.done = true
			if r.inWindow {
				e.stats.Quiet++
				if e.unrep != nil {
					e.unrep.Unreported(nil, r.r)
				}
			}
		}
	}
}

func records(recs []*recordNode) []reconcile.Record {
	switch len(recs) {
	case 0:
		return nil
	case 1:
		return recs[0].one[:1:1]
	}
	out := make([]reconcile.Record, len(recs))
	for i, r := range recs {
		out[i] = *r.r
	}
	return out
}
