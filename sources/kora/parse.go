package kora

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Webhook events (Kora's webhook guide).
const (
	EventChargeSuccess   = "charge.success"
	EventChargeFailed    = "charge.failed"
	EventTransferSuccess = "transfer.success"
	EventTransferFailed  = "transfer.failed"
)

// Payload kinds Parse gives payloads that are not webhooks.
const (
	KindCharge = "charge"  // a voucher charge response or a charge verification
	KindPayIns = "pay-ins" // one page of the pay-ins history
	KindError  = "error"   // {status: false, message, data: null}
)

// Parser maps every Kora payload — webhooks, voucher charge responses,
// charge verifications and pages of the pay-ins history — to normalized
// records. It implements sources.Parser and is safe for concurrent use.
//
// Mapping decisions:
//   - Charges (charge.* webhooks, charge responses, verifications, pay-in
//     rows) are payments; transfer.* webhooks are payouts (money out).
//   - References: transaction_reference is Kora's id (ProviderRef and TxID);
//     payment_reference is the merchant's (MerchantRef). reference is Kora's
//     id where the payload has no transaction_reference and either names a
//     payment_reference beside it (webhooks) or has Kora's "KPY-" form (the
//     pay-ins history); otherwise it is the merchant's reference (a payout's,
//     or a verification that echoes the reference asked about). A
//     transaction with no Kora id is keyed by the merchant reference.
//   - Amount is amount_paid where Kora reports it, else amount — both in
//     major units, a JSON number or a string, read exactly. A payment that
//     took less than amount_expected is Partial (a partial voucher
//     redemption: document 001 marks it success with the smaller amount).
//   - fee and vat are kept as reported (FeeKnown when fee is present; a
//     missing vat is zero). merchant_bears_cost false means the customer paid
//     them on top (FeeOnPayer): they do not reduce the merchant's net.
//   - Statuses: success → succeeded; failed → failed; processing and pending
//     → pending; expired, cancelled/abandoned as such. Anything else is
//     malformed.
//   - Times: transaction_date, else date_created, else created_at, else
//     date_completed, zone-less ones read in Zone (KORA_TZ). A voucher charge
//     response carries no time at all (document 001): the charge was just
//     made, so it is dated Now.
//   - An error response ({status: false, message, data: null}) carries no
//     transaction: no records, stored raw. A body of none of these shapes
//     (a charge request, which carries the voucher PIN; another provider's
//     payload) is malformed.
type Parser struct {
	// Zone is the zone of zone-less times (nil: Africa/Lagos).
	Zone *time.Location
	// Now dates a voucher charge response, which carries no time (nil:
	// time.Now).
	Now func() time.Time
}

// Parse implements sources.Parser. The dedup key of a webhook is
// "<event>:<Kora reference>:<status>"; that of any other payload the SHA-256
// of its compacted body, so a page fetched twice is a duplicate.
func (p Parser) Parse(body []byte, src reconcile.Source) (reconcile.RawPayload, []reconcile.Record, error) {
	payload := reconcile.RawPayload{Provider: Name, Source: src, Body: body}
	var env envelope
	if err := sources.DecodeObject(body, &env); err != nil {
		return payload, nil, sources.Malformed(Name, "body", err)
	}
	// The records come from the member a webhook's signature covers, named
	// exactly "data" (Verifier, DataMember): encoding/json would also fill
	// env.Data from an unsigned "DATA" or "Data" member after it.
	env.Data, _ = DataMember(body)
	m := mapper{p: p, src: src}
	switch {
	case env.Event != "":
		payload.Kind = env.Event
		if sources.IsNull(env.Data) {
			return payload, nil, sources.Malformed(Name, "data", sources.ErrMissing)
		}
		r, known, err := m.webhook(env.Event, env.Data)
		if err != nil {
			return payload, nil, err
		}
		if !known {
			payload.DedupKey = env.Event + ":" + bodyHash(body)
			return payload, nil, nil
		}
		payload.DedupKey = env.Event + ":" + r.TxID + ":" + r.ProviderStatus
		return payload, []reconcile.Record{r}, nil
	case !sources.IsNull(env.HasMore) || isArray(env.Data):
		payload.Kind, payload.DedupKey = KindPayIns, KindPayIns+":"+bodyHash(body)
		recs, err := m.rows("data", env.Data)
		return payload, recs, err
	case isFalse(env.Status) && sources.IsNull(env.Data):
		payload.Kind, payload.DedupKey = KindError, KindError+":"+bodyHash(body)
		return payload, nil, nil
	case sources.IsNull(env.Status):
		return payload, nil, sources.Malformed(Name, "status", sources.ErrMissing)
	case sources.IsNull(env.Data):
		return payload, nil, sources.Malformed(Name, "data", sources.ErrMissing)
	}
	// {status, message, data}: a charge, or a wrapped pay-ins page.
	var l listing
	if err := sources.DecodeObject(env.Data, &l); err != nil {
		return payload, nil, sources.Malformed(Name, "data", err)
	}
	if !sources.IsNull(l.HasMore) || isArray(l.Data) {
		payload.Kind, payload.DedupKey = KindPayIns, KindPayIns+":"+bodyHash(body)
		recs, err := m.rows("data.data", l.Data)
		return payload, recs, err
	}
	payload.Kind, payload.DedupKey = KindCharge, KindCharge+":"+bodyHash(body)
	var c charge
	if err := sources.DecodeObject(env.Data, &c); err != nil {
		return payload, nil, sources.Malformed(Name, "data", err)
	}
	r, err := m.record("data", c, reconcile.KindPayment)
	if err != nil {
		return payload, nil, err
	}
	return payload, []reconcile.Record{r}, nil
}

// mapper maps one payload's transactions.
type mapper struct {
	p   Parser
	src reconcile.Source
}

// webhook maps the data of a webhook; known is false for an event Mizani
// does not map (stored raw).
func (m mapper) webhook(event string, data json.RawMessage) (r reconcile.Record, known bool, err error) {
	kind := reconcile.KindPayment
	switch event {
	case EventChargeSuccess, EventChargeFailed:
	case EventTransferSuccess, EventTransferFailed:
		kind = reconcile.KindPayout
	default:
		return r, false, nil
	}
	var c charge
	if err := sources.DecodeObject(data, &c); err != nil {
		return r, true, sources.Malformed(Name, "data", err)
	}
	if c.Status == "" {
		// The event names the outcome when data does not.
		c.Status = event[strings.IndexByte(event, '.')+1:]
	}
	r, err = m.record("data", c, kind)
	return r, true, err
}

// rows maps the rows of a pay-ins page. Kora's guide shows data as one
// object (with the row's pointer inside it); an array of such rows is read
// too.
func (m mapper) rows(field string, raw json.RawMessage) ([]reconcile.Record, error) {
	if sources.IsNull(raw) {
		return nil, nil
	}
	var rows []json.RawMessage
	if isArray(raw) {
		if err := json.Unmarshal(raw, &rows); err != nil {
			return nil, sources.Malformed(Name, field, err)
		}
	} else {
		rows = []json.RawMessage{raw}
	}
	recs := make([]reconcile.Record, 0, len(rows))
	for i, row := range rows {
		f := fmt.Sprintf("%s[%d]", field, i)
		var c charge
		if err := sources.DecodeObject(row, &c); err != nil {
			return nil, sources.Malformed(Name, f, err)
		}
		r, err := m.record(f, c, reconcile.KindPayment)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// record maps one transaction; field is its JSON path, for errors.
func (m mapper) record(field string, c charge, kind reconcile.Kind) (reconcile.Record, error) {
	r := reconcile.Record{Provider: Name, Kind: kind, Source: m.src, ProviderStatus: c.Status}
	kora, merchant := references(c)
	if kora == "" && merchant == "" {
		return r, sources.Malformed(Name, field+".reference", sources.ErrMissing)
	}
	r.TxID, r.ProviderRef, r.MerchantRef = kora, kora, merchant
	if r.TxID == "" {
		r.TxID = merchant
	}

	status, err := normalStatus(c.Status)
	if err != nil {
		return r, sources.Malformed(Name, field+".status", err)
	}
	r.Status = status

	cur, err := sources.Currency(c.Currency)
	if err != nil {
		return r, sources.Malformed(Name, field+".currency", err)
	}
	amountField, amountRaw := "amount", c.Amount
	if !sources.IsNull(c.AmountPaid) && strings.Trim(string(bytes.TrimSpace(c.AmountPaid)), `"`) != "" {
		amountField, amountRaw = "amount_paid", c.AmountPaid
	}
	if r.Amount, r.AmountKnown, err = sources.Amount(amountRaw, cur); err != nil {
		return r, sources.Malformed(Name, field+"."+amountField, err)
	}
	expected, expectedKnown, err := sources.Amount(c.AmountExpected, cur)
	if err != nil {
		return r, sources.Malformed(Name, field+".amount_expected", err)
	}
	r.Partial = kind == reconcile.KindPayment && status == reconcile.StatusSucceeded &&
		r.AmountKnown && expectedKnown && r.Amount.Minor < expected.Minor

	if r.Fee, r.FeeKnown, err = sources.Amount(c.Fee, cur); err != nil {
		return r, sources.Malformed(Name, field+".fee", err)
	}
	if r.VAT, _, err = sources.Amount(c.VAT, cur); err != nil {
		return r, sources.Malformed(Name, field+".vat", err)
	}
	bears, err := boolean(c.MerchantBearsCost)
	if err != nil {
		return r, sources.Malformed(Name, field+".merchant_bears_cost", err)
	}
	r.FeeOnPayer = r.FeeKnown && bears != nil && !*bears

	r.Method = c.PaymentMethod
	if r.Method == "" && !sources.IsNull(c.Voucher) {
		r.Method = "voucher"
	}
	r.Counterparty = firstOf(c.Customer.PhoneNumber, c.Customer.Phone, c.Customer.Email)

	// date_created before date_completed: the pay-ins history filters by
	// date_created, so a pay-in completed after its chunk ends stays in it.
	when, whenField := firstOf2(c.TransactionDate, "transaction_date", c.DateCreated, "date_created",
		c.CreatedAt, "created_at", c.DateCompleted, "date_completed")
	if when == "" {
		if sources.IsNull(c.Voucher) {
			return r, sources.Malformed(Name, field+".transaction_date", sources.ErrMissing)
		}
		now := time.Now
		if m.p.Now != nil {
			now = m.p.Now
		}
		r.OccurredAt = now().UTC().Truncate(time.Second)
		return r, nil
	}
	zone := m.p.Zone
	if zone == nil {
		zone = lagos
	}
	if r.OccurredAt, err = sources.Instant(when, zone); err != nil {
		return r, sources.Malformed(Name, field+"."+whenField, err)
	}
	return r, nil
}

// lagos is the default zone, loaded once (it is in Go's embedded zone
// database wherever time/tzdata or the system has it).
var lagos = func() *time.Location {
	if loc, err := time.LoadLocation(DefaultZone); err == nil {
		return loc
	}
	return time.FixedZone("WAT", 3600)
}()

// references returns Kora's id and the merchant's reference of c (see
// Parser for the rule).
func references(c charge) (kora, merchant string) {
	kora, merchant = strings.TrimSpace(c.TransactionReference), strings.TrimSpace(c.PaymentReference)
	ref := strings.TrimSpace(c.Reference)
	switch {
	case ref == "" || ref == kora || ref == merchant:
	case kora == "" && (merchant != "" || strings.HasPrefix(ref, "KPY-")):
		kora = ref
	case merchant == "":
		merchant = ref
	}
	return kora, merchant
}

// normalStatus maps Kora's status words (SPEC §9.4).
func normalStatus(s string) (reconcile.Status, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "success", "successful":
		return reconcile.StatusSucceeded, nil
	case "failed", "failure":
		return reconcile.StatusFailed, nil
	case "processing", "pending":
		return reconcile.StatusPending, nil
	case "expired":
		return reconcile.StatusExpired, nil
	case "cancelled", "canceled", "abandoned":
		return reconcile.StatusCancelled, nil
	case "reversed", "refunded":
		return reconcile.StatusReversed, nil
	case "":
		return "", sources.ErrMissing
	}
	return "", fmt.Errorf("unknown status %q", s)
}

// boolean reads a JSON boolean, or "true"/"false" as a string; nil when absent.
func boolean(raw json.RawMessage) (*bool, error) {
	if sources.IsNull(raw) {
		return nil, nil
	}
	switch strings.Trim(string(bytes.TrimSpace(raw)), `"`) {
	case "true":
		t := true
		return &t, nil
	case "false":
		f := false
		return &f, nil
	}
	return nil, errors.New("not a boolean")
}

func isFalse(raw json.RawMessage) bool {
	b, err := boolean(raw)
	return err == nil && b != nil && !*b
}

func isArray(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '['
}

// bodyHash is the hex SHA-256 of body compacted (so reformatting a body
// does not make it new), or of body itself when it does not compact.
func bodyHash(body []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, body); err == nil {
		body = b.Bytes()
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// firstOf2 returns the first non-empty value of value, name pairs, with its name.
func firstOf2(pairs ...string) (value, name string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i]) != "" {
			return pairs[i], pairs[i+1]
		}
	}
	return "", ""
}
