// Package apiclient is the HTTP plumbing every provider client shares:
// a client-side rate limit, retries with exponential backoff and full jitter
// on 429, 5xx, timeouts and dropped connections (honouring Retry-After), a
// token cache refreshed once on 401, and an API error type carrying the
// provider's own code and message. Credentials never reach an error or a log
// line: errors name the method and the URL path, never headers or bodies.
package apiclient

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/mizani/reconcile/sources"
)

// MaxRetryAfter caps the wait a 429's Retry-After header may ask for.
const MaxRetryAfter = 5 * time.Minute

// maxResponse bounds one response body.
const maxResponse = 64 << 20

// Config configures a Client. Provider is required.
type Config struct {
	// Provider names the provider in errors and logs ("kopokopo").
	Provider string
	// HTTPClient sends the requests. Default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// RateLimit is the most requests per second, token requests included;
	// Burst how many may go at once. Defaults 5 and 1.
	RateLimit rate.Limit
	Burst     int
	// Retry is the retry policy.
	Retry sources.RetryPolicy
	// Retryable, when set, says whether a response that is not a 429 or a
	// 5xx should be retried too (iKhokha's responseCode 91 "retry").
	Retryable func(resp *http.Response, body []byte) bool
	// Logger receives retries and token refreshes. Default: discard.
	Logger *slog.Logger
}

// Client sends requests to one provider's API. It is safe for concurrent use.
type Client struct {
	cfg     Config
	limiter *rate.Limiter
	logger  *slog.Logger
}

// New fills in cfg's defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Provider == "" {
		return nil, errors.New("apiclient: Provider is required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.RateLimit < 0 || cfg.Burst < 0 || cfg.Retry.MaxRetries < 0 {
		return nil, fmt.Errorf("%s: rate limit, burst and retries must not be negative", cfg.Provider)
	}
	cfg.RateLimit = cmp.Or(cfg.RateLimit, 5)
	cfg.Burst = cmp.Or(cfg.Burst, 1)
	cfg.Retry = cfg.Retry.WithDefaults()
	return &Client{
		cfg:     cfg,
		limiter: rate.NewLimiter(cfg.RateLimit, cfg.Burst),
		logger:  cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
	}, nil
}

// Request is one API request.
type Request struct {
	Method string
	// URL is the absolute URL.
	URL string
	// Body is sent as is (nil: no body).
	Body []byte
	// Header is set on the request; Sign, when set, is called on every
	// attempt, after Header, to add a signature or a fresh token.
	Header http.Header
	Sign   func(ctx context.Context, req *http.Request, body []byte) error
	// Token, when set, supplies a bearer token: it is cached, and a 401 asks
	// for a new one once and retries.
	Token *TokenCache
	// Accept lists extra success statuses besides 2xx (a 404 a caller reads
	// as "not found", say).
	Accept []int
}

// Response is an API response with its whole body read.
type Response struct {
	*http.Response
	Body []byte
}

// Do sends req: rate-limited, retried on 429, 5xx, timeouts and dropped
// connections with backoff and jitter (a 429's Retry-After honoured up to
// MaxRetryAfter), with a fresh token once after a 401. A response that is
// neither 2xx nor in req.Accept is returned as an *APIError (with the
// response, so callers may read the provider's own code).
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	refreshed := false
	for attempt := 0; ; attempt++ {
		var tok string
		if req.Token != nil {
			var err error
			if tok, err = req.Token.Get(ctx); err != nil {
				return nil, err
			}
		}
		resp, err := c.send(ctx, req, tok)
		if err == nil && resp.StatusCode == http.StatusUnauthorized && req.Token != nil && !refreshed {
			refreshed = true
			req.Token.Invalidate(tok)
			c.logger.InfoContext(ctx, c.cfg.Provider+" access token refused; fetching a new one", "path", pathOf(req.URL))
			attempt--
			continue
		}
		if retry, wait := c.shouldRetry(ctx, attempt, resp, err); retry {
			c.logger.WarnContext(ctx, c.cfg.Provider+" request failed; retrying",
				"method", req.Method, "path", pathOf(req.URL), "attempt", attempt+1, "wait", wait.String(), "err", describe(resp, err))
			if err := Sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("%s: %s %s: %w", c.cfg.Provider, req.Method, pathOf(req.URL), err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", c.cfg.Provider, req.Method, pathOf(req.URL), scrub(err))
		}
		if resp.StatusCode/100 != 2 && !slices.Contains(req.Accept, resp.StatusCode) {
			return resp, &APIError{Provider: c.cfg.Provider, Method: req.Method, Path: pathOf(req.URL), Status: resp.StatusCode}
		}
		return resp, nil
	}
}

// send rate-limits and sends one attempt and reads the whole body.
func (c *Client) send(ctx context.Context, req Request, tok string) (*Response, error) {
	if err := c.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	var rd io.Reader
	if req.Body != nil {
		rd = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	if tok != "" {
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	if req.Sign != nil {
		if err := req.Sign(ctx, hr, req.Body); err != nil {
			return nil, err
		}
	}
	resp, err := c.cfg.HTTPClient.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	return &Response{Response: resp, Body: body}, nil
}

// shouldRetry decides whether attempt may be retried, and after how long.
func (c *Client) shouldRetry(ctx context.Context, attempt int, resp *Response, err error) (bool, time.Duration) {
	p := c.cfg.Retry
	if attempt >= p.MaxRetries || ctx.Err() != nil {
		return false, 0
	}
	if err != nil {
		return Transient(err), p.Backoff(attempt)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return true, max(p.Backoff(attempt), RetryAfter(resp.Header))
	case resp.StatusCode >= 500:
		return true, max(p.Backoff(attempt), RetryAfter(resp.Header))
	case c.cfg.Retryable != nil && c.cfg.Retryable(resp.Response, resp.Body):
		return true, p.Backoff(attempt)
	}
	return false, 0
}

// Transient reports whether err is a network error worth retrying: a
// timeout, a refused or reset connection, an unexpected EOF.
func Transient(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// RetryAfter reads a Retry-After header given in seconds or as an HTTP
// date, capped at MaxRetryAfter; 0 when absent or unreadable.
func RetryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return min(time.Duration(s)*time.Second, MaxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return min(d, MaxRetryAfter)
		}
	}
	return 0
}

// APIError is a response the API refused: a 4xx, or a 429/5xx after the
// retries ran out, or a 2xx whose body carries the provider's own error
// code. Code and Message are the provider's own words, when it sent them.
type APIError struct {
	Provider     string
	Method, Path string
	Status       int
	Code         string
	Message      string
}

// Error names the request, the status and the provider's code and message;
// never a credential, header or body.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s: %s %s: HTTP %d", e.Provider, e.Method, e.Path, e.Status)
	if e.Code != "" {
		msg += " code " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// TokenCache caches an access token until shortly before it expires. Fetch
// returns a new token and its lifetime (0: an hour).
type TokenCache struct {
	Fetch func(ctx context.Context) (token string, ttl time.Duration, err error)

	mu      sync.Mutex
	token   string
	expires time.Time
}

// Get returns the cached token, fetching a new one when there is none or it
// expires within a tenth of its lifetime (at most a minute).
func (t *TokenCache) Get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && time.Now().Before(t.expires) {
		return t.token, nil
	}
	tok, ttl, err := t.Fetch(ctx)
	if err != nil {
		return "", err
	}
	if tok == "" {
		return "", errors.New("token response has no access token")
	}
	ttl = cmp.Or(ttl, time.Hour)
	t.token, t.expires = tok, time.Now().Add(ttl-min(ttl/10, time.Minute))
	return t.token, nil
}

// Invalidate forgets tok if it is still the cached token.
func (t *TokenCache) Invalidate(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == tok {
		t.token = ""
	}
}

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pathOf is the path of a URL, for errors and logs: never its query, which
// may carry a key.
func pathOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Path
	}
	return "(unparsable URL)"
}

// scrub drops the URL from a *url.Error (it may carry a query with a key)
// and keeps the cause.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func describe(resp *Response, err error) string {
	if err != nil {
		return scrub(err).Error()
	}
	return resp.Status
}
