package apiclient

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/mizani/reconcile/sources"
)

// fast is a retry policy that keeps tests quick.
var fast = sources.RetryPolicy{MaxRetries: 3, Base: time.Millisecond, Max: 5 * time.Millisecond}

// script answers each request with the next status of a list (then 200),
// recording what it was sent.
type script struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header
	seen     []*http.Request
	bodies   []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b bytes.Buffer
	b.ReadFrom(r.Body)
	s.seen = append(s.seen, r)
	s.bodies = append(s.bodies, b.String())
	status := http.StatusOK
	if len(s.statuses) > 0 {
		status, s.statuses = s.statuses[0], s.statuses[1:]
	}
	for k, v := range s.header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	w.Write([]byte(`{"status":` + strconv.Itoa(status) + `}`))
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	cfg.Provider = "testpay"
	if cfg.Retry == (sources.RetryPolicy{}) {
		cfg.Retry = fast
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = rate.Inf
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		statuses  []int
		wantCalls int
		wantErr   int // the APIError status, 0 for success
	}{
		{"200 at once", nil, 1, 0},
		{"429 then 200", []int{429}, 2, 0},
		{"500, 502, 503 then 200", []int{500, 502, 503}, 4, 0},
		{"5xx past the retries", []int{500, 500, 500, 500, 500}, 4, 500},
		{"400 is not retried", []int{400}, 1, 400},
		{"404 is not retried", []int{404}, 1, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &script{statuses: tt.statuses}
			srv := httptest.NewServer(s)
			defer srv.Close()
			c := newClient(t, Config{})
			resp, err := c.Do(context.Background(), Request{Method: http.MethodPost, URL: srv.URL + "/pay", Body: []byte(`{"a":1}`)})
			if got := s.count(); got != tt.wantCalls {
				t.Errorf("%d requests sent, want %d", got, tt.wantCalls)
			}
			var ae *APIError
			switch {
			case tt.wantErr == 0 && err != nil:
				t.Errorf("Do: %v", err)
			case tt.wantErr != 0 && (!errors.As(err, &ae) || ae.Status != tt.wantErr || resp == nil):
				t.Errorf("Do = %v, want an APIError %d with the response", err, tt.wantErr)
			}
			for i, b := range s.bodies {
				if b != `{"a":1}` {
					t.Errorf("attempt %d sent body %q", i+1, b)
				}
			}
		})
	}
}

// TestRetryableHook: a 200 whose body carries the provider's "try again"
// code is retried (iKhokha's responseCode 91).
func TestRetryableHook(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) < 3 {
			w.Write([]byte(`{"responseCode":"91"}`))
			return
		}
		w.Write([]byte(`{"responseCode":"00"}`))
	}))
	defer srv.Close()
	c := newClient(t, Config{Retryable: func(_ *http.Response, body []byte) bool { return bytes.Contains(body, []byte(`"91"`)) }})
	resp, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL})
	if err != nil || n.Load() != 3 || !bytes.Contains(resp.Body, []byte(`"00"`)) {
		t.Errorf("Do after two code-91 answers: %v, %d calls, %s", err, n.Load(), resp.Body)
	}
}

// TestRetryAfter: a 429's Retry-After is waited for, in seconds or as a date.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0}, {"0", 0}, {"2", 2 * time.Second}, {"abc", 0}, {"999999", MaxRetryAfter},
		{time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat), 3 * time.Second},
	}
	for _, tt := range tests {
		got := RetryAfter(http.Header{"Retry-After": {tt.value}})
		if d := got - tt.want; d < -time.Second || d > time.Second {
			t.Errorf("RetryAfter(%q) = %s, want about %s", tt.value, got, tt.want)
		}
	}

	s := &script{statuses: []int{429}, header: http.Header{"Retry-After": {"1"}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newClient(t, Config{})
	start := time.Now()
	if _, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("retried after %s, want at least the 1 s Retry-After", waited)
	}
}

// TestTokenRefreshedOnce: the token is fetched once and cached; a 401
// fetches a new one and retries once; a second 401 is the caller's error.
func TestTokenRefreshedOnce(t *testing.T) {
	t.Parallel()
	var fetches atomic.Int32
	tokens := &TokenCache{Fetch: func(context.Context) (string, time.Duration, error) {
		return "tok-" + strconv.Itoa(int(fetches.Add(1))), time.Hour, nil
	}}
	var mu sync.Mutex
	var auths []string
	refuse := map[string]bool{"tok-1": true}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		a := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		auths = append(auths, a)
		if refuse[a] || r.URL.Path == "/always401" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}))
	defer srv.Close()
	c := newClient(t, Config{})
	for range 2 {
		if _, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL + "/x", Token: tokens}); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(auths, ","); got != "tok-1,tok-2,tok-2" || fetches.Load() != 2 {
		t.Errorf("tokens sent %s after %d fetches; want tok-1 refused, tok-2 fetched once and reused", got, fetches.Load())
	}
	_, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL + "/always401", Token: tokens})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || fetches.Load() != 3 {
		t.Errorf("a second 401: %v after %d fetches, want the 401 after one refresh", err, fetches.Load())
	}
}

// TestRateLimit: requests never go faster than the limit.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	s := &script{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newClient(t, Config{RateLimit: 20, Burst: 1})
	start := time.Now()
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() { c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL}) })
	}
	wg.Wait()
	if took := time.Since(start); took < 240*time.Millisecond {
		t.Errorf("6 requests at 20/s took %s, want at least 250 ms", took)
	}
}

// TestSecretsStayOut: neither a key in the query string nor a header value
// reaches an error or a log line.
func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	const secret = "sk_live_NEVER_PRINTED"
	var logs bytes.Buffer
	c := newClient(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	_, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL + "/pay-ins?key=" + secret,
		Header: http.Header{"Authorization": {"Bearer " + secret}}})
	if err == nil {
		t.Fatal("a 500 past every retry gave no error")
	}
	// A connection refused carries the URL in a *url.Error.
	_, err2 := c.Do(context.Background(), Request{Method: http.MethodGet, URL: "http://127.0.0.1:1/x?key=" + secret})
	for _, text := range []string{err.Error(), err2.Error(), logs.String()} {
		if strings.Contains(text, secret) {
			t.Errorf("secret leaked: %s", text)
		}
	}
	if !strings.Contains(err.Error(), "testpay: GET /pay-ins: HTTP 500") {
		t.Errorf("error %q does not name the provider, method, path and status", err)
	}
}

// TestContextCancelStopsRetries: a cancelled context ends the backoff.
func TestContextCancelStopsRetries(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	c := newClient(t, Config{Retry: sources.RetryPolicy{MaxRetries: 50, Base: time.Second, Max: time.Second}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Do(ctx, Request{Method: http.MethodGet, URL: srv.URL}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Do = %v, want the context's deadline", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("retries went on after the context ended")
	}
}

// TestBackoffBounds: the jittered wait never exceeds its ceiling.
func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	p := sources.RetryPolicy{Base: 10 * time.Millisecond, Max: 80 * time.Millisecond}.WithDefaults()
	for attempt := range 40 {
		ceil := min(p.Base<<min(attempt, 30), p.Max)
		for range 50 {
			if d := p.Backoff(attempt); d < 0 || d > ceil {
				t.Fatalf("Backoff(%d) = %s, outside [0, %s]", attempt, d, ceil)
			}
		}
	}
}
