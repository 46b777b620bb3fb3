package reconcile

import (
	"fmt"
	"time"
)

// Direction says which way money moved from the merchant's point of view.
type Direction string

// Directions.
const (
	In  Direction = "in"  // the merchant was paid
	Out Direction = "out" // the merchant paid out (b2c, PAY, refunds)
)

// ParseDirection validates s; "" means In.
func ParseDirection(s string) (Direction, error) {
	switch Direction(s) {
	case "", In:
		return In, nil
	case Out:
		return Out, nil
	}
	return "", fmt.Errorf("unknown direction %q (want in or out)", s)
}

// Kind classifies a provider record.
type Kind string

// Record kinds (SPEC §4).
const (
	KindPayment    Kind = "payment"    // money in
	KindPayout     Kind = "payout"     // money out: b2c, PAY
	KindReversal   Kind = "reversal"   // a payment reversed or refunded
	KindSettlement Kind = "settlement" // provider paid the merchant's bank
	KindFee        Kind = "fee"        // a fee charged separately
)

// Direction returns the ledger direction records of this kind match against.
func (k Kind) Direction() Direction {
	switch k {
	case KindPayout, KindReversal:
		return Out
	}
	return In
}

// Status is a provider record's normalized status.
type Status string

// Normalized statuses (SPEC §4).
const (
	StatusSucceeded Status = "succeeded"
	StatusPending   Status = "pending"
	StatusFailed    Status = "failed"
	StatusReversed  Status = "reversed"
	StatusCancelled Status = "cancelled"
	StatusExpired   Status = "expired"
)

// Precedence orders statuses so that when the same transaction is seen more
// than once (webhook, poll, status query) the most final word wins: a pending
// never overwrites a success, and a reversal overwrites everything.
func (s Status) Precedence() int {
	switch s {
	case StatusPending:
		return 0
	case StatusExpired, StatusCancelled:
		return 1
	case StatusFailed:
		return 2
	case StatusSucceeded:
		return 3
	case StatusReversed:
		return 4
	}
	return -1
}

// Source says how a record reached Mizani.
type Source string

// Record sources.
const (
	SourceWebhook Source = "webhook"
	SourcePoll    Source = "poll"
	SourceStatus  Source = "status"
	SourceImport  Source = "import"
)

// Record is one provider-side transaction, normalized from whatever payload
// carried it. The same (Provider, Kind, TxID) is the same transaction however
// often and however it arrives.
type Record struct {
	Provider Provider
	Kind     Kind
	// TxID is the provider's own transaction id, unique per Provider and Kind.
	TxID string
	// MerchantRef is what the merchant sent the provider: Pixel order_id,
	// iKhokha externalTransactionID, Kora reference, Kopo Kopo metadata.reference.
	MerchantRef string
	// ProviderRef is the provider-side reference: an M-PESA code, a paylinkID,
	// a Pixel transaction_ref.
	ProviderRef string
	// RelatedTxID links a reversal, refund or disbursement to the transaction
	// it belongs to, when the provider says so. On a payment with status
	// reversed, RelatedTxID equal to TxID says the provider also reports the
	// reversal as a record of its own (dated when it happened), so the
	// payment's status alone must not be counted as a reversal.
	RelatedTxID string
	// Account is the till, merchant_id or entityID the money belongs to.
	Account string
	// Amount is the gross amount, never negative (a reversal or payout is
	// told by Kind, not by sign); meaningful only when AmountKnown.
	Amount      Money
	AmountKnown bool
	// AmountSent is the amount exactly as the provider sent it, in major
	// units, when it could not yet be read as Money: the payload names no
	// currency (Pixel), so the store keeps the text and reads it in the
	// currency of the ledger entry the record belongs to (Amount.Currency,
	// if set, is only the fallback when there is none); or it is more
	// precise than its currency allows ("200.50" XOF), which stays
	// AmountKnown false and is reported, never rounded. Empty otherwise.
	AmountSent string
	// Fee and VAT as reported by the provider; meaningful only when FeeKnown.
	Fee      Money
	VAT      Money
	FeeKnown bool
	// FeeOnPayer: the payer paid Fee and VAT on top of Amount (Kora's
	// merchant_bears_cost false), so they do not reduce what the merchant
	// is owed; settlement counts no fee for the record.
	FeeOnPayer bool
	// Partial: the provider took less than was asked (a partial voucher
	// redemption); Amount is what it took. Discrepancy details say so.
	Partial bool
	Status  Status
	// ProviderStatus is the provider's own status word or code, kept for reports.
	ProviderStatus string
	// OccurredAt is when the money moved, in UTC.
	OccurredAt time.Time
	// Counterparty is the payer or payee (often a phone number); reports mask it.
	Counterparty string
	// Method is the payment method where the provider says (card, eft, mpesa…);
	// settlement fee schedules key on it.
	Method string
	// ReversedAt, on a reversed payment, is when the store first saw it
	// reversed after storing it as not reversed: a provider that reports a
	// reversal only as the payment's new status (a polled transaction) does
	// not say when it happened, so settlement dates it then. Zero when the
	// record was reversed at first sight or by an import (a file loaded
	// whenever dates nothing), or is not reversed.
	ReversedAt   time.Time
	Source       Source
	RawPayloadID int64
}

// Currency returns the record's currency (that of Amount).
func (r Record) Currency() Currency { return r.Amount.Currency }

// Direction returns the ledger direction the record matches against.
func (r Record) Direction() Direction { return r.Kind.Direction() }

// RecordKey is what makes two records one transaction: the same provider,
// kind and transaction id (the store keeps one row a key).
type RecordKey struct {
	Provider Provider
	Kind     Kind
	TxID     string
}

// Key returns the record's RecordKey.
func (r *Record) Key() RecordKey { return RecordKey{r.Provider, r.Kind, r.TxID} }

// PayloadKey is what makes two payloads one: the same provider and dedup
// key (a redelivery is a duplicate).
type PayloadKey struct {
	Provider Provider
	DedupKey string
}

// Key returns the payload's PayloadKey.
func (p *RawPayload) Key() PayloadKey { return PayloadKey{p.Provider, p.DedupKey} }

// RawPayload is the verbatim bytes a provider sent, stored before or with the
// records parsed from it so any record can be traced back to them.
type RawPayload struct {
	ID       int64
	Provider Provider
	Source   Source
	// Kind names the payload shape (a webhook topic, "polling_result",
	// "status", "callback"…), for operators reading the store.
	Kind string
	// DedupKey identifies the payload for idempotency (a webhook event id, or
	// a hash of the body when the provider sends none).
	DedupKey   string
	Body       []byte
	ReceivedAt time.Time
}
