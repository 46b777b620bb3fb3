package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/store"
)

// PullJobName is the job name pulls are recorded under in the run history.
const PullJobName = "pull"

// NightlyJobName names the advisory lock a nightly job holds on its day.
const NightlyJobName = "nightly"

// Nightly is the job a schedule or a CronJob runs once a day: pull every
// configured provider over the business day and its look-around, then
// reconcile the day into OutRoot/YYYY-MM-DD. A pull that fails is recorded
// and the run still goes ahead on what the store holds, so one provider's
// outage never hides the others' reports; the reports carry a warning that
// names the failed pull, and the job then returns the error.
//
// The whole job holds an advisory lock on its day: a second replica or a
// manual run of the same day gets ErrLocked before it pulls anything, so it
// can never report on data the first is still pulling.
type Nightly struct {
	Store *store.Store
	// Pulls are the providers to pull: history pulls, then status checks.
	// Sinks and Checkpoints default to Store.
	Pulls []ProviderPull
	// Run is the template of the run: Window and OutDir are set per day.
	Run RunConfig
	// OutRoot is the directory the daily report directories go under.
	OutRoot string
	// Now returns the current time (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Yesterday returns the business day before now, in zone, as a date.
func Yesterday(now time.Time, zone *time.Location) time.Time {
	y, m, d := now.In(zone).AddDate(0, 0, -1).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, zone)
}

// RunDay pulls and reconciles one business day (a midnight in the run's zone).
func (n *Nightly) RunDay(ctx context.Context, day time.Time) (_ RunResult, err error) {
	cfg := n.Run
	if cfg.Zone == nil {
		return RunResult{}, errors.New("nightly: no business zone")
	}
	log := n.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	day = day.In(cfg.Zone)
	start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, cfg.Zone)
	unlock, ok, err := n.Store.TryLock(ctx, NightlyJobName+":"+start.Format(time.DateOnly)+":"+cfg.Zone.String())
	if err != nil {
		return RunResult{}, fmt.Errorf("nightly: taking the lock: %w", err)
	}
	if !ok {
		return RunResult{}, ErrLocked
	}
	defer releaseLock(unlock, "nightly "+start.Format(time.DateOnly), &err)
	cfg.Window = reconcile.Window{From: start.UTC(), To: start.AddDate(0, 0, 1).UTC()}
	cfg.OutDir = filepath.Join(n.OutRoot, start.Format(time.DateOnly))
	grace := cfg.Grace
	if grace == 0 {
		grace = 24 * time.Hour
	}

	// Pull the day and its look-around, but nothing from the future.
	pullWindow := cfg.Window.Grow(grace)
	if t := now().UTC(); pullWindow.To.After(t) {
		pullWindow.To = t
	}
	var pullErrs []error
	for _, pp := range n.Pulls {
		pp.Logger = log
		if _, err := PullProvider(ctx, n.Store, pp, pullWindow); err != nil {
			if errors.Is(err, ErrLocked) {
				err = fmt.Errorf("pull %s %s: another pull of the same window is running", pp.Provider, pullWindow)
			}
			log.Error("pull failed", "provider", pp.Provider, "window", pullWindow.String(), "err", err)
			pullErrs = append(pullErrs, err)
			cfg.Warnings = append(cfg.Warnings, fmt.Sprintf(
				"%s was not pulled for this day, so its side may be incomplete: %v", pp.Provider.DisplayName(), err))
		}
		if !slices.Contains(cfg.Configured, pp.Provider) {
			cfg.Configured = append(cfg.Configured, pp.Provider)
		}
	}
	if err := ctx.Err(); err != nil {
		return RunResult{}, err
	}
	cfg.Logger = log
	res, err := Run(ctx, n.Store, cfg)
	if err != nil {
		return res, err
	}
	log.Info("nightly run done", "day", start.Format(time.DateOnly), "out", cfg.OutDir,
		"matches", res.Stats.Matches, "discrepancies", res.Discrepancies())
	return res, errors.Join(pullErrs...)
}
