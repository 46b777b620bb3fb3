package reconcile

import "time"

// Match pairs one ledger entry with the provider record or records that
// account for it. Several records appear when a payment came in instalments
// or a voucher was redeemed in parts.
type Match struct {
	Ledger  LedgerEntry
	Records []Record
	// Heuristic is true when the pair was found by amount, phone and time
	// rather than by reference.
	Heuristic bool
}

// DiscrepancyKind is the exact string reports use for a class of difference.
type DiscrepancyKind string

// Discrepancy kinds (SPEC §6).
const (
	MissingInProvider  DiscrepancyKind = "missing_in_provider"
	MissingInLedger    DiscrepancyKind = "missing_in_ledger"
	AmountMismatch     DiscrepancyKind = "amount_mismatch"
	CurrencyMismatch   DiscrepancyKind = "currency_mismatch"
	StatusMismatch     DiscrepancyKind = "status_mismatch"
	DuplicatePayment   DiscrepancyKind = "duplicate_payment"
	Reversed           DiscrepancyKind = "reversed"
	SettlementVariance DiscrepancyKind = "settlement_variance"
)

// DiscrepancyKinds lists every kind in report order.
var DiscrepancyKinds = []DiscrepancyKind{
	MissingInProvider, MissingInLedger, AmountMismatch, CurrencyMismatch,
	StatusMismatch, DuplicatePayment, Reversed, SettlementVariance,
}

// Discrepancy is one difference between the ledger and a provider (or between
// what a provider owes and what it settled), explained in Detail.
type Discrepancy struct {
	Kind      DiscrepancyKind
	Provider  Provider
	Direction Direction
	Account   string
	// Ledger is the ledger side, nil when there is none (missing_in_ledger).
	Ledger *LedgerEntry
	// Records are the provider side: none for missing_in_provider, the
	// candidates for an ambiguous heuristic match, one otherwise.
	Records []Record
	// Currency, LedgerAmount, ProviderAmount and Difference are what the
	// report prints, in minor units; Difference = ProviderAmount −
	// LedgerAmount, negative when the provider has less. For a bank
	// settlement_variance (three-way) LedgerAmount is the bank credit — the
	// merchant's side — and ProviderAmount what the provider reports
	// settling. ProviderAmountKnown is false when
	// the provider did not report an amount (Pixel status responses).
	Currency            Currency
	LedgerAmount        int64
	ProviderAmount      int64
	ProviderAmountKnown bool
	Difference          int64
	// OccurredAt is the time the discrepancy is reported under.
	OccurredAt time.Time
	// Detail is a sentence a finance person understands, e.g. "Ledger says
	// 1,500.00 KES paid; Kopo Kopo received 1,000.00 KES (OJM6Q1W84K) — 500.00 short".
	Detail string
}
