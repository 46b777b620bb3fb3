package pixel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/apiclient"
)

// API methods (documents 002 and 003, "API Methods").
const (
	MethodStatus     = "status"
	MethodPaymentC2B = "payment_c2b"
	MethodPaymentB2C = "payment_b2c"
	MethodBanks      = "banks"
)

// Result codes. The documents name only 0 and 10201; the others are the
// simulator's, and a client treats any code but 0 as an error.
const (
	CodeOK = 0
	// CodeAuth: merchant authentication error (a bad signature, an unknown
	// merchant or public id).
	CodeAuth = 10201
	// CodeInvalid: the request breaks a rule (a missing field, an amount
	// outside the country's limits). Simulator's own.
	CodeInvalid = 10001
	// CodeNotFound: no operation with that order_id. Simulator's own.
	CodeNotFound = 10404
)

// Field is one member of a request body, sent in order. Value is a string,
// an int, a bool, a json.Number, []Field (a nested object such as extra) or
// json.RawMessage (any other JSON value, as is).
type Field struct {
	Key   string
	Value any
}

// EncodeFields writes fields as a JSON object in their order.
func EncodeFields(fields []Field) ([]byte, error) {
	var b bytes.Buffer
	if err := encodeFields(&b, fields); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func encodeFields(b *bytes.Buffer, fields []Field) error {
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.Key)
		b.Write(k)
		b.WriteByte(':')
		switch v := f.Value.(type) {
		case []Field:
			if err := encodeFields(b, v); err != nil {
				return err
			}
		case json.RawMessage:
			if !json.Valid(v) {
				return fmt.Errorf("pixel: field %s: invalid JSON", f.Key)
			}
			b.Write(v)
		case string, int, int64, bool, nil, json.Number:
			enc, err := json.Marshal(v)
			if err != nil {
				return err
			}
			b.Write(enc)
		default:
			return fmt.Errorf("pixel: field %s: unsupported value type %T", f.Key, f.Value)
		}
	}
	b.WriteByte('}')
	return nil
}

// Client calls the Pixel API: POST {PIXEL_BASE_URL}/{PIXEL_PUBLIC_ID}/{method}
// with a JSON body signed in its own "signature" field. Rate limit and
// retries (429, 5xx, timeouts, cut bodies) come from sources/apiclient.
// It is safe for concurrent use.
type Client struct {
	api        *apiclient.Client
	base       string
	publicID   string
	merchantID string
	key        string
}

// NewClient returns a client configured by cfg (PIXEL_BASE_URL,
// PIXEL_PUBLIC_ID, PIXEL_MERCHANT_ID, PIXEL_SECRET_KEY) and opts.
func NewClient(cfg sources.Config, opts sources.ClientOptions) (*Client, error) {
	if err := cfg.NotConfigured(sources.ForPull); err != nil {
		return nil, err
	}
	api, err := apiclient.New(apiclient.Config{
		Provider: string(Name), HTTPClient: opts.HTTPClient, RateLimit: opts.RateLimit, Burst: opts.Burst,
		Retry: opts.Retry, Logger: opts.Logger,
		// A 2xx whose body is not JSON was cut on the way: ask again.
		Retryable: func(resp *http.Response, body []byte) bool {
			return resp.StatusCode/100 == 2 && !json.Valid(body)
		},
	})
	if err != nil {
		return nil, err
	}
	return &Client{
		api: api, base: strings.TrimRight(cfg.Get(EnvBaseURL), "/"), publicID: cfg.Get(EnvPublicID),
		merchantID: cfg.Get(EnvMerchantID), key: cfg.Get(EnvSecretKey),
	}, nil
}

// MerchantID is the merchant_id the client sends.
func (c *Client) MerchantID() string { return c.merchantID }

// Response is an API answer: its body exactly as received, and what every
// answer carries.
type Response struct {
	Body           []byte
	Code           int
	Message        string
	OrderID        string
	TransactionID  string
	TransactionRef string
	// Status is the operation's status code (-1 when the answer has none).
	Status int
}

// Call signs fields (merchant_id first, as the documents send it, unless
// fields carry one) and POSTs them to method. An answer whose result.code
// is not 0 is an *apiclient.APIError carrying the code and message (10201:
// authentication or signature refused). A signed answer whose signature
// matches neither form is an error.
func (c *Client) Call(ctx context.Context, method string, fields []Field) (*Response, error) {
	if !hasKey(fields, "merchant_id") {
		fields = append([]Field{{"merchant_id", c.merchantID}}, fields...)
	}
	unsigned, err := EncodeFields(fields)
	if err != nil {
		return nil, err
	}
	body, err := Signed(c.key, unsigned)
	if err != nil {
		return nil, fmt.Errorf("pixel: signing %s: %w", method, err)
	}
	url := c.base + "/" + c.publicID + "/" + method
	resp, err := c.api.Do(ctx, apiclient.Request{
		Method: http.MethodPost, URL: url, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}},
	})
	var apiErr *apiclient.APIError
	if errors.As(err, &apiErr) && resp != nil {
		if r, perr := readResponse(resp.Body); perr == nil && r.Code != CodeOK {
			apiErr.Code, apiErr.Message = strconv.Itoa(r.Code), r.Message
		}
		return nil, apiErr
	}
	if err != nil {
		return nil, err
	}
	r, err := readResponse(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("pixel: %s: %w", method, err)
	}
	if r.Code != CodeOK {
		return r, &apiclient.APIError{Provider: string(Name), Method: http.MethodPost, Path: "/" + c.publicID + "/" + method,
			Status: resp.StatusCode, Code: strconv.Itoa(r.Code), Message: r.Message}
	}
	if sig, _ := signatureOf(resp.Body); sig != "" {
		canon, err := Canonicalize(resp.Body)
		if err != nil || !Matches(c.key, canon, sig) {
			return nil, fmt.Errorf("pixel: %s: the answer's signature does not match", method)
		}
	}
	return r, nil
}

// readResponse reads what every answer carries.
func readResponse(body []byte) (*Response, error) {
	var pl payload
	if err := sources.DecodeObject(body, &pl); err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	code, msg, err := readResult(pl.Result)
	if err != nil {
		return nil, err
	}
	r := &Response{Body: body, Code: code, Message: msg, Status: StatusUndefined}
	r.OrderID, _ = sources.LooseString(pl.OrderID)
	r.TransactionID, _ = sources.LooseString(pl.TransactionID)
	r.TransactionRef, _ = sources.LooseString(pl.TransactionRef)
	if !sources.IsNull(pl.Status) {
		if r.Status, err = intField(pl.Status, "status"); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func hasKey(fields []Field, key string) bool {
	for _, f := range fields {
		if f.Key == key {
			return true
		}
	}
	return false
}

// Status asks the status of the operation with orderID.
func (c *Client) Status(ctx context.Context, orderID string) (*Response, error) {
	if strings.TrimSpace(orderID) == "" {
		return nil, errors.New("pixel: status: order_id is required")
	}
	return c.Call(ctx, MethodStatus, []Field{{"order_id", orderID}})
}

// Payment is a payment_c2b or payment_b2c request.
type Payment struct {
	CustomerID string
	OrderID    string
	// Amount in major units, as the documents send it ("100.00", "1100").
	Amount      string
	Currency    reconcile.Currency
	Country     string
	CallbackURL string
	ProviderID  int
	// Extra are the channel's extra parameters (customer_name, return_url,
	// otp…), sent as the nested object extra.
	Extra []Field
}

// fields are p's body fields in the documents' order.
func (p Payment) fields() []Field {
	f := []Field{{"customer_id", p.CustomerID}, {"order_id", p.OrderID}, {"amount", p.Amount},
		{"currency", string(p.Currency)}}
	if p.Country != "" {
		f = append(f, Field{"country", p.Country})
	}
	if p.CallbackURL != "" {
		f = append(f, Field{"callback_url", p.CallbackURL})
	}
	f = append(f, Field{"provider_id", p.ProviderID})
	if len(p.Extra) > 0 {
		f = append(f, Field{"extra", p.Extra})
	}
	return f
}

// PaymentC2B asks a customer to pay the merchant. The amount is checked
// against the country's rules (CheckAmount) before anything is sent.
func (c *Client) PaymentC2B(ctx context.Context, p Payment) (*Response, error) {
	return c.pay(ctx, C2B, MethodPaymentC2B, p)
}

// PaymentB2C pays a customer. The amount is checked against the country's
// rules (CheckAmount) before anything is sent.
func (c *Client) PaymentB2C(ctx context.Context, p Payment) (*Response, error) {
	return c.pay(ctx, B2C, MethodPaymentB2C, p)
}

func (c *Client) pay(ctx context.Context, op Operation, method string, p Payment) (*Response, error) {
	if strings.TrimSpace(p.OrderID) == "" || strings.TrimSpace(p.CustomerID) == "" {
		return nil, fmt.Errorf("pixel: %s: order_id and customer_id are required", method)
	}
	cur, err := reconcile.ParseCurrency(string(p.Currency))
	if err != nil {
		return nil, fmt.Errorf("pixel: %s: currency: %w", method, err)
	}
	p.Currency = cur
	if err := CheckAmount(op, p.Country, p.ProviderID, p.Amount, cur); err != nil {
		return nil, err
	}
	return c.Call(ctx, method, p.fields())
}

// Bank is one entry of a banks answer.
type Bank struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Banks lists the banks a bank-transfer channel pays to.
func (c *Client) Banks(ctx context.Context, providerID int) ([]Bank, error) {
	r, err := c.Call(ctx, MethodBanks, []Field{{"provider_id", providerID}})
	if err != nil {
		return nil, err
	}
	var out struct {
		Banks []Bank `json:"banks"`
	}
	if err := sources.DecodeObject(r.Body, &out); err != nil {
		return nil, fmt.Errorf("pixel: banks: %w", err)
	}
	return out.Banks, nil
}
