package kora

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/apiclient"
)

// QueryTimeLayout is how the pay-ins history takes date_from and date_to
// (Kora's pay-ins guide: YYYY-MM-DD-HH-MM-SS), in KORA_TZ.
const QueryTimeLayout = "2006-01-02-15-04-05"

// Client speaks Kora's merchant API with the secret key as bearer token,
// rate-limited and retried by the shared apiclient (429 and 5xx only: a 4xx
// is Kora's final word). It is safe for concurrent use.
type Client struct {
	base   *url.URL
	secret string
	zone   *time.Location
	cfg    sources.Config
	http   *apiclient.Client
}

// NewClient returns a client configured from cfg (KORA_BASE_URL,
// KORA_SECRET_KEY, KORA_TZ) and opts.
func NewClient(cfg sources.Config, opts sources.ClientOptions) (*Client, error) {
	if err := cfg.NotConfigured(sources.ForPull); err != nil {
		return nil, err
	}
	raw := strings.TrimRight(cfg.Get(EnvBaseURL), "/")
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("kora: base URL %q (%s): want http(s)://host[/path]", raw, EnvBaseURL)
	}
	zone, err := cfg.Zone()
	if err != nil {
		return nil, err
	}
	hc, err := apiclient.New(apiclient.Config{
		Provider: string(Name), HTTPClient: opts.HTTPClient, RateLimit: opts.RateLimit, Burst: opts.Burst,
		Retry: opts.Retry, Logger: opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Client{base: base, secret: cfg.Get(EnvSecretKey), zone: zone, cfg: cfg, http: hc}, nil
}

// VoucherCharge is the body of POST /charge/voucher (document 001).
type VoucherCharge struct {
	Amount            json.Number     `json:"amount"`
	Currency          string          `json:"currency"`
	MerchantBearsCost bool            `json:"merchant_bears_cost"`
	NotificationURL   string          `json:"notification_url,omitempty"`
	Description       string          `json:"description,omitempty"`
	Reference         string          `json:"reference"`
	Voucher           Voucher         `json:"voucher"`
	Customer          Customer        `json:"customer"`
	Metadata          json.RawMessage `json:"metadata,omitempty"`
}

// Voucher is the voucher a customer redeems. PIN is secret: it is sent to
// Kora and never logged or put in an error.
type Voucher struct {
	PIN          string `json:"pin"`
	PhoneNumber  string `json:"phone_number"`
	ProviderCode string `json:"provider_code"`
}

// String hides the PIN from fmt.
func (v Voucher) String() string { return "voucher(provider " + v.ProviderCode + ", pin ***)" }

// Customer is the paying customer.
type Customer struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// ChargeVoucher creates a voucher charge and returns Kora's response body
// verbatim ({status: true, message, data: {...}}). A refusal (document 001's
// table: 400 invalid or used voucher, unsupported provider code, amount
// above what is due; 402 insufficient voucher funds; 403 provider not active
// for the merchant; 500) is an *apiclient.APIError carrying Kora's message,
// with the PIN, should Kora echo it, masked.
func (c *Client) ChargeVoucher(ctx context.Context, ch VoucherCharge) ([]byte, error) {
	body, err := json.Marshal(ch)
	if err != nil {
		return nil, fmt.Errorf("kora: encoding voucher charge %s: %w", ch.Reference, err)
	}
	resp, err := c.do(ctx, http.MethodPost, c.url("charge", "voucher"), body, nil)
	if err != nil {
		return nil, maskPIN(err, ch.Voucher.PIN)
	}
	return resp.Body, nil
}

// Charge verifies one charge: GET /charges/{reference}. found is false when
// Kora answers 404 (it does not know the reference).
func (c *Client) Charge(ctx context.Context, reference string) (body []byte, found bool, err error) {
	resp, err := c.get(ctx, c.url("charges", reference), []int{http.StatusNotFound})
	if err != nil {
		return nil, false, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, false, nil
	}
	return resp.Body, true, nil
}

// PayInsQuery asks for one page of the pay-ins history of one currency.
type PayInsQuery struct {
	Currency reconcile.Currency
	// From and To bound date_created; they are sent in KORA_TZ.
	From, To time.Time
	// Limit is the page size (0: Kora's default, 10).
	Limit int
	// StartingAfter is the pointer of the previous page ("" for the first).
	StartingAfter string
}

// PayInsPage is one page of the pay-ins history, with what paging needs.
type PayInsPage struct {
	// Body is the response exactly as Kora sent it.
	Body []byte
	// HasMore says another page follows; Pointer is what to send as
	// starting_after for it.
	HasMore bool
	Pointer string
}

// PayIns fetches one page of the pay-ins history.
func (c *Client) PayIns(ctx context.Context, q PayInsQuery) (PayInsPage, error) {
	v := url.Values{}
	v.Set("currency", string(q.Currency))
	v.Set("date_from", q.From.In(c.zone).Format(QueryTimeLayout))
	v.Set("date_to", q.To.In(c.zone).Format(QueryTimeLayout))
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.StartingAfter != "" {
		v.Set("starting_after", q.StartingAfter)
	}
	resp, err := c.get(ctx, c.url("pay-ins")+"?"+v.Encode(), nil)
	if err != nil {
		return PayInsPage{}, err
	}
	page := PayInsPage{Body: resp.Body}
	page.HasMore, page.Pointer, err = paging(resp.Body)
	if err != nil {
		return page, fmt.Errorf("kora: GET /pay-ins (%s): %w", q.Currency, err)
	}
	return page, nil
}

// paging reads has_more and the pointer of a pay-ins page. Kora's guide
// puts has_more at the top and the pointer inside the row; a wrapped
// {status, data: {has_more, pointer, data: [...]}} page, a top-level
// pointer, and an array of rows (the last row's pointer) are read too.
func paging(body []byte) (hasMore bool, pointer string, err error) {
	var env envelope
	if err := sources.DecodeObject(body, &env); err != nil {
		return false, "", sources.Malformed(Name, "body", err)
	}
	more, ptr, data := env.HasMore, env.Pointer, env.Data
	if sources.IsNull(more) && !isArray(data) && !sources.IsNull(data) {
		var l listing
		if err := sources.DecodeObject(data, &l); err == nil && (!sources.IsNull(l.HasMore) || isArray(l.Data)) {
			more, data = l.HasMore, l.Data
			if sources.IsNull(ptr) {
				ptr = l.Pointer
			}
		}
	}
	b, err := boolean(more)
	if err != nil {
		return false, "", sources.Malformed(Name, "has_more", err)
	}
	hasMore = b != nil && *b
	if sources.IsNull(ptr) {
		// The pointer of the last row.
		var rows []struct {
			Pointer json.RawMessage `json:"pointer"`
		}
		if isArray(data) {
			_ = json.Unmarshal(data, &rows)
		} else if !sources.IsNull(data) {
			rows = make([]struct {
				Pointer json.RawMessage `json:"pointer"`
			}, 1)
			_ = json.Unmarshal(data, &rows[0])
		}
		if len(rows) > 0 {
			ptr = rows[len(rows)-1].Pointer
		}
	}
	if pointer, err = sources.LooseString(ptr); err != nil {
		return false, "", sources.Malformed(Name, "pointer", err)
	}
	if hasMore && pointer == "" {
		return false, "", sources.Malformed(Name, "pointer", errors.New("has_more is true but the page gives no pointer"))
	}
	return hasMore, pointer, nil
}

// rereads is how often a GET whose 2xx body is not valid JSON (cut short
// by a proxy) is sent again; GET is idempotent.
const rereads = 3

// get sends a GET, sending it again when a 2xx body is not valid JSON.
func (c *Client) get(ctx context.Context, rawURL string, accept []int) (*apiclient.Response, error) {
	for n := 0; ; n++ {
		resp, err := c.do(ctx, http.MethodGet, rawURL, nil, accept)
		if err != nil || resp.StatusCode/100 != 2 || json.Valid(resp.Body) || n == rereads {
			return resp, err
		}
		if err := apiclient.Sleep(ctx, time.Duration(n+1)*50*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// url joins path segments (escaped) to the base URL.
func (c *Client) url(segments ...string) string {
	return c.base.JoinPath(segments...).String()
}

// do sends one authorized request and turns a refusal into an
// *apiclient.APIError with Kora's own message.
func (c *Client) do(ctx context.Context, method, rawURL string, body []byte, accept []int) (*apiclient.Response, error) {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.secret)
	h.Set("Accept", "application/json")
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(ctx, apiclient.Request{Method: method, URL: rawURL, Body: body, Header: h, Accept: accept})
	if err == nil {
		return resp, nil
	}
	var apiErr *apiclient.APIError
	if errors.As(err, &apiErr) {
		if resp != nil {
			apiErr.Message = c.cfg.Redact(koraMessage(resp.Body))
		}
		return nil, apiErr
	}
	if msg := c.cfg.Redact(err.Error()); msg != err.Error() {
		return nil, errors.New(msg)
	}
	return nil, err
}

// koraMessage is the message of Kora's error document {status: false,
// message, data: null}, cut to a sentence's length.
func koraMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(body), &e); err != nil {
		return ""
	}
	msg := strings.TrimSpace(e.Message)
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// maskPIN replaces the voucher PIN in err's text, should Kora's message
// repeat it, keeping err's type for errors.As.
func maskPIN(err error, pin string) error {
	var apiErr *apiclient.APIError
	if pin == "" {
		return err
	}
	if errors.As(err, &apiErr) {
		apiErr.Message = strings.ReplaceAll(apiErr.Message, pin, "***")
		return apiErr
	}
	if strings.Contains(err.Error(), pin) {
		return errors.New(strings.ReplaceAll(err.Error(), pin, "***"))
	}
	return err
}
