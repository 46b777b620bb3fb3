package sourcetest

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Timeouts are checked with a client whose HTTPClient gives up after
// clientTimeout, against responses held back lateBy (the simulator's own
// Faults.Latency, or a proxy holding back the first response and one in
// lateEvery after it).
const (
	clientTimeout = 150 * time.Millisecond
	lateBy        = 600 * time.Millisecond
	lateEvery     = 3
)

// testTimeouts: a provider that answers after the client has given up.
//   - Every response late (Faults.Latency beyond the client's timeout): a
//     pull or a check is retried, then fails with an error that says it
//     timed out, within a bounded time, and stores nothing.
//   - The first response and one in three after it late, after the
//     simulator did the work: each is retried transparently, the records
//     are those planted, and the store holds as many payloads and history
//     rows as the same pull or checks with a prompt client store: nothing
//     twice.
func testTimeouts(t *testing.T, h Harness) {
	if h.Provider.History == nil && h.Provider.Status == nil {
		lacks(t, h, "neither history nor status checks")
		return
	}
	t.Run("every response late", func(t *testing.T) {
		t.Parallel()
		env := start(t, h, options{faults: sources.Faults{Latency: lateBy}})
		hist, status := timedClients(t, h, env, env.URL, sources.RetryPolicy{MaxRetries: 2, Base: 2 * time.Millisecond, Max: 10 * time.Millisecond})
		w := reconcile.Window{From: base, To: base.Add(6 * time.Hour)}
		// Bounded: three attempts of every request up to the first that
		// fails, each cut at the client's timeout.
		bound := 10 * time.Second
		if hist != nil {
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			defer cancel()
			start := time.Now()
			_, err := hist.Pull(ctx, w, env.Store)
			took := time.Since(start)
			if err == nil {
				t.Fatal("a pull whose every response came after the client's timeout succeeded")
			}
			if ctx.Err() != nil {
				t.Fatalf("the pull was still retrying after %s: %v", bound, err)
			}
			if !saysTimedOut(err) {
				t.Errorf("the pull's error %q does not say the provider timed out", err)
			}
			t.Logf("history pull, every response %s late, client timeout %s: failed after %s: %v", lateBy, clientTimeout, took.Round(time.Millisecond), err)
		}
		if status != nil && h.Refs != nil {
			refs := h.Refs(t, env, w)
			if len(refs) == 0 {
				t.Fatal("the simulator has no references in 6 hours; the test proves nothing")
			}
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			defer cancel()
			_, err := status.Check(ctx, refs[0], env.Store)
			if err == nil {
				t.Fatalf("a check of %s whose every response came after the client's timeout succeeded", refs[0])
			}
			if ctx.Err() != nil {
				t.Fatalf("the check was still retrying after %s: %v", bound, err)
			}
			if !saysTimedOut(err) {
				t.Errorf("the check's error %q does not say the provider timed out", err)
			}
		}
		if n := payloads(t, env); n != 0 {
			t.Errorf("requests that all timed out stored %d payloads", n)
		}
		if got := stored(t, env); len(got) != 0 {
			t.Errorf("requests that all timed out stored %d records", len(got))
		}
	})
	t.Run("some responses late", func(t *testing.T) {
		t.Parallel()
		if h.Provider.History == nil {
			lacks(t, h, "no history")
			return
		}
		env := start(t, h, options{})
		proxyURL, late, requests := lateProxy(t, h, env)
		hist, _ := timedClients(t, h, env, proxyURL, lateRetry)
		w := reconcile.Window{From: base, To: base.Add(12 * time.Hour)}
		want := h.Expected(t, env, w, reconcile.SourcePoll)
		if len(want) == 0 {
			t.Fatal("the simulator serves no transactions in 12 hours; the test proves nothing")
		}
		var err error
		for range 5 { // a failed pull leaves its chunk incomplete: pull again
			if _, err = hist.Pull(context.Background(), w, env.Store); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("pull with one response in %d late: %v", lateEvery, err)
		}
		if late.Load() == 0 {
			t.Fatalf("no response was held back (%d requests): the test proves nothing", requests.Load())
		}
		if d := diff(stored(t, env), want); d != "" {
			t.Fatalf("pull with %d of %d responses late:\n%s", late.Load(), requests.Load(), d)
		}
		t.Logf("history pull: %d of %d responses held back %s past a %s client timeout; records as planted", late.Load(), requests.Load(), lateBy, clientTimeout)
		// The same pull, prompt, from the same simulator in a store of its
		// own: what it stores, the late pull must store, no more.
		ref := start(t, h, options{})
		pullAll(t, ref, w)
		sameContents(t, env, ref)
	})
	t.Run("some status responses late", func(t *testing.T) {
		t.Parallel()
		if h.Provider.Status == nil || h.Refs == nil {
			lacks(t, h, "no status checks")
			return
		}
		env := start(t, h, options{})
		proxyURL, late, requests := lateProxy(t, h, env)
		_, status := timedClients(t, h, env, proxyURL, lateRetry)
		w := reconcile.Window{From: base, To: base.Add(6 * time.Hour)}
		refs := h.Refs(t, env, w)
		if len(refs) == 0 {
			t.Fatal("the simulator has no references in 6 hours; the test proves nothing")
		}
		for _, ref := range refs {
			if _, err := status.Check(context.Background(), ref, env.Store); err != nil {
				t.Fatalf("Check(%s) with one response in %d late: %v", ref, lateEvery, err)
			}
		}
		if late.Load() == 0 {
			t.Fatal("no status response was held back: the test proves nothing")
		}
		if d := diff(stored(t, env), h.Expected(t, env, w, reconcile.SourceStatus)); d != "" {
			t.Fatalf("after checking %d references with %d of %d responses late:\n%s", len(refs), late.Load(), requests.Load(), d)
		}
		t.Logf("status checks of %d references: %d of %d responses held back; records as planted", len(refs), late.Load(), requests.Load())
		ref := start(t, h, options{})
		checkAll(t, ref, h.Refs(t, ref, w))
		sameContents(t, env, ref)
	})
}

// lateRetry is the retry policy of the clients facing late responses.
var lateRetry = sources.RetryPolicy{MaxRetries: 10, Base: 2 * time.Millisecond, Max: 20 * time.Millisecond}

// lateProxy serves env's simulator, mounted as the suite mounts it, and
// holds back the first response and every lateEvery-th after it until the
// client has given up on it: the simulator has done the request's work, the
// client never hears of it. It returns the base URL to give the client and
// the counts of late and of all responses.
func lateProxy(t *testing.T, h Harness, env *Env) (string, *atomic.Int64, *atomic.Int64) {
	t.Helper()
	prefix := "/" + string(h.Provider.Name)
	var requests, late atomic.Int64
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = sources.WithOriginalPath(r, r.URL.EscapedPath())
		rec := httptest.NewRecorder()
		http.StripPrefix(prefix, env.Sim).ServeHTTP(rec, r)
		if requests.Add(1)%lateEvery == 1 {
			late.Add(1)
			select {
			case <-time.After(lateBy):
			case <-r.Context().Done():
				return // the client gave up: it never sees the answer
			}
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	proxy := httptest.NewServer(mux)
	t.Cleanup(proxy.Close)
	return proxy.URL + prefix, &late, &requests
}

// sameContents checks that env's store holds as many payloads and history
// rows as ref's, which did the same with a prompt client: a response lost
// to a timeout and retried was not stored twice.
func sameContents(t *testing.T, env, ref *Env) {
	t.Helper()
	history := func(e *Env) int {
		var n int
		if err := e.Store.DB().GetContext(context.Background(), &n, "SELECT count(*) FROM record_history"); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if d := diff(stored(t, env), stored(t, ref)); d != "" {
		t.Errorf("records differ from those a prompt client stores:\n%s", d)
	}
	if p, rp, hr, rh := payloads(t, env), payloads(t, ref), history(env), history(ref); p != rp || hr != rh {
		t.Errorf("with late responses: %d payloads and %d history rows; a prompt client stores %d and %d: something was stored twice", p, hr, rp, rh)
	}
}

// timedClients builds the registration's puller and checker for the
// simulator at baseURL with an HTTP client that gives up after
// clientTimeout.
func timedClients(t *testing.T, h Harness, env *Env, baseURL string, retry sources.RetryPolicy) (sources.Puller, sources.StatusChecker) {
	t.Helper()
	vars := env.Sim.ClientEnv(baseURL)
	maps.Copy(vars, h.Config)
	cfg := h.Provider.ConfigFrom(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	copts := sources.ClientOptions{
		RateLimit:  500,
		Burst:      50,
		HTTPClient: &http.Client{Timeout: clientTimeout},
		Retry:      retry,
	}
	var (
		hist   sources.Puller
		status sources.StatusChecker
		err    error
	)
	if h.Provider.History != nil {
		if hist, err = h.Provider.History(cfg, copts); err != nil {
			t.Fatalf("history puller: %v", err)
		}
	}
	if h.Provider.Status != nil {
		if status, err = h.Provider.Status(cfg, copts); err != nil {
			t.Fatalf("status checker: %v", err)
		}
	}
	return hist, status
}

// saysTimedOut reports whether err tells the reader the provider did not
// answer in time.
func saysTimedOut(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "timeout") || strings.Contains(s, "timed out") || strings.Contains(s, "deadline exceeded")
}
