package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/sandbox"
)

func init() { register(newSandboxCmd) }

// sandboxOptions are the flags of `sandbox`.
type sandboxOptions struct {
	listen          string
	seed            int64
	quiet           bool
	fixtures        []string
	webhookURL      string
	webhookInterval time.Duration
	callbackDelay   time.Duration
	faults          sources.Faults
	providerFaults  []string
}

func newSandboxCmd(a *app) *cobra.Command {
	var o sandboxOptions
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve every provider simulator, each under its prefix (/" + strings.ReplaceAll(providerNames(), ", ", ", /") + ")",
		Long: `Serves the provider simulators on one address: point a client at
http://LISTEN/<provider> as its base URL (the exports to do so are printed at
start). Transactions are generated from --seed for any window asked about,
plus the --fixtures given. Credentials default to the documented sandbox
values and are set with the env vars the clients read. With --webhook-url,
webhooks for transactions as they happen are posted there, signed.

Faults (--latency, --fault-429, …) apply to every simulator; --faults
PROVIDER:429=0.1,5xx=0.05,malformed=0.1,drop=0.2,latency=50ms,retry-after=2
(repeatable, or ';'-separated in RECONCILE_SANDBOX_FAULTS) sets one
provider's instead.

Each provider reads its configuration from the environment:
` + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.sandbox(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", envOr("RECONCILE_SANDBOX_LISTEN", "127.0.0.1:8089"), "address to listen on (env RECONCILE_SANDBOX_LISTEN)")
	f.Int64Var(&o.seed, "seed", 1, "seed of the generated data and injected faults")
	f.BoolVar(&o.quiet, "quiet", false, "generate no transactions: serve only the --fixtures")
	f.StringArrayVar(&o.fixtures, "fixtures", nil, "PROVIDER=FILE: extra transactions for one simulator, in its JSONL fixture format (repeatable)")
	f.StringVar(&o.webhookURL, "webhook-url", "", "where to post webhooks as transactions happen; a URL ending in / gets the provider's name appended")
	f.DurationVar(&o.webhookInterval, "webhook-interval", 10*time.Second, "how often webhooks are posted")
	f.DurationVar(&o.callbackDelay, "callback-delay", 0, "delay before an asynchronous callback is posted (0: each provider's default)")
	f.DurationVar(&o.faults.Latency, "latency", 0, "delay added to every API response")
	f.Float64Var(&o.faults.TooManyRequests, "fault-429", 0, "share of API requests answered 429")
	f.IntVar(&o.faults.RetryAfter, "retry-after", 1, "Retry-After seconds sent with a 429")
	f.Float64Var(&o.faults.ServerError, "fault-5xx", 0, "share of API requests answered 500")
	f.Float64Var(&o.faults.Malformed, "fault-malformed", 0, "share of responses cut short")
	f.Float64Var(&o.faults.DropCallbacks, "drop-callbacks", 0, "share of callbacks and webhooks never sent")
	f.StringArrayVar(&o.providerFaults, "faults", nil, "PROVIDER:SPEC faults for one simulator (see above; env RECONCILE_SANDBOX_FAULTS)")
	return cmd
}

func (a *app) sandbox(cmd *cobra.Command, o sandboxOptions) error {
	ctx := cmd.Context()
	cfg, err := o.config()
	if err != nil {
		return badInput(err)
	}
	cfg.Logger = a.logger
	sb, err := sandbox.New(cfg)
	if err != nil {
		return err
	}
	defer sb.Close()

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(cmd.OutOrStdout(), "sandbox listening on http://%s (simulators: %s)\n", ln.Addr(), strings.Join(sb.Prefixes(), ", "))
	printSandboxEnv(cmd.OutOrStdout(), sb, "http://"+ln.Addr().String())
	if o.webhookURL != "" {
		go emitLive(ctx, sb, o.webhookInterval, a)
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sandbox: %w", err)
	}
	return nil
}

// config turns the flags into the sandbox configuration.
func (o sandboxOptions) config() (sandbox.Config, error) {
	cfg := sandbox.Config{Seed: o.seed, Faults: o.faults, WebhookURL: o.webhookURL,
		Options: map[reconcile.Provider]sources.SimOptions{}}
	opt := func(p reconcile.Provider) sources.SimOptions {
		so := cfg.Options[p]
		so.Quiet, so.CallbackDelay = o.quiet, o.callbackDelay
		return so
	}
	for _, reg := range sources.Registered() {
		cfg.Options[reg.Name] = opt(reg.Name)
	}
	for _, fx := range o.fixtures {
		name, file, ok := strings.Cut(fx, "=")
		if !ok {
			return cfg, fmt.Errorf("--fixtures %q: want PROVIDER=FILE", fx)
		}
		reg, err := lookupProvider(name)
		if err != nil {
			return cfg, fmt.Errorf("--fixtures %q: %w", fx, err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return cfg, fmt.Errorf("--fixtures: %w", err)
		}
		so := cfg.Options[reg.Name]
		so.Fixtures = append(so.Fixtures, data...)
		cfg.Options[reg.Name] = so
	}
	specs := slices.Clone(o.providerFaults)
	if env := os.Getenv("RECONCILE_SANDBOX_FAULTS"); env != "" {
		specs = append(strings.Split(env, ";"), specs...)
	}
	for _, spec := range specs {
		if strings.TrimSpace(spec) == "" {
			continue
		}
		p, f, err := parseFaults(spec)
		if err != nil {
			return cfg, fmt.Errorf("--faults %q: %w", spec, err)
		}
		so := cfg.Options[p]
		so.Faults = f
		cfg.Options[p] = so
	}
	return cfg, nil
}

// parseFaults reads "PROVIDER:429=0.1,5xx=0.05,malformed=0.1,drop=0.2,latency=50ms,retry-after=2".
func parseFaults(spec string) (reconcile.Provider, sources.Faults, error) {
	var f sources.Faults
	name, rest, ok := strings.Cut(spec, ":")
	if !ok {
		return "", f, errors.New("want PROVIDER:KEY=VALUE,…")
	}
	reg, err := lookupProvider(name)
	if err != nil {
		return "", f, err
	}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return "", f, fmt.Errorf("%q: want KEY=VALUE", kv)
		}
		var err error
		switch k {
		case "429":
			f.TooManyRequests, err = parseShare(v)
		case "5xx":
			f.ServerError, err = parseShare(v)
		case "malformed":
			f.Malformed, err = parseShare(v)
		case "drop":
			f.DropCallbacks, err = parseShare(v)
		case "latency":
			f.Latency, err = time.ParseDuration(v)
		case "retry-after":
			f.RetryAfter, err = strconv.Atoi(v)
		default:
			return "", f, fmt.Errorf("unknown fault %q (want 429, 5xx, malformed, drop, latency or retry-after)", k)
		}
		if err != nil {
			return "", f, fmt.Errorf("%s: %w", k, err)
		}
	}
	return reg.Name, f, nil
}

func parseShare(v string) (float64, error) {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x < 0 || x > 1 {
		return 0, fmt.Errorf("%q is not a share between 0 and 1", v)
	}
	return x, nil
}

// emitLive posts the webhooks of each interval once it has passed.
func emitLive(ctx context.Context, sb *sandbox.Server, every time.Duration, a *app) {
	last := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n, err := sb.EmitWebhooks(ctx, reconcile.Window{From: last, To: now})
			if err != nil {
				a.logger.Warn("sandbox webhooks not all delivered", "sent", n, "err", err)
			}
			last = now
		}
	}
}

// printSandboxEnv tells the user how to point each provider's client at the
// sandbox. The simulators' own default credentials are public sandbox values
// and are printed; a secret the user set in the environment is not.
func printSandboxEnv(w io.Writer, sb *sandbox.Server, root string) {
	fmt.Fprintln(w, "Point the clients at it with:")
	env := sb.ClientEnv(root)
	for _, p := range sb.Providers() {
		reg, _ := sources.Lookup(p)
		vars := env[p]
		var parts, kept []string
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			if reg != nil && isSecret(reg, k) && os.Getenv(k) != "" {
				kept = append(kept, k)
				continue
			}
			parts = append(parts, k+"="+shellQuote(vars[k]))
		}
		fmt.Fprintf(w, "  # %s\n", p.DisplayName())
		if len(parts) > 0 {
			fmt.Fprintf(w, "  export %s\n", strings.Join(parts, " "))
		}
		if len(kept) > 0 {
			fmt.Fprintf(w, "  # (it accepts the %s already set in this environment)\n", strings.Join(kept, ", "))
		}
	}
}

func isSecret(reg *sources.Provider, name string) bool {
	for _, v := range reg.Env {
		if v.Name == name {
			return v.Secret
		}
	}
	return false
}

// shellQuote quotes v for a POSIX shell when it needs it.
func shellQuote(v string) string {
	if v != "" && strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
