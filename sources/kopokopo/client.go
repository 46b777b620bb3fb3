package kopokopo

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/apiclient"
)

// Environment variables the client (and the simulator) read (SPEC §9.1).
const (
	EnvBaseURL      = "K2_BASE_URL"
	EnvClientID     = "K2_CLIENT_ID"
	EnvClientSecret = "K2_CLIENT_SECRET"
	EnvAPIKey       = "K2_API_KEY"
	EnvAPIVersion   = "K2_API_VERSION"
	EnvCallbackURL  = "K2_CALLBACK_URL"
	// EnvTill is the till a history pull polls; empty polls the whole company.
	EnvTill = "K2_TILL"
)

// DefaultBaseURL is the Kopo Kopo sandbox.
const DefaultBaseURL = "https://sandbox.kopokopo.com"

// DefaultCallbackURL is sent as _links.callback_url when none is configured.
const DefaultCallbackURL = "http://localhost/webhooks/kopokopo"

// Config configures a Client. ClientID and ClientSecret are required; every
// other field has a default. Built through Provider, the transport fields
// (HTTPClient, RateLimit, Burst, Retry, Logger) come from
// sources.ClientOptions and the rest from the K2_* variables.
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
	// instead, so the default, DefaultCallbackURL, may go nowhere.
	CallbackURL string
	// HTTPClient sends the requests. Default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// RateLimit is the most requests per second sent to the API, token
	// requests included; Burst how many may go at once. Defaults 5 and 1.
	RateLimit rate.Limit
	Burst     int
	// Retry says how often and how patiently a request is retried after a
	// 429 (its Retry-After honoured), a 5xx, a timeout or a connection
	// error. Zero fields take the defaults of sources.RetryPolicy.
	Retry sources.RetryPolicy
	// PollInterval is the first wait before reading a polling result; it
	// doubles up to 10 s. PollTimeout is how long to wait for the result to
	// become final. Defaults 250 ms and 5 min.
	PollInterval time.Duration
	PollTimeout  time.Duration
	// Logger receives retries and token refreshes. Default: discard.
	Logger *slog.Logger
}

// Client speaks the Kopo Kopo API: OAuth2 client credentials and polling,
// over the shared apiclient plumbing (rate limit, retries with backoff and
// Retry-After, a token cached and refreshed once on 401). It is safe for
// concurrent use. Its errors never carry the client secret or a token.
type Client struct {
	cfg    Config
	base   *url.URL
	api    *apiclient.Client
	token  *apiclient.TokenCache
	logger *slog.Logger
}

// New validates cfg, fills in defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	cfg.BaseURL = strings.TrimRight(cmp.Or(cfg.BaseURL, DefaultBaseURL), "/")
	cfg.APIVersion = cmp.Or(cfg.APIVersion, "v1")
	cfg.CallbackURL = cmp.Or(cfg.CallbackURL, DefaultCallbackURL)
	cfg.Retry = cfg.Retry.WithDefaults()
	cfg.PollInterval = cmp.Or(cfg.PollInterval, 250*time.Millisecond)
	cfg.PollTimeout = cmp.Or(cfg.PollTimeout, 5*time.Minute)
	logger := cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))

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
	}
	api, err := apiclient.New(apiclient.Config{
		Provider:   string(Name),
		HTTPClient: cfg.HTTPClient,
		RateLimit:  cfg.RateLimit,
		Burst:      cfg.Burst,
		Retry:      cfg.Retry,
		Logger:     logger,
	})
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, base: base, api: api, logger: logger}
	c.token = &apiclient.TokenCache{Fetch: c.fetchToken}
	return c, nil
}

// BaseURL returns the API root the client talks to.
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

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
// the API sent it ({data: {id, type: "polling", attributes: {...}}}). A
// refusal is an *apiclient.APIError whose Message is Kopo Kopo's
// error_message.
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
	resp, err := c.do(ctx, apiclient.Request{
		Method: http.MethodPost,
		URL:    c.base.JoinPath("api", c.cfg.APIVersion, "polling").String(),
		Body:   body,
		Header: http.Header{"Accept": {"application/json"}, "Content-Type": {"application/json"}},
		Token:  c.token,
	})
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
	path := location
	if u, err := url.Parse(location); err == nil {
		path = u.Path
	}
	bad := 0
	for {
		if err := apiclient.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("kopokopo: waiting for polling result: %w", err)
		}
		resp, err := c.do(ctx, apiclient.Request{
			Method: http.MethodGet,
			URL:    location,
			Header: http.Header{"Accept": {"application/json"}},
			Token:  c.token,
		})
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
		if err := json.Unmarshal(resp.Body, &res); err != nil {
			bad++
			if bad > c.cfg.Retry.MaxRetries {
				return nil, fmt.Errorf("kopokopo: GET %s: result is not valid JSON after %d tries: %w", path, bad, err)
			}
			c.logger.WarnContext(ctx, "kopokopo polling result did not decode; reading it again", "path", path, "err", err)
		} else {
			status = res.Data.Attributes.Status
		}
		switch strings.ToLower(status) {
		case "success", "complete", "completed":
			return resp.Body, nil
		case "failed", "error":
			return nil, fmt.Errorf("kopokopo: polling request %s ended with status %q", path, status)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("kopokopo: polling request %s still %q after %s", path, status, c.cfg.PollTimeout)
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// fetchToken asks for an access token with the client credentials grant
// (apiclient.TokenCache caches it until shortly before expires_in).
func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
		"grant_type":    {"client_credentials"},
	}
	resp, err := c.do(ctx, apiclient.Request{
		Method: http.MethodPost,
		URL:    c.base.JoinPath("oauth", "token").String(),
		Body:   []byte(form.Encode()),
		Header: http.Header{"Accept": {"application/json"}, "Content-Type": {"application/x-www-form-urlencoded"}},
	})
	if err != nil {
		return "", 0, err
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(resp.Body, &tr); err != nil || tr.AccessToken == "" {
		return "", 0, errors.New("kopokopo: token response has no access_token")
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "Bearer") {
		return "", 0, fmt.Errorf("kopokopo: token_type %q, want Bearer", tr.TokenType)
	}
	ttl := time.Duration(cmp.Or(tr.ExpiresIn, 3600)) * time.Second
	c.logger.InfoContext(ctx, "kopokopo access token obtained", "expires_in", ttl.String())
	return tr.AccessToken, ttl, nil
}

// do sends req through the shared client and, when the API refuses it,
// fills the APIError with Kopo Kopo's own words: error_message (or OAuth's
// error_description) as Message, OAuth's error ("invalid_client") as Code.
// Nothing else of the response, and nothing of the request, reaches the error.
func (c *Client) do(ctx context.Context, req apiclient.Request) (*apiclient.Response, error) {
	resp, err := c.api.Do(ctx, req)
	var apiErr *apiclient.APIError
	if errors.As(err, &apiErr) && resp != nil {
		var e struct {
			Error            json.RawMessage `json:"error"`
			ErrorMessage     string          `json:"error_message"`
			ErrorDescription string          `json:"error_description"`
		}
		if json.Unmarshal(resp.Body, &e) == nil {
			apiErr.Message = cmp.Or(e.ErrorMessage, e.ErrorDescription)
			var code string
			if json.Unmarshal(e.Error, &code) == nil {
				apiErr.Code = code
			}
		}
	}
	return resp, err
}
