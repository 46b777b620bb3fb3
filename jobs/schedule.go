package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// Scheduler runs a job on a cron schedule inside `reconcile serve`. A run
// still going when the next is due is skipped, a panic is recovered and
// logged, and Stop waits for a running job to finish. A job that returns
// ErrLocked ran elsewhere (another replica): that is logged as such, not as
// a failure.
type Scheduler struct {
	cron *cron.Cron
	log  *slog.Logger
}

// NewScheduler parses spec — five cron fields, optionally prefixed with
// CRON_TZ=Zone, e.g. "CRON_TZ=Africa/Nairobi 0 2 * * *" — evaluated in zone
// unless the spec names its own, and schedules job with ctx. Each run is
// counted in metrics when it is not nil.
func NewScheduler(ctx context.Context, spec string, zone *time.Location, log *slog.Logger, metrics *Metrics, name string, job func(context.Context) error) (*Scheduler, error) {
	cl := cronLogger{log}
	c := cron.New(
		cron.WithLocation(zone),
		cron.WithLogger(cl),
		cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)),
	)
	_, err := c.AddFunc(spec, func() {
		start := time.Now()
		log.Info("scheduled job starting", "job", name)
		err := job(ctx)
		end := time.Now()
		elapsed := end.Sub(start)
		metrics.observe(name, err, end, elapsed)
		switch {
		case errors.Is(err, ErrLocked):
			log.Info("scheduled job skipped: it is running elsewhere", "job", name)
		case err != nil:
			log.Error("scheduled job failed", "job", name, "err", err, "elapsed", elapsed.Round(time.Millisecond).String())
		default:
			log.Info("scheduled job done", "job", name, "elapsed", elapsed.Round(time.Millisecond).String())
		}
	})
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return &Scheduler{cron: c, log: log}, nil
}

// Start starts the schedule in the background.
func (s *Scheduler) Start() { s.cron.Start() }

// Next is when the job runs next (zero before Start).
func (s *Scheduler) Next() time.Time {
	entries := s.cron.Entries()
	if len(entries) == 0 {
		return time.Time{}
	}
	return entries[0].Next
}

// Stop stops scheduling and waits for a running job to return.
func (s *Scheduler) Stop() { <-s.cron.Stop().Done() }

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
