package matchers

import (
	"time"

	"github.com/mizani/reconcile"
)

// heuristics indexes the items pass 2 may pair: paid or refunded ledger
// entries and received (succeeded, or since reversed) payment or payout
// records of the configured providers, bucketed
// by provider, direction, currency and amount. Items stay indexed after they
// are finalized, for as long as a later item may still list them as
// candidates, so that a tie is seen as a tie from both sides.
type heuristics struct {
	providers map[reconcile.Provider]bool
	tol       time.Duration
	buckets   map[heurKey]*bucket
	// fifo lists indexed items in arrival (time) order, for retirement.
	fifo []heurEntry
	head int
}

type heurKey struct {
	p      reconcile.Provider
	d      reconcile.Direction
	c      reconcile.Currency
	amount int64
}

// bucket holds one key's items, each side in time order.
type bucket struct {
	ledgers []*ledgerNode
	records []*recordNode
}

type heurEntry struct {
	k      heurKey
	t      time.Time
	ledger bool
}

func newHeuristics(cfg Config) *heuristics {
	h := &heuristics{
		providers: make(map[reconcile.Provider]bool),
		tol:       cfg.Tolerance,
		buckets:   make(map[heurKey]*bucket),
	}
	for _, p := range cfg.HeuristicProviders {
		h.providers[p] = true
	}
	return h
}

func (h *heuristics) bucket(k heurKey) *bucket {
	b := h.buckets[k]
	if b == nil {
		b = &bucket{}
		h.buckets[k] = b
	}
	return b
}

func (h *heuristics) addLedger(l *ledgerNode) {
	if !h.providers[l.e.Provider] || !paidSide(l.e.Status) {
		return
	}
	k := heurKey{l.e.Provider, l.e.Direction, l.e.Amount.Currency, l.e.Amount.Minor}
	b := h.bucket(k)
	b.ledgers = append(b.ledgers, l)
	h.fifo = append(h.fifo, heurEntry{k: k, t: l.e.OccurredAt, ledger: true})
}

func (h *heuristics) addRecord(r *recordNode) {
	if !h.providers[r.r.Provider] || !received(r) || !r.r.AmountKnown {
		return
	}
	k := heurKey{r.r.Provider, r.r.Direction(), r.r.Amount.Currency, r.r.Amount.Minor}
	b := h.bucket(k)
	b.records = append(b.records, r)
	h.fifo = append(h.fifo, heurEntry{k: k, t: r.r.OccurredAt})
}

// retire drops items no longer needed: the engine finalizes items older than
// cutoff, and an item is a candidate (or a candidate's candidate) only of
// items within 2×Tolerance of it.
func (h *heuristics) retire(cutoff time.Time) {
	limit := cutoff.Add(-2 * h.tol)
	for h.head < len(h.fifo) && h.fifo[h.head].t.Before(limit) {
		en := h.fifo[h.head]
		h.fifo[h.head] = heurEntry{}
		h.head++
		b := h.buckets[en.k]
		// Items enter a bucket in time order, so the oldest is first.
		if en.ledger {
			b.ledgers[0] = nil
			b.ledgers = b.ledgers[1:]
		} else {
			b.records[0] = nil
			b.records = b.records[1:]
		}
		if len(b.ledgers) == 0 && len(b.records) == 0 {
			delete(h.buckets, en.k)
		}
	}
	if h.head > 1024 && h.head*2 > len(h.fifo) {
		n := copy(h.fifo, h.fifo[h.head:])
		clear(h.fifo[n:])
		h.fifo = h.fifo[:n]
		h.head = 0
	}
}

// ledgerCandidates lists the records pass 2 could pair with l: leftovers of
// pass 1 with the same key, within Tolerance, with a compatible phone.
func (h *heuristics) ledgerCandidates(l *ledgerNode) []*recordNode {
	if !h.providers[l.e.Provider] || !paidSide(l.e.Status) || len(l.records) > 0 {
		return nil
	}
	b := h.buckets[heurKey{l.e.Provider, l.e.Direction, l.e.Amount.Currency, l.e.Amount.Minor}]
	if b == nil {
		return nil
	}
	var out []*recordNode
	for _, r := range b.records {
		if (r.owner == nil || r.heuristic) && h.related(l, r) {
			out = append(out, r)
		}
	}
	return out
}

// recordCandidates lists the ledger entries pass 2 could pair with r.
func (h *heuristics) recordCandidates(r *recordNode) []*ledgerNode {
	if !h.providers[r.r.Provider] || !received(r) || !r.r.AmountKnown || r.owner != nil {
		return nil
	}
	b := h.buckets[heurKey{r.r.Provider, r.r.Direction(), r.r.Amount.Currency, r.r.Amount.Minor}]
	if b == nil {
		return nil
	}
	var out []*ledgerNode
	for _, l := range b.ledgers {
		if len(l.records) == 0 && h.related(l, r) {
			out = append(out, l)
		}
	}
	return out
}

// related is the pass 2 relation, minus the bucket key: time within
// Tolerance and the same phone when both sides have one.
func (h *heuristics) related(l *ledgerNode, r *recordNode) bool {
	d := l.e.OccurredAt.Sub(r.r.OccurredAt)
	if d > h.tol || d < -h.tol {
		return false
	}
	lp, rp := normalizePhone(l.e.CustomerPhone), normalizePhone(r.r.Counterparty)
	return lp == "" || rp == "" || lp == rp
}

// pairLedger returns the record l pairs with when each is the other's only
// candidate, and l's candidates either way.
func (h *heuristics) pairLedger(l *ledgerNode) (*recordNode, []*recordNode) {
	c := h.ledgerCandidates(l)
	if len(c) != 1 || c[0].done || c[0].owner != nil {
		return nil, c
	}
	if back := h.recordCandidates(c[0]); len(back) == 1 && back[0] == l {
		return c[0], c
	}
	return nil, c
}

// pairRecord is pairLedger from the record's side.
func (h *heuristics) pairRecord(r *recordNode) (*ledgerNode, []*ledgerNode) {
	c := h.recordCandidates(r)
	if len(c) != 1 || c[0].done || c[0].heur != nil {
		return nil, c
	}
	if back := h.ledgerCandidates(c[0]); len(back) == 1 && back[0] == r {
		return c[0], c
	}
	return nil, c
}

// normalizePhone reduces a phone number to its last nine digits, so that
// "+254712345678", "254712345678" and "0712345678" compare equal. Numbers
// with fewer than nine digits, or masked ones ("2547****5678"), count as no
// phone: they cannot tell two people apart.
func normalizePhone(s string) string {
	var digits [32]byte
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if n < len(digits) {
				digits[n] = c
				n++
			}
		case c == '*' || c == 'x' || c == 'X':
			return ""
		}
	}
	if n < 9 {
		return ""
	}
	return string(digits[n-9 : n])
}
