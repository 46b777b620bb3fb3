// Package kopokopo is Mizani's Kopo Kopo (K2 Connect) adapter: API client,
// webhook signatures, payload mapping and a simulator (SPEC §9.1), all
// registered through Provider. The commands use the registration alone; the
// typed API (Client, Puller, Simulator) is for tests and the adapter itself.
package kopokopo

import (
	"cmp"
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

// Webhook topics (vendor document 004, "Webhooks").
const (
	TopicBuygoodsReceived    = "buygoods_transaction_received"
	TopicBuygoodsReversed    = "buygoods_transaction_reversed"
	TopicB2BReceived         = "b2b_transaction_received"
	TopicM2MReceived         = "m2m_transaction_received"
	TopicSettlementCompleted = "settlement_transfer_completed"
	TopicCustomerCreated     = "customer_created"
)

// defaultCurrency applies when a payload names none (a failed STK push has no
// resource): Kopo Kopo operates in Kenya only.
const defaultCurrency reconcile.Currency = "KES"

// Parser maps every Kopo Kopo payload — webhook events and the incoming
// payment, settlement transfer, payment (PAY) and polling results — to
// normalized records. It implements sources.Parser and is safe for concurrent
// use.
//
// Mapping decisions:
//   - Buygoods, B2B and M2M transactions are payments keyed by the resource id;
//     ProviderRef is the M-PESA reference, Account the till, Counterparty the
//     sender (phone, sending till or sending merchant).
//   - A buygoods_transaction_reversed webhook is two records: the payment,
//     with status reversed, and a reversal keyed by the resource id with
//     RelatedTxID set to it. The resource is the transaction that was
//     reversed, and it may be all Mizani ever hears of it, so the payment
//     must be recorded too: the matcher joins the reversal to it, and
//     settlement counts it in gross and the reversal once. The payment's
//     RelatedTxID is its own id: its reversal is a record of its own
//     (reconcile.Record), so settlement never counts the status as a
//     reversal on the payment's day. The payment comes first, so that it
//     precedes its reversal in the store. The reversal is dated when it
//     happened: the webhook's created_at (the resource's origination_time is
//     the payment's), never before the payment.
//   - A polling result says only that a transaction is Reversed by the time
//     of the poll, not when: it is the payment with status reversed and no
//     reversal record, which the store dates when it first sees it reversed
//     after storing it as not reversed (reconcile.Record.ReversedAt), and
//     settlement counts on that day — on the payment's own day when it was
//     reversed at first sight. A reversal webhook, before or after, still
//     brings its dated reversal record, which then counts instead.
//   - An incoming payment (STK push) result is a payment keyed by data.id, the
//     same id for its pending, failed and successful results; MerchantRef is
//     metadata.reference and ProviderRef the M-PESA reference once paid.
//   - A payment (PAY) result is a payout keyed by data.id.
//   - Settlements become one settlement record per disbursement, because the
//     settlement report needs the amount settled per day and a transfer's
//     disbursements may land on different days. The settlement_transfer_completed
//     webhook describes one transfer batch and the settlement transfer result
//     the whole transfer, under different ids, so a disbursement is keyed by
//     what both always carry: its origination time (UTC), amount and currency
//     — the same money arriving both ways is one record, even when only one
//     of them names its transaction_reference (the M-PESA code, kept as
//     ProviderRef). RelatedTxID is the batch or transfer id.
//   - A disbursement's status is its own, else its batch's, else the
//     transfer's. Failed, like Reversed, is the reversed status: money that
//     did not stay paid, which replaces an earlier Transferred sighting of
//     the same disbursement by the store's status precedence, and which
//     settlement does not count as settled.
//   - A disbursement with a null amount takes the transfer's amount when it
//     is the transfer's only one; otherwise the payload is malformed, naming
//     the disbursement's amount: never a settlement of nothing. A completed
//     transfer (the webhook, or a result with a final status) that lists no
//     disbursements is one settlement of its own amount, keyed like a
//     disbursement at the transfer's time; with no amount either it is
//     malformed. A result still pending with no disbursements moved no money
//     and yields no record; a null transfer amount ("all available funds")
//     with disbursements needs none.
//   - customer_created, transaction SMS notification results, unknown topics
//     and unknown result types yield no records: the payload is stored raw.
//   - A body of neither shape — a webhook envelope has a topic, an id and an
//     event object; a result has data.id, data.type and data.attributes — is
//     malformed, not stored: an OAuth token response (it carries the access
//     token), a request body Mizani sends, another provider's payload. Known
//     topics also need their event.resource.
//   - Amounts are never negative: Kopo Kopo reports a reversal by topic or
//     status, not by sign, so "-5.0" is malformed. Zero is accepted.
//   - Times carry their offset (+03:00, with or without milliseconds); a time
//     without one is read in Zone.
//
// The zero Parser is ready to use.
type Parser struct {
	// Zone reads a time that carries no offset, which Kopo Kopo does not
	// send (SPEC §9.1). Default: East Africa Time, +03:00, as in Nairobi.
	Zone *time.Location
}

var _ sources.Parser = Parser{}

// Parse implements sources.Parser. The dedup key of a webhook is
// "<topic>:<event id>"; that of a result is "<type>:<data.id>:<status>", so a
// pending status and the final result of the same request are both kept while
// a redelivery of either is a duplicate; a settlement transfer result's also
// ends in a digest of its attributes, since its disbursements change status
// under the same transfer status. A body of neither shape is malformed.
func (ps Parser) Parse(body []byte, src reconcile.Source) (reconcile.RawPayload, []reconcile.Record, error) {
	p := reconcile.RawPayload{Provider: Name, Source: src, Body: body}
	var env envelope
	if err := sources.DecodeObject(body, &env); err != nil {
		return p, nil, malformed("body", err)
	}
	m := mapper{src: src, zone: cmp.Or(ps.Zone, eat)}
	var recs []reconcile.Record
	var err error
	switch {
	case env.Topic != "":
		p.Kind = env.Topic
		if env.ID == "" {
			return p, nil, malformed("id", sources.ErrMissing)
		}
		if env.Event == nil {
			return p, nil, malformed("event", sources.ErrMissing)
		}
		p.DedupKey = env.Topic + ":" + env.ID
		recs, err = m.webhook(env)
	case !sources.IsNull(env.Data):
		var res result
		if err := sources.DecodeObject(env.Data, &res); err != nil {
			return p, nil, malformed("data", err)
		}
		if res.ID == "" {
			return p, nil, malformed("data.id", sources.ErrMissing)
		}
		if res.Type == "" {
			return p, nil, malformed("data.type", sources.ErrMissing)
		}
		var status struct {
			Status string `json:"status"`
		}
		if err := sources.DecodeObject(res.Attributes, &status); err != nil {
			return p, nil, malformed("data.attributes", err)
		}
		p.Kind = res.Type + "_result"
		p.DedupKey = res.Type + ":" + res.ID + ":" + status.Status
		if res.Type == "settlement_transfer" {
			// A transfer's status stays Processed while its disbursements
			// change (Transferred, then Reversed): a result saying anything
			// new is not a redelivery.
			sum := sha256.Sum256(res.Attributes)
			p.DedupKey += ":" + hex.EncodeToString(sum[:8])
		}
		recs, err = m.result(res)
	default:
		// Neither shape: not something Kopo Kopo sends to Mizani (a token
		// response, a request body, another provider's payload). It is
		// refused rather than stored raw — a token response carries a secret.
		return p, nil, malformed("body", notAPayload(body))
	}
	if err != nil {
		return p, nil, err
	}
	return p, recs, nil
}

// notAPayload explains why body, a JSON object of neither accepted shape, is
// refused. It never quotes the body: a token response holds a secret.
func notAPayload(body []byte) error {
	var probe struct {
		AccessToken json.RawMessage `json:"access_token"`
		Links       struct {
			CallbackURL json.RawMessage `json:"callback_url"`
		} `json:"_links"`
		EventType json.RawMessage `json:"event_type"`
	}
	_ = json.Unmarshal(body, &probe) // body already decoded as an object
	const shapes = "webhook event ({topic, id, event}) or API result ({data: {id, type, attributes}})"
	switch {
	case probe.AccessToken != nil:
		return errors.New("an OAuth token response, not a " + shapes + "; never stored: it holds a secret")
	case probe.Links.CallbackURL != nil, probe.EventType != nil:
		return errors.New("a request Mizani sends to Kopo Kopo, not a " + shapes)
	}
	return errors.New("neither a webhook event ({topic, id, event}) nor an API result ({data: {id, type, attributes}})")
}

// malformed wraps sources.ErrMalformed, naming the JSON path at fault.
func malformed(field string, err error) error {
	return sources.Malformed(Name, field, err)
}

// mapper turns decoded payloads into records for one source, reading
// zone-less times in zone.
type mapper struct {
	src  reconcile.Source
	zone *time.Location
}

func (m mapper) webhook(env envelope) ([]reconcile.Record, error) {
	var kind reconcile.Kind
	switch env.Topic {
	case TopicBuygoodsReceived, TopicB2BReceived, TopicM2MReceived:
		kind = reconcile.KindPayment
	case TopicBuygoodsReversed:
		kind = reconcile.KindReversal
	case TopicSettlementCompleted:
		kind = reconcile.KindSettlement
	case TopicCustomerCreated: // a resource, but no money moved: stored raw
	default: // topics Kopo Kopo may add: stored raw, whatever the event holds
		return nil, nil
	}
	const path = "event.resource"
	if env.Event == nil || sources.IsNull(env.Event.Resource) {
		return nil, malformed(path, sources.ErrMissing)
	}
	if kind == "" {
		var obj map[string]json.RawMessage
		if err := sources.DecodeObject(env.Event.Resource, &obj); err != nil {
			return nil, malformed(path, err)
		}
		return nil, nil
	}
	if kind == reconcile.KindSettlement {
		return m.settlementWebhook(env.Event.Resource, path)
	}
	var t transaction
	if err := sources.DecodeObject(env.Event.Resource, &t); err != nil {
		return nil, malformed(path, err)
	}
	if kind == reconcile.KindReversal {
		recs, err := m.reversed(t, path)
		if err != nil {
			return nil, err
		}
		created, err := looseString(env.CreatedAt, "created_at")
		if err != nil || created == "" {
			return recs, err
		}
		at, err := m.instant(created, "created_at")
		if err != nil {
			return nil, err
		}
		if rev := &recs[1]; at.After(rev.OccurredAt) {
			rev.OccurredAt = at
		}
		return recs, nil
	}
	r, err := m.transaction(t, kind, path)
	if err != nil {
		return nil, err
	}
	return []reconcile.Record{r}, nil
}

// reversed maps a reversed Buygoods transaction found at path to the payment,
// with status reversed, and its reversal (see Parser).
func (m mapper) reversed(t transaction, path string) ([]reconcile.Record, error) {
	pay, err := m.transaction(t, reconcile.KindPayment, path)
	if err != nil {
		return nil, err
	}
	pay.Status = reconcile.StatusReversed
	pay.RelatedTxID = pay.TxID // its reversal is a record of its own
	rev := pay
	rev.Kind = reconcile.KindReversal
	return []reconcile.Record{pay, rev}, nil
}

func (m mapper) result(res result) ([]reconcile.Record, error) {
	const path = "data.attributes"
	switch res.Type {
	case "incoming_payment":
		var a incomingPaymentAttrs
		if err := sources.DecodeObject(res.Attributes, &a); err != nil {
			return nil, malformed(path, err)
		}
		r, err := m.incomingPayment(res.ID, a)
		if err != nil {
			return nil, err
		}
		return []reconcile.Record{r}, nil
	case "payment":
		var a transferAttrs
		if err := sources.DecodeObject(res.Attributes, &a); err != nil {
			return nil, malformed(path, err)
		}
		r, err := m.payout(res.ID, a)
		if err != nil {
			return nil, err
		}
		return []reconcile.Record{r}, nil
	case "settlement_transfer":
		var a transferAttrs
		if err := sources.DecodeObject(res.Attributes, &a); err != nil {
			return nil, malformed(path, err)
		}
		cur, err := currency(a.Amount.Currency, path+".amount.currency")
		if err != nil {
			return nil, err
		}
		// The transfer's own amount (null: "all available funds") is
		// checked, though its disbursements are what moved.
		total, totalKnown, err := amount(a.Amount.Value, cur, path+".amount.value")
		if err != nil {
			return nil, err
		}
		var all []disbursement
		var paths []string
		for i, b := range a.TransferBatches {
			for j, d := range b.Disbursements {
				d.Status = firstNonEmpty(d.Status, b.Status, a.Status)
				all = append(all, d)
				paths = append(paths, fmt.Sprintf("%s.transfer_batches[%d].disbursements[%d]", path, i, j))
			}
		}
		t := transfer{id: res.ID, cur: cur, total: total, totalKnown: totalKnown, status: a.Status,
			when: a.CreatedAt, whenPath: path + ".created_at", amountPath: path + ".amount.value"}
		return m.disbursements(t, all, func(i int) string { return paths[i] })
	case "polling":
		var a pollingAttrs
		if err := sources.DecodeObject(res.Attributes, &a); err != nil {
			return nil, malformed(path, err)
		}
		return m.polling(a)
	}
	return nil, nil // transaction_sms_notification and unknown types: stored raw
}

// polling maps each transaction of a polling result like the webhook that
// carries the same resource. Transaction types Mizani does not know are
// skipped; the raw payload keeps them.
func (m mapper) polling(a pollingAttrs) ([]reconcile.Record, error) {
	var recs []reconcile.Record
	for i, tx := range a.Transactions {
		path := fmt.Sprintf("data.attributes.transactions[%d].resource", i)
		if sources.IsNull(tx.Resource) {
			return nil, malformed(path, sources.ErrMissing)
		}
		switch strings.ToLower(tx.Type) {
		case "buygoods transaction", "b2b transaction", "external till to till transaction",
			"merchant to merchant transaction", "m2m transaction":
			var t transaction
			if err := sources.DecodeObject(tx.Resource, &t); err != nil {
				return nil, malformed(path, err)
			}
			r, err := m.transaction(t, reconcile.KindPayment, path)
			if err != nil {
				return nil, err
			}
			if strings.EqualFold(t.Status, "Reversed") {
				// Reversed by the time of the poll, not saying when: the
				// payment's status alone, for the store to date (see Parser).
				r.Status = reconcile.StatusReversed
			}
			recs = append(recs, r)
		case "settlement transfer":
			rs, err := m.settlementWebhook(tx.Resource, path)
			if err != nil {
				return nil, err
			}
			recs = append(recs, rs...)
		}
	}
	return recs, nil
}

// transaction maps a Buygoods, B2B or M2M resource found at path.
func (m mapper) transaction(t transaction, kind reconcile.Kind, path string) (reconcile.Record, error) {
	if t.ID == "" {
		return reconcile.Record{}, malformed(path+".id", sources.ErrMissing)
	}
	cur, err := currency(t.Currency, path+".currency")
	if err != nil {
		return reconcile.Record{}, err
	}
	r := reconcile.Record{
		Provider:     Name,
		Kind:         kind,
		TxID:         t.ID,
		ProviderRef:  t.Reference,
		Account:      t.TillNumber,
		Counterparty: firstNonEmpty(t.SenderPhoneNumber, t.SendingTill, t.SendingMerchant),
		Method:       method(t.System),
		Source:       m.src,
	}
	if r.Amount, r.AmountKnown, err = amount(t.Amount, cur, path+".amount"); err != nil {
		return r, err
	}
	r.Status, r.ProviderStatus = status(t.Status)
	if r.OccurredAt, err = m.instant(t.OriginationTime, path+".origination_time"); err != nil {
		return r, err
	}
	return r, nil
}

// incomingPayment maps an STK push result or status.
func (m mapper) incomingPayment(id string, a incomingPaymentAttrs) (reconcile.Record, error) {
	const path = "data.attributes"
	ref, err := looseString(a.Metadata.Reference, path+".metadata.reference")
	if err != nil {
		return reconcile.Record{}, err
	}
	r := reconcile.Record{
		Provider:    Name,
		Kind:        reconcile.KindPayment,
		TxID:        id,
		MerchantRef: ref,
		Amount:      reconcile.Money{Currency: defaultCurrency},
		Source:      m.src,
	}
	r.Status, r.ProviderStatus = status(a.Status)
	if r.OccurredAt, err = m.instant(a.InitiationTime, path+".initiation_time"); err != nil {
		return r, err
	}
	t := a.Event.Resource
	if t == nil {
		return r, nil
	}
	const rpath = path + ".event.resource"
	cur, err := currency(t.Currency, rpath+".currency")
	if err != nil {
		return r, err
	}
	if r.Amount, r.AmountKnown, err = amount(t.Amount, cur, rpath+".amount"); err != nil {
		return r, err
	}
	r.ProviderRef, r.Account, r.Counterparty, r.Method = t.Reference, t.TillNumber, t.SenderPhoneNumber, method(t.System)
	// The money moved when M-PESA says, not when the push was initiated.
	if t.OriginationTime != "" {
		if r.OccurredAt, err = m.instant(t.OriginationTime, rpath+".origination_time"); err != nil {
			return r, err
		}
	}
	return r, nil
}

// payout maps a payment (PAY) result.
func (m mapper) payout(id string, a transferAttrs) (reconcile.Record, error) {
	const path = "data.attributes"
	cur, err := currency(a.Amount.Currency, path+".amount.currency")
	if err != nil {
		return reconcile.Record{}, err
	}
	ref, err := looseString(a.Metadata.Reference, path+".metadata.reference")
	if err != nil {
		return reconcile.Record{}, err
	}
	r := reconcile.Record{
		Provider:     Name,
		Kind:         reconcile.KindPayout,
		TxID:         id,
		MerchantRef:  ref,
		ProviderRef:  a.Reference,
		Counterparty: a.Destination,
		Source:       m.src,
	}
	if r.Amount, r.AmountKnown, err = amount(a.Amount.Value, cur, path+".amount.value"); err != nil {
		return r, err
	}
	r.Status, r.ProviderStatus = status(a.Status)
	when, whenPath := firstNonEmpty(a.OriginationTime, a.CreatedAt), path+".created_at"
	for i, b := range a.TransferBatches {
		for j, d := range b.Disbursements {
			if r.ProviderRef == "" {
				r.ProviderRef = d.TransactionReference
			}
			if r.Counterparty == "" {
				r.Counterparty = d.DestinationReference
			}
			if r.Method == "" {
				r.Method = method(d.DestinationType)
			}
			if d.OriginationTime != "" && when == a.CreatedAt {
				when = d.OriginationTime
				whenPath = fmt.Sprintf("%s.transfer_batches[%d].disbursements[%d].origination_time", path, i, j)
			}
		}
	}
	if r.OccurredAt, err = m.instant(when, whenPath); err != nil {
		return r, err
	}
	return r, nil
}

// settlementWebhook maps a Settlement Transfer resource found at path.
func (m mapper) settlementWebhook(raw json.RawMessage, path string) ([]reconcile.Record, error) {
	var s settlementTransfer
	if err := sources.DecodeObject(raw, &s); err != nil {
		return nil, malformed(path, err)
	}
	if s.ID == "" {
		return nil, malformed(path+".id", sources.ErrMissing)
	}
	cur, err := currency(s.Currency, path+".currency")
	if err != nil {
		return nil, err
	}
	total, totalKnown, err := amount(s.Amount, cur, path+".amount")
	if err != nil {
		return nil, err
	}
	dest := s.Destination.Resource.Reference
	for i := range s.Disbursements {
		d := &s.Disbursements[i]
		if d.DestinationReference == "" {
			d.DestinationReference = dest
		}
		if d.DestinationType == "" {
			d.DestinationType = s.Destination.Type
		}
		d.Status = firstNonEmpty(d.Status, s.Status)
	}
	// A webhook says the transfer is completed, whatever its status word.
	t := transfer{id: s.ID, cur: cur, total: total, totalKnown: totalKnown, status: firstNonEmpty(s.Status, "Transferred"),
		when: s.OriginationTime, whenPath: path + ".origination_time", amountPath: path + ".amount",
		destination: dest, destinationType: s.Destination.Type}
	return m.disbursements(t, s.Disbursements, func(i int) string {
		return fmt.Sprintf("%s.disbursements[%d]", path, i)
	})
}

// transfer is what the disbursements of one settlement transfer share.
type transfer struct {
	id  string
	cur reconcile.Currency
	// total is the transfer's own amount, if it reported one.
	total      reconcile.Money
	totalKnown bool
	// status is the transfer's status word; when and whenPath its time.
	status, when, whenPath string
	// amountPath names the transfer's amount in errors.
	amountPath string
	// destination and destinationType describe where a transfer that
	// lists no disbursements went.
	destination, destinationType string
}

// disbursements maps the disbursements of transfer t to settlement records
// (see Parser for the keying rule and the amounts and statuses used).
// t.when applies to a disbursement that carries no origination_time; pathOf
// names disbursement i in errors.
func (m mapper) disbursements(t transfer, ds []disbursement, pathOf func(int) string) ([]reconcile.Record, error) {
	if len(ds) == 0 {
		st, _ := status(t.status)
		if st == reconcile.StatusPending {
			return nil, nil // nothing moved yet
		}
		if !t.totalKnown {
			return nil, malformed(t.amountPath, errors.New("not reported, and the transfer lists no disbursements: the settlement's amount is unknown"))
		}
		// The transfer's own amount, at its own time, is what moved.
		ds = []disbursement{{Status: t.status, OriginationTime: t.when,
			DestinationType: t.destinationType, DestinationReference: t.destination}}
		pathOf = func(int) string { return t.whenPath[:strings.LastIndex(t.whenPath, ".")] }
	}
	recs := make([]reconcile.Record, 0, len(ds))
	seen := make(map[string]int, len(ds))
	for i, d := range ds {
		dpath := pathOf(i)
		r := reconcile.Record{
			Provider:     Name,
			Kind:         reconcile.KindSettlement,
			ProviderRef:  d.TransactionReference,
			RelatedTxID:  t.id,
			Counterparty: d.DestinationReference,
			Method:       method(d.DestinationType),
			Source:       m.src,
		}
		var err error
		if r.Amount, r.AmountKnown, err = amount(d.Amount, t.cur, dpath+".amount"); err != nil {
			return nil, err
		}
		if !r.AmountKnown {
			if len(ds) != 1 || !t.totalKnown {
				return nil, malformed(dpath+".amount", errors.New("not reported, and the transfer's amount does not say it: the disbursement's amount is unknown"))
			}
			r.Amount, r.AmountKnown = t.total, true
		}
		r.Status, r.ProviderStatus = status(d.Status)
		if r.Status == reconcile.StatusFailed {
			// The money did not stay paid: reversed, so that it replaces an
			// earlier Transferred sighting (see Parser).
			r.Status = reconcile.StatusReversed
		}
		when, whenPath := d.OriginationTime, dpath+".origination_time"
		if when == "" {
			when, whenPath = t.when, t.whenPath
		}
		if r.OccurredAt, err = m.instant(when, whenPath); err != nil {
			return nil, err
		}
		r.TxID = r.OccurredAt.Format(time.RFC3339Nano) + "/" + r.Amount.String() + "/" + string(t.cur)
		// Two disbursements alike in time and amount are still two.
		seen[r.TxID]++
		if n := seen[r.TxID]; n > 1 {
			r.TxID = fmt.Sprintf("%s#%d", r.TxID, n)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// status normalizes a Kopo Kopo status word. An unknown word is pending, and
// ProviderStatus says it was not recognized.
func status(s string) (reconcile.Status, string) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "received", "complete", "completed", "success", "processed", "transferred":
		return reconcile.StatusSucceeded, s
	case "reversed":
		return reconcile.StatusReversed, s
	case "failed":
		return reconcile.StatusFailed, s
	case "pending", "scheduled", "processing", "queued":
		return reconcile.StatusPending, s
	case "cancelled", "canceled":
		return reconcile.StatusCancelled, s
	case "expired":
		return reconcile.StatusExpired, s
	}
	return reconcile.StatusPending, fmt.Sprintf("%s (unknown status, treated as pending)", s)
}

// amount reads a JSON amount in major units exactly; null or "" is not
// reported, and a negative amount is malformed (sources.Amount).
func amount(raw json.RawMessage, cur reconcile.Currency, field string) (reconcile.Money, bool, error) {
	m, known, err := sources.Amount(raw, cur)
	if err != nil {
		return m, false, malformed(field, err)
	}
	return m, known, nil
}

// currency validates a currency code; an absent one is Kenya's.
func currency(code, field string) (reconcile.Currency, error) {
	if strings.TrimSpace(code) == "" {
		return defaultCurrency, nil
	}
	c, err := sources.Currency(code)
	if err != nil {
		return "", malformed(field, err)
	}
	return c, nil
}

// instant parses a Kopo Kopo time ("2020-10-22T10:43:19+03:00", with or
// without milliseconds; one without an offset in m.zone) and returns it in UTC.
func (m mapper) instant(s, field string) (time.Time, error) {
	t, err := sources.Instant(s, m.zone)
	if err != nil {
		return time.Time{}, malformed(field, err)
	}
	return t, nil
}

// looseString reads a JSON string or number as text; null or absent is "".
func looseString(raw json.RawMessage, field string) (string, error) {
	s, err := sources.LooseString(raw)
	if err != nil {
		return "", malformed(field, err)
	}
	return s, nil
}

// method names the payment rail for fee schedules: "mpesa" for M-PESA
// systems, otherwise the provider's word in snake case ("bank_account").
func method(system string) string {
	s := strings.ToLower(strings.TrimSpace(system))
	if strings.Contains(s, "mpesa") || strings.Contains(s, "m-pesa") {
		return "mpesa"
	}
	return strings.ReplaceAll(s, " ", "_")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
