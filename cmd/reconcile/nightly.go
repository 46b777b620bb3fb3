package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/jobs"
	"github.com/mizani/reconcile/store"
)

func init() { register(newNightlyCmd) }

// nightlyOptions are the flags of `nightly`.
type nightlyOptions struct {
	runOptions
	date string
}

func newNightlyCmd(a *app) *cobra.Command {
	var o nightlyOptions
	cmd := &cobra.Command{
		Use:   "nightly [--date D]",
		Short: "Pull every configured provider for a business day, then reconcile it",
		Long: `The job a Kubernetes CronJob or crontab runs once a day, and the one
'serve --schedule' runs: pull every provider whose pull variables are set
(history, then status checks of what is still open) over the day and its
look-around, then reconcile the day into --out/YYYY-MM-DD/. The day defaults to yesterday in --tz. The day, its pulls
and its run are locked and recorded in the run history, so an overlapping job
stops before doing the same work twice (exit 1). A failed pull is recorded,
the run still goes ahead with a WARNING in the report, and the exit code is 1.

Each provider reads its configuration from the environment:
` + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.nightly(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.date, "date", "", "business day to reconcile, YYYY-MM-DD (default: yesterday in --tz)")
	f.StringVar(&o.out, "out", envOr("RECONCILE_OUT", "reports"), "root directory; each day's reports go in a dated folder (env RECONCILE_OUT)")
	f.BoolVar(&o.failOnDiscrepancy, "fail-on-discrepancy", false, "exit 3 when any discrepancy is found")
	o.addTuningFlags(f)
	return cmd
}

func (a *app) nightly(cmd *cobra.Command, o nightlyOptions) error {
	cfg, err := o.tuning()
	if err != nil {
		return badInput(err)
	}
	day := jobs.Yesterday(time.Now(), cfg.Zone)
	if o.date != "" {
		if day, err = time.ParseInLocation(time.DateOnly, o.date, cfg.Zone); err != nil {
			return badInput(fmt.Errorf("--date %q: want YYYY-MM-DD", o.date))
		}
	}
	ctx := cmd.Context()
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := a.newNightly(st, cfg, o.out)
	if err != nil {
		return err
	}
	res, err := n.RunDay(ctx, day)
	if res.RunID != 0 {
		cfg.Window = reconcile.Window{From: day.UTC(), To: day.AddDate(0, 0, 1).UTC()}
		cfg.OutDir = res.OutDir
		printRunSummary(cmd.OutOrStdout(), cfg, res)
	}
	if err != nil {
		return err
	}
	if o.failOnDiscrepancy && res.Discrepancies() > 0 {
		return &exitError{code: exitDiscrepancy, err: fmt.Errorf("%d discrepancies", res.Discrepancies())}
	}
	return nil
}

// newNightly assembles the nightly job from the run configuration and the
// provider credentials in the environment.
func (a *app) newNightly(st *store.Store, cfg jobs.RunConfig, outRoot string) (*jobs.Nightly, error) {
	pulls, err := configuredPulls(clientFlags{rate: 5, workers: 4, chunk: 24 * time.Hour}, a.logger)
	if err != nil {
		return nil, err
	}
	cfg.Logger = a.logger
	return &jobs.Nightly{Store: st, Pulls: pulls, Run: cfg, OutRoot: outRoot, Logger: a.logger}, nil
}

// scheduleNightly starts the nightly job on spec inside serve, counted in
// metrics.
func (a *app) scheduleNightly(ctx context.Context, st *store.Store, spec string, o runOptions, metrics *jobs.Metrics) (*jobs.Scheduler, error) {
	cfg, err := o.tuning()
	if err != nil {
		return nil, badInput(err)
	}
	n, err := a.newNightly(st, cfg, o.out)
	if err != nil {
		return nil, err
	}
	s, err := jobs.NewScheduler(ctx, spec, cfg.Zone, a.logger, metrics, jobs.NightlyJobName, func(ctx context.Context) error {
		_, err := n.RunDay(ctx, jobs.Yesterday(time.Now(), cfg.Zone))
		return err
	})
	if err != nil {
		return nil, badInput(fmt.Errorf("--schedule: %w", err))
	}
	return s, nil
}
