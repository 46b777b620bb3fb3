// Package sandbox serves every provider simulator from one HTTP server, each
// under its own path prefix (/kopokopo, /pixel, …), so a client configured
// with base URL http://127.0.0.1:8089/kopokopo works as against the real
// sandbox (SPEC §8).
package sandbox

import (
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"

	"github.com/mizani/reconcile/sources/kopokopo"
)

// Config configures every simulator. Seed and Logger apply to all of them.
type Config struct {
	Seed   int64
	Logger *slog.Logger
	// KopoKopo configures the Kopo Kopo simulator; its Seed and Logger are
	// taken from this Config when zero.
	KopoKopo kopokopo.SimConfig
}

// Simulator is what each provider's simulator offers the sandbox.
type Simulator interface {
	http.Handler
	Close() error
}

// Server is the sandbox: an http.Handler mounting every simulator.
type Server struct {
	mux  *http.ServeMux
	sims map[string]Simulator
}

// New builds the sandbox. Adding a provider is one mount call here.
func New(cfg Config) *Server {
	s := &Server{mux: http.NewServeMux(), sims: map[string]Simulator{}}
	k := cfg.KopoKopo
	if k.Seed == 0 {
		k.Seed = cfg.Seed
	}
	if k.Logger == nil {
		k.Logger = cfg.Logger
	}
	s.mount("/kopokopo", kopokopo.NewSimulator(k))
	return s
}

// mount serves sim under prefix, with the prefix stripped.
func (s *Server) mount(prefix string, sim Simulator) {
	s.sims[prefix] = sim
	s.mux.Handle(prefix+"/", http.StripPrefix(prefix, sim))
}

// KopoKopo returns the Kopo Kopo simulator (to list its transactions or
// emit its webhooks).
func (s *Server) KopoKopo() *kopokopo.Simulator {
	return s.sims["/kopokopo"].(*kopokopo.Simulator)
}

// Prefixes lists the mounted path prefixes.
func (s *Server) Prefixes() []string {
	return slices.Sorted(maps.Keys(s.sims))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops every simulator's background work.
func (s *Server) Close() error {
	var errs []error
	for _, sim := range s.sims {
		errs = append(errs, sim.Close())
	}
	return errors.Join(errs...)
}
