package sources_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mizani/reconcile/sources"
)

// TestDeliveries: a delivery runs once its delay has passed; Close cancels
// one still waiting (it never runs) and the context of one in flight, and
// returns only once that one has ended; After a Close nothing runs.
func TestDeliveries(t *testing.T) {
	t.Parallel()
	d := sources.NewDeliveries()
	var ran, waited atomic.Int32
	start := time.Now()
	done := make(chan time.Duration, 1)
	d.After(20*time.Millisecond, func(context.Context) { done <- time.Since(start) })
	if took := <-done; took < 20*time.Millisecond {
		t.Errorf("ran after %v, want at least the 20ms delay", took)
	}
	d.After(time.Hour, func(context.Context) { ran.Add(1) })
	inFlight := make(chan struct{})
	d.After(0, func(ctx context.Context) {
		close(inFlight)
		<-ctx.Done() // a post waiting on a receiver, until Close
		time.Sleep(10 * time.Millisecond)
		waited.Add(1)
	})
	<-inFlight
	select {
	case <-d.Done():
		t.Fatal("Done closed before Close")
	default:
	}
	d.Close()
	if waited.Load() != 1 {
		t.Error("Close returned before the delivery in flight ended")
	}
	d.After(0, func(context.Context) { ran.Add(1) })
	d.Close() // twice: no panic
	time.Sleep(10 * time.Millisecond)
	if ran.Load() != 0 {
		t.Errorf("%d deliveries ran that Close cancelled or that came after it", ran.Load())
	}
	select {
	case <-d.Done():
	default:
		t.Error("Done not closed by Close")
	}
}
