// Package webhook receives provider webhooks and callbacks over HTTP: it
// verifies the signature on the raw body, parses it with the provider's
// parser and stores payload and records in one transaction before answering.
package webhook

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// DefaultMaxBody is the largest body accepted (1 MiB, SPEC §12).
const DefaultMaxBody = 1 << 20

// Provider is what the receiver needs from one provider adapter.
type Provider struct {
	Parser   sources.Parser
	Verifier sources.Verifier
}

// Config configures a Handler.
type Config struct {
	// Providers are served at POST /webhooks/{provider}; others get 404.
	Providers map[reconcile.Provider]Provider
	// Unconfigured names providers Mizani knows but cannot verify for want
	// of credentials, each with the message to answer: their deliveries get
	// 503 (the provider retries once the key is set), not 404, and nothing is
	// stored. A provider in Providers is served whatever this says.
	Unconfigured map[reconcile.Provider]string
	// Sink stores what was received; Save must return only after commit.
	Sink sources.Sink
	// Logger receives one line per delivery, never the body or signature.
	Logger *slog.Logger
	// Registerer receives the metrics; nil means none are exported.
	Registerer prometheus.Registerer
	// MaxBody is the body limit in bytes; 0 means DefaultMaxBody.
	MaxBody int64

	// Group commit, when Sink is a GroupSink: Committers goroutines
	// (0: DefaultCommitters; negative: no group commit, each delivery saved
	// on its own) each store up to MaxGroup queued deliveries (0:
	// DefaultMaxGroup) in one transaction. At most Queue deliveries wait
	// (0: DefaultQueue); one that finds no room within QueueWait (0:
	// DefaultQueueWait) is shed with 503 and Retry-After, nothing stored.
	Committers int
	MaxGroup   int
	Queue      int
	QueueWait  time.Duration
}

// Handler serves POST /webhooks/{provider}. Register it with that pattern on
// an http.ServeMux so that PathValue("provider") is set.
type Handler struct {
	cfg      Config
	group    *committer // nil: no group commit
	received *prometheus.CounterVec
	refused  *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	groups   prometheus.Histogram
}

// New returns a Handler, registering its metrics:
// mizani_webhooks_received_total{provider,outcome} (stored, duplicate),
// mizani_webhooks_refused_total{provider,reason} (overloaded: shed with
// 503), mizani_webhook_ingest_seconds{provider} and
// mizani_webhook_commit_group_size (deliveries a commit stored).
func New(cfg Config) (*Handler, error) {
	if cfg.Sink == nil {
		return nil, errors.New("webhook: no sink")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	h := &Handler{
		cfg: cfg,
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mizani_webhooks_received_total", Help: "Webhooks verified and stored, by provider and outcome (stored, duplicate).",
		}, []string{"provider", "outcome"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mizani_webhooks_refused_total", Help: "Webhooks refused, by provider and reason.",
		}, []string{"provider", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mizani_webhook_ingest_seconds", Help: "Time from request to durable commit of accepted webhooks.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"provider"}),
		groups: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "mizani_webhook_commit_group_size", Help: "Deliveries stored by one commit (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9),
		}),
	}
	if gs, ok := cfg.Sink.(GroupSink); ok && cfg.Committers >= 0 {
		h.group = &committer{
			sink: gs, workers: cmp.Or(cfg.Committers, DefaultCommitters), maxGroup: cmp.Or(cfg.MaxGroup, DefaultMaxGroup),
			queue: make(chan *delivery, cmp.Or(cfg.Queue, DefaultQueue)), wait: cmp.Or(cfg.QueueWait, DefaultQueueWait),
			quit: make(chan struct{}), observe: func(n int) { h.groups.Observe(float64(n)) },
		}
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{h.received, h.refused, h.latency, h.groups} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

// ServeHTTP verifies, parses and stores one delivery. It answers 200 only
// after commit (also for a duplicate, stored once), 401 for a missing or bad
// signature, 400 for a malformed payload (also one the store cannot hold), 404 for an unknown provider, 503
// for a known provider whose credentials are not configured or when more
// deliveries arrive than the store keeps up with (with Retry-After; nothing
// is stored), 413 beyond the body limit and 500 when the store fails, so the
// provider retries. Concurrent deliveries are group-committed (see
// GroupSink): each is answered after the commit that stored it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name := r.PathValue("provider")
	p, ok := h.cfg.Providers[reconcile.Provider(name)]
	if !ok {
		if msg, known := h.cfg.Unconfigured[reconcile.Provider(name)]; known {
			h.refuse(w, name, "not_configured", http.StatusServiceUnavailable, msg)
			return
		}
		h.refuse(w, "unknown", "unknown_provider", http.StatusNotFound, "unknown provider "+name)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.refuse(w, name, "too_large", http.StatusRequestEntityTooLarge, "body larger than the limit")
			return
		}
		h.refuse(w, name, "read_error", http.StatusBadRequest, "reading body failed")
		return
	}
	req := sources.Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header, Body: body}
	if err := p.Verifier.Verify(req); err != nil {
		reason := "bad_signature"
		if errors.Is(err, sources.ErrNotSigned) {
			reason = "not_signed"
		}
		h.refuse(w, name, reason, http.StatusUnauthorized, err.Error())
		return
	}
	payload, records, err := p.Parser.Parse(body, reconcile.SourceWebhook)
	if err != nil {
		h.refuse(w, name, "malformed", http.StatusBadRequest, err.Error())
		return
	}
	payload.ReceivedAt = start
	var dup bool
	if h.group != nil {
		d := &delivery{payload: payload, records: records, done: make(chan outcome, 1)}
		if !h.group.submit(r.Context(), d) {
			// Beyond capacity: nothing stored, the provider retries later.
			w.Header().Set("Retry-After", strconv.Itoa(DefaultRetryAfter))
			h.refuse(w, name, "overloaded", http.StatusServiceUnavailable, "too many deliveries at once, please retry later")
			return
		}
		o := <-d.done
		dup, err = o.dup, o.err
	} else {
		dup, err = h.cfg.Sink.Save(r.Context(), payload, records)
	}
	if errors.Is(err, sources.ErrMalformed) {
		// The store cannot hold what the payload says (a NUL character in
		// a transaction id): no retry would change that.
		h.refuse(w, name, "unstorable", http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		h.cfg.Logger.Error("webhook not stored", "provider", name, "kind", payload.Kind, "dedup_key", payload.DedupKey, "err", err)
		h.refused.WithLabelValues(name, "store_error").Inc()
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "not stored, please retry"})
		return
	}
	outcome := "stored"
	if dup {
		outcome = "duplicate"
	}
	elapsed := time.Since(start)
	h.received.WithLabelValues(name, outcome).Inc()
	h.latency.WithLabelValues(name).Observe(elapsed.Seconds())
	h.cfg.Logger.Info("webhook "+outcome, "provider", name, "kind", payload.Kind, "dedup_key", payload.DedupKey,
		"records", len(records), "duration", elapsed)
	writeJSON(w, http.StatusOK, map[string]string{"status": outcome})
}

// Close stops the group committers once every queued delivery is stored and
// answered; deliveries after it are shed with 503. Call it after the HTTP
// server has shut down.
func (h *Handler) Close() {
	if h.group != nil {
		h.group.close()
	}
}

// refuse answers an error with a JSON body, counts and logs it. msg never
// holds the body or the signature.
func (h *Handler) refuse(w http.ResponseWriter, provider, reason string, code int, msg string) {
	h.refused.WithLabelValues(provider, reason).Inc()
	h.cfg.Logger.Warn("webhook refused", "provider", provider, "reason", reason, "status", code, "err", msg)
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
