package settlement_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/settletest"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/settlement"
)

// The scenarios' zone, days, records, fees and row dump (settletest).
var (
	nairobi    = settletest.Nairobi
	eat        = settletest.EAT
	zar        = settletest.ZAR
	settleRec  = settletest.Record
	method     = settletest.Method
	dumpRows   = settletest.DumpRows
	testFees   = settletest.Fees
	perCompany = settletest.PerCompany
)

func TestSettlement(t *testing.T) {
	t.Parallel()
	window := reconcile.Window{From: eat(2, 0, 0).UTC(), To: eat(4, 0, 0).UTC()}
	s, err := settlement.New(settlement.Config{Window: window, Zone: nairobi, Fees: testFees(), PerCompany: perCompany, Tolerance: 100})
	if err != nil {
		t.Fatal(err)
	}
	kes := func(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "KES"} }
	ngn := func(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "NGN"} }
	recs := []reconcile.Record{
		// iKhokha, account E1: 1,000.00 by card on the margin day opens the balance.
		settleRec(testprov.IKhokha, reconcile.KindPayment, "I1", zar(100000), eat(1, 10, 0), method("card")),
		// 2 March: it is settled; new takings by EFT and international card; a refund.
		settleRec(testprov.IKhokha, reconcile.KindSettlement, "IS1", zar(97150), eat(2, 6, 0)),
		settleRec(testprov.IKhokha, reconcile.KindPayment, "I2", zar(20000), eat(2, 9, 0), method("eft")),
		settleRec(testprov.IKhokha, reconcile.KindPayment, "I3", zar(10000), eat(2, 23, 59), method("international_card")),
		settleRec(testprov.IKhokha, reconcile.KindReversal, "IR1", zar(-5000), eat(2, 12, 0), func(r *reconcile.Record) { r.RelatedTxID = "I0" }),
		settleRec(testprov.IKhokha, reconcile.KindPayment, "I4", zar(7000), eat(2, 13, 0), rStatus(reconcile.StatusFailed)),
		// 3 March: the settlement falls 2.75 short.
		settleRec(testprov.IKhokha, reconcile.KindSettlement, "IS2", zar(24000), eat(3, 6, 0)),
		// Kora reports its own fee and VAT.
		settleRec(testprov.Kora, reconcile.KindPayment, "K1", ngn(500000), eat(2, 11, 0), func(r *reconcile.Record) {
			r.Account, r.Fee, r.VAT, r.FeeKnown = "", ngn(7500), ngn(563), true
		}),
		// Kopo Kopo: two tills, settled as one merchant; one payment reversed
		// by status only, another by status and by a reversal record.
		settleRec(testprov.KopoKopo, reconcile.KindPayment, "Q1", kes(600000), eat(2, 8, 0), func(r *reconcile.Record) { r.Account = "T1" }),
		settleRec(testprov.KopoKopo, reconcile.KindPayment, "Q2", kes(400000), eat(2, 9, 0), func(r *reconcile.Record) { r.Account = "T2" }),
		settleRec(testprov.KopoKopo, reconcile.KindPayment, "Q3", kes(10000), eat(2, 9, 30), func(r *reconcile.Record) { r.Account, r.Status = "T2", reconcile.StatusReversed }),
		settleRec(testprov.KopoKopo, reconcile.KindPayment, "Q4", kes(20000), eat(2, 9, 40), func(r *reconcile.Record) { r.Account, r.Status = "T2", reconcile.StatusReversed }),
		settleRec(testprov.KopoKopo, reconcile.KindReversal, "QR4", kes(20000), eat(2, 10, 0), func(r *reconcile.Record) { r.Account, r.RelatedTxID = "T2", "Q4" }),
		settleRec(testprov.KopoKopo, reconcile.KindPayout, "QP1", kes(50000), eat(2, 11, 0), func(r *reconcile.Record) { r.Account = "T1" }),
		settleRec(testprov.KopoKopo, reconcile.KindSettlement, "QS1", kes(950000), eat(3, 10, 0), func(r *reconcile.Record) { r.Account = "" }),
		// After the window: ignored.
		settleRec(testprov.IKhokha, reconcile.KindPayment, "I9", zar(100000), eat(4, 0, 0), method("card")),
	}
	for _, r := range recs {
		if err := s.AddRecord(r); err != nil {
			t.Fatalf("AddRecord(%s): %v", r.TxID, err)
		}
	}
	bank := []reconcile.BankLine{
		{ValueDate: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), Amount: kes(930000), Provider: testprov.KopoKopo},
		{ValueDate: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), Amount: kes(5000), Provider: ""},
	}
	for _, b := range bank {
		if err := s.AddBankLine(b); err != nil {
			t.Fatal(err)
		}
	}
	rows, discs := s.Result()

	d2, d3 := eat(2, 0, 0), eat(3, 0, 0)
	// Variance compares a day's settlement with what was owed for the days
	// since the last one, up to the end of the day before (T+1); a day
	// without a settlement has none. A shortfall is reported once and
	// carried in Unsettled until paid.
	want := []reconcile.SettlementDay{
		// Fees: 2% of 200.00 = 4.00, 3.25% of 100.00 = 3.25. Net 300 − 7.25 − 50 = 242.75.
		{Provider: testprov.IKhokha, Account: "E1", Currency: "ZAR", Day: d2, Transactions: 2, Gross: 30000, Fees: 725, Reversals: 5000,
			NetExpected: 24275, Settled: 97150, Variance: 0, Unsettled: 24275},
		// The 2.75 short is carried until paid.
		{Provider: testprov.IKhokha, Account: "E1", Currency: "ZAR", Day: d3, Settled: 24000, Variance: -275, Unsettled: 275},
		// Gross 10,300.00 (Q3 and Q4 were received, then reversed); reversals 100 + 200; payout 500.
		{Provider: testprov.KopoKopo, Account: "", Currency: "KES", Day: d2, Transactions: 5, Gross: 1030000, Reversals: 30000, Payouts: 50000,
			NetExpected: 950000, Unsettled: 950000},
		{Provider: testprov.KopoKopo, Account: "", Currency: "KES", Day: d3, Settled: 950000, Unsettled: 0},
		{Provider: testprov.Kora, Account: "", Currency: "NGN", Day: d2, Transactions: 1, Gross: 500000, Fees: 8063,
			NetExpected: 491937, Unsettled: 491937},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), len(want), dumpRows(rows))
	}
	for i := range want {
		if !rows[i].Day.Equal(want[i].Day) {
			t.Errorf("row %d day %s, want %s", i, rows[i].Day, want[i].Day)
		}
		rows[i].Day = want[i].Day
		if rows[i] != want[i] {
			t.Errorf("row %d\n got %+v\nwant %+v", i, rows[i], want[i])
		}
	}

	wantDetails := []string{
		"iKhokha settled 240.00 ZAR on 2026-03-03 for account E1; 242.75 ZAR was owed up to the end of 2026-03-02 — 2.75 short",
		"Kopo Kopo reports settling 9,500.00 KES on 2026-03-03; the bank statement shows 9,300.00 KES from Kopo Kopo that day — 200.00 short",
	}
	var got []string
	for _, d := range discs {
		got = append(got, d.Detail)
		if d.Kind != reconcile.SettlementVariance || d.Difference != d.ProviderAmount-d.LedgerAmount || !d.ProviderAmountKnown {
			t.Errorf("bad discrepancy %+v", d)
		}
	}
	if strings.Join(got, "\n") != strings.Join(wantDetails, "\n") {
		t.Errorf("discrepancies\n got %q\nwant %q", got, wantDetails)
	}
}

// TestSettlementMarginOpensTheBalance checks a nightly run's steady state:
// takings settled in full each morning (T+1) or each evening (same day),
// with the day before the window in the look-around margin. The margin's
// own settlement paid for days before the loaded data and must not make
// the window's first settlement look like an overpayment.
func TestSettlementMarginOpensTheBalance(t *testing.T) {
	t.Parallel()
	window := reconcile.Window{From: eat(2, 0, 0).UTC(), To: eat(3, 0, 0).UTC()}
	kes := func(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "KES"} }
	whole := func(r *reconcile.Record) { r.Account = "" }
	tests := []struct {
		name         string
		sameDay      bool
		recs         []reconcile.Record
		wantVariance int64
		wantOwed     int64
		wantDiscs    int
	}{
		{"T+1, settled in full", false, []reconcile.Record{
			settleRec(testprov.KopoKopo, reconcile.KindSettlement, "S1", kes(100000), eat(1, 6, 0), whole), // for 28 Feb
			settleRec(testprov.KopoKopo, reconcile.KindPayment, "P1", kes(100000), eat(1, 12, 0), whole),
			settleRec(testprov.KopoKopo, reconcile.KindSettlement, "S2", kes(100000), eat(2, 6, 0), whole), // for 1 March
			settleRec(testprov.KopoKopo, reconcile.KindPayment, "P2", kes(100000), eat(2, 12, 0), whole),
		}, 0, 100000, 0},
		{"T+1, 500.00 short", false, []reconcile.Record{
			settleRec(testprov.KopoKopo, reconcile.KindSettlement, "S1", kes(100000), eat(1, 6, 0), whole),
			settleRec(testprov.KopoKopo, reconcile.KindPayment, "P1", kes(100000), eat(1, 12, 0), whole),
			settleRec(testprov.KopoKopo, reconcile.KindSettlement, "S2", kes(50000), eat(2, 6, 0), whole),
			settleRec(testprov.KopoKopo, reconcile.KindPayment, "P2", kes(100000), eat(2, 12, 0), whole),
		}, -50000, 150000, 1}, // the 500.00 short is still owed
		{"T+1, no settlement in the margin", false, []reconcile.Record{
			settleRec(testprov.KopoKopo, reconcile.KindPayment, "P1", kes(100000), eat(1, 12, 0), whole),
			settleRec(testprov.KopoKopo, reconcile.KindSettlement, "S2", kes(100000), eat(2, 6, 0), whole),
			settleRec(testprov.KopoKopo, reconcile.KindPayment, "P2", kes(100000), eat(2, 12, 0), whole),
		}, 0, 100000, 0},
		{"same day, settled in full", true, []reconcile.Record{
			settleRec(testprov.KopoKopo, reconcile.KindPayment, "P1", kes(100000), eat(1, 12, 0), whole),
			settleRec(testprov.KopoKopo, reconcile.KindSettlement, "S1", kes(100000), eat(1, 20, 0), whole),
			settleRec(testprov.KopoKopo, reconcile.KindPayment, "P2", kes(100000), eat(2, 12, 0), whole),
			settleRec(testprov.KopoKopo, reconcile.KindSettlement, "S2", kes(100000), eat(2, 20, 0), whole),
		}, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := settlement.New(settlement.Config{Window: window, Zone: nairobi, Fees: testFees(), PerCompany: perCompany, SameDay: tt.sameDay})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tt.recs {
				if err := s.AddRecord(r); err != nil {
					t.Fatal(err)
				}
			}
			rows, discs := s.Result()
			if len(rows) != 1 {
				t.Fatalf("%d rows, want the window's one day:\n%s", len(rows), dumpRows(rows))
			}
			if rows[0].Variance != tt.wantVariance || rows[0].Unsettled != tt.wantOwed || len(discs) != tt.wantDiscs {
				t.Errorf("variance %d, unsettled %d, %d discrepancies; want %d, %d, %d\n%s%v",
					rows[0].Variance, rows[0].Unsettled, len(discs), tt.wantVariance, tt.wantOwed, tt.wantDiscs, dumpRows(rows), discs)
			}
		})
	}
}

// TestSettlementPeriods checks what each settlement is compared with when
// settlements skip days or fall short: the net of the days since the last
// settlement, each shortfall reported once, whatever the run's window —
// the nightly runs of the days report what one run over all of them does.
func TestSettlementPeriods(t *testing.T) {
	t.Parallel()
	kes := func(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "KES"} }
	whole := func(r *reconcile.Record) { r.Account = "" }
	pay := func(tx string, minor int64, day int) reconcile.Record {
		return settleRec(testprov.KopoKopo, reconcile.KindPayment, tx, kes(minor), eat(day, 12, 0), whole)
	}
	settle := func(tx string, minor int64, day int) reconcile.Record {
		return settleRec(testprov.KopoKopo, reconcile.KindSettlement, tx, kes(minor), eat(day, 6, 0), whole)
	}
	tests := []struct {
		name string
		recs []reconcile.Record
		want []string // the settlement_variance details of days 2 to 5 March
	}{
		{"a day without settlement: the next pays both days", []reconcile.Record{
			pay("P1", 100000, 1), settle("S2", 100000, 2), pay("P2", 200000, 2), pay("P3", 300000, 3),
			settle("S4", 450000, 4), pay("P4", 50000, 4),
		}, []string{"Kopo Kopo settled 4,500.00 KES on 2026-03-04; 5,000.00 KES was owed for 2026-03-02 to 2026-03-03 — 500.00 short"}},
		{"a shortfall is reported once", []reconcile.Record{
			pay("P1", 100000, 1), settle("S2", 100000, 2), pay("P2", 200000, 2), settle("S3", 150000, 3),
			pay("P3", 300000, 3), settle("S4", 300000, 4),
		}, []string{"Kopo Kopo settled 1,500.00 KES on 2026-03-03; 2,000.00 KES was owed up to the end of 2026-03-02 — 500.00 short"}},
		{"weekend: Monday pays Friday to Sunday", []reconcile.Record{
			settle("S1", 70000, 1), pay("P1", 100000, 1), pay("P2", 100000, 2), pay("P3", 100000, 3), settle("S4", 300000, 4),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			details := func(w reconcile.Window) []string {
				s, err := settlement.New(settlement.Config{Window: w, Zone: nairobi, Fees: testFees(), PerCompany: perCompany})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range tt.recs {
					if err := s.AddRecord(r); err != nil {
						t.Fatal(err)
					}
				}
				_, discs := s.Result()
				var got []string
				for _, d := range discs {
					got = append(got, d.Detail)
				}
				return got
			}
			whole := details(reconcile.Window{From: eat(2, 0, 0).UTC(), To: eat(6, 0, 0).UTC()})
			if strings.Join(whole, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("2–5 March:\n got %q\nwant %q", whole, tt.want)
			}
			var nightly []string
			for d := 2; d <= 5; d++ {
				nightly = append(nightly, details(reconcile.Window{From: eat(d, 0, 0).UTC(), To: eat(d+1, 0, 0).UTC()})...)
			}
			if strings.Join(nightly, "\n") != strings.Join(whole, "\n") {
				t.Errorf("nightly runs:\n got %q\nwant what one run of 2–5 March says %q", nightly, whole)
			}
		})
	}
}

func TestSettlementFeeRounding(t *testing.T) {
	t.Parallel()
	window := reconcile.Window{From: eat(2, 0, 0).UTC(), To: eat(3, 0, 0).UTC()}
	fees := settlement.FeeSchedule{testprov.Pixel: {
		"":     {Percent: decimal.RequireFromString("2")},
		"card": {Percent: decimal.RequireFromString("1.5"), Fixed: 300},
	}}
	tests := []struct {
		name     string
		rule     reconcile.RoundingRule
		method   string
		amount   int64
		wantFees int64
	}{
		// 2% of 0.25 is 0.005: a half.
		{"half-even down", reconcile.RoundHalfEven, "", 25, 0},
		{"half-even up", reconcile.RoundHalfEven, "", 75, 2}, // 0.015 → 0.02
		{"half-up", reconcile.RoundHalfUp, "", 25, 1},
		{"down", reconcile.RoundDown, "", 99, 1}, // 0.0198 → 0.01
		{"up", reconcile.RoundUp, "", 51, 2},     // 0.0102 → 0.02
		{"default rule is half-even", "", "", 25, 0},
		{"method rate plus fixed", reconcile.RoundHalfEven, "card", 10000, 150 + 300},
		{"unknown method falls back", reconcile.RoundHalfEven, "eft", 10000, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := settlement.New(settlement.Config{Window: window, Zone: nairobi, PerCompany: perCompany, Fees: fees, Rounding: tt.rule})
			if err != nil {
				t.Fatal(err)
			}
			r := settleRec(testprov.Pixel, reconcile.KindPayment, "P1", zar(tt.amount), eat(2, 12, 0), method(tt.method))
			if err := s.AddRecord(r); err != nil {
				t.Fatal(err)
			}
			rows, _ := s.Result()
			if len(rows) != 1 || rows[0].Fees != tt.wantFees {
				t.Fatalf("rows %+v, want fees %d", rows, tt.wantFees)
			}
		})
	}
}

func TestSettlementErrors(t *testing.T) {
	t.Parallel()
	window := reconcile.Window{From: eat(2, 0, 0).UTC(), To: eat(3, 0, 0).UTC()}
	for _, tt := range []struct {
		name string
		cfg  settlement.Config
		want string
	}{
		{"no zone", settlement.Config{Window: window}, "Zone is required"},
		{"empty window", settlement.Config{Zone: nairobi}, "empty window"},
		{"bad rounding", settlement.Config{Window: window, Zone: nairobi, Fees: testFees(), PerCompany: perCompany, Rounding: "sideways"}, `unknown rounding rule "sideways"`},
		{"negative tolerance", settlement.Config{Window: window, Zone: nairobi, Fees: testFees(), PerCompany: perCompany, Tolerance: -1}, "Tolerance must not be negative"},
	} {
		if _, err := settlement.New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	s, err := settlement.New(settlement.Config{Window: window, Zone: nairobi, Fees: testFees(), PerCompany: perCompany})
	if err != nil {
		t.Fatal(err)
	}
	r := settleRec(testprov.Kora, reconcile.KindPayment, "K1", zar(100), eat(2, 12, 0), func(r *reconcile.Record) {
		r.Fee, r.FeeKnown = reconcile.Money{Minor: 1, Currency: "NGN"}, true
	})
	if err := s.AddRecord(r); err == nil || !strings.Contains(err.Error(), "kora payment K1: fee in NGN") {
		t.Errorf("mixed-currency fee: error %v", err)
	}
}

// TestSettlementBeyondTheLookBack: a settlement with none before it in the
// records read says that it may pay for days before them.
func TestSettlementBeyondTheLookBack(t *testing.T) {
	t.Parallel()
	window := reconcile.Window{From: eat(9, 0, 0).UTC(), To: eat(10, 0, 0).UTC()}
	s, err := settlement.New(settlement.Config{Window: window, Zone: nairobi, Fees: testFees(), PerCompany: perCompany, LoadedFrom: eat(2, 0, 0).UTC()})
	if err != nil {
		t.Fatal(err)
	}
	kes := reconcile.Money{Minor: 70000, Currency: "KES"}
	for _, r := range []reconcile.Record{
		settleRec(testprov.KopoKopo, reconcile.KindPayment, "P1", kes, eat(5, 12, 0)),
		settleRec(testprov.KopoKopo, reconcile.KindSettlement, "S1", reconcile.Money{Minor: 90000, Currency: "KES"}, eat(9, 6, 0)),
	} {
		if err := s.AddRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	_, discs := s.Result()
	want := "Kopo Kopo settled 900.00 KES on 2026-03-09; 700.00 KES was owed for 2026-03-05 to 2026-03-08 — 200.00 over" +
		" (no earlier settlement since 2026-03-02, as far back as the run looked: it may pay for earlier days too; see --settlement-look-back)"
	if len(discs) != 1 || discs[0].Detail != want {
		t.Fatalf("discrepancies %+v\nwant one saying %q", discs, want)
	}
}
