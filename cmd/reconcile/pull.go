package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/jobs"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/kopokopo"
)

func init() { register(newPullCmd) }

// pullOptions are the flags of `pull`.
type pullOptions struct {
	provider, from, to, tz string
	till                   string
	company                bool
	chunk                  time.Duration
	rate                   float64
	workers                int
	baseURL, apiVersion    string
}

func newPullCmd(a *app) *cobra.Command {
	var o pullOptions
	cmd := &cobra.Command{
		Use:   "pull --provider P --from D --to D",
		Short: "Fetch provider transactions for a window from the provider's API into the store",
		Long: `Fetches a provider's transactions for a window through its API and stores
every payload verbatim with its records. Dates are whole days in --tz, both
included (as for run); RFC 3339 instants mean [from, to). Long windows are
fetched in --chunk pieces; a pull that failed resumes without fetching the
chunks it finished. Pulling the same window again leaves the same records.

Kopo Kopo reads K2_BASE_URL, K2_CLIENT_ID, K2_CLIENT_SECRET, K2_API_VERSION and
K2_CALLBACK_URL, and polls one till (--till) or the whole company (default).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.pull(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.provider, "provider", "", "provider to pull: kopokopo (required)")
	f.StringVar(&o.from, "from", "", "first day (YYYY-MM-DD) or RFC 3339 instant (required)")
	f.StringVar(&o.to, "to", "", "last day, included, or RFC 3339 instant, excluded (required)")
	f.StringVar(&o.tz, "tz", envOr("RECONCILE_TZ", "Africa/Nairobi"), "business time zone of dates (env RECONCILE_TZ)")
	f.StringVar(&o.till, "till", "", "Kopo Kopo till number to poll")
	f.BoolVar(&o.company, "company", false, "poll every till of the Kopo Kopo company (the default)")
	f.DurationVar(&o.chunk, "chunk", 24*time.Hour, "length of one request's time range")
	f.Float64Var(&o.rate, "rate", 5, "most API requests per second")
	f.IntVar(&o.workers, "workers", 4, "chunks fetched at once (within --rate)")
	f.StringVar(&o.baseURL, "base-url", envOr(kopokopo.EnvBaseURL, kopokopo.DefaultBaseURL), "Kopo Kopo API root (env K2_BASE_URL)")
	f.StringVar(&o.apiVersion, "api-version", envOr(kopokopo.EnvAPIVersion, "v1"), "Kopo Kopo API version, v1 or v2 (env K2_API_VERSION)")
	cmd.MarkFlagRequired("provider")
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("to")
	return cmd
}

func (a *app) pull(cmd *cobra.Command, o pullOptions) error {
	ctx := cmd.Context()
	provider, err := reconcile.ParseProvider(o.provider)
	if err != nil {
		return badInput(err)
	}
	loc, err := loadZone(o.tz)
	if err != nil {
		return badInput(err)
	}
	w, err := reconcile.ParseWindow(o.from, o.to, loc)
	if err != nil {
		return badInput(err)
	}
	if o.till != "" && o.company {
		return badInput(errors.New("--till and --company exclude each other"))
	}
	if o.chunk < time.Minute || o.rate <= 0 || o.workers < 1 {
		return badInput(errors.New("--chunk must be at least 1m, --rate and --workers positive"))
	}
	var puller interface {
		sources.Puller
		Scope() string
	}
	switch provider {
	case reconcile.KopoKopo:
		cfg := kopokopo.ConfigFromEnv()
		cfg.BaseURL, cfg.APIVersion = o.baseURL, o.apiVersion
		cfg.RateLimit, cfg.Logger = rate.Limit(o.rate), a.logger
		client, err := kopokopo.New(cfg)
		if err != nil {
			return badInput(err)
		}
		puller = kopokopo.Puller{Client: client, Till: o.till}
	default:
		return badInput(fmt.Errorf("pulling from %s is not supported yet", provider.DisplayName()))
	}

	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	stats, err := jobs.Pull(ctx, st, sources.PullJob{
		Provider: provider, Scope: puller.Scope(), Puller: puller, Sink: st, Checkpoints: st,
		Chunk: o.chunk, Workers: o.workers, Logger: a.logger,
	}, w)
	if errors.Is(err, jobs.ErrLocked) {
		return fmt.Errorf("pull %s %s %s: another pull of the same window is running; try again when it ends", provider, puller.Scope(), w)
	}
	outcome := "done"
	if err != nil {
		outcome = "failed"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s: %s after %d chunks fetched, %d skipped as done; %d payloads stored, %d already stored; %d records (%s)\n",
		provider, puller.Scope(), w, outcome, stats.Chunks, stats.Skipped, stats.Payloads, stats.Duplicates, stats.Records,
		time.Since(start).Round(time.Millisecond))
	return err
}
