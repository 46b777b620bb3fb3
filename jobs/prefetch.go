package jobs

import (
	"context"
	"iter"
)

// prefetchBatch is how many items a prefetching reader hands over at a time.
const prefetchBatch = 4096

// prefetch reads seq in its own goroutine, a batch ahead of the consumer, so
// that two database streams are read at the same time as matching runs. It
// yields exactly what seq yields, in order, and stops the reader when the
// consumer stops early or ctx ends.
func prefetch[T any](ctx context.Context, seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		type batch struct {
			items []T
			err   error
		}
		ctx, cancel := context.WithCancel(ctx)
		ch := make(chan batch, 2)
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer close(ch)
			send := func(b batch) bool {
				select {
				case ch <- b:
					return true
				case <-ctx.Done():
					return false
				}
			}
			buf := make([]T, 0, prefetchBatch)
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
					buf = make([]T, 0, prefetchBatch)
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
		for b := range ch {
			if b.err != nil {
				yield(zero, b.err)
				return
			}
			for _, v := range b.items {
				if !yield(v, nil) {
					return
				}
			}
		}
		if err := ctx.Err(); err != nil {
			yield(zero, err)
		}
	}
}
