// Package pixel is Mizani's Pixel adapter (SPEC §9.2, vendor documents 002
// and 003): request and callback signatures, an API client for status,
// payment_c2b, payment_b2c and banks with the per-country amount rules,
// callback verification, payload mapping, status checks and a simulator.
//
// Pixel has no history endpoint: pulling Pixel is asking `status` for every
// order the ledger or the store holds without a final status. Its payloads
// carry no currency, so a record's currency is PIXEL_CURRENCY when set, else
// that of the ledger entry it belongs to (Record.AmountSent; the store reads
// the amount in it).
package pixel

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Name is the provider's code.
const Name reconcile.Provider = "pixel"

// Operation types of a callback (documents 002 and 003).
const (
	OperationB2C = 16 // payment_b2c: the merchant paid a customer
	OperationC2B = 17 // payment_c2b: a customer paid the merchant
)

// Payload kinds, as stored in raw_payloads.kind.
const (
	KindCallback = "callback"
	KindStatus   = "status"
	KindBanks    = "banks"
	KindError    = "error"
)

// Operation statuses (document 002, "Statuses").
const (
	StatusUndefined          = -1
	StatusInitiated          = 0
	StatusInProgress         = 1
	StatusSuccess            = 2
	StatusFailed             = 3
	StatusCancelled          = 4
	StatusCancelledPartially = 5
	StatusInTransit          = 6
)

// statusNames are the documents' names of the status codes.
var statusNames = map[int]string{
	StatusUndefined: "undefined", StatusInitiated: "initiated", StatusInProgress: "in progress",
	StatusSuccess: "success", StatusFailed: "failed", StatusCancelled: "cancelled",
	StatusCancelledPartially: "cancelled partially", StatusInTransit: "in transit",
}

// NormalizeStatus maps a Pixel status code to a normalized status and the
// ProviderStatus kept for reports ("2 success"). Undefined, initiated, in
// progress and in transit are pending (not final: money may still move);
// "cancelled partially" (a POS payment partly cancelled) is cancelled, so a
// ledger saying paid reports it rather than a guess at the part that
// stayed. A code the documents do not list is pending, and says so.
func NormalizeStatus(code int) (reconcile.Status, string) {
	name, known := statusNames[code]
	if !known {
		return reconcile.StatusPending, fmt.Sprintf("%d (unknown Pixel status code, treated as pending)", code)
	}
	ps := strconv.Itoa(code) + " " + name
	switch code {
	case StatusSuccess:
		return reconcile.StatusSucceeded, ps
	case StatusFailed:
		return reconcile.StatusFailed, ps
	case StatusCancelled, StatusCancelledPartially:
		return reconcile.StatusCancelled, ps
	}
	return reconcile.StatusPending, ps
}

// Final reports whether a status code is final: success, failed, cancelled
// or cancelled partially.
func Final(code int) bool {
	switch code {
	case StatusSuccess, StatusFailed, StatusCancelled, StatusCancelledPartially:
		return true
	}
	return false
}

// Parser maps Pixel callbacks and API responses to records. It implements
// sources.Parser and is safe for concurrent use.
//
// Mapping decisions:
//   - A callback (it carries operation_type) is a payment (17, c2b) or a
//     payout (16, b2c); another operation type is malformed. Its record:
//     TxID transaction_id, MerchantRef order_id, ProviderRef
//     transaction_ref, Account merchant_id, Counterparty customer_id,
//     Method the provider_id (the channel: 2162 M-Pesa Safaricom…).
//   - A status, payment_c2b or payment_b2c response (result, no
//     operation_type) carries no amount: its record has AmountKnown false
//     and matches on reference and status alone. It names no operation
//     either: it is a payment unless parsed with ParseStatus for a payout
//     (the status checker knows which it asked about). Its Account is
//     Merchant when set (the merchant_id the checker asked with).
//   - A response whose result.code is not 0 (10201: authentication or
//     signature refused; an unknown order) and a banks response carry no
//     transaction: no records, the payload is stored raw.
//   - transaction_id may be empty while a bank transfer waits for the
//     customer (document 003); the record is then keyed "order:" + order_id
//     until Pixel assigns one.
//   - Neither callbacks nor responses carry a currency. With Currency set
//     (PIXEL_CURRENCY) the amount is read in it; else it is kept exactly as
//     sent in Record.AmountSent, and the store reads it in the currency of
//     the ledger entry whose reference is the order_id. The record's own
//     currency is then only the fallback for an order the ledger lacks: that
//     of the callback's channel (provider_id 2162, M-Pesa Safaricom: KES;
//     see ChannelOf), or none (provider 14, an unlisted channel). An amount
//     more precise than its currency allows ("200.50" XOF) is never
//     rounded: AmountKnown stays false, AmountSent keeps it, the matcher
//     reports it. A negative or non-decimal amount is malformed.
//   - service_date_time has no zone: it is read in Zone (PIXEL_TZ, default
//     UTC). Document 003's shorter callback has none at all: such a callback
//     happened when it was received (Now).
//   - Status codes map by NormalizeStatus; ProviderStatus is "2 success".
//   - Request bodies (no result) and anything that is not a JSON object
//     are malformed.
//   - A payload's DedupKey is the SHA-256 of its bytes: Pixel sends no
//     event id, and a callback delivered twice is the same bytes.
type Parser struct {
	// Zone reads service_date_time (nil: UTC).
	Zone *time.Location
	// Currency, when set, is the currency of every amount (PIXEL_CURRENCY).
	Currency reconcile.Currency
	// Merchant is the merchant_id a response is attributed to (responses
	// name none).
	Merchant string
	// Now is the time of a callback that carries no service_date_time (nil:
	// time.Now).
	Now func() time.Time
}

// NewParser returns the parser for cfg: PIXEL_TZ, PIXEL_CURRENCY, and
// PIXEL_MERCHANT_ID as the account of answers (they answer that merchant's
// requests and name no merchant themselves).
func NewParser(cfg sources.Config) (*Parser, error) {
	zone, err := cfg.Zone()
	if err != nil {
		return nil, err
	}
	p := &Parser{Zone: zone, Merchant: cfg.Get(EnvMerchantID)}
	if c := cfg.Get(EnvCurrency); c != "" {
		if p.Currency, err = sources.Currency(c); err != nil {
			return nil, fmt.Errorf("pixel: %s: %w", EnvCurrency, err)
		}
	}
	return p, nil
}

// payload is every field Mizani reads of a callback or response.
type payload struct {
	MerchantID      json.RawMessage `json:"merchant_id"`
	OperationType   json.RawMessage `json:"operation_type"`
	CustomerID      json.RawMessage `json:"customer_id"`
	Amount          json.RawMessage `json:"amount"`
	OrderID         json.RawMessage `json:"order_id"`
	TransactionID   json.RawMessage `json:"transaction_id"`
	TransactionRef  json.RawMessage `json:"transaction_ref"`
	Status          json.RawMessage `json:"status"`
	ProviderID      json.RawMessage `json:"provider_id"`
	Result          json.RawMessage `json:"result"`
	ServiceDateTime json.RawMessage `json:"service_date_time"`
	Banks           json.RawMessage `json:"banks"`
}

// result is a response's or callback's result (or provider_result).
type result struct {
	Code    json.RawMessage `json:"code"`
	Message json.RawMessage `json:"message"`
}

// Parse maps one Pixel callback or response (see Parser).
func (p *Parser) Parse(body []byte, src reconcile.Source) (reconcile.RawPayload, []reconcile.Record, error) {
	return p.parse(body, src, reconcile.KindPayment)
}

// ParseStatus is Parse for a status response known to be about an order of
// kind (a payout: payment_b2c): responses do not say which.
func (p *Parser) ParseStatus(body []byte, src reconcile.Source, kind reconcile.Kind) (reconcile.RawPayload, []reconcile.Record, error) {
	return p.parse(body, src, kind)
}

func (p *Parser) parse(body []byte, src reconcile.Source, responseKind reconcile.Kind) (reconcile.RawPayload, []reconcile.Record, error) {
	raw := reconcile.RawPayload{Provider: Name, Source: src, Body: body, DedupKey: dedupKey(body)}
	if !json.Valid(body) { // only JSON whitespace around the object, as the store's JSONB column takes
		return raw, nil, sources.Malformed(Name, "body", errors.New("not a valid JSON document"))
	}
	var pl payload
	if err := sources.DecodeObject(body, &pl); err != nil {
		return raw, nil, sources.Malformed(Name, "body", err)
	}
	callback := !sources.IsNull(pl.OperationType)
	if !callback {
		code, _, err := readResult(pl.Result)
		if err != nil {
			return raw, nil, err
		}
		switch {
		case code != 0:
			raw.Kind = KindError
			return raw, nil, nil
		case !sources.IsNull(pl.Banks):
			raw.Kind = KindBanks
			return raw, nil, nil
		}
		raw.Kind = KindStatus
	} else {
		raw.Kind = KindCallback
	}

	orderID, err := requiredString(pl.OrderID, "order_id")
	if err != nil {
		return raw, nil, err
	}
	code, err := intField(pl.Status, "status")
	if err != nil {
		return raw, nil, err
	}
	r := reconcile.Record{Provider: Name, MerchantRef: orderID, Source: src}
	r.Status, r.ProviderStatus = NormalizeStatus(code)
	if r.TxID, err = looseField(pl.TransactionID, "transaction_id"); err != nil {
		return raw, nil, err
	}
	if r.TxID == "" {
		r.TxID = "order:" + orderID
	}
	if r.ProviderRef, err = looseField(pl.TransactionRef, "transaction_ref"); err != nil {
		return raw, nil, err
	}
	if r.OccurredAt, err = p.occurredAt(pl.ServiceDateTime, callback); err != nil {
		return raw, nil, err
	}
	r.Amount.Currency = p.Currency

	if !callback {
		r.Kind, r.Account = responseKind, p.Merchant
		return raw, []reconcile.Record{r}, nil
	}
	op, err := intField(pl.OperationType, "operation_type")
	if err != nil {
		return raw, nil, err
	}
	switch op {
	case OperationC2B:
		r.Kind = reconcile.KindPayment
	case OperationB2C:
		r.Kind = reconcile.KindPayout
	default:
		return raw, nil, sources.Malformed(Name, "operation_type", fmt.Errorf("%d is neither 16 (payment_b2c) nor 17 (payment_c2b)", op))
	}
	if r.Account, err = looseField(pl.MerchantID, "merchant_id"); err != nil {
		return raw, nil, err
	}
	if r.Counterparty, err = looseField(pl.CustomerID, "customer_id"); err != nil {
		return raw, nil, err
	}
	if r.Method, err = looseField(pl.ProviderID, "provider_id"); err != nil {
		return raw, nil, err
	}
	if err := p.amount(&r, pl.Amount); err != nil {
		return raw, nil, err
	}
	return raw, []reconcile.Record{r}, nil
}

// plainAmount is an amount as Pixel writes it: digits, maybe a fraction.
var plainAmount = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// amount reads a callback's amount into r (see Parser).
func (p *Parser) amount(r *reconcile.Record, raw json.RawMessage) error {
	s, err := sources.LooseString(raw)
	if err != nil {
		return sources.Malformed(Name, "amount", err)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil // not reported
	}
	if !plainAmount.MatchString(s) {
		return sources.Malformed(Name, "amount", fmt.Errorf("%q is not a non-negative decimal amount", s))
	}
	if p.Currency == "" {
		// Read at read time in the ledger entry's currency; the channel's
		// is the fallback (see Parser).
		r.AmountSent = s
		if id, err := strconv.Atoi(r.Method); err == nil {
			if ch, ok := ChannelOf(id); ok {
				r.Amount.Currency = ch.Currency
			}
		}
		return nil
	}
	m, err := reconcile.ParseMajor(s, p.Currency)
	if err != nil {
		// More precise than the currency allows, or too large: kept as
		// sent and reported, never rounded.
		r.AmountSent = s
		return nil
	}
	r.Amount, r.AmountKnown = m, true
	return nil
}

// occurredAt reads service_date_time in the parser's zone; a callback
// without one happened now.
func (p *Parser) occurredAt(raw json.RawMessage, callback bool) (time.Time, error) {
	s, err := sources.LooseString(raw)
	if err != nil {
		return time.Time{}, sources.Malformed(Name, "service_date_time", err)
	}
	if strings.TrimSpace(s) == "" {
		if !callback {
			return time.Time{}, sources.Malformed(Name, "service_date_time", sources.ErrMissing)
		}
		if p.Now != nil {
			return p.Now().UTC(), nil
		}
		return time.Now().UTC(), nil
	}
	t, err := sources.Instant(s, p.Zone)
	if err != nil {
		return time.Time{}, sources.Malformed(Name, "service_date_time", err)
	}
	return t, nil
}

// readResult reads result.code and result.message; a response without a
// result is malformed (a request body, say).
func readResult(raw json.RawMessage) (int, string, error) {
	if sources.IsNull(raw) {
		return 0, "", sources.Malformed(Name, "result", sources.ErrMissing)
	}
	var res result
	if err := sources.DecodeObject(raw, &res); err != nil {
		return 0, "", sources.Malformed(Name, "result", err)
	}
	code, err := intField(res.Code, "result.code")
	if err != nil {
		return 0, "", err
	}
	msg, _ := sources.LooseString(res.Message)
	return code, msg, nil
}

// requiredString reads a string or number field that must not be empty.
func requiredString(raw json.RawMessage, field string) (string, error) {
	s, err := looseField(raw, field)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(s) == "" {
		return "", sources.Malformed(Name, field, sources.ErrMissing)
	}
	return s, nil
}

// looseField reads an optional string or number field.
func looseField(raw json.RawMessage, field string) (string, error) {
	s, err := sources.LooseString(raw)
	if err != nil {
		return "", sources.Malformed(Name, field, err)
	}
	return s, nil
}

// intField reads a required integer, sent as a JSON number or a string of
// digits ("9209", as document 003 sends provider_id).
func intField(raw json.RawMessage, field string) (int, error) {
	s, err := looseField(raw, field)
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(s) == "" {
		return 0, sources.Malformed(Name, field, sources.ErrMissing)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, sources.Malformed(Name, field, fmt.Errorf("%q is not an integer", s))
	}
	return n, nil
}

// dedupKey identifies a payload by its bytes.
func dedupKey(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}
