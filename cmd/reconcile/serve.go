package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/jobs"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/webhook"
	"github.com/mizani/reconcile/store"
)

func init() { register(newServeCmd) }

// serveOptions are the flags of `serve`.
type serveOptions struct {
	runOptions
	listen   string
	schedule string
}

func newServeCmd(a *app) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Receive provider webhooks; expose /healthz and /metrics",
		Long: `Serves POST /webhooks/{provider}: the signature is verified on the raw body,
then payload and records are stored in one transaction and only then is 200
answered. Bad signature → 401 (nothing stored), malformed → 400, body over
1 MiB → 413, duplicates → 200 stored once. GET /healthz pings the store;
GET /metrics serves Prometheus metrics. SIGTERM shuts down gracefully.
A provider whose webhook key is not set is refused with 503 (the provider
retries once it is set) and nothing is stored.

With --schedule, the nightly job (see 'reconcile nightly') runs on that cron
schedule: pull yesterday from every configured provider, then reconcile it
into --out/YYYY-MM-DD/. Advisory locks keep replicas from doubling the work.

Each provider reads its configuration from the environment:
` + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", envOr("RECONCILE_LISTEN", "127.0.0.1:8080"),
		"address to listen on (env RECONCILE_LISTEN)")
	f.StringVar(&o.schedule, "schedule", os.Getenv("RECONCILE_SCHEDULE"),
		`cron schedule of the nightly job, e.g. "CRON_TZ=Africa/Nairobi 0 2 * * *" (env RECONCILE_SCHEDULE; empty: none)`)
	f.StringVar(&o.out, "out", envOr("RECONCILE_OUT", "reports"), "root directory of the nightly reports (env RECONCILE_OUT)")
	o.addTuningFlags(f)
	return cmd
}

// serveGCPercent is serve's GOGC when the environment sets none. A
// delivery allocates a few kilobytes that die with its answer, over a
// live heap of a few megabytes: at Go's default of 100 the collector ran
// a fifth of serve's CPU under load. At 400, `make bench-webhooks` at
// concurrency 16 took 168–178 µs of serve's CPU a webhook instead of
// 218–228 and 3,391–3,690 webhooks/s instead of 2,995–3,173 (BENCHMARKS.md),
// for a heap that peaks at a few times the live one.
const serveGCPercent = 400

// setServeGC sets serveGCPercent unless GOGC is set.
func setServeGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
}

// webhookProviders are the registered providers whose webhooks serve
// accepts, verified with credentials from the environment, and those it
// refuses (503, which providers retry, and nothing stored) with the message
// naming what is missing: their key is not set, or they send no webhooks.
func webhookProviders() (map[reconcile.Provider]webhook.Provider, map[reconcile.Provider]string, error) {
	ps := map[reconcile.Provider]webhook.Provider{}
	missing := map[reconcile.Provider]string{}
	for _, reg := range sources.Registered() {
		if reg.Verifier == nil {
			missing[reg.Name] = reg.DisplayName + " sends no webhooks to Mizani"
			continue
		}
		cfg := reg.ConfigFromEnv()
		if err := cfg.NotConfigured(sources.ForWebhooks); err != nil {
			missing[reg.Name] = err.Error()
			continue
		}
		parser, err := reg.Parser(cfg)
		if err != nil {
			return nil, nil, badInput(fmt.Errorf("%s: %s", reg.DisplayName, cfg.Redact(err.Error())))
		}
		verifier, err := reg.Verifier(cfg)
		if err != nil {
			return nil, nil, badInput(fmt.Errorf("%s: %s", reg.DisplayName, cfg.Redact(err.Error())))
		}
		ps[reg.Name] = webhook.Provider{Parser: parser, Verifier: verifier}
	}
	return ps, missing, nil
}

func (a *app) serve(ctx context.Context, o serveOptions) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	// Pool (issue 12): deliveries are group-committed by a few committers,
	// a connection each (webhook.DefaultCommitters); the rest serve a
	// delivery saved alone, /healthz and the nightly job. Bounded, so a
	// burst of deliveries queues (and is shed with 503) instead of opening
	// a connection each.
	st.SetMaxOpenConns(webhook.DefaultCommitters + 8)
	setServeGC()

	providers, unconfigured, err := webhookProviders()
	if err != nil {
		return err
	}
	for name, why := range unconfigured {
		a.logger.Warn("webhooks refused with 503", "provider", string(name), "why", why)
	}
	reg := prometheus.NewRegistry()
	handler, err := newServeHandler(a, st, reg, providers, unconfigured)
	if err != nil {
		return err
	}
	if o.schedule != "" {
		metrics, err := jobs.NewMetrics(reg, jobs.NightlyJobName)
		if err != nil {
			return err
		}
		sched, err := a.scheduleNightly(ctx, st, o.schedule, o.runOptions, metrics)
		if err != nil {
			return err
		}
		sched.Start()
		defer sched.Stop()
		a.logger.Info("nightly job scheduled", "schedule", o.schedule, "next", sched.Next())
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return badInput(fmt.Errorf("--listen: %w", err))
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.logger.Info("serving", "addr", ln.Addr().String(), "providers", len(providers))

	select {
	case err := <-errc:
		return fmt.Errorf("serving %s: %w", o.listen, err)
	case <-ctx.Done():
	}
	a.logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newServeHandler routes webhooks, /livez (the process answers), /healthz
// (and reaches the store) and /metrics, which serves reg. Deliveries for a
// provider in unconfigured are refused with its message (503).
func newServeHandler(a *app, st *store.Store, reg *prometheus.Registry, providers map[reconcile.Provider]webhook.Provider,
	unconfigured map[reconcile.Provider]string) (http.Handler, error) {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	wh, err := webhook.New(webhook.Config{Providers: providers, Unconfigured: unconfigured, Sink: st, Logger: a.logger, Registerer: reg})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/{provider}", wh)
	// Liveness must not depend on the database: a store outage would
	// otherwise have every replica restarted.
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			a.logger.Error("health check failed", "err", err)
			http.Error(w, "store unreachable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux, nil
}
