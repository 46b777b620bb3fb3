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
	// Variance = Settled − what the settlement owed (negative = short): the
	// net of the days since the previous settlement, up to the end of the
	// day before (T+1, the default) or of Day (same-day settlement), plus
	// the part of an earlier shortfall it paid back (Recovered). It is zero
	// on a day without a settlement: what is owed then is in Unsettled.
	Variance int64
	// Unsettled is the provider's running balance owed at the end of Day:
	// the net of the days since the last settlement plus any shortfall not
	// yet paid back (less any overpayment not yet recouped). A shortfall is
	// reported once, as its settlement's Variance, and carried here until
	// paid.
	Unsettled int64
	// Recovered is the part of Settled that paid back an earlier shortfall
	// (negative: the part of an earlier overpayment the provider kept back);
	// it is in what the settlement owed, not in Variance. RecoveredFrom is
	// the day of the oldest settlement whose shortfall it paid back.
	Recovered     int64
	RecoveredFrom time.Time
}

// BridgeStep is one step of a summary line's bridge from the ledger total to
// the provider total: how many discrepancies of a kind there are and the sum
// of their differences.
type BridgeStep struct {
	Count  int
	Amount int64
}

// SummaryLine is one row of the summary report: totals per provider and
// currency, and the bridge from the ledger total to the provider total.
// Amounts are minor units of Currency.
//
// LedgerCount and ProviderCount count every item whose own time is in the
// window, whatever its status. LedgerTotal and ProviderTotal count money
// that moved, net for the merchant (money in positive, payouts and
// reversals negative), over the items of the matches and discrepancies the
// report lists: LedgerTotal the paid ledger entries (a refunded entry nets
// to nothing), ProviderTotal the records that succeeded or were reversed
// with an amount reported (a matched record counts at the amount it
// matched). Then
//
//	LedgerTotal + DiscrepancyTotal = ProviderTotal
//	DiscrepancyTotal = Σ Bridge[i].Amount (all kinds but settlement_variance)
//
// to the minor unit. Settlement variances are a second bridge (owed →
// settled): they are in Bridge at SettlementVariance's index but in neither
// DiscrepancyCount nor DiscrepancyTotal.
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
	// LedgerPaid counts the ledger entries LedgerTotal counts;
	// ProviderMoved the records ProviderTotal counts.
	LedgerPaid    int
	ProviderMoved int
	// Bridge holds one step per discrepancy kind, in DiscrepancyKinds
	// order (KindIndex). A currency_mismatch is a step of both lines: its
	// ledger amount leaves the ledger currency's, its provider amount
	// joins the provider currency's.
	Bridge [len(discrepancyKinds)]BridgeStep
}

// Unexplained is what the bridge leaves unexplained: ProviderTotal −
// LedgerTotal − DiscrepancyTotal. It is zero for every line the summary
// builds; the reports print it so that a reader sees the statement close.
func (s SummaryLine) Unexplained() int64 {
	return s.ProviderTotal - s.LedgerTotal - s.DiscrepancyTotal
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
