package kopokopo_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/apiclient"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/sources/sourcetest"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// Credentials the tests look for in logs and errors.
const (
	testClientID     = "test-client-id-4242"
	testClientSecret = "test-client-secret-SHOULD-NEVER-BE-LOGGED"
	testAPIKey       = "test-api-key-SHOULD-NEVER-BE-LOGGED"
)

// counter counts requests per path on their way to the simulator.
type counter struct {
	mu    sync.Mutex
	paths map[string]int
	// hook is called before each request is served; when it answers the
	// request itself (a test's own failure) it returns true and the
	// simulator never sees it.
	hook func(w http.ResponseWriter, r *http.Request) bool
}

func (c *counter) count(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for p, k := range c.paths {
		if strings.HasPrefix(p, prefix) {
			n += k
		}
	}
	return n
}

type simEnv struct {
	sim    *kopokopo.Simulator
	client *kopokopo.Client
	reqs   *counter
	logs   *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of loggers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// setup starts a simulator on a real HTTP server and a fast client for it;
// simulator and client log to the same buffer.
func setup(t *testing.T, scfg kopokopo.SimConfig, ccfg kopokopo.Config) simEnv {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	scfg.ClientID, scfg.ClientSecret, scfg.APIKey = testClientID, testClientSecret, testAPIKey
	scfg.Logger = logger
	sim := kopokopo.NewSimulator(scfg)
	reqs := &counter{paths: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.mu.Lock()
		reqs.paths[r.URL.Path]++
		hook := reqs.hook
		reqs.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { sim.Close(); srv.Close() })
	ccfg.BaseURL = srv.URL
	ccfg.ClientID, ccfg.ClientSecret = testClientID, testClientSecret
	ccfg.RateLimit, ccfg.Burst = 2000, 10
	ccfg.Retry.Base, ccfg.Retry.Max = time.Millisecond, 20*time.Millisecond
	ccfg.PollInterval = time.Millisecond
	ccfg.Retry.MaxRetries = cmp.Or(ccfg.Retry.MaxRetries, 10)
	ccfg.Logger = logger
	client, err := kopokopo.New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	return simEnv{sim: sim, client: client, reqs: reqs, logs: logs}
}

// expected turns simulator transactions into the records a pull must leave.
func expected(t *testing.T, txs []kopokopo.Transaction) []sourcetest.Expected {
	t.Helper()
	out := make([]sourcetest.Expected, 0, len(txs))
	for _, tx := range txs {
		m, err := tx.Money()
		if err != nil {
			t.Fatalf("simulator transaction %s: %v", tx.ID, err)
		}
		// A reversed one is the payment, status reversed: a poll says no
		// more of its reversal.
		out = append(out, sourcetest.Expected{TxID: tx.ID, Kind: reconcile.KindPayment, Amount: m, AmountKnown: true})
	}
	return out
}

// storedRecords returns the Kopo Kopo records in st keyed by kind/tx id.
func storedRecords(t *testing.T, st *store.Store) map[string]reconcile.Record {
	t.Helper()
	out := map[string]reconcile.Record{}
	all := reconcile.Window{From: time.Unix(0, 0), To: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
	for r, err := range st.Records(context.Background(), store.Filter{Window: all}) {
		if err != nil {
			t.Fatal(err)
		}
		key := string(r.Kind) + "/" + r.TxID
		if _, dup := out[key]; dup {
			t.Errorf("record %s stored twice", key)
		}
		out[key] = r
	}
	return out
}

// checkExactlyOnce asserts st holds exactly want, once each, with exact amounts.
func checkExactlyOnce(t *testing.T, st *store.Store, want []sourcetest.Expected) {
	t.Helper()
	got := storedRecords(t, st)
	if len(got) != len(want) {
		t.Errorf("store holds %d records, the simulator served %d", len(got), len(want))
	}
	for _, e := range want {
		r, ok := got[string(e.Kind)+"/"+e.TxID]
		switch {
		case !ok:
			t.Errorf("transaction %s (%s) missing from the store", e.TxID, e.Kind)
		case r.Amount != e.Amount || !r.AmountKnown:
			t.Errorf("transaction %s: stored %+v, simulator %+v", e.TxID, r.Amount, e.Amount)
		}
	}
}

var day0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func TestPullWithFaultsStoresEachTransactionOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, kopokopo.SimConfig{Seed: 42, Faults: sources.Faults{
		Latency: time.Millisecond, TooManyRequests: 0.15, ServerError: 0.15, Malformed: 0.3, DropCallbacks: 0.5,
	}}, kopokopo.Config{})
	st := store.New(pgtest.New(t))
	w := reconcile.Window{From: day0, To: day0.Add(3 * 24 * time.Hour)}
	job := sources.PullJob{Provider: kopokopo.Name, Scope: "company", Puller: kopokopo.Puller{Client: e.client},
		Sink: st, Checkpoints: st, Chunk: 6 * time.Hour, Workers: 3, Logger: slog.New(slog.NewTextHandler(e.logs, nil))}
	stats, err := sources.PullWindow(context.Background(), job, w)
	if err != nil {
		t.Fatalf("PullWindow: %v", err)
	}
	want := expected(t, e.sim.Transactions(w, ""))
	if stats.Chunks != 12 || stats.Records != len(want) {
		t.Errorf("stats %+v, want 12 chunks and %d records", stats, len(want))
	}
	checkExactlyOnce(t, st, want)
	if e.reqs.count("/api/v1/polling") <= 12*3 {
		t.Errorf("only %d polling requests: were any faults injected?", e.reqs.count("/api/v1/polling"))
	}

	// A second pull of the same window, ignoring the checkpoints, changes nothing.
	before := storedRecords(t, st)
	job.Checkpoints = nil
	if _, err := sources.PullWindow(context.Background(), job, w); err != nil {
		t.Fatalf("second PullWindow: %v", err)
	}
	after := storedRecords(t, st)
	for k, r := range before {
		a := after[k]
		if a.Amount != r.Amount || a.Status != r.Status || a.OccurredAt != r.OccurredAt || a.ProviderRef != r.ProviderRef {
			t.Errorf("record %s changed on re-pull: %+v → %+v", k, r, a)
		}
	}
	checkExactlyOnce(t, st, want)

	for _, secret := range []string{testClientSecret, testAPIKey} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("logs contain a credential:\n%s", e.logs.String())
		}
	}
	if !strings.Contains(e.logs.String(), "retrying") {
		t.Error("no retry was logged: the fault injection did not bite")
	}
}

func TestTokenExpiryMidPullRefreshesAndContinues(t *testing.T) {
	t.Parallel()
	e := setup(t, kopokopo.SimConfig{Seed: 3}, kopokopo.Config{})
	var polls atomic.Int32
	e.reqs.mu.Lock()
	e.reqs.hook = func(_ http.ResponseWriter, r *http.Request) bool {
		// Expire every token just before the third polling request.
		if strings.HasPrefix(r.URL.Path, "/api/v1/polling") && r.Method == http.MethodPost && polls.Add(1) == 3 {
			e.sim.ExpireTokens()
		}
		return false
	}
	e.reqs.mu.Unlock()
	st := store.New(pgtest.New(t))
	w := reconcile.Window{From: day0, To: day0.Add(4 * 24 * time.Hour)}
	job := sources.PullJob{Provider: kopokopo.Name, Scope: "company", Puller: kopokopo.Puller{Client: e.client}, Sink: st}
	if _, err := sources.PullWindow(context.Background(), job, w); err != nil {
		t.Fatalf("PullWindow: %v", err)
	}
	if n := e.reqs.count("/oauth/token"); n != 2 {
		t.Errorf("%d token requests, want 2 (one at start, one after expiry)", n)
	}
	checkExactlyOnce(t, st, expected(t, e.sim.Transactions(w, "")))
}

func TestTokenCachedUntilShortlyBeforeExpiry(t *testing.T) {
	t.Parallel()
	e := setup(t, kopokopo.SimConfig{Seed: 3, TokenTTL: time.Second, PerHour: -1}, kopokopo.Config{})
	ctx := context.Background()
	poll := func() {
		if _, err := e.client.Poll(ctx, kopokopo.PollRequest{Scope: "company", From: day0, To: day0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	poll()
	poll()
	if n := e.reqs.count("/oauth/token"); n != 1 {
		t.Fatalf("%d token requests for two polls within the token's life, want 1", n)
	}
	time.Sleep(time.Second)
	poll()
	if n := e.reqs.count("/oauth/token"); n != 2 {
		t.Errorf("%d token requests after expiry, want 2", n)
	}
	if n := e.reqs.count("/api/v1/polling"); n != 9 {
		t.Errorf("%d polling requests, want 9 (no 401 retries: the token was renewed before it expired)", n)
	}
}

func TestV2Paths(t *testing.T) {
	t.Parallel()
	e := setup(t, kopokopo.SimConfig{Seed: 5}, kopokopo.Config{APIVersion: "v2"})
	st := store.New(pgtest.New(t))
	w := reconcile.Window{From: day0, To: day0.Add(24 * time.Hour)}
	if _, err := (kopokopo.Puller{Client: e.client, Till: "000001"}).Pull(context.Background(), w, st); err != nil {
		t.Fatal(err)
	}
	if e.reqs.count("/api/v2/polling") == 0 || e.reqs.count("/api/v1/") != 0 {
		t.Errorf("requests %v, want only /api/v2 paths", e.reqs.paths)
	}
	checkExactlyOnce(t, st, expected(t, e.sim.Transactions(w, "000001")))
}

func TestContextCancelStopsPromptly(t *testing.T) {
	t.Parallel()
	e := setup(t, kopokopo.SimConfig{Seed: 1, Faults: sources.Faults{Latency: 10 * time.Second}}, kopokopo.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.client.Poll(ctx, kopokopo.PollRequest{Scope: "company", From: day0, To: day0.Add(time.Hour)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Poll error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Poll returned %s after the context ended", d)
	}
}

// failingPuller records the chunks it is asked for and fails on one of them,
// as a process crashing mid-pull would.
type failingPuller struct {
	sources.Puller
	failAt int
	pulled []reconcile.Window
}

func (p *failingPuller) Pull(ctx context.Context, w reconcile.Window, sink sources.Sink) (sources.PullStats, error) {
	p.pulled = append(p.pulled, w)
	if len(p.pulled) == p.failAt {
		return sources.PullStats{}, errors.New("simulated crash")
	}
	return p.Puller.Pull(ctx, w, sink)
}

func TestResumeAfterCrash(t *testing.T) {
	t.Parallel()
	e := setup(t, kopokopo.SimConfig{Seed: 9}, kopokopo.Config{})
	st := store.New(pgtest.New(t))
	w := reconcile.Window{From: day0, To: day0.Add(4 * 24 * time.Hour)}
	crashing := &failingPuller{Puller: kopokopo.Puller{Client: e.client}, failAt: 3}
	job := sources.PullJob{Provider: kopokopo.Name, Scope: "company", Puller: crashing, Sink: st, Checkpoints: st}
	if _, err := sources.PullWindow(context.Background(), job, w); err == nil || !strings.Contains(err.Error(), "simulated crash") {
		t.Fatalf("first PullWindow error = %v, want the simulated crash", err)
	}
	resumed := &failingPuller{Puller: kopokopo.Puller{Client: e.client}}
	job.Puller = resumed
	stats, err := sources.PullWindow(context.Background(), job, w)
	if err != nil {
		t.Fatal(err)
	}
	chunks := w.Split(24 * time.Hour)
	if stats.Skipped != 2 || stats.Chunks != 2 || len(resumed.pulled) != 2 || resumed.pulled[0] != chunks[2] {
		t.Errorf("resumed pull: stats %+v, fetched %v; want chunks 3 and 4 only", stats, resumed.pulled)
	}
	checkExactlyOnce(t, st, expected(t, e.sim.Transactions(w, "")))
}

func TestRecentChunkNotMarkedDone(t *testing.T) {
	t.Parallel()
	e := setup(t, kopokopo.SimConfig{Seed: 9, PerHour: -1}, kopokopo.Config{})
	st := store.New(pgtest.New(t))
	now := day0.Add(36 * time.Hour)
	job := sources.PullJob{Provider: kopokopo.Name, Scope: "company", Puller: kopokopo.Puller{Client: e.client},
		Sink: st, Checkpoints: st, Now: func() time.Time { return now }}
	if _, err := sources.PullWindow(context.Background(), job, reconcile.Window{From: day0, To: day0.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, c := range []reconcile.Window{{From: day0, To: day0.Add(24 * time.Hour)}, {From: day0.Add(24 * time.Hour), To: day0.Add(48 * time.Hour)}} {
		done, err := st.ChunkDone(ctx, "kopokopo", "company", c)
		if err != nil || done != (i == 0) {
			t.Errorf("chunk %s done = %v, %v; want %v (only chunks that ended are final)", c, done, err, i == 0)
		}
	}
}

func TestClientRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hour := kopokopo.PollRequest{Scope: "company", From: day0, To: day0.Add(time.Hour)}

	t.Run("bad credentials", func(t *testing.T) {
		e := setup(t, kopokopo.SimConfig{}, kopokopo.Config{})
		bad, err := kopokopo.New(kopokopo.Config{BaseURL: e.client.BaseURL(), ClientID: testClientID, ClientSecret: "wrong-" + testClientSecret})
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.Poll(ctx, hour)
		var apiErr *apiclient.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || !strings.Contains(apiErr.Message, "Client authentication failed") {
			t.Fatalf("error = %v, want a 401 APIError with the API's message", err)
		}
		if apiErr.Provider != "kopokopo" || apiErr.Code != "invalid_client" || apiErr.Path != "/oauth/token" {
			t.Errorf("APIError %+v, want kopokopo's invalid_client at /oauth/token", apiErr)
		}
		if strings.Contains(err.Error(), testClientSecret) || strings.Contains(err.Error(), testClientID) {
			t.Errorf("error %q reveals a credential", err)
		}
		if n := e.reqs.count("/oauth/token"); n != 1 {
			t.Errorf("%d token requests, want 1: a 4xx is not retried", n)
		}
	})
	t.Run("4xx not retried", func(t *testing.T) {
		e := setup(t, kopokopo.SimConfig{}, kopokopo.Config{})
		_, err := e.client.Poll(ctx, kopokopo.PollRequest{Scope: "till", ScopeReference: "999999", From: day0, To: day0.Add(time.Hour)})
		var apiErr *apiclient.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Message != "Invalid scope reference" {
			t.Fatalf("error = %v, want 400 Invalid scope reference", err)
		}
		if n := e.reqs.count("/api/v1/polling"); n != 1 {
			t.Errorf("%d polling requests, want 1", n)
		}
	})
	t.Run("429 honours Retry-After then gives up", func(t *testing.T) {
		e := setup(t, kopokopo.SimConfig{Faults: sources.Faults{TooManyRequests: 1, RetryAfter: 1}}, kopokopo.Config{Retry: sources.RetryPolicy{MaxRetries: 1}})
		start := time.Now()
		_, err := e.client.Poll(ctx, hour)
		var apiErr *apiclient.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests {
			t.Fatalf("error = %v, want 429", err)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("gave up after %s, want the 1 s Retry-After honoured", d)
		}
		if n := e.reqs.count("/oauth/token"); n != 2 {
			t.Errorf("%d token requests, want 2 (first try and one retry)", n)
		}
	})
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  kopokopo.Config
		want string
	}{
		{kopokopo.Config{ClientSecret: "s"}, "K2_CLIENT_ID"},
		{kopokopo.Config{ClientID: "i"}, "K2_CLIENT_SECRET"},
		{kopokopo.Config{ClientID: "i", ClientSecret: "s", APIVersion: "v3"}, "want v1 or v2"},
		{kopokopo.Config{ClientID: "i", ClientSecret: "s", BaseURL: "sandbox.kopokopo.com"}, "want http(s)://host"},
	}
	for _, tt := range tests {
		if _, err := kopokopo.New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) error = %v, want containing %q", tt.cfg, err, tt.want)
		}
	}
	c, err := kopokopo.New(kopokopo.Config{ClientID: "i", ClientSecret: "s"})
	if err != nil || c.BaseURL() != kopokopo.DefaultBaseURL {
		t.Errorf("defaults: %v, base %q", err, c.BaseURL())
	}
}

// TestClientRetriesTransientFailures: 5xx answers and 429s are retried until
// the request goes through; a 429's Retry-After is waited out.
func TestClientRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int    // answered instead of the simulator's response
		retryAfter string // Retry-After header sent with it
		failures   int    // how many polling POSTs fail
		minWait    time.Duration
	}{
		{name: "500 twice", status: http.StatusInternalServerError, failures: 2},
		{name: "502 twice", status: http.StatusBadGateway, failures: 2},
		{name: "503 with Retry-After", status: http.StatusServiceUnavailable, retryAfter: "1", failures: 1, minWait: time.Second},
		{name: "429 with Retry-After", status: http.StatusTooManyRequests, retryAfter: "1", failures: 1, minWait: time.Second},
		{name: "429 without Retry-After", status: http.StatusTooManyRequests, failures: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, kopokopo.SimConfig{Seed: 2}, kopokopo.Config{})
			var failed atomic.Int32
			e.reqs.mu.Lock()
			e.reqs.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodPost || r.URL.Path != "/api/v1/polling" || failed.Add(1) > int32(tt.failures) {
					return false
				}
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				fmt.Fprintf(w, `{"error_code": %d, "error_message": "Try again later."}`, tt.status)
				return true
			}
			e.reqs.mu.Unlock()
			start := time.Now()
			body, err := e.client.Poll(context.Background(), kopokopo.PollRequest{Scope: "company", From: day0, To: day0.Add(2 * time.Hour)})
			if err != nil {
				t.Fatalf("Poll after %d transient failures: %v", tt.failures, err)
			}
			if !strings.Contains(string(body), `"status":"Success"`) {
				t.Errorf("result %.200s is not final", body)
			}
			if got := e.reqs.count("/api/v1/polling") - 2; got != tt.failures+1 { // minus the two result reads
				t.Errorf("%d polling POSTs, want %d failed and 1 through", got, tt.failures)
			}
			if d := time.Since(start); d < tt.minWait {
				t.Errorf("retried after %s, want the Retry-After of %s honoured", d, tt.minWait)
			}
			if !strings.Contains(e.logs.String(), "retrying") {
				t.Error("retries were not logged")
			}
		})
	}
}

// stamper records when each request leaves the client.
type stamper struct {
	mu    sync.Mutex
	times []time.Time
}

func (s *stamper) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestClientRateLimit: no more requests leave the client than its rate
// limit allows, token requests included, however many goroutines poll.
func TestClientRateLimit(t *testing.T) {
	t.Parallel()
	const perSecond = 40
	e := setup(t, kopokopo.SimConfig{Seed: 4, PerHour: -1}, kopokopo.Config{})
	sent := &stamper{}
	client, err := kopokopo.New(kopokopo.Config{
		BaseURL: e.client.BaseURL(), ClientID: testClientID, ClientSecret: testClientSecret,
		RateLimit: perSecond, Burst: 1, PollInterval: time.Millisecond, HTTPClient: &http.Client{Transport: sent},
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			from := day0.Add(time.Duration(i) * time.Hour)
			if _, err := client.Poll(context.Background(), kopokopo.PollRequest{Scope: "company", From: from, To: from.Add(time.Hour)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	times := slices.SortedFunc(slices.Values(sent.times), time.Time.Compare)
	// 1 token request and 4 × (create + 2 reads); burst 1 spaces them 25 ms apart.
	if len(times) != 13 || e.reqs.count("/") != 13 {
		t.Fatalf("%d requests sent, %d served, want 13", len(times), e.reqs.count("/"))
	}
	span := times[len(times)-1].Sub(times[0])
	if least := time.Duration(len(times)-1) * time.Second / perSecond; span < least*9/10 {
		t.Errorf("%d requests within %s, want at least %s at %d/s", len(times), span, least, perSecond)
	}
	// No 250 ms holds more than the rate allows, plus the burst and one for
	// scheduling jitter.
	const window = 250 * time.Millisecond
	most := int(perSecond*window/time.Second) + 1 + 1
	for i := range times {
		n := 0
		for _, u := range times[i:] {
			if u.Sub(times[i]) < window {
				n++
			}
		}
		if n > most {
			t.Errorf("%d requests within %s from request %d, want at most %d", n, window, i, most)
		}
	}
}

// TestClientSecretsNeverLeak: the client secret and the access tokens the
// simulator issued appear in no log line and no error, even when requests
// fail and are retried or refused.
func TestClientSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	e := setup(t, kopokopo.SimConfig{Seed: 6, Faults: sources.Faults{TooManyRequests: 0.2, ServerError: 0.2, Malformed: 0.3}}, kopokopo.Config{})
	var (
		mu     sync.Mutex
		tokens []string
	)
	e.reqs.mu.Lock()
	e.reqs.hook = func(_ http.ResponseWriter, r *http.Request) bool {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			mu.Lock()
			tokens = append(tokens, tok)
			mu.Unlock()
		}
		return false
	}
	e.reqs.mu.Unlock()
	ctx := context.Background()
	var errs []string
	for i := range 6 {
		from := day0.Add(time.Duration(i) * time.Hour)
		if i == 3 {
			e.sim.ExpireTokens() // a 401, a fresh token
		}
		if _, err := e.client.Poll(ctx, kopokopo.PollRequest{Scope: "company", From: from, To: from.Add(time.Hour)}); err != nil {
			errs = append(errs, err.Error())
		}
	}
	// Refusals: an unknown till, wrong credentials.
	if _, err := e.client.Poll(ctx, kopokopo.PollRequest{Scope: "till", ScopeReference: "999999", From: day0, To: day0.Add(time.Hour)}); err != nil {
		errs = append(errs, err.Error())
	} else {
		t.Error("polling an unknown till succeeded")
	}
	bad, err := kopokopo.New(kopokopo.Config{BaseURL: e.client.BaseURL(), ClientID: testClientID, ClientSecret: testClientSecret + "-wrong",
		Retry: sources.RetryPolicy{Base: time.Millisecond, Max: 5 * time.Millisecond}, Logger: slog.New(slog.NewJSONHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Poll(ctx, kopokopo.PollRequest{Scope: "company", From: day0, To: day0.Add(time.Hour)}); err != nil {
		errs = append(errs, err.Error())
	} else {
		t.Error("wrong credentials were accepted")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(tokens) < 2 {
		t.Fatalf("%d bearer tokens seen, want at least 2 (one refreshed after expiry)", len(tokens))
	}
	secrets := append([]string{testClientSecret}, tokens...)
	logs := e.logs.String()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain a secret %.6s…", s)
		}
		for _, msg := range errs {
			if strings.Contains(msg, s) {
				t.Errorf("error %q contains a secret", msg)
			}
		}
	}
	if !strings.Contains(logs, "retrying") || !strings.Contains(logs, "fetching a new one") {
		t.Errorf("the faults and the expiry did not bite; logs:\n%s", logs)
	}
}
