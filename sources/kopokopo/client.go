package kopokopo

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Environment variables the client (and the simulator) read (SPEC §9.1).
const (
	EnvBaseURL      = "K2_BASE_URL"
	EnvClientID     = "K2_CLIENT_ID"
	EnvClientSecret = "K2_CLIENT_SECRET"
	EnvAPIKey       = "K2_API_KEY"
	EnvAPIVersion   = "K2_API_VERSION"
	EnvCallbackURL  = "K2_CALLBACK_URL"
)

// maxRetryAfter caps the wait a 429's Retry-After header may ask for.
const maxRetryAfter = 5 * time.Minute

// DefaultBaseURL is the Kopo Kopo sandbox.
const DefaultBaseURL = "https://sandbox.kopokopo.com"

// Config configures a Client. ClientID and ClientSecret are required; every
// other field has a default.
type Config struct {
	// BaseURL is the API root, without the /api/vN part. Default DefaultBaseURL.
	BaseURL string
	// ClientID and ClientSecret are the OAuth application's credentials.
	ClientID     string
	ClientSecret string
	// APIVersion is the resource path version: "v1" as in the vendor
	// document, or "v2" as the vendor SDKs use since 2026. Default "v1".
	APIVersion string
	// CallbackURL is sent as _links.callback_url with polling requests; the
	// API requires one. One-shot pulls read the result from the Location
	// instead, so the default, http://localhost/webhooks/kopokopo, may go nowhere.
	CallbackURL string
	// HTTPClient sends the requests. Default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// RateLimit is the most requests per second sent to the API, token
	// requests included; Burst how many may go at once. Defaults 5 and 1.
	RateLimit rate.Limit
	Burst     int
	// MaxRetries is how often one request is retried after a 429, a 5xx, a
	// timeout or a connection error. Default 6.
	MaxRetries int
	// RetryBase and RetryMax bound the exponential backoff (with full
	// jitter) between retries. Defaults 500 ms and 30 s. A 429's
	// Retry-After, when longer, is honoured up to 5 minutes.
	RetryBase time.Duration
	RetryMax  time.Duration
	// PollInterval is the first wait before reading a polling result; it
	// doubles up to 10 s. PollTimeout is how long to wait for the result to
	// become final. Defaults 250 ms and 5 min.
	PollInterval time.Duration
	PollTimeout  time.Duration
	// Logger receives retries and token refreshes. Default: discard.
	Logger *slog.Logger
}

// ConfigFromEnv returns a Config filled from K2_BASE_URL, K2_CLIENT_ID,
// K2_CLIENT_SECRET, K2_API_VERSION and K2_CALLBACK_URL.
func ConfigFromEnv() Config {
	return Config{
		BaseURL:      os.Getenv(EnvBaseURL),
		ClientID:     os.Getenv(EnvClientID),
		ClientSecret: os.Getenv(EnvClientSecret),
		APIVersion:   os.Getenv(EnvAPIVersion),
		CallbackURL:  os.Getenv(EnvCallbackURL),
	}
}

// Client speaks the Kopo Kopo API: OAuth2 client credentials, polling, with
// rate limiting and retries. It is safe for concurrent use.
type Client struct {
	cfg     Config
	base    *url.URL
	limiter *rate.Limiter
	logger  *slog.Logger

	mu      sync.Mutex
	token   string
	expires time.Time
}

// New validates cfg, fills in defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	cfg.BaseURL = strings.TrimRight(cmp.Or(cfg.BaseURL, DefaultBaseURL), "/")
	cfg.APIVersion = cmp.Or(cfg.APIVersion, "v1")
	cfg.CallbackURL = cmp.Or(cfg.CallbackURL, "http://localhost/webhooks/kopokopo")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	cfg.RateLimit = cmp.Or(cfg.RateLimit, 5)
	cfg.Burst = cmp.Or(cfg.Burst, 1)
	cfg.MaxRetries = cmp.Or(cfg.MaxRetries, 6)
	cfg.RetryBase = cmp.Or(cfg.RetryBase, 500*time.Millisecond)
	cfg.RetryMax = cmp.Or(cfg.RetryMax, 30*time.Second)
	cfg.PollInterval = cmp.Or(cfg.PollInterval, 250*time.Millisecond)
	cfg.PollTimeout = cmp.Or(cfg.PollTimeout, 5*time.Minute)
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("kopokopo: base URL %q (%s): want http(s)://host[/prefix]", cfg.BaseURL, EnvBaseURL)
	}
	switch {
	case cfg.ClientID == "":
		return nil, fmt.Errorf("kopokopo: client id is empty (set %s)", EnvClientID)
	case cfg.ClientSecret == "":
		return nil, fmt.Errorf("kopokopo: client secret is empty (set %s)", EnvClientSecret)
	case cfg.APIVersion != "v1" && cfg.APIVersion != "v2":
		return nil, fmt.Errorf("kopokopo: API version %q (%s): want v1 or v2", cfg.APIVersion, EnvAPIVersion)
	case cfg.RateLimit < 0 || cfg.Burst < 0 || cfg.MaxRetries < 0:
		return nil, errors.New("kopokopo: rate limit, burst and retries must not be negative")
	}
	return &Client{
		cfg:     cfg,
		base:    base,
		limiter: rate.NewLimiter(cfg.RateLimit, cfg.Burst),
		logger:  logger,
	}, nil
}

// BaseURL returns the API root the client talks to.
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

// APIError is a response the API refused with a 4xx status (or a 429/5xx
// after the retries ran out). Message is the API's error_message, if any.
type APIError struct {
	Method, Path string
	Status       int
	Message      string
}

// Error names the request and the status, with Kopo Kopo's own message when
// it sent one; never a credential.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("kopokopo: %s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// PollRequest asks for the Buygoods transactions of a till or of the whole
// company between From and To.
type PollRequest struct {
	// Scope is "till" or "company"; ScopeReference is the till number when
	// Scope is "till".
	Scope          string
	ScopeReference string
	From, To       time.Time
}

// Poll creates a polling request, waits for its result to become final by
// reading the Location with backoff, and returns the result body exactly as
// the API sent it ({data: {id, type: "polling", attributes: {...}}}).
func (c *Client) Poll(ctx context.Context, pr PollRequest) ([]byte, error) {
	req := map[string]any{
		"scope":           pr.Scope,
		"scope_reference": pr.ScopeReference,
		"from_time":       pr.From.Format(time.RFC3339),
		"to_time":         pr.To.Format(time.RFC3339),
		"_links":          map[string]string{"callback_url": c.cfg.CallbackURL},
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("kopokopo: encoding polling request: %w", err)
	}
	path := c.base.JoinPath("api", c.cfg.APIVersion, "polling").String()
	resp, _, err := c.do(ctx, http.MethodPost, path, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("kopokopo: POST polling: HTTP %d, want 201 Created", resp.StatusCode)
	}
	loc, err := c.base.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return nil, errors.New("kopokopo: POST polling: 201 without a usable Location header")
	}
	return c.awaitResult(ctx, loc.String())
}

// awaitResult reads a polling result until its status is final. A result
// that does not decode is read again: GET is idempotent.
func (c *Client) awaitResult(ctx context.Context, location string) ([]byte, error) {
	deadline := time.Now().Add(c.cfg.PollTimeout)
	wait := c.cfg.PollInterval
	bad := 0
	for {
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("kopokopo: waiting for polling result: %w", err)
		}
		_, body, err := c.do(ctx, http.MethodGet, location, nil)
		if err != nil {
			return nil, err
		}
		var res struct {
			Data struct {
				Attributes struct {
					Status string `json:"status"`
				} `json:"attributes"`
			} `json:"data"`
		}
		status := ""
		if err := json.Unmarshal(body, &res); err != nil {
			bad++
			if bad > c.cfg.MaxRetries {
				return nil, fmt.Errorf("kopokopo: GET %s: result is not valid JSON after %d tries: %w", location, bad, err)
			}
			c.logger.WarnContext(ctx, "kopokopo polling result did not decode; reading it again", "url", location, "err", err)
		} else {
			status = res.Data.Attributes.Status
		}
		switch strings.ToLower(status) {
		case "success", "complete", "completed":
			return body, nil
		case "failed", "error":
			return nil, fmt.Errorf("kopokopo: polling request %s ended with status %q", location, status)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("kopokopo: polling request %s still %q after %s", location, status, c.cfg.PollTimeout)
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// do sends one authorized API request, refreshing the token once on 401 and
// retrying 429s, 5xx, timeouts and connection errors with backoff. It returns
// the response (body drained) and its body for any 2xx status.
func (c *Client) do(ctx context.Context, method, rawURL string, body []byte) (*http.Response, []byte, error) {
	refreshed := false
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return nil, nil, err
		}
		resp, respBody, err := c.send(ctx, method, rawURL, body, func(h http.Header) {
			h.Set("Authorization", "Bearer "+tok)
			h.Set("Accept", "application/json")
			if body != nil {
				h.Set("Content-Type", "application/json")
			}
		})
		if err == nil && resp.StatusCode == http.StatusUnauthorized && !refreshed {
			refreshed = true
			c.invalidate(tok)
			c.logger.InfoContext(ctx, "kopokopo access token refused; fetching a new one", "url", rawURL)
			attempt--
			continue
		}
		if retry, wait := c.shouldRetry(ctx, attempt, resp, err); retry {
			c.logger.WarnContext(ctx, "kopokopo request failed; retrying",
				"method", method, "url", rawURL, "attempt", attempt+1, "wait", wait.String(), "err", describe(resp, err))
			if err := sleep(ctx, wait); err != nil {
				return nil, nil, fmt.Errorf("kopokopo: %s %s: %w", method, rawURL, err)
			}
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("kopokopo: %s %s: %w", method, rawURL, err)
		}
		if resp.StatusCode/100 != 2 {
			return nil, nil, apiError(method, rawURL, resp, respBody)
		}
		return resp, respBody, nil
	}
}

// send rate-limits and sends one request and reads the whole response body.
func (c *Client) send(ctx context.Context, method, rawURL string, body []byte, header func(http.Header)) (*http.Response, []byte, error) {
	if err := c.limiter.Wait(ctx); err != nil {
		return nil, nil, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, nil, err
	}
	header(req.Header)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("reading response: %w", err)
	}
	return resp, respBody, nil
}

// shouldRetry decides whether attempt may be retried, and after how long.
func (c *Client) shouldRetry(ctx context.Context, attempt int, resp *http.Response, err error) (bool, time.Duration) {
	if attempt >= c.cfg.MaxRetries || ctx.Err() != nil {
		return false, 0
	}
	if err != nil {
		var ne net.Error
		return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF), c.backoff(attempt)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		wait := c.backoff(attempt)
		if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
			wait = max(wait, min(time.Duration(s)*time.Second, maxRetryAfter))
		}
		return true, wait
	case resp.StatusCode >= 500:
		return true, c.backoff(attempt)
	}
	return false, 0
}

// backoff is exponential with full jitter: a random wait in [0, base·2^attempt],
// capped at RetryMax.
func (c *Client) backoff(attempt int) time.Duration {
	ceil := min(c.cfg.RetryBase<<min(attempt, 30), c.cfg.RetryMax)
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// accessToken returns the cached token, fetching a new one when there is
// none or it expires within a tenth of its lifetime (at most a minute).
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Now().Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
		"grant_type":    {"client_credentials"},
	}
	tokenURL := c.base.JoinPath("oauth", "token").String()
	var (
		resp *http.Response
		body []byte
		err  error
	)
	for attempt := 0; ; attempt++ {
		resp, body, err = c.send(ctx, http.MethodPost, tokenURL, []byte(form.Encode()), func(h http.Header) {
			h.Set("Content-Type", "application/x-www-form-urlencoded")
			h.Set("Accept", "application/json")
		})
		retry, wait := c.shouldRetry(ctx, attempt, resp, err)
		if !retry {
			break
		}
		c.logger.WarnContext(ctx, "kopokopo token request failed; retrying", "attempt", attempt+1, "wait", wait.String(), "err", describe(resp, err))
		if err := sleep(ctx, wait); err != nil {
			return "", fmt.Errorf("kopokopo: requesting access token: %w", err)
		}
	}
	if err != nil {
		return "", fmt.Errorf("kopokopo: requesting access token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", apiError(http.MethodPost, tokenURL, resp, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", errors.New("kopokopo: token response has no access_token")
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "Bearer") {
		return "", fmt.Errorf("kopokopo: token_type %q, want Bearer", tr.TokenType)
	}
	ttl := time.Duration(cmp.Or(tr.ExpiresIn, 3600)) * time.Second
	c.token, c.expires = tr.AccessToken, time.Now().Add(ttl-min(ttl/10, time.Minute))
	c.logger.InfoContext(ctx, "kopokopo access token obtained", "expires_in", ttl.String())
	return c.token, nil
}

// invalidate forgets tok if it is still the cached token.
func (c *Client) invalidate(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}

// apiError builds an APIError from a refused response, keeping only the
// API's own error message (never request headers or bodies).
func apiError(method, rawURL string, resp *http.Response, body []byte) error {
	var e struct {
		ErrorMessage     string `json:"error_message"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	path := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		path = u.Path
	}
	return &APIError{Method: method, Path: path, Status: resp.StatusCode, Message: cmp.Or(e.ErrorMessage, e.ErrorDescription)}
}

func describe(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
