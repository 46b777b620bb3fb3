package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/jobs"
)

func init() { register(newPullCmd) }

// pullOptions are the flags of `pull`.
type pullOptions struct {
	provider, from, to, tz string
	clientFlags
}

func newPullCmd(a *app) *cobra.Command {
	var o pullOptions
	cmd := &cobra.Command{
		Use:   "pull --provider P --from D --to D",
		Short: "Fetch provider transactions for a window from the provider's API into the store",
		Long: `Fetches a provider's transactions for a window through its API and stores
every payload verbatim with its records. Dates are whole days in --tz, both
included (as for run); RFC 3339 instants mean [from, to).

A provider with a history endpoint is pulled in --chunk pieces; a pull that
failed resumes without fetching the chunks it finished. Then every reference
of the window still without a final provider status — a ledger entry the
provider has not confirmed, a record still pending — is asked about with the
provider's status query, --workers at a time within --rate; a re-run asks only
what is still open. Pulling the same window again leaves the same records.

Each provider reads its configuration from the environment:
` + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.pull(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.provider, "provider", "", "provider to pull: "+providerNames()+" (required)")
	f.StringVar(&o.from, "from", "", "first day (YYYY-MM-DD) or RFC 3339 instant (required)")
	f.StringVar(&o.to, "to", "", "last day, included, or RFC 3339 instant, excluded (required)")
	f.StringVar(&o.tz, "tz", envOr("RECONCILE_TZ", "Africa/Nairobi"), "business time zone of dates (env RECONCILE_TZ)")
	f.DurationVar(&o.chunk, "chunk", 24*time.Hour, "length of one history request's time range")
	f.Float64Var(&o.rate, "rate", 5, "most API requests per second")
	f.IntVar(&o.workers, "workers", 4, "history chunks or status checks at once (within --rate)")
	cmd.MarkFlagRequired("provider")
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("to")
	return cmd
}

func (a *app) pull(cmd *cobra.Command, o pullOptions) error {
	ctx := cmd.Context()
	reg, err := lookupProvider(o.provider)
	if err != nil {
		return badInput(fmt.Errorf("--provider: %w", err))
	}
	loc, err := loadZone(o.tz)
	if err != nil {
		return badInput(err)
	}
	w, err := reconcile.ParseWindow(o.from, o.to, loc)
	if err != nil {
		return badInput(err)
	}
	if o.chunk < time.Minute || o.rate <= 0 || o.workers < 1 {
		return badInput(errors.New("--chunk must be at least 1m, --rate and --workers positive"))
	}
	pp, err := providerPull(reg, reg.ConfigFromEnv(), o.clientFlags, a.logger)
	if err != nil {
		return badInput(err)
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	rep, err := jobs.PullProvider(ctx, st, pp, w)
	if errors.Is(err, jobs.ErrLocked) {
		return fmt.Errorf("pull %s %s: another pull of the same window is running; try again when it ends", reg.Name, w)
	}
	outcome := "done"
	if err != nil {
		outcome = "failed"
	}
	out := cmd.OutOrStdout()
	if pp.History != nil {
		h := rep.History
		fmt.Fprintf(out, "%s %s %s: %s after %d chunks fetched, %d skipped as done; %d payloads stored, %d already stored; %d records (%s)\n",
			reg.Name, pp.History.Scope, w, outcome, h.Chunks, h.Skipped, h.Payloads, h.Duplicates, h.Records,
			time.Since(start).Round(time.Millisecond))
	}
	if pp.Status != nil {
		s := rep.Status
		fmt.Fprintf(out, "%s status %s: %s after %d references asked, %d known, %d final, %d failed; %d payloads stored, %d already stored; %d records (%s)\n",
			reg.Name, w, outcome, s.Asked, s.Found, s.Final, s.Failed, s.Payloads, s.Duplicates, s.Records,
			time.Since(start).Round(time.Millisecond))
	}
	return err
}
