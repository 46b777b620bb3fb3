package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/sources/sandbox"
)

func init() { register(newSandboxCmd) }

// sandboxOptions are the flags of `sandbox`.
type sandboxOptions struct {
	listen          string
	seed            int64
	tills           string
	perHour         int
	fixtures        string
	webhookURL      string
	webhookInterval time.Duration
	tokenTTL        time.Duration
	faults          kopokopo.Faults
}

func newSandboxCmd(a *app) *cobra.Command {
	var o sandboxOptions
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve every provider simulator, each under its prefix (/kopokopo, …)",
		Long: `Serves the provider simulators on one address: point a client at
http://LISTEN/kopokopo as its base URL. Transactions are generated from --seed
for any window asked about, plus the --fixtures given. Credentials default to
the documented sandbox values and are set with the env vars the clients read
(K2_CLIENT_ID, K2_CLIENT_SECRET, K2_API_KEY). With --webhook-url, webhooks for
transactions as they happen are posted there, signed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.sandbox(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", envOr("RECONCILE_SANDBOX_LISTEN", "127.0.0.1:8089"), "address to listen on (env RECONCILE_SANDBOX_LISTEN)")
	f.Int64Var(&o.seed, "seed", 1, "seed of the generated data and injected faults")
	f.StringVar(&o.tills, "tills", "000000,000001", "Kopo Kopo till numbers, comma-separated")
	f.IntVar(&o.perHour, "per-hour", 4, "mean transactions per till and hour (negative: fixtures only)")
	f.StringVar(&o.fixtures, "fixtures", "", "JSONL file of extra Kopo Kopo transactions (resource shape)")
	f.StringVar(&o.webhookURL, "webhook-url", "", "where to post Kopo Kopo webhooks as transactions happen")
	f.DurationVar(&o.webhookInterval, "webhook-interval", 10*time.Second, "how often webhooks are posted")
	f.DurationVar(&o.tokenTTL, "token-ttl", time.Hour, "lifetime of issued access tokens")
	f.DurationVar(&o.faults.Latency, "latency", 0, "delay added to every API response")
	f.Float64Var(&o.faults.TooManyRequests, "fault-429", 0, "share of API requests answered 429")
	f.IntVar(&o.faults.RetryAfter, "retry-after", 1, "Retry-After seconds sent with a 429")
	f.Float64Var(&o.faults.ServerError, "fault-5xx", 0, "share of API requests answered 500")
	f.Float64Var(&o.faults.Malformed, "fault-malformed", 0, "share of polling results sent truncated")
	f.Float64Var(&o.faults.DropCallbacks, "drop-callbacks", 0, "share of callbacks and webhooks never sent")
	return cmd
}

func (a *app) sandbox(cmd *cobra.Command, o sandboxOptions) error {
	ctx := cmd.Context()
	k := kopokopo.SimConfig{
		Tills: strings.Split(o.tills, ","), PerHour: o.perHour, WebhookURL: o.webhookURL,
		TokenTTL: o.tokenTTL, Faults: o.faults,
	}
	if o.fixtures != "" {
		f, err := os.Open(o.fixtures)
		if err != nil {
			return badInput(fmt.Errorf("--fixtures: %w", err))
		}
		k.Extra, err = kopokopo.LoadTransactions(f)
		f.Close()
		if err != nil {
			return badInput(fmt.Errorf("--fixtures %s: %w", o.fixtures, err))
		}
	}
	sb := sandbox.New(sandbox.Config{Seed: o.seed, Logger: a.logger, KopoKopo: k})
	defer sb.Close()

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(cmd.OutOrStdout(), "sandbox listening on http://%s (simulators: %s)\n", ln.Addr(), strings.Join(sb.Prefixes(), ", "))
	printSandboxEnv(cmd.OutOrStdout(), ln.Addr().String())
	if o.webhookURL != "" {
		go emitLive(ctx, sb.KopoKopo(), o.webhookInterval, a)
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

// emitLive posts the webhooks of each interval once it has passed.
func emitLive(ctx context.Context, sim *kopokopo.Simulator, every time.Duration, a *app) {
	last := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n, err := sim.EmitWebhooks(ctx, reconcile.Window{From: last, To: now})
			if err != nil {
				a.logger.Warn("sandbox webhooks not all delivered", "sent", n, "err", err)
			}
			last = now
		}
	}
}

// printSandboxEnv tells the user how to point the clients at the sandbox.
// The simulator's own default credentials are public sandbox values and are
// printed; credentials the user set through the environment are not.
func printSandboxEnv(w io.Writer, addr string) {
	fmt.Fprintln(w, "Point the clients at it with:")
	fmt.Fprintf(w, "  export %s=http://%s/kopokopo\n", kopokopo.EnvBaseURL, addr)
	if os.Getenv(kopokopo.EnvClientID) == "" && os.Getenv(kopokopo.EnvClientSecret) == "" && os.Getenv(kopokopo.EnvAPIKey) == "" {
		fmt.Fprintf(w, "  export %s=%s %s=%s %s=%s\n",
			kopokopo.EnvClientID, kopokopo.SimClientID, kopokopo.EnvClientSecret, kopokopo.SimClientSecret,
			kopokopo.EnvAPIKey, kopokopo.SimAPIKey)
	} else {
		fmt.Fprintf(w, "  (it accepts the %s, %s and %s already set in this environment)\n",
			kopokopo.EnvClientID, kopokopo.EnvClientSecret, kopokopo.EnvAPIKey)
	}
}
