package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/store"
)

// StatusJobName is the job name rounds of status checks are recorded under.
const StatusJobName = "status"

// ProviderPull is everything pulled from one provider: its history over a
// window (where it has a history endpoint), then a status check of every
// reference of the window still without a final provider status (where it
// has a status query). Either may be absent; Provider is required.
type ProviderPull struct {
	Provider reconcile.Provider
	// History pulls the provider's history; its Provider, Sink and
	// Checkpoints default to this pull's Provider and the store.
	History *sources.PullJob
	// Status asks the provider about one reference; StatusWorkers bounds
	// how many are asked at once (default 4).
	Status        sources.StatusChecker
	StatusWorkers int
	// Logger receives progress. Default: discard.
	Logger *slog.Logger
}

// NewProviderPull builds the pull of the registered provider reg from its
// configuration: its history puller (chunks of chunk, workers at a time)
// and its status checker (workers at a time), whichever it has. It fails,
// naming the missing variables, when reg is not configured for pulls, and
// never puts a secret of cfg in its error.
func NewProviderPull(reg *sources.Provider, cfg sources.Config, opts sources.ClientOptions, chunk time.Duration, workers int) (ProviderPull, error) {
	if err := cfg.NotConfigured(sources.ForPull); err != nil {
		return ProviderPull{}, err
	}
	if reg.History == nil && reg.Status == nil {
		return ProviderPull{}, fmt.Errorf("%s has neither a history endpoint nor a status query to pull from", reg.DisplayName)
	}
	pp := ProviderPull{Provider: reg.Name, StatusWorkers: workers, Logger: opts.Logger}
	if reg.History != nil {
		h, err := reg.History(cfg, opts)
		if err != nil {
			return pp, fmt.Errorf("%s: %s", reg.DisplayName, cfg.Redact(err.Error()))
		}
		pp.History = &sources.PullJob{Provider: reg.Name, Scope: scopeOf(h), Puller: h, Chunk: chunk, Workers: workers, Logger: opts.Logger}
	}
	if reg.Status != nil {
		s, err := reg.Status(cfg, opts)
		if err != nil {
			return pp, fmt.Errorf("%s: %s", reg.DisplayName, cfg.Redact(err.Error()))
		}
		pp.Status = s
	}
	return pp, nil
}

// scopeOf names what a puller pulls in checkpoints and logs: its Scope()
// when it has one (a Kopo Kopo till), else "all".
func scopeOf(p sources.Puller) string {
	if s, ok := p.(interface{ Scope() string }); ok && s.Scope() != "" {
		return s.Scope()
	}
	return "all"
}

// PullReport is what a provider pull did.
type PullReport struct {
	History sources.PullStats
	Status  sources.StatusStats
}

// PullProvider runs pp over w: the history pull (jobs.Pull), then the status
// checks (jobs.CheckStatuses), each locked and recorded in the run history.
// Status checks run after the history, so that a reference the history
// answered is not asked again. Both run even when the first fails; the
// errors are joined.
func PullProvider(ctx context.Context, st *store.Store, pp ProviderPull, w reconcile.Window) (PullReport, error) {
	var rep PullReport
	var errs []error
	if pp.History != nil {
		job := *pp.History
		job.Provider = pp.Provider
		if job.Sink == nil {
			job.Sink = st
		}
		if job.Checkpoints == nil {
			job.Checkpoints = st
		}
		if job.Logger == nil {
			job.Logger = pp.Logger
		}
		stats, err := Pull(ctx, st, job, w)
		rep.History = stats
		if err != nil {
			errs = append(errs, err)
		}
	}
	if pp.Status != nil && ctx.Err() == nil {
		stats, err := CheckStatuses(ctx, st, sources.StatusJob{
			Provider: pp.Provider, Checker: pp.Status, Sink: st, Workers: pp.StatusWorkers, Logger: pp.Logger,
		}, w)
		rep.Status = stats
		if err != nil {
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

// Pull runs one provider's history pull over w under an advisory lock on the
// provider, scope and window (ErrLocked if another process holds it), and
// records it in the run history with its statistics and outcome.
func Pull(ctx context.Context, st *store.Store, job sources.PullJob, w reconcile.Window) (_ sources.PullStats, err error) {
	key := fmt.Sprintf("%s:%s:%s:%s", PullJobName, job.Provider, job.Scope, w)
	unlock, ok, err := st.TryLock(ctx, key)
	if err != nil {
		return sources.PullStats{}, fmt.Errorf("pull %s: taking the lock: %w", job.Provider, err)
	}
	if !ok {
		return sources.PullStats{}, ErrLocked
	}
	defer releaseLock(unlock, "pull "+string(job.Provider), &err)
	id, err := st.StartRun(ctx, PullJobName, key, w, map[string]any{"provider": job.Provider, "scope": job.Scope})
	if err != nil {
		return sources.PullStats{}, fmt.Errorf("pull %s: recording: %w", job.Provider, err)
	}
	stats, pullErr := sources.PullWindow(ctx, job, w)
	outcome := store.OutcomeSucceeded
	if pullErr != nil {
		outcome = store.OutcomeFailed
		pullErr = fmt.Errorf("pull %s %s: %w", job.Provider, w, pullErr)
	}
	if err := st.FinishRun(context.WithoutCancel(ctx), id, outcome, stats, pullErr); err != nil && pullErr == nil {
		return stats, fmt.Errorf("pull %s: recording the outcome: %w", job.Provider, err)
	}
	return stats, pullErr
}

// CheckStatuses asks the provider about every reference of w (the store's
// StatusRefs: ledger entries without a final provider record, records still
// pending) under an advisory lock on the provider and window, and records
// the round in the run history. References answered with a final status are
// not listed again, so a re-run resumes with what is still open.
func CheckStatuses(ctx context.Context, st *store.Store, job sources.StatusJob, w reconcile.Window) (_ sources.StatusStats, err error) {
	key := fmt.Sprintf("%s:%s:%s", StatusJobName, job.Provider, w)
	unlock, ok, err := st.TryLock(ctx, key)
	if err != nil {
		return sources.StatusStats{}, fmt.Errorf("status %s: taking the lock: %w", job.Provider, err)
	}
	if !ok {
		return sources.StatusStats{}, ErrLocked
	}
	defer releaseLock(unlock, "status "+string(job.Provider), &err)
	refs, err := st.StatusRefs(ctx, job.Provider, w)
	if err != nil {
		return sources.StatusStats{}, err
	}
	id, err := st.StartRun(ctx, StatusJobName, key, w, map[string]any{"provider": job.Provider, "references": len(refs)})
	if err != nil {
		return sources.StatusStats{}, fmt.Errorf("status %s: recording: %w", job.Provider, err)
	}
	stats, checkErr := sources.CheckStatuses(ctx, job, refs)
	outcome := store.OutcomeSucceeded
	if checkErr != nil {
		outcome = store.OutcomeFailed
	}
	if err := st.FinishRun(context.WithoutCancel(ctx), id, outcome, stats, checkErr); err != nil && checkErr == nil {
		return stats, fmt.Errorf("status %s: recording the outcome: %w", job.Provider, err)
	}
	return stats, checkErr
}

// releaseLock releases an advisory lock and, when it turns out to have been
// lost while the job ran (its connection dropped, so another process may
// have done the same work), makes that the job's error unless it already
// has one.
func releaseLock(unlock func() error, what string, err *error) {
	if uerr := unlock(); uerr != nil && *err == nil {
		*err = fmt.Errorf("%s: %w", what, uerr)
	}
}
