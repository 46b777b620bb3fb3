package ikhokha

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/apiclient"
)

// Response codes (seed 000): every iK Pay response carries one.
var responseCodes = map[string]string{
	"00": "success",
	"01": "invalid request",
	"02": "authentication failed",
	"03": "insufficient permissions",
	"04": "resource not found",
	"05": "card declined",
	"12": "invalid card",
	"51": "insufficient funds",
	"91": "network error, retry",
	"99": "system error",
}

// codeMeaning says what a responseCode means.
func codeMeaning(code string) string {
	if m, ok := responseCodes[code]; ok {
		return m
	}
	return "unknown response code"
}

// retryCode reports whether a responseCode asks for a retry: 91 (network
// error) and 99 (system error).
func retryCode(code string) bool { return code == "91" || code == "99" }

// ClientConfig configures a Client. AppID and AppSecret are required.
type ClientConfig struct {
	// BaseURL is the API root, its own path included. Default DefaultBaseURL.
	BaseURL string
	// AppID and AppSecret are the application's credentials (IK_APPID,
	// IK_APPSECRET).
	AppID, AppSecret string
	// EntityID is sent with created links (IK_ENTITYID).
	EntityID string
	// CallbackURL is the webhook URL of created links that name none
	// (IK_CALLBACK_URL).
	CallbackURL string
	// Zone cuts history dates (default Africa/Johannesburg).
	Zone *time.Location
	// Options are the rate limit, retries, HTTP client and logger.
	Options sources.ClientOptions
}

// Client speaks the iK Pay API: signed requests, the responseCode table as
// errors, responseCodes 91 and 99 retried along with 429s, 5xx, timeouts and
// cut bodies. It is safe for concurrent use.
type Client struct {
	cfg  ClientConfig
	base *url.URL
	api  *apiclient.Client
}

// NewClient validates cfg and returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	cfg.BaseURL = strings.TrimRight(cmp.Or(strings.TrimSpace(cfg.BaseURL), DefaultBaseURL), "/")
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("ikhokha: base URL %q (%s): want http(s)://host[/path]", cfg.BaseURL, EnvBaseURL)
	}
	if strings.TrimSpace(cfg.AppID) == "" {
		return nil, fmt.Errorf("ikhokha: application id is empty (set %s)", EnvAppID)
	}
	if strings.TrimSpace(cfg.AppSecret) == "" {
		return nil, fmt.Errorf("ikhokha: application secret is empty (set %s)", EnvAppSecret)
	}
	if cfg.Zone == nil {
		if cfg.Zone, err = time.LoadLocation("Africa/Johannesburg"); err != nil {
			return nil, fmt.Errorf("ikhokha: %w", err)
		}
	}
	o := cfg.Options
	api, err := apiclient.New(apiclient.Config{
		Provider: string(Name), HTTPClient: o.HTTPClient, RateLimit: o.RateLimit, Burst: o.Burst,
		Retry: o.Retry, Logger: o.Logger, Retryable: retryable,
	})
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, base: base, api: api}, nil
}

// retryable retries responseCodes 91 and 99 whatever the HTTP status, and a
// successful response whose body is not JSON (cut short on the way).
func retryable(resp *http.Response, body []byte) bool {
	if resp.StatusCode/100 == 2 && !json.Valid(body) {
		return true
	}
	return retryCode(responseCode(body))
}

// responseCode reads the responseCode of a response body, "" when it has none.
func responseCode(body []byte) string {
	var r struct {
		ResponseCode json.RawMessage `json:"responseCode"`
	}
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	s, _ := sources.LooseString(r.ResponseCode)
	return strings.TrimSpace(s)
}

// LinkURLs are where iKhokha sends the customer and the webhook.
type LinkURLs struct {
	CallbackURL    string `json:"callbackUrl"`
	SuccessPageURL string `json:"successPageUrl"`
	FailurePageURL string `json:"failurePageUrl"`
	CancelURL      string `json:"cancelUrl,omitempty"`
}

// LinkRequest is a create-link request, in the shape of iKhokha's public
// examples (urls object, mode, externalEntityID). Amount is exact; it is
// sent in cents.
type LinkRequest struct {
	Amount                reconcile.Money
	ExternalTransactionID string
	Description           string
	RequesterURL          string
	PaymentReference      string
	ExternalEntityID      string
	// Mode is "live" (default) or "test".
	Mode string
	URLs LinkURLs
}

// wireRequest is LinkRequest as sent.
type wireRequest struct {
	EntityID              string   `json:"entityID"`
	ExternalEntityID      string   `json:"externalEntityID,omitempty"`
	Amount                int64    `json:"amount"`
	Currency              string   `json:"currency"`
	RequesterURL          string   `json:"requesterUrl"`
	Description           string   `json:"description,omitempty"`
	PaymentReference      string   `json:"paymentReference,omitempty"`
	Mode                  string   `json:"mode"`
	ExternalTransactionID string   `json:"externalTransactionID"`
	URLs                  LinkURLs `json:"urls"`
}

// CreatedLink is the answer to a create-link request.
type CreatedLink struct {
	ResponseCode          string `json:"responseCode"`
	Message               string `json:"message"`
	PaylinkURL            string `json:"paylinkUrl"`
	PaylinkID             string `json:"paylinkID"`
	ExternalTransactionID string `json:"externalTransactionID"`
}

// CreateLink creates a payment link: POST /payment (iKhokha's examples),
// or POST /paymentLink (the vendor document's path) when the first is not
// served. It returns the answer and its body verbatim.
func (c *Client) CreateLink(ctx context.Context, req LinkRequest) (CreatedLink, []byte, error) {
	if req.Amount.Minor <= 0 {
		return CreatedLink{}, nil, fmt.Errorf("ikhokha: create link %s: amount %s must be positive", req.ExternalTransactionID, req.Amount)
	}
	if req.ExternalTransactionID == "" {
		return CreatedLink{}, nil, errors.New("ikhokha: create link: externalTransactionID is empty")
	}
	if req.URLs.CallbackURL == "" {
		req.URLs.CallbackURL = c.cfg.CallbackURL
	}
	body, err := json.Marshal(wireRequest{
		EntityID: c.cfg.EntityID, ExternalEntityID: req.ExternalEntityID, Amount: req.Amount.Minor,
		Currency: string(cmp.Or(req.Amount.Currency, defaultCurrency)), RequesterURL: req.RequesterURL,
		Description: req.Description, PaymentReference: req.PaymentReference, Mode: cmp.Or(req.Mode, "live"),
		ExternalTransactionID: req.ExternalTransactionID, URLs: req.URLs,
	})
	if err != nil {
		return CreatedLink{}, nil, err
	}
	resp, err := c.first(ctx, http.MethodPost, []string{"/payment", "/paymentLink"}, "", body)
	if err != nil {
		return CreatedLink{}, nil, err
	}
	var out CreatedLink
	if err := json.Unmarshal(resp, &out); err != nil {
		return out, resp, fmt.Errorf("ikhokha: create link %s: reading the answer: %w", req.ExternalTransactionID, err)
	}
	return out, resp, nil
}

// LinkStatus returns the status document of a payment link verbatim:
// GET /getStatus/{paylinkID} (iKhokha's examples), or GET
// /paymentLink/{paylinkID} (the vendor document) when the first is not
// served. An unknown link is an error for which IsNotFound is true.
func (c *Client) LinkStatus(ctx context.Context, paylinkID string) ([]byte, error) {
	if strings.TrimSpace(paylinkID) == "" {
		return nil, errors.New("ikhokha: link status: paylinkID is empty")
	}
	id := url.PathEscape(paylinkID)
	return c.first(ctx, http.MethodGet, []string{"/getStatus/" + id, "/paymentLink/" + id}, "", nil)
}

// History returns the payment history of the days from start to end, both
// included, verbatim: GET /payments/history?startDate=&endDate= (dates
// YYYY-MM-DD in the client's zone), signed over the path without the query
// as iKhokha's examples sign it.
func (c *Client) History(ctx context.Context, start, end time.Time) ([]byte, error) {
	q := url.Values{}
	q.Set("startDate", start.In(c.cfg.Zone).Format(time.DateOnly))
	q.Set("endDate", end.In(c.cfg.Zone).Format(time.DateOnly))
	return c.do(ctx, http.MethodGet, "/payments/history", q.Encode(), nil)
}

// Zone is the zone history dates are cut in.
func (c *Client) Zone() *time.Location { return c.cfg.Zone }

// first tries paths in turn while the server answers 404 with no iKhokha
// response code (the route is not served, as opposed to 04, an unknown
// link), and returns the first answer.
func (c *Client) first(ctx context.Context, method string, paths []string, query string, body []byte) ([]byte, error) {
	var err error
	for _, p := range paths {
		var out []byte
		out, err = c.do(ctx, method, p, query, body)
		var ae *apiclient.APIError
		if err != nil && errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.Code == "" {
			continue
		}
		return out, err
	}
	return nil, err
}

// do sends one signed request and returns the body of a successful answer
// (HTTP 2xx, responseCode 00 or none); anything else is an
// *apiclient.APIError carrying iKhokha's code and message.
func (c *Client) do(ctx context.Context, method, path, query string, body []byte) ([]byte, error) {
	u := c.cfg.BaseURL + path
	if query != "" {
		u += "?" + query
	}
	h := http.Header{}
	h.Set("Accept", "application/json")
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	resp, err := c.api.Do(ctx, apiclient.Request{
		Method: method, URL: u, Body: body, Header: h,
		Sign: func(_ context.Context, r *http.Request, b []byte) error {
			r.Header.Set(HeaderAppID, strings.TrimSpace(c.cfg.AppID))
			r.Header.Set(HeaderSign, Sign(c.cfg.AppSecret, r.URL.EscapedPath(), b))
			return nil
		},
	})
	var ae *apiclient.APIError
	if errors.As(err, &ae) && resp != nil {
		ae.Code, ae.Message = codeAndMessage(resp.Body)
		return nil, ae
	}
	if err != nil {
		return nil, err
	}
	if code, msg := codeAndMessage(resp.Body); code != "" && code != "00" {
		return nil, &apiclient.APIError{Provider: string(Name), Method: method, Path: c.base.Path + path, Status: resp.StatusCode, Code: code, Message: msg}
	}
	if !json.Valid(resp.Body) {
		return nil, fmt.Errorf("ikhokha: %s %s: the answer is not JSON", method, c.base.Path+path)
	}
	return resp.Body, nil
}

// codeAndMessage reads iKhokha's responseCode and message; the message is
// the table's meaning when iKhokha sent none.
func codeAndMessage(body []byte) (string, string) {
	code := responseCode(body)
	if code == "" {
		return "", ""
	}
	var r struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &r)
	msg := strings.TrimSpace(r.Message)
	if msg == "" {
		msg = codeMeaning(code)
	} else if m, ok := responseCodes[code]; ok && !strings.EqualFold(m, msg) {
		msg = m + ": " + msg
	}
	return code, msg
}

// IsNotFound reports whether err says iKhokha does not know the link
// (responseCode 04, or HTTP 404 carrying a responseCode).
func IsNotFound(err error) bool {
	var ae *apiclient.APIError
	return errors.As(err, &ae) && (ae.Code == "04" || (ae.Status == http.StatusNotFound && ae.Code != ""))
}
