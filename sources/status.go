package sources

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/mizani/reconcile"
)

// StatusJob describes one round of status checks: the second way to pull,
// for providers without a history endpoint (Pixel) or whose history lacks
// what a link status gives (iKhokha). Provider, Checker and Sink are required.
type StatusJob struct {
	Provider reconcile.Provider
	Checker  StatusChecker
	Sink     Sink
	// Workers is how many references are asked at once; the client's rate
	// limit still bounds the requests. Default 4.
	Workers int
	// Logger receives a line per round and per failure. Default: discard.
	Logger *slog.Logger
}

// StatusStats counts what a round of status checks did.
type StatusStats struct {
	// Asked is the number of references asked; Found those the provider
	// knew, Final those it gave a final status for; Failed those whose
	// check failed after its retries.
	Asked, Found, Final, Failed int
	// Payloads newly stored, Duplicates already stored, Records parsed.
	Payloads, Duplicates, Records int
}

// CheckStatuses asks about every reference in refs, job.Workers at a time,
// and stores every answer through job.Sink. A reference whose check fails
// does not stop the others: the error returned counts the failures and
// names the first. Asking again is harmless (the sink deduplicates), and a
// caller that lists only references without a final status (store.StatusRefs)
// resumes where a crashed round stopped.
func CheckStatuses(ctx context.Context, job StatusJob, refs []StatusRef) (StatusStats, error) {
	if job.Checker == nil || job.Sink == nil || job.Provider == "" {
		return StatusStats{}, fmt.Errorf("status checks: Provider, Checker and Sink are required")
	}
	logger := job.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	workers := job.Workers
	if workers <= 0 {
		workers = 4
	}
	var (
		mu       sync.Mutex
		st       StatusStats
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan StatusRef)
	for range min(workers, max(len(refs), 1)) {
		wg.Go(func() {
			for ref := range next {
				res, err := job.Checker.Check(ctx, ref, job.Sink)
				mu.Lock()
				st.Asked++
				if err != nil {
					st.Failed++
					if firstErr == nil {
						firstErr = fmt.Errorf("%s status of %s: %w", job.Provider, ref, err)
					}
					logger.WarnContext(ctx, "status check failed", "provider", string(job.Provider), "reference", ref.String(), "err", err)
				} else {
					if res.Found {
						st.Found++
					}
					if res.Final {
						st.Final++
					}
					st.Payloads += res.Payloads
					st.Duplicates += res.Duplicates
					st.Records += res.Records
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, r := range refs {
		select {
		case next <- r:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	logger.InfoContext(ctx, "status checks done", "provider", string(job.Provider), "asked", st.Asked, "found", st.Found,
		"final", st.Final, "failed", st.Failed, "payloads", st.Payloads, "records", st.Records)
	if err := ctx.Err(); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("%s status checks: %w", job.Provider, err)
	}
	if firstErr != nil && st.Failed > 1 {
		firstErr = fmt.Errorf("%d of %d status checks failed; the first: %w", st.Failed, st.Asked, firstErr)
	}
	return st, firstErr
}
