package sources

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mizani/reconcile"
)

// Puller fetches a provider's history for one window through its API. A
// provider package implements only this "fetch one chunk" step; PullWindow
// owns splitting a long window, skipping finished chunks and progress.
type Puller interface {
	// Pull fetches every transaction the provider has in w, the half-open
	// interval [w.From, w.To), and saves each payload the provider returned,
	// verbatim, through sink together with the records parsed from it. Only
	// records whose own time lies in w are saved. Pulling the same window
	// again must leave the same records (the sink deduplicates). Pull retries
	// transient failures itself; an error means the chunk is not complete and
	// must be pulled again, though some payloads may already be saved.
	Pull(ctx context.Context, w reconcile.Window, sink Sink) (PullStats, error)
}

// PullStats counts what a pull did.
type PullStats struct {
	// Chunks is the number of chunks fetched whole; Skipped those not
	// fetched because an earlier pull finished them.
	Chunks, Skipped int
	// Payloads is the number of payloads newly stored, Duplicates those
	// already stored.
	Payloads, Duplicates int
	// Records is the number of records in the payloads fetched (new or not).
	Records int
}

// Add returns s with o's counts added.
func (s PullStats) Add(o PullStats) PullStats {
	return PullStats{
		Chunks:     s.Chunks + o.Chunks,
		Skipped:    s.Skipped + o.Skipped,
		Payloads:   s.Payloads + o.Payloads,
		Duplicates: s.Duplicates + o.Duplicates,
		Records:    s.Records + o.Records,
	}
}

// Checkpointer remembers which chunks of a pull are finished, so that a pull
// that crashed resumes without fetching them again. The store implements it.
type Checkpointer interface {
	// ChunkDone reports whether the chunk w of provider and scope was marked done.
	ChunkDone(ctx context.Context, provider, scope string, w reconcile.Window) (bool, error)
	// MarkChunkDone records the chunk w as finished with the given record count.
	MarkChunkDone(ctx context.Context, provider, scope string, w reconcile.Window, records int) error
}

// PullJob describes one resumable pull of a window. Provider, Scope, Puller
// and Sink are required.
type PullJob struct {
	// Provider and Scope name what is pulled in checkpoints and logs, e.g.
	// "kopokopo" and "till:000000".
	Provider reconcile.Provider
	Scope    string
	Puller   Puller
	Sink     Sink
	// Checkpoints, when set, makes the pull resumable: done chunks are
	// skipped, and each chunk that ended at least Settle ago is marked done
	// once its payloads are saved.
	Checkpoints Checkpointer
	// Chunk is the length of one chunk. Default 24h.
	Chunk time.Duration
	// Settle is how long after its end a chunk may still gain transactions
	// (late provider bookings); younger chunks are never marked done.
	// Default 15 minutes.
	Settle time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Workers is how many chunks are pulled at once; the provider client's
	// rate limit still bounds the requests. Default 1.
	Workers int
	// Logger receives one line per chunk. Default: discard.
	Logger *slog.Logger
}

// PullWindow pulls w in chunks of job.Chunk, oldest first, job.Workers at a
// time, skipping chunks an earlier pull finished. It stops at the first chunk
// that fails and returns the counts so far with the error; running it again
// resumes, fetching only the chunks not yet done.
func PullWindow(ctx context.Context, job PullJob, w reconcile.Window) (PullStats, error) {
	if job.Puller == nil || job.Sink == nil || job.Provider == "" || job.Scope == "" {
		return PullStats{}, errors.New("pull: Provider, Scope, Puller and Sink are required")
	}
	chunk := cmp.Or(job.Chunk, 24*time.Hour)
	settle := cmp.Or(job.Settle, 15*time.Minute)
	now := job.Now
	if now == nil {
		now = time.Now
	}
	logger := job.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	workers := max(job.Workers, 1)
	provider := string(job.Provider)
	chunks := w.Split(chunk)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		total    PullStats
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				st, err := pullChunk(ctx, job, provider, chunks[i], settle, now)
				mu.Lock()
				total = total.Add(st)
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
				if err == nil {
					logger.InfoContext(ctx, "pull chunk done", "provider", provider, "scope", job.Scope,
						"chunk", chunks[i].String(), "n", i+1, "of", len(chunks), "skipped", st.Skipped,
						"payloads", st.Payloads, "duplicates", st.Duplicates, "records", st.Records)
				}
			}
		})
	}
feed:
	for i := range chunks {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("pull %s %s: %w", provider, job.Scope, context.Cause(ctx))
	}
	return total, firstErr
}

// pullChunk pulls one chunk unless it is already done, and marks it done
// when it is final.
func pullChunk(ctx context.Context, job PullJob, provider string, c reconcile.Window, settle time.Duration, now func() time.Time) (PullStats, error) {
	if job.Checkpoints != nil {
		done, err := job.Checkpoints.ChunkDone(ctx, provider, job.Scope, c)
		if err != nil {
			return PullStats{}, fmt.Errorf("pull %s %s: reading checkpoint: %w", provider, c, err)
		}
		if done {
			return PullStats{Skipped: 1}, nil
		}
	}
	st, err := job.Puller.Pull(ctx, c, job.Sink)
	st.Skipped = 0
	if err != nil {
		return st, fmt.Errorf("pull %s %s chunk %s: %w", provider, job.Scope, c, err)
	}
	st.Chunks = 1
	if job.Checkpoints != nil && !c.To.Add(settle).After(now()) {
		if err := job.Checkpoints.MarkChunkDone(ctx, provider, job.Scope, c, st.Records); err != nil {
			return st, fmt.Errorf("pull %s %s: marking chunk done: %w", provider, c, err)
		}
	}
	return st, nil
}
