package sources

import (
	"context"
	"sync"
	"time"
)

// Deliveries runs a simulator's callbacks and webhooks in the background,
// each after its delay, as a provider delivers them after answering the
// request that caused them, and stops them all at once: Close cancels
// every delivery still waiting or in flight and waits for each to end.
// Done is closed by Close, for what else must stop with the simulator
// (Injector.Middleware's hung responses).
type Deliveries struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// NewDeliveries returns Deliveries ready to run.
func NewDeliveries() *Deliveries {
	ctx, cancel := context.WithCancel(context.Background())
	return &Deliveries{ctx: ctx, cancel: cancel}
}

// After runs deliver in a goroutine of its own once delay has passed,
// unless Close comes first; deliver's context is cancelled by Close. After
// Close it does nothing.
func (d *Deliveries) After(delay time.Duration, deliver func(ctx context.Context)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
		deliver(d.ctx)
	}()
}

// Done is closed once Close is called.
func (d *Deliveries) Done() <-chan struct{} { return d.ctx.Done() }

// Close cancels every delivery and waits for all to end. It is safe to
// call more than once.
func (d *Deliveries) Close() {
	d.mu.Lock()
	d.closed = true
	d.cancel()
	d.mu.Unlock()
	d.wg.Wait()
}
