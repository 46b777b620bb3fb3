package jobs

import (
	"context"
	"iter"
)

// prefetchBatch is how many items a prefetching reader hands over at a time.
const prefetchBatch = 4096

// prefetchDepth is how many batches a reader may fill ahead of the consumer.
const prefetchDepth = 2

// prefetch reads seq in its own goroutine, a batch ahead of the consumer, so
// that two database streams are read at the same time as matching runs. It
// yields exactly what seq yields, in order, and stops the reader when the
// consumer stops early or ctx ends.
//
// Items are yielded by value, so a batch the consumer has gone through is
// handed back to the reader and refilled: a stream of any length allocates
// prefetchDepth+2 batches.
func prefetch[T any](ctx context.Context, seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		type batch struct {
			items []T
			err   error
		}
		ctx, cancel := context.WithCancel(ctx)
		full := make(chan batch, prefetchDepth)
		empty := make(chan []T, prefetchDepth+2)
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer close(full)
			send := func(b batch) bool {
				select {
				case full <- b:
					return true
				case <-ctx.Done():
					return false
				}
			}
			next := func() []T {
				select {
				case buf := <-empty:
					return buf[:0]
				default:
					return make([]T, 0, prefetchBatch)
				}
			}
			buf := next()
			for v, err := range seq {
				if err != nil {
					if len(buf) > 0 && !send(batch{items: buf}) {
						return
					}
					send(batch{err: err})
					return
				}
				buf = append(buf, v)
				if len(buf) == prefetchBatch {
					if !send(batch{items: buf}) {
						return
					}
					buf = next()
				}
			}
			if len(buf) > 0 {
				send(batch{items: buf})
			}
		}()
		defer func() {
			cancel()
			<-done
		}()
		var zero T
		for b := range full {
			if b.err != nil {
				yield(zero, b.err)
				return
			}
			for _, v := range b.items {
				if !yield(v, nil) {
					return
				}
			}
			clear(b.items) // drop references to what the items pointed to
			empty <- b.items
		}
		if err := ctx.Err(); err != nil {
			yield(zero, err)
		}
	}
}
