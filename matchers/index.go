package matchers

import (
	"time"

	"github.com/mizani/reconcile"
)

// key is a reference under a provider and direction, interned to a small
// number so that hashing and comparing a key costs little more than its
// string.
type key struct {
	ref string
	pd  int32
}

// slot gathers everything waiting under one key: the ledger entry whose
// reference or provider reference it is, and the records whose merchant or
// provider reference it is that have not found their ledger entry yet.
// Nodes point back at their slots, so finalizing an item costs no lookup.
type slot struct {
	k          key
	ledger     *ledgerNode // ledger entry with Reference k
	ledgerProv *ledgerNode // ledger entry with ProviderReference k
	byMerchant []*recordNode
	byProvider []*recordNode
}

func (s *slot) empty() bool {
	return s.ledger == nil && s.ledgerProv == nil && len(s.byMerchant) == 0 && len(s.byProvider) == 0
}

// interner numbers provider and direction pairs.
type interner []struct {
	p reconcile.Provider
	d reconcile.Direction
}

func (in *interner) id(p reconcile.Provider, d reconcile.Direction) int32 {
	for i, x := range *in {
		if x.p == p && x.d == d {
			return int32(i)
		}
	}
	*in = append(*in, struct {
		p reconcile.Provider
		d reconcile.Direction
	}{p, d})
	return int32(len(*in) - 1)
}

// txIndex finds payments by transaction id for the reversals that name
// them. It never deletes: it keeps two generations of span each and drops
// the older whole, so an entry lives at least span past its own time.
// Callers check the provider of what they find.
type txIndex struct {
	cur, prev map[string]*recordNode
	until     time.Time
	span      time.Duration
}

func (x *txIndex) add(n *recordNode) {
	if t := n.r.OccurredAt; x.cur == nil || !t.Before(x.until) {
		x.prev, x.cur = x.cur, make(map[string]*recordNode, len(x.cur))
		x.until = t.Add(x.span)
	}
	x.cur[n.r.TxID] = n
}

// get returns the payment or payout of provider p with transaction id tx.
func (x *txIndex) get(p reconcile.Provider, tx string) *recordNode {
	if n := x.cur[tx]; n != nil && n.r.Provider == p {
		return n
	}
	if n := x.prev[tx]; n != nil && n.r.Provider == p {
		return n
	}
	return nil
}

// slab hands out zeroed values from chunks, saving an allocation per item.
// A chunk is freed once nothing points into it; items are finalized in time
// order, so whole chunks become garbage together.
type slab[T any] struct{ free []T }

func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.free = make([]T, 256)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}
