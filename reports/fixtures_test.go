package reports

import (
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
)

// The fixtures cover every column: zero-exponent currencies, negative
// amounts, a provider amount that was not reported, several candidate
// records, fees with VAT, instalments, phone numbers in detail text and
// formula injection in every text column a provider or merchant controls.

var nairobi = mustLoad("Africa/Nairobi")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func at(day, hour, minute int) time.Time {
	return time.Date(2026, 3, day, hour, minute, 0, 0, time.UTC)
}

func testOptions() Options {
	return Options{
		Location: nairobi,
		Rounding: reconcile.RoundHalfEven,
		Window:   reconcile.Window{From: time.Date(2026, 2, 28, 21, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 2, 21, 0, 0, 0, time.UTC)},
		AsOf:     time.Date(2026, 3, 3, 2, 0, 5, 0, time.UTC),
		Facts: []Fact{
			{"Look-around (grace)", "24h"},
			{"Settlement tolerance", "1.00 in the settlement currency"},
		},
	}
}

func kes(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "KES"} }

func ledger(p reconcile.Provider, ref string, m reconcile.Money, st reconcile.LedgerStatus, t time.Time) reconcile.LedgerEntry {
	return reconcile.LedgerEntry{Reference: ref, Provider: p, Direction: reconcile.In, Amount: m, Status: st, OccurredAt: t}
}

func testDiscrepancies() []reconcile.Discrepancy {
	paid := ledger(testprov.KopoKopo, "ORD-1001", kes(150000), reconcile.LedgerPaid, at(1, 7, 30))
	paid.Account = "K555123"
	short := ledger(testprov.KopoKopo, "ORD-1002", kes(150000), reconcile.LedgerPaid, at(1, 8, 0))
	pixelPending := ledger(testprov.Pixel, "PX-77", reconcile.Money{Minor: 2500, Currency: "XOF"}, reconcile.LedgerPaid, at(1, 12, 0))
	evil := ledger(testprov.Kora, `=HYPERLINK("http://x","y")`, reconcile.Money{Minor: 500000, Currency: "NGN"}, reconcile.LedgerPaid, at(2, 10, 0))
	refund := ledger(testprov.IKhokha, "RF-9", reconcile.Money{Minor: -19999, Currency: "ZAR"}, reconcile.LedgerRefunded, at(2, 11, 0))
	refund.Direction = reconcile.Out
	usd := ledger(testprov.KopoKopo, "ORD-1003", kes(250000), reconcile.LedgerPaid, at(2, 9, 0))
	return []reconcile.Discrepancy{
		{
			Kind: reconcile.MissingInProvider, Provider: testprov.KopoKopo, Direction: reconcile.In, Account: "K555123",
			Ledger: &paid, Currency: "KES", LedgerAmount: 150000, OccurredAt: paid.OccurredAt,
			ProviderCurrency: "KES", LedgerCounted: 150000, Difference: -150000,
			Detail: "Ledger says 1,500.00 KES paid by +254712349999; Kopo Kopo has no such payment",
		},
		{
			Kind: reconcile.AmountMismatch, Provider: testprov.KopoKopo, Direction: reconcile.In, Account: "K555123",
			Ledger: &short,
			Records: []reconcile.Record{{
				Provider: testprov.KopoKopo, Kind: reconcile.KindPayment, TxID: "c7f300c0-f1ef-4151-9bbe-005005aa3747",
				MerchantRef: "ORD-1002", ProviderRef: "OJM6Q1W84K", Amount: kes(100000), AmountKnown: true,
				Status: reconcile.StatusSucceeded, ProviderStatus: "Received", OccurredAt: at(1, 8, 1),
			}},
			Currency: "KES", LedgerAmount: 150000, ProviderAmount: 100000, ProviderAmountKnown: true, Difference: -50000,
			ProviderCurrency: "KES", LedgerCounted: 150000, ProviderCounted: 100000,
			OccurredAt: short.OccurredAt,
			Detail:     "Ledger says 1,500.00 KES paid; Kopo Kopo received 1,000.00 KES (OJM6Q1W84K) — 500.00 short",
		},
		{
			Kind: reconcile.StatusMismatch, Provider: testprov.Pixel, Direction: reconcile.In, Account: "M-0042",
			Ledger: &pixelPending,
			Records: []reconcile.Record{{
				Provider: testprov.Pixel, Kind: reconcile.KindPayment, TxID: "981273", MerchantRef: "PX-77",
				ProviderRef: "TR-981273", Status: reconcile.StatusPending, ProviderStatus: "1", OccurredAt: at(1, 12, 1),
			}},
			Currency: "XOF", LedgerAmount: 2500, OccurredAt: pixelPending.OccurredAt,
			ProviderCurrency: "XOF", LedgerCounted: 2500, Difference: -2500,
			Detail: "Ledger says 2,500 XOF paid; Pixel says in progress (amount not reported) — still pending after 30 hours",
		},
		{
			Kind: reconcile.MissingInLedger, Provider: testprov.Pixel, Direction: reconcile.In, Account: "M-0042",
			Records: []reconcile.Record{{
				Provider: testprov.Pixel, Kind: reconcile.KindPayment, TxID: "981300", MerchantRef: "PX-80",
				ProviderRef: "TR-981300", Amount: reconcile.Money{Minor: 1100, Currency: "XOF"}, AmountKnown: true,
				Status: reconcile.StatusSucceeded, OccurredAt: at(1, 13, 0),
			}},
			Currency: "XOF", ProviderAmount: 1100, ProviderAmountKnown: true, OccurredAt: at(1, 13, 0),
			ProviderCurrency: "XOF", ProviderCounted: 1100, Difference: 1100,
			Detail: "Pixel received 1,100 XOF (TR-981300) from 0712349999; the ledger has no order PX-80",
		},
		{
			Kind: reconcile.DuplicatePayment, Provider: testprov.Kora, Direction: reconcile.In, Account: "-2+3",
			Ledger: &evil,
			Records: []reconcile.Record{
				{Provider: testprov.Kora, TxID: "@SUM(1+1)", ProviderRef: "+cmd|' /C calc'!A0", Status: reconcile.StatusSucceeded,
					Amount: reconcile.Money{Minor: 500000, Currency: "NGN"}, AmountKnown: true, OccurredAt: at(2, 10, 1)},
				{Provider: testprov.Kora, TxID: "KPY-2", ProviderRef: "", Status: reconcile.StatusSucceeded,
					Amount: reconcile.Money{Minor: 500000, Currency: "NGN"}, AmountKnown: true, OccurredAt: at(2, 10, 2)},
			},
			Currency: "NGN", LedgerAmount: 500000, ProviderAmount: 500000, ProviderAmountKnown: true, OccurredAt: at(2, 10, 2),
			ProviderCurrency: "NGN", ProviderCounted: 500000, Difference: 500000,
			Detail: "\tKora charged the same order twice, \"quoted\", and a second line\nhere",
		},
		{
			Kind: reconcile.Reversed, Provider: testprov.IKhokha, Direction: reconcile.Out, Account: "ENT-1",
			Ledger: &refund, Currency: "ZAR", LedgerAmount: -19999, ProviderAmount: -9999, ProviderAmountKnown: true,
			Difference: -10000, OccurredAt: refund.OccurredAt, ProviderCurrency: "ZAR", ProviderCounted: -10000,
			Records: []reconcile.Record{{Provider: testprov.IKhokha, Kind: reconcile.KindReversal, TxID: "ik-rf-1",
				ProviderRef: "PL-55", Status: reconcile.StatusReversed, OccurredAt: at(2, 11, 5)}},
			Detail: "-100.00 ZAR refunded less than the ledger says",
		},
		{
			Kind: reconcile.SettlementVariance, Provider: testprov.KopoKopo, Account: "K555123",
			Currency: "KES", LedgerAmount: 985000, ProviderAmount: 980000, ProviderAmountKnown: true, Difference: -5000,
			OccurredAt: time.Date(2026, 3, 1, 21, 0, 0, 0, time.UTC),
			Detail:     "Kopo Kopo settled 9,800.00 KES for 2 March; 9,850.00 KES expected — 50.00 short",
		},
		{
			Kind: reconcile.CurrencyMismatch, Provider: testprov.KopoKopo, Direction: reconcile.In, Account: "K555123",
			Ledger: &usd,
			Records: []reconcile.Record{{
				Provider: testprov.KopoKopo, Kind: reconcile.KindPayment, TxID: "k2-usd-1", MerchantRef: "ORD-1003",
				ProviderRef: "OJM6Q1W8US", Amount: reconcile.Money{Minor: 2000, Currency: "USD"}, AmountKnown: true,
				Status: reconcile.StatusSucceeded, OccurredAt: at(2, 9, 1),
			}},
			Currency: "KES", LedgerAmount: 250000, ProviderCurrency: "USD", ProviderAmount: 2000, ProviderAmountKnown: true,
			LedgerCounted: 250000, ProviderCounted: 2000, Difference: -250000, OccurredAt: usd.OccurredAt,
			Detail: "Ledger says 2,500.00 KES paid for ORD-1003; Kopo Kopo received 20.00 USD (OJM6Q1W8US, reference ORD-1003) — a different currency",
		},
	}
}

func testMatches() []reconcile.Match {
	kp := ledger(testprov.KopoKopo, "ORD-1000", kes(99), reconcile.LedgerPaid, at(1, 6, 0))
	kp.Account = "K555123"
	kora := ledger(testprov.Kora, "KOR-1", reconcile.Money{Minor: 1000000, Currency: "NGN"}, reconcile.LedgerPaid, at(1, 9, 0))
	inst := ledger(testprov.Kora, "=1+2", reconcile.Money{Minor: 300000, Currency: "NGN"}, reconcile.LedgerPaid, at(1, 10, 0))
	xof := ledger(testprov.Pixel, "PX-1", reconcile.Money{Minor: 1100, Currency: "XOF"}, reconcile.LedgerPaid, at(1, 23, 30))
	refund := ledger(testprov.IKhokha, "RF-1", reconcile.Money{Minor: -19999, Currency: "ZAR"}, reconcile.LedgerRefunded, at(2, 8, 0))
	refund.Direction = reconcile.Out
	ngn := func(m int64) reconcile.Money { return reconcile.Money{Minor: m, Currency: "NGN"} }
	return []reconcile.Match{
		{Ledger: kp, Records: []reconcile.Record{{Provider: testprov.KopoKopo, TxID: "k2-1", ProviderRef: "OJM6Q1W84A",
			Amount: kes(99), AmountKnown: true, OccurredAt: at(1, 6, 0)}}},
		{Ledger: kora, Records: []reconcile.Record{{Provider: testprov.Kora, TxID: "KPY-10", ProviderRef: "pay-10",
			Account: "KORA-M1", Amount: ngn(1000000), AmountKnown: true, Fee: ngn(15000), VAT: ngn(1125), FeeKnown: true,
			OccurredAt: at(1, 9, 2)}}},
		{Ledger: inst, Records: []reconcile.Record{
			{Provider: testprov.Kora, TxID: "KPY-11", ProviderRef: "pay-11", Amount: ngn(100000), AmountKnown: true,
				Fee: ngn(1500), FeeKnown: true, OccurredAt: at(1, 10, 0)},
			{Provider: testprov.Kora, TxID: "KPY-12", ProviderRef: "pay-12", Amount: ngn(200000), AmountKnown: true,
				OccurredAt: at(1, 10, 30)},
		}},
		{Ledger: xof, Heuristic: true, Records: []reconcile.Record{{Provider: testprov.Pixel, TxID: "981299",
			ProviderRef: "TR-981299", Amount: reconcile.Money{Minor: 1100, Currency: "XOF"}, AmountKnown: true, OccurredAt: at(1, 23, 31)}}},
		{Ledger: refund, Records: []reconcile.Record{{Provider: testprov.IKhokha, Kind: reconcile.KindReversal, TxID: "ik-rf-2",
			ProviderRef: "PL-56", Amount: reconcile.Money{Minor: -19999, Currency: "ZAR"}, AmountKnown: true, OccurredAt: at(2, 8, 1)}}},
	}
}

// testSummary is deliberately out of order; the writers sort it. Each line
// closes: ledger total + Σ difference = provider total.
func testSummary() []reconcile.SummaryLine {
	step := func(l reconcile.SummaryLine, k reconcile.DiscrepancyKind, n int, amt int64) reconcile.SummaryLine {
		l.Bridge[reconcile.KindIndex(k)] = reconcile.BridgeStep{Count: n, Amount: amt}
		return l
	}
	pixel := reconcile.SummaryLine{Provider: testprov.Pixel, Currency: "XOF", LedgerCount: 3, LedgerTotal: 3600, ProviderCount: 3, ProviderTotal: 2200,
		MatchedCount: 1, MatchedTotal: 1100, DiscrepancyCount: 2, DiscrepancyTotal: -1400, LedgerPaid: 2, ProviderMoved: 2}
	pixel = step(step(pixel, reconcile.StatusMismatch, 1, -2500), reconcile.MissingInLedger, 1, 1100)
	kora := reconcile.SummaryLine{Provider: testprov.Kora, Currency: "NGN", LedgerCount: 3, LedgerTotal: 1800000, ProviderCount: 4, ProviderTotal: 2300000,
		MatchedCount: 2, MatchedTotal: 1300000, DiscrepancyCount: 1, DiscrepancyTotal: 500000, LedgerPaid: 3, ProviderMoved: 4}
	kora = step(kora, reconcile.DuplicatePayment, 1, 500000)
	kp := reconcile.SummaryLine{Provider: testprov.KopoKopo, Currency: "KES", LedgerCount: 4, LedgerTotal: 550099, ProviderCount: 2, ProviderTotal: 100099,
		MatchedCount: 1, MatchedTotal: 99, DiscrepancyCount: 3, DiscrepancyTotal: -450000, LedgerPaid: 4, ProviderMoved: 2}
	kp = step(step(step(step(kp, reconcile.MissingInProvider, 1, -150000), reconcile.AmountMismatch, 1, -50000),
		reconcile.CurrencyMismatch, 1, -250000), reconcile.SettlementVariance, 1, -5000)
	kpUSD := reconcile.SummaryLine{Provider: testprov.KopoKopo, Currency: "USD", ProviderCount: 1, ProviderTotal: 2000,
		DiscrepancyTotal: 2000, ProviderMoved: 1}
	kpUSD = step(kpUSD, reconcile.CurrencyMismatch, 1, 2000)
	ik := reconcile.SummaryLine{Provider: testprov.IKhokha, Currency: "ZAR", LedgerCount: 2, LedgerTotal: -19999, ProviderCount: 2, ProviderTotal: -29999,
		MatchedCount: 1, MatchedTotal: -19999, DiscrepancyCount: 1, DiscrepancyTotal: -10000, LedgerPaid: 1, ProviderMoved: 2}
	ik = step(ik, reconcile.Reversed, 1, -10000)
	return []reconcile.SummaryLine{pixel, kpUSD, kora, kp, ik}
}

// testSettlements is deliberately out of order; the writers sort it.
func testSettlements() []reconcile.SettlementDay {
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, nairobi) }
	return []reconcile.SettlementDay{
		{Provider: testprov.KopoKopo, Account: "K555123", Currency: "KES", Day: day(2), Transactions: 4, Gross: 1000000,
			Fees: 15000, NetExpected: 985000, Settled: 980000, Variance: -5000, Unsettled: 5000},
		{Provider: testprov.KopoKopo, Account: "K555123", Currency: "KES", Day: day(1), Transactions: 2, Gross: 100099,
			Fees: 1550, Reversals: 0, Payouts: 50000, NetExpected: 48549, Settled: 48549},
		{Provider: testprov.Pixel, Account: "M-0042", Currency: "XOF", Day: day(1), Transactions: 1, Gross: 1100,
			Fees: 22, NetExpected: 1078, Settled: 0, Variance: -1078, Unsettled: 1078},
	}
}
