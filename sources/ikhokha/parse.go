package ikhokha

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Payload kinds (RawPayload.Kind) besides webhook event names.
const (
	KindLinkStatus    = "link_status"
	KindHistory       = "history"
	KindCreateLink    = "create_link"
	KindCreateRequest = "create_link_request"
	KindError         = "error"
)

// Webhook events (seed 000). paymentLink.cancelled and paymentLink.refunded
// are not in the vendor document; they are read as the link they carry,
// should iKhokha send them.
const (
	EventCreated   = "paymentLink.created"
	EventPaid      = "paymentLink.paid"
	EventFailed    = "paymentLink.failed"
	EventExpired   = "paymentLink.expired"
	EventCancelled = "paymentLink.cancelled"
	EventRefunded  = "paymentLink.refunded"
)

// defaultCurrency is assumed for a link that names none: iK Pay takes rand
// only.
const defaultCurrency reconcile.Currency = "ZAR"

// Parser maps iKhokha payloads to records: webhooks ({event, timestamp,
// data}), link status responses, payment history responses (an object with
// a payments, transactions, history or data array, or a bare array), and,
// yielding no records, create-link requests and responses and error
// responses. It is safe for concurrent use.
//
// A link becomes one payment record: merchant reference
// externalTransactionID, provider reference paylinkID, TxID transactionID
// (a link that never had a transaction — pending, expired, cancelled — has
// none, and its paylinkID stands in, so that the link is still one record),
// account entityID (else EntityID), status pending/succeeded/expired/
// cancelled/failed, time paidAt for a paid link (createdAt, expiryAt… for
// the others, the webhook's timestamp failing those), Method "eft", "card"
// or "international_card" from paymentMethod and the card's origin. Each
// refund in the link's refunds array is a reversal record of its own,
// RelatedTxID the payment's TxID; a link said "refunded" with no refunds
// listed makes its payment reversed.
type Parser struct {
	// EntityID is the account of links that name no entityID (IK_ENTITYID).
	EntityID string
	// Zone reads zone-less times (iKhokha sends Z; nil: UTC).
	Zone *time.Location
}

// Parse implements sources.Parser.
func (p Parser) Parse(body []byte, src reconcile.Source) (reconcile.RawPayload, []reconcile.Record, error) {
	sum := sha256.Sum256(bytes.TrimSpace(body))
	payload := reconcile.RawPayload{Provider: Name, Source: src, Body: body, DedupKey: "sha256:" + hex.EncodeToString(sum[:])}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		payload.Kind = KindHistory
		recs, err := p.history(trimmed, "payments", src)
		return payload, recs, err
	}
	var doc map[string]json.RawMessage
	if err := sources.DecodeObject(body, &doc); err != nil {
		return payload, nil, sources.Malformed(Name, "body", err)
	}
	var recs []reconcile.Record
	var err error
	switch {
	case has(doc, "event"):
		payload.Kind, recs, err = p.webhook(doc, src)
	case arrayField(doc) != "":
		payload.Kind = KindHistory
		f := arrayField(doc)
		recs, err = p.history(doc[f], f, src)
	case isObject(doc["data"]) && !has(doc, "status"):
		// The generic envelope of the vendor document's response table:
		// {responseCode, message, data: {...}}.
		payload.Kind = KindLinkStatus
		var inner map[string]json.RawMessage
		if err := sources.DecodeObject(doc["data"], &inner); err != nil {
			return payload, nil, sources.Malformed(Name, "data", err)
		}
		recs, err = p.link(inner, "data.", src, "", "")
	case has(doc, "status"):
		payload.Kind = KindLinkStatus
		recs, err = p.link(doc, "", src, "", "")
	case has(doc, "paylinkUrl"):
		payload.Kind = KindCreateLink // a link was created: not a payment yet
	case has(doc, "responseCode"):
		payload.Kind = KindError
	case has(doc, "urls") || has(doc, "requesterUrl") || has(doc, "callbackUrl"):
		payload.Kind = KindCreateRequest
	default:
		return payload, nil, sources.Malformed(Name, "status", errors.New("neither a webhook (event), a link status (status), a history (payments) nor a create-link response"))
	}
	if err != nil {
		return payload, nil, err
	}
	return payload, recs, nil
}

// webhook reads {event, timestamp, data}.
func (p Parser) webhook(doc map[string]json.RawMessage, src reconcile.Source) (string, []reconcile.Record, error) {
	event, err := str(doc, "event")
	if err != nil {
		return "", nil, err
	}
	if event == "" {
		return "", nil, sources.Malformed(Name, "event", sources.ErrMissing)
	}
	var status string
	switch event {
	case EventCreated:
		return event, nil, nil // stored; a link is not a payment
	case EventPaid:
		status = "paid"
	case EventFailed:
		status = "failed"
	case EventExpired:
		status = "expired"
	case EventCancelled:
		status = "cancelled"
	case EventRefunded:
		status = "refunded"
	default:
		return event, nil, nil // an event we do not know: stored raw, reported
	}
	if !isObject(doc["data"]) {
		return event, nil, sources.Malformed(Name, "data", errors.New("not an object"))
	}
	var data map[string]json.RawMessage
	if err := sources.DecodeObject(doc["data"], &data); err != nil {
		return event, nil, sources.Malformed(Name, "data", err)
	}
	ts, err := str(doc, "timestamp")
	if err != nil {
		return event, nil, err
	}
	recs, err := p.link(data, "data.", src, status, ts)
	return event, recs, err
}

// history reads an array of links.
func (p Parser) history(raw json.RawMessage, field string, src reconcile.Source) ([]reconcile.Record, error) {
	var rows []json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, sources.Malformed(Name, field, err)
	}
	var out []reconcile.Record
	for i, row := range rows {
		prefix := fmt.Sprintf("%s[%d].", field, i)
		var doc map[string]json.RawMessage
		if err := sources.DecodeObject(row, &doc); err != nil {
			return nil, sources.Malformed(Name, strings.TrimSuffix(prefix, "."), err)
		}
		recs, err := p.link(doc, prefix, src, "", "")
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

// link maps one link (status response, history row or webhook data) to its
// payment record and refund records. status overrides the link's own
// (a webhook's event says it); fallbackTime is the webhook's timestamp.
func (p Parser) link(doc map[string]json.RawMessage, prefix string, src reconcile.Source, status, fallbackTime string) ([]reconcile.Record, error) {
	bad := func(field string, err error) error { return sources.Malformed(Name, prefix+field, err) }
	get := func(field string) (string, error) {
		s, err := sources.LooseString(doc[field])
		if err != nil {
			return "", bad(field, err)
		}
		return strings.TrimSpace(s), nil
	}
	var f struct {
		paylinkID, externalID, txID, entityID, currency, status, method, brand, origin, country, code, failure string
	}
	for _, x := range []struct {
		dst   *string
		field string
	}{
		{&f.paylinkID, "paylinkID"}, {&f.externalID, "externalTransactionID"}, {&f.txID, "transactionID"},
		{&f.entityID, "entityID"}, {&f.currency, "currency"}, {&f.status, "status"}, {&f.method, "paymentMethod"},
		{&f.brand, "cardBrand"}, {&f.origin, "cardOrigin"}, {&f.country, "cardCountry"}, {&f.code, "responseCode"}, {&f.failure, "failureCode"},
	} {
		v, err := get(x.field)
		if err != nil {
			return nil, err
		}
		*x.dst = v
	}
	if f.paylinkID == "" && f.txID == "" {
		return nil, bad("paylinkID", sources.ErrMissing)
	}
	if status == "" {
		status = f.status
	}
	st, word, err := linkStatus(status)
	if err != nil {
		return nil, bad("status", err)
	}
	cur := defaultCurrency
	if f.currency != "" {
		if cur, err = sources.Currency(f.currency); err != nil {
			return nil, bad("currency", err)
		}
	}
	amount, known, err := sources.MinorAmount(doc["amount"], cur)
	if err != nil {
		return nil, bad("amount", err)
	}
	at, err := p.when(doc, prefix, st, word, fallbackTime)
	if err != nil {
		return nil, err
	}
	intl := false
	if raw, ok := doc["international"]; ok && !sources.IsNull(raw) {
		if err := json.Unmarshal(raw, &intl); err != nil {
			return nil, bad("international", errors.New("not true or false"))
		}
	}
	account := f.entityID
	if account == "" {
		account = p.EntityID
	}
	pay := reconcile.Record{
		Provider: Name, Kind: reconcile.KindPayment, TxID: f.txID, MerchantRef: f.externalID, ProviderRef: f.paylinkID,
		Account: account, Amount: amount, AmountKnown: known, Status: st, ProviderStatus: word,
		OccurredAt: at, Method: Method(f.method, f.brand, f.origin, f.country, intl), Source: src,
	}
	if pay.TxID == "" {
		// A link without a transaction (pending, expired, cancelled, or
		// declined before one was made): its paylinkID is its TxID.
		pay.TxID = f.paylinkID
	}
	if f.failure != "" {
		f.code = f.failure // a status document's responseCode is the answer's, 00
	}
	if f.code != "" && f.code != "00" && st == reconcile.StatusFailed {
		pay.ProviderStatus = word + " (" + f.code + " " + codeMeaning(f.code) + ")"
	}
	refunds, err := p.refunds(doc, prefix, pay)
	if err != nil {
		return nil, err
	}
	if word == "refunded" && len(refunds) == 0 {
		pay.Status = reconcile.StatusReversed
	}
	return append([]reconcile.Record{pay}, refunds...), nil
}

// refunds maps the link's refunds array, each {refundID, amount, status,
// refundedAt, reason}, to reversal records of pay.
func (p Parser) refunds(doc map[string]json.RawMessage, prefix string, pay reconcile.Record) ([]reconcile.Record, error) {
	raw := doc["refunds"]
	if sources.IsNull(raw) {
		return nil, nil
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, sources.Malformed(Name, prefix+"refunds", errors.New("not an array"))
	}
	var out []reconcile.Record
	for i, row := range rows {
		rp := fmt.Sprintf("%srefunds[%d].", prefix, i)
		var r map[string]json.RawMessage
		if err := sources.DecodeObject(row, &r); err != nil {
			return nil, sources.Malformed(Name, strings.TrimSuffix(rp, "."), err)
		}
		id, err := sources.LooseString(r["refundID"])
		if err != nil {
			return nil, sources.Malformed(Name, rp+"refundID", err)
		}
		if id == "" {
			id = pay.TxID + "/refund/" + strconv.Itoa(i+1)
		}
		amount, known, err := sources.MinorAmount(r["amount"], pay.Amount.Currency)
		if err != nil {
			return nil, sources.Malformed(Name, rp+"amount", err)
		}
		if !known { // a refund that names no amount refunds the whole payment
			amount, known = pay.Amount, pay.AmountKnown
		}
		word, err := sources.LooseString(r["status"])
		if err != nil {
			return nil, sources.Malformed(Name, rp+"status", err)
		}
		st, err := refundStatus(word)
		if err != nil {
			return nil, sources.Malformed(Name, rp+"status", err)
		}
		at, err := p.firstTime(r, rp, "", "refundedAt", "createdAt")
		if err != nil {
			return nil, err
		}
		out = append(out, reconcile.Record{
			Provider: Name, Kind: reconcile.KindReversal, TxID: id, MerchantRef: pay.MerchantRef, ProviderRef: pay.ProviderRef,
			RelatedTxID: pay.TxID, Account: pay.Account, Amount: amount, AmountKnown: known, Status: st,
			ProviderStatus: strings.TrimSpace("refund " + strings.ToLower(strings.TrimSpace(word))), OccurredAt: at, Method: pay.Method, Source: pay.Source,
		})
	}
	return out, nil
}

// when is the time of a link: when it was paid, failed, expired, was
// cancelled or created, by status.
func (p Parser) when(doc map[string]json.RawMessage, prefix string, st reconcile.Status, word, fallback string) (time.Time, error) {
	var fields []string
	switch st {
	case reconcile.StatusSucceeded, reconcile.StatusReversed:
		fields = []string{"paidAt"}
	case reconcile.StatusFailed:
		fields = []string{"failedAt", "paidAt", "updatedAt"}
	case reconcile.StatusExpired:
		fields = []string{"expiredAt", "expiryAt", "updatedAt"}
	case reconcile.StatusCancelled:
		fields = []string{"cancelledAt", "updatedAt"}
	default:
		fields = []string{"createdAt", "updatedAt"}
	}
	return p.firstTime(doc, prefix, fallback, fields...)
}

// firstTime reads the first of fields that is set, else fallback; none set
// is an error naming the first field.
func (p Parser) firstTime(doc map[string]json.RawMessage, prefix, fallback string, fields ...string) (time.Time, error) {
	for _, f := range fields {
		s, err := sources.LooseString(doc[f])
		if err != nil {
			return time.Time{}, sources.Malformed(Name, prefix+f, err)
		}
		if strings.TrimSpace(s) == "" {
			continue
		}
		t, err := sources.Instant(s, p.Zone)
		if err != nil {
			return time.Time{}, sources.Malformed(Name, prefix+f, err)
		}
		return t, nil
	}
	if strings.TrimSpace(fallback) != "" {
		t, err := sources.Instant(fallback, p.Zone)
		if err != nil {
			return time.Time{}, sources.Malformed(Name, "timestamp", err)
		}
		return t, nil
	}
	return time.Time{}, sources.Malformed(Name, prefix+fields[0], sources.ErrMissing)
}

// linkStatus normalizes a link status word (pending, paid, expired,
// cancelled; failed for a declined payment; refunded).
func linkStatus(s string) (reconcile.Status, string, error) {
	w := strings.ToLower(strings.TrimSpace(s))
	switch w {
	case "pending", "created", "active", "open", "unpaid":
		return reconcile.StatusPending, w, nil
	case "paid", "success", "successful", "completed", "approved":
		return reconcile.StatusSucceeded, w, nil
	case "refunded", "partially_refunded":
		return reconcile.StatusSucceeded, "refunded", nil // its refunds are reversal records
	case "expired":
		return reconcile.StatusExpired, w, nil
	case "cancelled", "canceled":
		return reconcile.StatusCancelled, "cancelled", nil
	case "failed", "declined":
		return reconcile.StatusFailed, w, nil
	case "":
		return "", "", sources.ErrMissing
	}
	return "", "", fmt.Errorf("unknown link status %q (want pending, paid, expired, cancelled or failed)", s)
}

// refundStatus normalizes a refund's status; none means it was made.
func refundStatus(s string) (reconcile.Status, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "completed", "complete", "succeeded", "success", "successful", "processed", "refunded", "paid":
		return reconcile.StatusSucceeded, nil
	case "pending", "processing":
		return reconcile.StatusPending, nil
	case "failed", "declined", "rejected":
		return reconcile.StatusFailed, nil
	case "cancelled", "canceled":
		return reconcile.StatusCancelled, nil
	}
	return "", fmt.Errorf("unknown refund status %q", s)
}

// Method is the fee-schedule method of a payment: "eft" for Instant EFT,
// "card" for a South African card, "international_card" for a card issued
// abroad (cardOrigin "international", a cardCountry other than ZA, or
// international true); any other method lower-cased as iKhokha names it.
// A payment with a card brand and no method was by card.
func Method(paymentMethod, cardBrand, cardOrigin, cardCountry string, international bool) string {
	m := strings.ToLower(strings.TrimSpace(paymentMethod))
	norm := strings.NewReplacer(" ", "", "_", "", "-", "").Replace(m)
	switch norm {
	case "eft", "instanteft", "ieft", "ikeft":
		return MethodEFT
	case "card", "creditcard", "debitcard", "visa", "mastercard", "amex", "applepay", "googlepay", "samsungpay":
	case "":
		if strings.TrimSpace(cardBrand) == "" {
			return ""
		}
	case "internationalcard", "foreigncard":
		return MethodInternationalCard
	default:
		return m
	}
	origin := strings.ToLower(strings.TrimSpace(cardOrigin))
	country := strings.ToUpper(strings.TrimSpace(cardCountry))
	if international || origin == "international" || origin == "foreign" || origin == "intl" ||
		(country != "" && country != "ZA" && country != "ZAF" && country != "SOUTH AFRICA") {
		return MethodInternationalCard
	}
	return MethodCard
}

func has(doc map[string]json.RawMessage, k string) bool {
	_, ok := doc[k]
	return ok
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// arrayField names the array of a history response, or "".
func arrayField(doc map[string]json.RawMessage) string {
	for _, f := range []string{"payments", "transactions", "history", "data"} {
		if t := bytes.TrimSpace(doc[f]); len(t) > 0 && t[0] == '[' {
			return f
		}
	}
	return ""
}

func str(doc map[string]json.RawMessage, field string) (string, error) {
	s, err := sources.LooseString(doc[field])
	if err != nil {
		return "", sources.Malformed(Name, field, err)
	}
	return strings.TrimSpace(s), nil
}
