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

// discrepancyKinds is DiscrepancyKinds as an array, so that its length is a
// constant (SummaryLine.Bridge).
var discrepancyKinds = [...]DiscrepancyKind{
	MissingInProvider, MissingInLedger, AmountMismatch, CurrencyMismatch,
	StatusMismatch, DuplicatePayment, Reversed, SettlementVariance,
}

// DiscrepancyKinds lists every kind in report order.
var DiscrepancyKinds = discrepancyKinds[:]

// KindIndex is k's position in DiscrepancyKinds, or -1 for an unknown kind.
func KindIndex(k DiscrepancyKind) int {
	for i, x := range discrepancyKinds {
		if x == k {
			return i
		}
	}
	return -1
}

// Title is the kind in words, as the workbook shows it: "Missing at
// provider". The CSV files keep the code.
func (k DiscrepancyKind) Title() string {
	switch k {
	case MissingInProvider:
		return "Missing at provider"
	case MissingInLedger:
		return "Missing in ledger"
	case AmountMismatch:
		return "Amount differs"
	case CurrencyMismatch:
		return "Currency differs"
	case StatusMismatch:
		return "Status differs"
	case DuplicatePayment:
		return "Duplicate payment"
	case Reversed:
		return "Reversed by provider"
	case SettlementVariance:
		return "Settlement variance"
	}
	return string(k)
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
	// report prints, in minor units. LedgerAmount is in Currency,
	// ProviderAmount in ProviderCurrency (the same but for a
	// currency_mismatch; empty means Currency). Difference is the bridge
	// difference ProviderCounted − LedgerCounted in Currency (see those
	// fields; matchers.Account sets all four), so that per provider and
	// currency the summary's ledger total plus the differences is its
	// provider total; for a settlement_variance it is settled − owed,
	// negative when short. For a bank
	// settlement_variance (three-way) LedgerAmount is the bank credit — the
	// merchant's side — and ProviderAmount what the provider reports
	// settling. ProviderAmountKnown is false when
	// the provider did not report an amount (Pixel status responses).
	Currency            Currency
	LedgerAmount        int64
	ProviderAmount      int64
	ProviderAmountKnown bool
	Difference          int64
	// ProviderCurrency is the currency of the provider side; it differs
	// from Currency only for a currency_mismatch.
	ProviderCurrency Currency
	// LedgerCounted is what this discrepancy adds to the summary's ledger
	// total in Currency: the ledger amount when the entry says paid,
	// negative for a payout, and nothing when it says anything else or
	// when the entry is context only (a duplicate_payment names the entry
	// its match counts). ProviderCounted is what it adds to the provider
	// total in ProviderCurrency: the amounts of its records that say money
	// moved (succeeded or reversed, amount reported), payouts and reversals
	// negative.
	LedgerCounted, ProviderCounted int64
	// OccurredAt is the time the discrepancy is reported under.
	OccurredAt time.Time
	// Detail is a sentence a finance person understands, e.g. "Ledger says
	// 1,500.00 KES paid; Kopo Kopo received 1,000.00 KES (OJM6Q1W84K) — 500.00 short".
	Detail string
}
