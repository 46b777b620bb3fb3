package webhook

import (
	"context"
	"sync"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// GroupSink is a Sink that can also store several deliveries in one
// transaction (store.Store does). Given one, the Handler group-commits:
// deliveries arriving together share one statement and one commit, and
// each is still answered only after that commit.
type GroupSink interface {
	sources.Sink
	// SaveGroup stores every payload with its records, with Save's rules,
	// in one transaction: all or none. dups[i] tells whether payloads[i]
	// was already stored. The group holds each payload once and each
	// transaction once (Groupable says which records can join one).
	SaveGroup(ctx context.Context, payloads []reconcile.RawPayload, records [][]reconcile.Record) (dups []bool, err error)
	// Groupable reports whether a payload's records can join a group: one
	// sighting of each transaction.
	Groupable(records []reconcile.Record) bool
}

// Defaults of the group commit (Config.Committers, MaxGroup, Queue,
// QueueWait).
const (
	// DefaultCommitters is how many groups are written at once, each on a
	// connection of its own: on a small machine PostgreSQL is busiest
	// parsing and indexing, not waiting, so a few suffice.
	DefaultCommitters = 2
	// DefaultMaxGroup bounds the deliveries of one group.
	DefaultMaxGroup = 128
	// DefaultQueue bounds the deliveries waiting for a committer: beyond
	// it, deliveries wait QueueWait and are then shed.
	DefaultQueue = 256
	// DefaultQueueWait is how long a delivery waits for room in a full
	// queue before it is shed with 503 and Retry-After.
	DefaultQueueWait = 250 * time.Millisecond
	// DefaultRetryAfter is the Retry-After of a shed delivery, in seconds.
	DefaultRetryAfter = 1
	// groupTimeout bounds one group's write; a group is not the request of
	// any one client, so a client hanging up does not cancel it.
	groupTimeout = 30 * time.Second
)

// delivery is one verified, parsed webhook waiting for its commit.
type delivery struct {
	payload reconcile.RawPayload
	records []reconcile.Record
	done    chan outcome
}

// outcome is a delivery's result: stored (or a duplicate) once err is nil.
type outcome struct {
	dup bool
	err error
}

// committer group-commits deliveries from a bounded queue.
type committer struct {
	sink     GroupSink
	queue    chan *delivery
	maxGroup int
	wait     time.Duration
	quit     chan struct{}
	start    sync.Once
	stop     sync.Once
	workers  int
	wg       sync.WaitGroup
	observe  func(size int)
}

// submit queues d, waiting at most c.wait for room; false: shed it.
func (c *committer) submit(ctx context.Context, d *delivery) bool {
	c.start.Do(func() {
		for range c.workers {
			c.wg.Add(1)
			go c.run()
		}
	})
	select {
	case c.queue <- d:
		return true
	default:
	}
	t := time.NewTimer(c.wait)
	defer t.Stop()
	select {
	case c.queue <- d:
		return true
	case <-t.C:
	case <-ctx.Done():
	case <-c.quit:
	}
	return false
}

// run takes what is queued, up to maxGroup, and commits it as one group,
// until quit.
func (c *committer) run() {
	defer c.wg.Done()
	for {
		var first *delivery
		select {
		case first = <-c.queue:
		case <-c.quit:
			c.drain()
			return
		}
		group := []*delivery{first}
	fill:
		for len(group) < c.maxGroup {
			select {
			case d := <-c.queue:
				group = append(group, d)
			default:
				break fill
			}
		}
		c.commit(group)
	}
}

// drain commits what is still queued when the committer stops.
func (c *committer) drain() {
	for {
		select {
		case d := <-c.queue:
			c.commit([]*delivery{d})
		default:
			return
		}
	}
}

// commit stores group in one transaction and answers each delivery. A
// delivery that cannot share the group (its payload or one of its
// transactions is already in it) is saved on its own after it; when the
// group fails, each is saved on its own, so that one bad delivery fails
// only itself.
func (c *committer) commit(group []*delivery) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	payloadsSeen, txSeen := map[reconcile.PayloadKey]bool{}, map[reconcile.RecordKey]bool{}
	var joined, alone []*delivery
	for _, d := range group {
		ok := c.sink.Groupable(d.records) && !payloadsSeen[d.payload.Key()]
		for i := range d.records {
			ok = ok && !txSeen[d.records[i].Key()]
		}
		if !ok {
			alone = append(alone, d)
			continue
		}
		payloadsSeen[d.payload.Key()] = true
		for i := range d.records {
			txSeen[d.records[i].Key()] = true
		}
		joined = append(joined, d)
	}
	if len(joined) == 1 {
		alone = append(joined, alone...)
		joined = nil
	}
	if len(joined) > 0 {
		payloads := make([]reconcile.RawPayload, len(joined))
		records := make([][]reconcile.Record, len(joined))
		for i, d := range joined {
			payloads[i], records[i] = d.payload, d.records
		}
		dups, err := c.sink.SaveGroup(ctx, payloads, records)
		if err != nil {
			alone = append(joined, alone...) // nothing of the group was stored
		} else {
			if c.observe != nil {
				c.observe(len(joined))
			}
			for i, d := range joined {
				d.done <- outcome{dup: dups[i]}
			}
		}
	}
	for _, d := range alone {
		dup, err := c.sink.Save(ctx, d.payload, d.records)
		if c.observe != nil && err == nil {
			c.observe(1)
		}
		d.done <- outcome{dup: dup, err: err}
	}
}

// close stops the workers once they have committed what is queued.
func (c *committer) close() {
	c.stop.Do(func() { close(c.quit) })
	c.wg.Wait()
}
