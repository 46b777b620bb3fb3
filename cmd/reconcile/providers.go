package main

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/jobs"
	"github.com/mizani/reconcile/matchers"
	"github.com/mizani/reconcile/sources"
	_ "github.com/mizani/reconcile/sources/providers" // registers every provider
)

// lookupProvider returns the registered provider named name.
func lookupProvider(name string) (*sources.Provider, error) {
	p, err := reconcile.ParseProvider(strings.ToLower(strings.TrimSpace(name)))
	if err != nil {
		return nil, err
	}
	reg, ok := sources.Lookup(p)
	if !ok {
		return nil, fmt.Errorf("provider %q has no source registered", p)
	}
	return reg, nil
}

// providerNames lists the registered providers' codes: "kopokopo, pixel, …".
func providerNames() string {
	var names []string
	for _, p := range sources.Registered() {
		names = append(names, string(p.Name))
	}
	return strings.Join(names, ", ")
}

// providerDisplayNames lists the registered providers as people write them:
// "Kopo Kopo, Pixel, …".
func providerDisplayNames() string {
	var names []string
	for _, p := range sources.Registered() {
		names = append(names, p.DisplayName)
	}
	return strings.Join(names, ", ")
}

// clientFlags are the settings of a provider's API clients from flags.
type clientFlags struct {
	rate    float64
	workers int
	chunk   time.Duration
}

// providerPull builds the pull of reg from its configuration and the flags.
func providerPull(reg *sources.Provider, cfg sources.Config, cf clientFlags, log *slog.Logger) (jobs.ProviderPull, error) {
	return jobs.NewProviderPull(reg, cfg, sources.ClientOptions{RateLimit: rate.Limit(cf.rate), Logger: log}, cf.chunk, cf.workers)
}

// configuredPulls returns the pull of every registered provider whose pull
// variables are set, and logs why each other one is not pulled.
func configuredPulls(cf clientFlags, log *slog.Logger) ([]jobs.ProviderPull, error) {
	var pulls []jobs.ProviderPull
	for _, reg := range sources.Registered() {
		if reg.History == nil && reg.Status == nil {
			continue
		}
		cfg := reg.ConfigFromEnv()
		if missing := cfg.Missing(sources.ForPull); len(missing) > 0 {
			log.Info(reg.DisplayName+" not pulled: not configured", "provider", string(reg.Name), "missing", strings.Join(missing, ","))
			continue
		}
		pp, err := providerPull(reg, cfg, cf, log)
		if err != nil {
			return nil, badInput(err)
		}
		pulls = append(pulls, pp)
	}
	return pulls, nil
}

// providerTraits fills in what the registrations say about matching and
// settlement: the heuristic providers (unless --heuristic was given), the
// providers settling per company, and the default fee schedule (unless
// --fee was given).
func providerTraits(cfg *jobs.RunConfig, heuristicsSet, feesSet bool) {
	ts := sources.RegisteredTraits()
	if !heuristicsSet {
		cfg.HeuristicProviders = ts.Heuristic
	}
	cfg.PerCompany = ts.PerCompany
	if !feesSet {
		cfg.Fees = matchers.FeeSchedule(ts.Fees)
	}
}

// configuredProviders lists the registered providers whose pull variables
// are all set: a run over every provider reconciles them even when the store
// holds none of their records.
func configuredProviders() []reconcile.Provider {
	var out []reconcile.Provider
	for _, reg := range sources.Registered() {
		if (reg.History != nil || reg.Status != nil) && len(reg.ConfigFromEnv().Missing(sources.ForPull)) == 0 {
			out = append(out, reg.Name)
		}
	}
	return out
}

// feeExample is a --fee entry taken from the first registered default fee
// schedule ("ikhokha:card=2.85"), for the flag's help.
func feeExample() string {
	for _, reg := range sources.Registered() {
		for _, m := range slices.Sorted(maps.Keys(reg.Traits.Fees)) {
			if m != "" {
				return string(reg.Name) + ":" + m + "=" + reg.Traits.Fees[m].Percent.String()
			}
		}
	}
	return "provider:card=2.5"
}

// heuristicDefault is the --heuristic default: the providers whose
// registration asks for the heuristic pass.
func heuristicDefault() []string {
	var out []string
	for _, reg := range sources.Registered() {
		if reg.Traits.Heuristic {
			out = append(out, string(reg.Name))
		}
	}
	return out
}

// envHelp describes every provider's variables for --help: one paragraph
// per provider, the variables required for purpose marked.
func envHelp() string {
	var b strings.Builder
	for _, reg := range sources.Registered() {
		fmt.Fprintf(&b, "\n%s (%s):\n", reg.DisplayName, reg.Name)
		for _, v := range reg.Env {
			var need []string
			if v.Required&sources.ForPull != 0 {
				need = append(need, "pull")
			}
			if v.Required&sources.ForWebhooks != 0 {
				need = append(need, "webhooks")
			}
			line := "  " + v.Name
			if v.Default != "" {
				line += " [" + v.Default + "]"
			}
			line += "  " + v.Help
			if len(need) > 0 {
				line += " (required for " + strings.Join(need, " and ") + ")"
			}
			if v.Secret {
				line += "; secret"
			}
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}
