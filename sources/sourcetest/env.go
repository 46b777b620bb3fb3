package sourcetest

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/webhook"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// Env is one running simulator and everything the registration built to
// talk to it, with a private store. The suite starts one per test; the
// Harness's hooks read it.
type Env struct {
	// Provider is the registration under test.
	Provider *sources.Provider
	// Sim is the simulator Provider.Simulator returned; hooks type-assert it
	// to read what it serves.
	Sim sources.Simulator
	// URL is the base URL the simulator is served at: mounted under
	// /<name> with the prefix stripped, as the sandbox mounts it.
	URL string
	// Config is the provider's configuration: the simulator's ClientEnv(URL)
	// with Harness.Config on top.
	Config sources.Config
	// Parser and Verifier (nil without webhooks) are built from Config.
	Parser   sources.Parser
	Verifier sources.Verifier
	// History and Status are built from Config; nil when the provider has
	// none.
	History sources.Puller
	Status  sources.StatusChecker
	// Store is a fresh PostgreSQL store private to the test.
	Store *store.Store
	// WebhookURL is where the real receiver (sources/webhook.Handler over
	// Store) takes this provider's deliveries; the simulator got it as
	// SimOptions.WebhookURL.
	WebhookURL string

	faulty bool
	recv   *receiver
}

// options are what a test varies when starting a simulator.
type options struct {
	fixtures []Fixture
	quiet    bool
	faults   sources.Faults
}

// start runs h's simulator with o and builds the registration's parts for it.
func start(t *testing.T, h Harness, o options) *Env {
	t.Helper()
	p := h.Provider
	name := string(p.Name)
	env := &Env{Provider: p, Store: store.New(pgtest.New(t)), faulty: o.faults != (sources.Faults{})}

	// The receiver exists before the simulator, which is told its URL.
	env.recv = &receiver{}
	recvSrv := httptest.NewServer(env.recv)
	t.Cleanup(recvSrv.Close)
	env.WebhookURL = recvSrv.URL + "/webhooks/" + name

	opts := sources.SimOptions{
		Seed:          h.Seed,
		Quiet:         o.quiet,
		Env:           maps.Clone(h.Config),
		WebhookURL:    env.WebhookURL,
		CallbackDelay: 10 * time.Millisecond,
		Faults:        o.faults,
	}
	if len(o.fixtures) > 0 {
		opts.Fixtures = h.Encode(t, o.fixtures)
	}
	sim, err := p.Simulator(opts)
	if err != nil {
		t.Fatalf("%s simulator: %v", name, err)
	}
	t.Cleanup(func() {
		if err := sim.Close(); err != nil {
			t.Errorf("closing the %s simulator: %v", name, err)
		}
	})
	env.Sim = sim
	prefix := "/" + name
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// As the sandbox does: remember the path as sent, strip the prefix.
		r = sources.WithOriginalPath(r, r.URL.EscapedPath())
		http.StripPrefix(prefix, sim).ServeHTTP(w, r)
	}))
	simSrv := httptest.NewServer(mux)
	t.Cleanup(simSrv.Close) // runs before sim.Close
	env.URL = simSrv.URL + prefix

	vars := sim.ClientEnv(env.URL)
	maps.Copy(vars, h.Config)
	env.Config = p.ConfigFrom(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })

	if env.Parser, err = p.Parser(env.Config); err != nil {
		t.Fatalf("%s parser: %v", name, err)
	}
	copts := sources.ClientOptions{
		RateLimit:  500,
		Burst:      50,
		HTTPClient: simSrv.Client(),
		Retry:      sources.RetryPolicy{MaxRetries: 10, Base: 2 * time.Millisecond, Max: 20 * time.Millisecond},
	}
	if p.History != nil {
		if env.History, err = p.History(env.Config, copts); err != nil {
			t.Fatalf("%s history puller: %v", name, err)
		}
	}
	if p.Status != nil {
		if env.Status, err = p.Status(env.Config, copts); err != nil {
			t.Fatalf("%s status checker: %v", name, err)
		}
	}
	providers := map[reconcile.Provider]webhook.Provider{}
	if p.Verifier != nil {
		if env.Verifier, err = p.Verifier(env.Config); err != nil {
			t.Fatalf("%s verifier: %v", name, err)
		}
		providers[p.Name] = webhook.Provider{Parser: env.Parser, Verifier: env.Verifier}
	}
	handler, err := webhook.New(webhook.Config{Providers: providers, Sink: env.Store})
	if err != nil {
		t.Fatal(err)
	}
	env.recv.set(handler)
	return env
}

// key returns the webhook signing key from env's Config.
func (env *Env) key(h Harness) string { return env.Config.Get(h.KeyEnv) }

// Deliver sends r to the receiver (at r.Path, on the receiver's host) and
// returns the status code answered.
func (env *Env) Deliver(t *testing.T, r sources.Request) int {
	t.Helper()
	u := strings.TrimSuffix(env.WebhookURL, "/webhooks/"+string(env.Provider.Name)) + r.Path
	if r.Query != "" {
		u += "?" + r.Query
	}
	req, err := http.NewRequest(cmp.Or(r.Method, http.MethodPost), u, bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("delivering %s: %v", r.Path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// receiver is the webhook endpoint of one Env: the real handler, with every
// answer recorded.
type receiver struct {
	mu      sync.Mutex
	mux     *http.ServeMux
	answers []int
	wake    chan struct{}
}

func (rc *receiver) set(h http.Handler) {
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/{provider}", h)
	rc.mu.Lock()
	rc.mux = mux
	rc.mu.Unlock()
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	mux := rc.mux
	rc.mu.Unlock()
	if mux == nil {
		http.Error(w, "receiver not ready", http.StatusServiceUnavailable)
		rc.record(http.StatusServiceUnavailable)
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	mux.ServeHTTP(sw, r)
	rc.record(sw.status)
}

func (rc *receiver) record(status int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answers = append(rc.answers, status)
	if rc.wake != nil {
		close(rc.wake)
		rc.wake = nil
	}
}

// await waits until n deliveries were answered or d passed, and returns the
// answers so far.
func (rc *receiver) await(ctx context.Context, n int, d time.Duration) []int {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		rc.mu.Lock()
		if len(rc.answers) >= n {
			out := append([]int(nil), rc.answers...)
			rc.mu.Unlock()
			return out
		}
		if rc.wake == nil {
			rc.wake = make(chan struct{})
		}
		wake := rc.wake
		rc.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			rc.mu.Lock()
			defer rc.mu.Unlock()
			return append([]int(nil), rc.answers...)
		case <-ctx.Done():
			return nil
		}
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}
