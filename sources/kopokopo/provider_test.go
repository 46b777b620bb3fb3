package kopokopo_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// lookupIn reads variables from maps, the first that has one winning.
func lookupIn(ms ...map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		for _, m := range ms {
			if v, ok := m[name]; ok {
				return v, true
			}
		}
		return "", false
	}
}

func TestProviderRegistration(t *testing.T) {
	t.Parallel()
	p := kopokopo.Provider
	if p.Name != kopokopo.Name || kopokopo.Name != "kopokopo" || p.DisplayName != "Kopo Kopo" {
		t.Errorf("names %q %q", p.Name, p.DisplayName)
	}
	if p.Parser == nil || p.Verifier == nil || p.History == nil || p.Simulator == nil || p.Status != nil {
		t.Error("want Parser, Verifier, History and Simulator, and no Status")
	}
	want := sources.Traits{SettlesPerCompany: true, Heuristic: true, DefaultZone: "Africa/Nairobi"}
	if got := p.Traits; got.SettlesPerCompany != want.SettlesPerCompany || got.Heuristic != want.Heuristic ||
		len(got.Fees) != 0 || got.ZoneEnv != "" || got.DefaultZone != want.DefaultZone {
		t.Errorf("traits %+v, want %+v", got, want)
	}
	vars := []struct {
		name, def string
		secret    bool
		required  sources.Purpose
	}{
		{kopokopo.EnvBaseURL, "https://sandbox.kopokopo.com", false, 0},
		{kopokopo.EnvClientID, "", false, sources.ForPull},
		{kopokopo.EnvClientSecret, "", true, sources.ForPull},
		{kopokopo.EnvAPIKey, "", true, sources.ForWebhooks},
		{kopokopo.EnvAPIVersion, "v1", false, 0},
		{kopokopo.EnvCallbackURL, "", false, 0},
		{kopokopo.EnvTill, "", false, 0},
	}
	if len(p.Env) != len(vars) {
		t.Errorf("%d variables, want %d", len(p.Env), len(vars))
	}
	for _, v := range vars {
		i := slices.IndexFunc(p.Env, func(e sources.EnvVar) bool { return e.Name == v.name })
		if i < 0 {
			t.Errorf("%s not registered", v.name)
			continue
		}
		e := p.Env[i]
		if e.Default != v.def || e.Secret != v.secret || e.Required != v.required || e.Help == "" {
			t.Errorf("%s = %+v, want default %q secret %v required %v and help", v.name, e, v.def, v.secret, v.required)
		}
	}
}

func TestProviderNotConfigured(t *testing.T) {
	t.Parallel()
	const secret = "half-configured-secret-NEVER-SHOWN"
	tests := []struct {
		name string
		env  map[string]string
		pull string // error of History ("" none)
		hook string // error of Verifier
	}{
		{"nothing set", nil,
			"Kopo Kopo is not configured for pulls: set K2_CLIENT_ID, K2_CLIENT_SECRET",
			"Kopo Kopo is not configured for webhooks: set K2_API_KEY"},
		{"secret without id", map[string]string{kopokopo.EnvClientSecret: secret},
			"set K2_CLIENT_ID", "set K2_API_KEY"},
		{"blank values are unset", map[string]string{kopokopo.EnvClientID: " ", kopokopo.EnvClientSecret: "", kopokopo.EnvAPIKey: "\t"},
			"set K2_CLIENT_ID, K2_CLIENT_SECRET", "set K2_API_KEY"},
		{"bad API version", map[string]string{kopokopo.EnvClientID: "id", kopokopo.EnvClientSecret: secret, kopokopo.EnvAPIVersion: "v3", kopokopo.EnvAPIKey: "k"},
			"want v1 or v2", ""},
		{"bad base URL", map[string]string{kopokopo.EnvClientID: "id", kopokopo.EnvClientSecret: secret, kopokopo.EnvBaseURL: "sandbox.kopokopo.com"},
			"want http(s)://host", "set K2_API_KEY"},
		{"configured", map[string]string{kopokopo.EnvClientID: "id", kopokopo.EnvClientSecret: secret, kopokopo.EnvAPIKey: "k"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := kopokopo.Provider.ConfigFrom(lookupIn(tt.env))
			for _, c := range []struct {
				what, want string
				err        error
			}{
				{"History", tt.pull, func() error { _, err := kopokopo.Provider.History(cfg, sources.ClientOptions{}); return err }()},
				{"Verifier", tt.hook, func() error { _, err := kopokopo.Provider.Verifier(cfg); return err }()},
			} {
				switch {
				case c.want == "" && c.err != nil:
					t.Errorf("%s: %v, want none", c.what, c.err)
				case c.want != "" && (c.err == nil || !strings.Contains(c.err.Error(), c.want)):
					t.Errorf("%s: %v, want %q", c.what, c.err, c.want)
				case c.err != nil && strings.Contains(c.err.Error(), secret):
					t.Errorf("%s: %q reveals the secret", c.what, c.err)
				}
			}
			if _, err := kopokopo.Provider.Parser(cfg); err != nil {
				t.Errorf("Parser: %v (needs no configuration)", err)
			}
		})
	}
}

// receiver takes what the simulator posts: webhooks and polling callbacks.
type receiver struct {
	mu   sync.Mutex
	reqs []sources.Request
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, sources.Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	rc.mu.Unlock()
}

func (rc *receiver) received(path string) []sources.Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []sources.Request
	for _, r := range rc.reqs {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// TestProviderEndToEnd builds everything from the registration alone, as the
// commands do: the simulator from SimOptions (fixtures, quiet, pinned
// credentials) mounted under /kopokopo, the client's configuration from the
// simulator's ClientEnv, the history puller, parser and verifier from that.
func TestProviderEndToEnd(t *testing.T) {
	t.Parallel()
	rc := &receiver{}
	hooks := httptest.NewServer(rc)
	t.Cleanup(hooks.Close)
	fixtures := []byte(`{"id":"fx-till-0","amount":"1500.00","reference":"QCX1A2B3C4","till_number":"000000","origination_time":"2026-03-02T10:00:00+03:00","sender_phone_number":"+254700000001"}
{"id":"fx-till-1","amount":"780","till_number":"000001","origination_time":"2026-03-02T11:30:00+03:00","sender_phone_number":"+254700000002"}
{"id":"fx-till-1-reversed","amount":"99.5","status":"Reversed","till_number":"000001","origination_time":"2026-03-02T12:00:00+03:00"}
`)
	pinned := map[string]string{kopokopo.EnvClientID: "e2e-id", kopokopo.EnvClientSecret: "e2e-secret", kopokopo.EnvAPIKey: "e2e-api-key"}
	s, err := kopokopo.Provider.Simulator(sources.SimOptions{
		Seed: 3, Quiet: true, Fixtures: fixtures, Env: pinned, WebhookURL: hooks.URL + "/webhooks/kopokopo",
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/kopokopo/", http.StripPrefix("/kopokopo", s))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { s.Close(); srv.Close() })

	env := s.ClientEnv(srv.URL + "/kopokopo")
	for k, v := range pinned {
		if env[k] != v {
			t.Errorf("ClientEnv[%s] = %q, want the pinned %q", k, env[k], v)
		}
	}
	if env[kopokopo.EnvBaseURL] != srv.URL+"/kopokopo" {
		t.Errorf("ClientEnv base URL %q", env[kopokopo.EnvBaseURL])
	}
	cfg := kopokopo.Provider.ConfigFrom(lookupIn(map[string]string{
		kopokopo.EnvTill: "000001", kopokopo.EnvAPIVersion: "v2", kopokopo.EnvCallbackURL: hooks.URL + "/callback",
	}, env))
	if m := cfg.Missing(sources.ForPull | sources.ForWebhooks); len(m) != 0 {
		t.Fatalf("ClientEnv leaves %v unset", m)
	}
	puller, err := kopokopo.Provider.History(cfg, sources.ClientOptions{
		RateLimit: 1000, Burst: 10, Retry: sources.RetryPolicy{Base: time.Millisecond, Max: 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	scoped, ok := puller.(interface{ Scope() string })
	if !ok || scoped.Scope() != "till:000001" {
		t.Fatalf("History = %T, want a Puller scoped till:000001", puller)
	}
	st := store.New(pgtest.New(t))
	w := reconcile.Window{From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)}
	job := sources.PullJob{Provider: kopokopo.Name, Scope: scoped.Scope(), Puller: puller, Sink: st, Checkpoints: st}
	stats, err := sources.PullWindow(context.Background(), job, w)
	if err != nil {
		t.Fatal(err)
	}
	got := storedRecords(t, st)
	want := map[string]int64{"payment/fx-till-1": 78000, "payment/fx-till-1-reversed": 9950}
	if stats.Records != len(want) || len(got) != len(want) || got["payment/fx-till-1-reversed"].Status != reconcile.StatusReversed {
		t.Errorf("pulled %+v, stored %d records; want only the %d of till 000001's fixtures (quiet)", stats, len(got), len(want))
	}
	for k, minor := range want {
		if r, ok := got[k]; !ok || r.Amount.Minor != minor || r.Amount.Currency != "KES" || r.Account != "000001" {
			t.Errorf("%s = %+v, want %d KES on till 000001", k, r, minor)
		}
	}

	// Webhooks and callbacks verify with the registration's verifier and
	// parse with its parser.
	emitter, ok := s.(sources.WebhookEmitter)
	if !ok {
		t.Fatal("the simulator emits no webhooks")
	}
	n, err := emitter.EmitWebhooks(context.Background(), w)
	if err != nil || n != 4 {
		t.Fatalf("EmitWebhooks = %d, %v; want the 3 fixtures received and 1 reversed", n, err)
	}
	verifier, err := kopokopo.Provider.Verifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	parser, err := kopokopo.Provider.Parser(cfg)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(rc.received("/callback")) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	delivered := append(rc.received("/webhooks/kopokopo"), rc.received("/callback")...)
	if len(delivered) < 5 {
		t.Fatalf("%d deliveries, want 4 webhooks and at least one polling callback", len(delivered))
	}
	for _, req := range delivered {
		if err := verifier.Verify(req); err != nil {
			t.Errorf("%s delivery refused: %v", req.Path, err)
		}
		if _, recs, err := parser.Parse(req.Body, reconcile.SourceWebhook); err != nil || len(recs) == 0 {
			t.Errorf("%s delivery parsed to %d records, %v", req.Path, len(recs), err)
		}
		flipped := req
		flipped.Body = slices.Clone(req.Body)
		flipped.Body[len(flipped.Body)/2] ^= 1
		if err := verifier.Verify(flipped); !errors.Is(err, sources.ErrBadSignature) {
			t.Errorf("%s delivery with a byte flipped: %v, want ErrBadSignature", req.Path, err)
		}
	}
}

func TestProviderSimulatorOptions(t *testing.T) {
	t.Parallel()
	w := reconcile.Window{From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		name    string
		opts    sources.SimOptions
		wantErr string
		check   func(t *testing.T, sim *kopokopo.Simulator)
	}{
		{name: "generated", opts: sources.SimOptions{Seed: 1}, check: func(t *testing.T, sim *kopokopo.Simulator) {
			if n := len(sim.Transactions(w, "")); n < 50 {
				t.Errorf("%d generated transactions in a day, want many", n)
			}
		}},
		{name: "quiet without fixtures", opts: sources.SimOptions{Seed: 1, Quiet: true}, check: func(t *testing.T, sim *kopokopo.Simulator) {
			if n := len(sim.Transactions(w, "")); n != 0 {
				t.Errorf("%d transactions, want none", n)
			}
		}},
		{name: "quiet with fixtures", opts: sources.SimOptions{Quiet: true, Fixtures: []byte(`{"id":"a","amount":"1","till_number":"000000","origination_time":"2026-03-02T10:00:00Z"}` + "\n\n")},
			check: func(t *testing.T, sim *kopokopo.Simulator) {
				if txs := sim.Transactions(w, ""); len(txs) != 1 || txs[0].ID != "a" || txs[0].Currency != "KES" {
					t.Errorf("transactions %+v, want fixture a in KES", txs)
				}
			}},
		{name: "default credentials", opts: sources.SimOptions{Env: map[string]string{kopokopo.EnvClientID: "", kopokopo.EnvClientSecret: "", kopokopo.EnvAPIKey: ""}},
			check: func(t *testing.T, sim *kopokopo.Simulator) {
				env := sim.ClientEnv("http://x")
				if env[kopokopo.EnvClientID] != kopokopo.SimClientID || env[kopokopo.EnvClientSecret] != kopokopo.SimClientSecret || env[kopokopo.EnvAPIKey] != kopokopo.SimAPIKey {
					t.Errorf("ClientEnv %v, want the documented sandbox credentials", env)
				}
			}},
		{name: "bad fixtures", opts: sources.SimOptions{Fixtures: []byte(`{"id":"a","amount":"1.005","till_number":"1","origination_time":"2026-03-02T10:00:00Z"}`)},
			wantErr: "line 1: field amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := kopokopo.Provider.Simulator(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			tt.check(t, s.(*kopokopo.Simulator))
		})
	}
}
