package sources

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/mizani/reconcile"
)

// Simulator is a provider's simulator as the sandbox mounts it (SPEC §8):
// an http.Handler serving the provider's API under the sandbox prefix
// (/kopokopo, /pixel, …) stripped.
type Simulator interface {
	http.Handler
	// ClientEnv returns the variables a client sets to talk to the
	// simulator served at baseURL (base URL and credentials, by name),
	// for the sandbox to print as exports and the demo to configure its
	// clients with.
	ClientEnv(baseURL string) map[string]string
	// Close stops background work (callbacks, webhooks).
	Close() error
}

// WebhookEmitter is a simulator that posts webhooks for the transactions of
// a window to SimOptions.WebhookURL (the sandbox's --webhook-url).
type WebhookEmitter interface {
	EmitWebhooks(ctx context.Context, w reconcile.Window) (int, error)
}

// SimOptions configures a simulator. The zero value is usable: data from
// seed 0, the documented sandbox credentials or those the environment sets.
type SimOptions struct {
	// Seed determines every generated transaction and injected fault.
	Seed int64
	// Quiet: no generated transactions, only Fixtures.
	Quiet bool
	// Fixtures are extra transactions to serve, in the provider's own JSONL
	// fixture format (one document per line), as the demo and tests plant them.
	Fixtures []byte
	// Env are the variables the simulator reads its credentials from,
	// overriding the environment (tests and the demo pin them).
	Env map[string]string
	// WebhookURL receives webhooks the simulator emits, signed.
	WebhookURL string
	// CallbackDelay is how long after a request its callback is posted
	// (0: the provider's default).
	CallbackDelay time.Duration
	// Faults are injected into the simulator's responses and callbacks.
	Faults Faults
	// Logger receives what the simulator does (nil: discard).
	Logger *slog.Logger
}

// Getenv returns o.Env[name] when set, else the process environment's.
func (o SimOptions) Getenv(name string) string {
	if v, ok := o.Env[name]; ok {
		return v
	}
	return os.Getenv(name)
}

// Faults makes a simulator misbehave, deterministically from its seed for a
// client that sends one request after another. Rates are probabilities per
// request in [0, 1].
type Faults struct {
	// Latency delays every API response.
	Latency time.Duration
	// TooManyRequests answers 429, with Retry-After: RetryAfter seconds when
	// RetryAfter is positive.
	TooManyRequests float64
	RetryAfter      int
	// ServerError answers 500.
	ServerError float64
	// Malformed cuts a successful response body in half.
	Malformed float64
	// DropCallbacks silently skips a callback or webhook.
	DropCallbacks float64
}

// Injector injects Faults. One injector serves one simulator; it is safe for
// concurrent use.
type Injector struct {
	f   Faults
	mu  sync.Mutex
	rng *rand.Rand
	// ErrorBody writes the provider's own error shape for a 429 or 500.
	errorBody func(w http.ResponseWriter, status int, msg string)
}

// NewInjector returns an injector for f drawing from seed. errorBody writes
// the provider's error document for a status and message; nil writes
// {"error": msg}.
func NewInjector(f Faults, seed int64, errorBody func(w http.ResponseWriter, status int, msg string)) *Injector {
	if errorBody == nil {
		errorBody = func(w http.ResponseWriter, status int, msg string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, "{\"error\":%q}\n", msg)
		}
	}
	return &Injector{f: f, rng: rand.New(rand.NewPCG(uint64(seed), 0xfa017)), errorBody: errorBody}
}

// Faults returns the faults injected.
func (in *Injector) Faults() Faults { return in.f }

// Chance draws from the fault stream: true with probability p.
func (in *Injector) Chance(p float64) bool {
	if p <= 0 {
		return false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rng.Float64() < p
}

// DropCallback reports whether the next callback or webhook is dropped.
func (in *Injector) DropCallback() bool { return in.Chance(in.f.DropCallbacks) }

// Inject applies latency and maybe answers 429 or 500; it reports whether
// it answered (the handler must then write nothing). done stops a latency
// wait early (the simulator is closing); it may be nil.
func (in *Injector) Inject(w http.ResponseWriter, r *http.Request, done <-chan struct{}) bool {
	if in.f.Latency > 0 {
		t := time.NewTimer(in.f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		case <-done:
			in.errorBody(w, http.StatusServiceUnavailable, "Simulator is shutting down")
			return true
		}
	}
	in.mu.Lock()
	roll := in.rng.Float64()
	in.mu.Unlock()
	switch {
	case roll < in.f.TooManyRequests:
		if in.f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(in.f.RetryAfter))
		}
		in.errorBody(w, http.StatusTooManyRequests, "Request threshold has been exceeded")
		return true
	case roll < in.f.TooManyRequests+in.f.ServerError:
		in.errorBody(w, http.StatusInternalServerError, "We had a problem with our server. Try again later.")
		return true
	}
	return false
}

// Middleware wraps next with Inject and, with probability Malformed, cuts a
// 2xx response body in half (as a proxy dropping the connection would).
func (in *Injector) Middleware(next http.Handler, done <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if in.Inject(w, r, done) {
			return
		}
		if !in.Chance(in.f.Malformed) {
			next.ServeHTTP(w, r)
			return
		}
		rec := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		body := rec.body.Bytes()
		if rec.status/100 == 2 {
			body = body[:len(body)/2]
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.status)
		w.Write(body)
	})
}

// bufferedWriter holds a response so the middleware can cut it.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(status int) {
	if !b.wrote {
		b.status, b.wrote = status, true
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}

// originalPathKey carries the request path as the client sent it, before the
// sandbox stripped its prefix.
type originalPathKey struct{}

// WithOriginalPath returns r carrying path as the path the client sent (the
// sandbox calls it before stripping /<provider>).
func WithOriginalPath(r *http.Request, path string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), originalPathKey{}, path))
}

// OriginalPath returns the URL path exactly as the client sent it: the one
// WithOriginalPath recorded, else r.URL.EscapedPath(). A simulator that
// checks a signature over the path (iKhokha) reads it here, so a client
// pointed at http://host/ikhokha signs /ikhokha/… and is accepted.
func OriginalPath(r *http.Request) string {
	if p, ok := r.Context().Value(originalPathKey{}).(string); ok {
		return p
	}
	return r.URL.EscapedPath()
}
