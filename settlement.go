package reconcile

import "time"

// SettlementDay is one row of the settlements report (SPEC §7): what a
// provider owed and what it paid out for one account, currency and business
// day. All amounts are minor units of Currency.
type SettlementDay struct {
	Provider Provider
	Account  string
	Currency Currency
	// Day is midnight of the business day in the business time zone.
	Day          time.Time
	Transactions int
	Gross        int64
	Fees         int64
	Reversals    int64
	Payouts      int64
	// NetExpected = Gross − Fees − Reversals − Payouts.
	NetExpected int64
	Settled     int64
	// Variance = Settled − what the settlement owed: the net of the days
	// since the previous settlement, up to the end of the day before (T+1,
	// the default) or of Day (same-day settlement). It is zero on a day
	// without a settlement: what is owed then is still in Unsettled.
	Variance int64
	// Unsettled is what the next settlement owes at the end of Day: the net
	// of the days since the last settlement. A shortfall is not carried in
	// it; it is reported once, as that settlement's Variance.
	Unsettled int64
}

// SummaryLine is one row of the summary report: totals per provider and
// currency. Amounts are minor units of Currency.
type SummaryLine struct {
	Provider         Provider
	Currency         Currency
	LedgerCount      int
	LedgerTotal      int64
	ProviderCount    int
	ProviderTotal    int64
	MatchedCount     int
	MatchedTotal     int64
	DiscrepancyCount int
	DiscrepancyTotal int64
}

// BankLine is one line of a bank statement: money that actually reached the
// merchant's bank account (the third leg of three-way settlement).
type BankLine struct {
	ID      int64
	Account string
	// ValueDate is midnight UTC of the statement's value date.
	ValueDate   time.Time
	Amount      Money
	Reference   string
	Description string
	// Provider is the provider the credit came from, when the import could
	// tell (from the reference or description); empty otherwise.
	Provider Provider
}
