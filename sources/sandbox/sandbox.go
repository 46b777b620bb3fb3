// Package sandbox serves every registered provider simulator from one HTTP
// server, each under its own path prefix (/kopokopo, /pixel, …), so a client
// configured with base URL http://127.0.0.1:8089/kopokopo works as against
// the real sandbox (SPEC §8). It names no provider: it mounts what
// sources.Registered returns.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Config configures every simulator. Seed, Logger and Faults apply to every
// simulator whose own options leave them zero.
type Config struct {
	Seed   int64
	Logger *slog.Logger
	Faults sources.Faults
	// WebhookURL, when set, is where each simulator posts its webhooks:
	// WebhookURL with the provider's name appended ("…/webhooks/" +
	// "pixel") when it ends in a slash, else as is.
	WebhookURL string
	// Options are per-provider options (fixtures, credentials, faults).
	Options map[reconcile.Provider]sources.SimOptions
	// Providers limits the simulators mounted; empty means every registered one.
	Providers []reconcile.Provider
}

// Server is the sandbox: an http.Handler mounting every simulator.
type Server struct {
	mux   *http.ServeMux
	names []reconcile.Provider
	sims  map[reconcile.Provider]sources.Simulator
}

// New builds the sandbox from the registered providers.
func New(cfg Config) (*Server, error) {
	s := &Server{mux: http.NewServeMux(), sims: map[reconcile.Provider]sources.Simulator{}}
	for _, p := range sources.Registered() {
		if len(cfg.Providers) > 0 && !slices.Contains(cfg.Providers, p.Name) {
			continue
		}
		o := cfg.Options[p.Name]
		if o.Seed == 0 {
			o.Seed = cfg.Seed
		}
		if o.Logger == nil {
			o.Logger = cfg.Logger
		}
		if o.Faults == (sources.Faults{}) {
			o.Faults = cfg.Faults
		}
		if o.WebhookURL == "" && cfg.WebhookURL != "" {
			o.WebhookURL = cfg.WebhookURL
			if strings.HasSuffix(o.WebhookURL, "/") {
				o.WebhookURL += string(p.Name)
			}
		}
		sim, err := p.Simulator(o)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sandbox: %s simulator: %w", p.DisplayName, err)
		}
		s.mount(p.Name, sim)
	}
	return s, nil
}

// mount serves sim under /<name>, with the prefix stripped and the path as
// sent kept for simulators that check signatures over it.
func (s *Server) mount(name reconcile.Provider, sim sources.Simulator) {
	prefix := "/" + string(name)
	s.names = append(s.names, name)
	s.sims[name] = sim
	strip := http.StripPrefix(prefix, sim)
	s.mux.Handle(prefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		strip.ServeHTTP(w, sources.WithOriginalPath(r, r.URL.EscapedPath()))
	}))
}

// Simulator returns the simulator mounted for provider p.
func (s *Server) Simulator(p reconcile.Provider) (sources.Simulator, bool) {
	sim, ok := s.sims[p]
	return sim, ok
}

// Providers lists the mounted providers in registration order.
func (s *Server) Providers() []reconcile.Provider {
	return append([]reconcile.Provider(nil), s.names...)
}

// Prefixes lists the mounted path prefixes.
func (s *Server) Prefixes() []string {
	out := make([]string, len(s.names))
	for i, n := range s.names {
		out[i] = "/" + string(n)
	}
	return out
}

// ClientEnv returns, per provider, the variables a client sets to talk to
// the sandbox served at root (http://host:port).
func (s *Server) ClientEnv(root string) map[reconcile.Provider]map[string]string {
	out := map[reconcile.Provider]map[string]string{}
	for _, n := range s.names {
		out[n] = s.sims[n].ClientEnv(strings.TrimRight(root, "/") + "/" + string(n))
	}
	return out
}

// EmitWebhooks has every simulator that emits webhooks post those of w.
func (s *Server) EmitWebhooks(ctx context.Context, w reconcile.Window) (int, error) {
	total := 0
	var errs []error
	for _, n := range s.names {
		if e, ok := s.sims[n].(sources.WebhookEmitter); ok {
			k, err := e.EmitWebhooks(ctx, w)
			total += k
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", n.DisplayName(), err))
			}
		}
	}
	return total, errors.Join(errs...)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops every simulator's background work.
func (s *Server) Close() error {
	var errs []error
	for _, n := range s.names {
		errs = append(errs, s.sims[n].Close())
	}
	return errors.Join(errs...)
}
