package matchers

import (
	"hash/maphash"
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

// slot gathers everything waiting under one key: the ledger entries whose
// reference or provider reference it is (in arrival order), and the records
// whose merchant or provider reference it is that have not found their
// ledger entry yet.
// Nodes point back at their slots, so finalizing an item costs no lookup.
type slot struct {
	k           key
	h           uint64
	next        *slot         // another key with the same hash
	ledgers     []*ledgerNode // ledger entries with Reference k
	ledgersProv []*ledgerNode // ledger entries with ProviderReference k
	byMerchant  []*recordNode
	byProvider  []*recordNode
	// The first of each list is held in the slot itself: most keys have
	// one ledger entry and one record, and then cost no allocation.
	lbuf, pbuf [1]*ledgerNode
	mbuf, rbuf [1]*recordNode
}

func (s *slot) empty() bool {
	return len(s.ledgers) == 0 && len(s.ledgersProv) == 0 && len(s.byMerchant) == 0 && len(s.byProvider) == 0
}

// slotIndex maps keys to slots. It is keyed by a 64-bit hash of the key,
// chaining the rare keys that share one: the table then holds no strings,
// stays small, and a probe never has to read a key it does not want.
type slotIndex struct {
	seed  maphash.Seed
	m     map[uint64]*slot
	slots slab[slot]
}

func newSlotIndex() slotIndex {
	return slotIndex{seed: maphash.MakeSeed(), m: make(map[uint64]*slot)}
}

func (x *slotIndex) hash(k key) uint64 {
	return maphash.String(x.seed, k.ref) ^ uint64(k.pd)*0x9e3779b97f4a7c15
}

// get returns the slot of k, or nil.
func (x *slotIndex) get(k key) *slot {
	for s := x.m[x.hash(k)]; s != nil; s = s.next {
		if s.k == k {
			return s
		}
	}
	return nil
}

// take returns the slot of k, creating it if need be.
func (x *slotIndex) take(k key) *slot {
	h := x.hash(k)
	head := x.m[h]
	for s := head; s != nil; s = s.next {
		if s.k == k {
			return s
		}
	}
	s := x.slots.new()
	s.k, s.h, s.next = k, h, head
	s.ledgers, s.ledgersProv = s.lbuf[:0], s.pbuf[:0]
	s.byMerchant, s.byProvider = s.mbuf[:0], s.rbuf[:0]
	x.m[h] = s
	return s
}

// drop removes s.
func (x *slotIndex) drop(s *slot) {
	head := x.m[s.h]
	if head == s {
		if s.next == nil {
			delete(x.m, s.h)
		} else {
			x.m[s.h] = s.next
		}
		return
	}
	for p := head; p != nil; p = p.next {
		if p.next == s {
			p.next = s.next
			return
		}
	}
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
// the older whole, so an entry lives at least span past its own time. Like
// slotIndex it is keyed by a 64-bit hash of the id, chaining the payments
// that share one (recordNode.sameTx, newest first).
type txIndex struct {
	seed      maphash.Seed
	cur, prev map[uint64]*recordNode
	until     time.Time
	span      time.Duration
}

func (x *txIndex) add(n *recordNode) {
	if t := n.r.OccurredAt; x.cur == nil || !t.Before(x.until) {
		x.prev, x.cur = x.cur, make(map[uint64]*recordNode, len(x.cur))
		x.until = t.Add(x.span)
	}
	h := maphash.String(x.seed, n.r.TxID)
	n.sameTx, x.cur[h] = x.cur[h], n
}

// get returns the latest payment or payout of provider p with transaction
// id tx.
func (x *txIndex) get(p reconcile.Provider, tx string) *recordNode {
	h := maphash.String(x.seed, tx)
	for _, m := range [2]map[uint64]*recordNode{x.cur, x.prev} {
		for n := m[h]; n != nil; n = n.sameTx {
			if n.r.TxID == tx {
				if n.r.Provider == p {
					return n
				}
				break // the latest with this id is another provider's
			}
		}
	}
	return nil
}

// slab hands out zeroed values from chunks, saving an allocation per item.
// A chunk is freed once nothing points into it; items are finalized in time
// order, so whole chunks become garbage together.
type slab[T any] struct{ free []T }

func (s *slab[T]) new() *T { return &s.one()[0] }

// one returns a zeroed slice of one value, with no room to grow.
func (s *slab[T]) one() []T {
	if len(s.free) == 0 {
		s.free = make([]T, 256)
	}
	p := s.free[:1:1]
	s.free = s.free[1:]
	return p
}
