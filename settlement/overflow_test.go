package settlement_test

import (
	"math"
	"strings"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/settlement"
)

// TestSettlementOverflow: sums near math.MaxInt64 that would wrap are an
// error naming the provider, account, currency and sum — AddRecord's when a
// day's total overflows, Err's when a sum of Result does — and Result then
// returns nothing; a sum that fits is kept exactly.
func TestSettlementOverflow(t *testing.T) {
	t.Parallel()
	const big int64 = 9_000_000_000_000_000_000 // 90,000,000,000,000,000.00 KES
	kes := func(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "KES"} }
	at := eat(2, 10, 0)
	tests := []struct {
		name    string
		recs    []reconcile.Record
		addErr  string // the error of the last AddRecord
		lateErr string // Err after Result
	}{
		{name: "gross fits",
			recs: []reconcile.Record{settleRec(testprov.IKhokha, reconcile.KindPayment, "P1", kes(big), at)}},
		{name: "gross",
			recs: []reconcile.Record{
				settleRec(testprov.IKhokha, reconcile.KindPayment, "P1", kes(big), at),
				settleRec(testprov.IKhokha, reconcile.KindPayment, "P2", kes(big), at)},
			addErr: "ikhokha KES account E1 on 2026-03-02: the gross sums beyond"},
		{name: "payouts",
			recs: []reconcile.Record{
				settleRec(testprov.IKhokha, reconcile.KindPayout, "O1", kes(big), at),
				settleRec(testprov.IKhokha, reconcile.KindPayout, "O2", kes(big), at)},
			addErr: "the payouts sums beyond"},
		{name: "reversals",
			recs: []reconcile.Record{
				settleRec(testprov.IKhokha, reconcile.KindReversal, "R1", kes(big), at),
				settleRec(testprov.IKhokha, reconcile.KindReversal, "R2", kes(big), at)},
			addErr: "the reversals sums beyond"},
		{name: "fee records",
			recs: []reconcile.Record{
				settleRec(testprov.IKhokha, reconcile.KindFee, "F1", kes(big), at),
				settleRec(testprov.IKhokha, reconcile.KindFee, "F2", kes(big), at)},
			addErr: "the fees sums beyond"},
		{name: "fee + VAT",
			recs: []reconcile.Record{settleRec(testprov.IKhokha, reconcile.KindPayment, "P1", kes(100), at, func(r *reconcile.Record) {
				r.Fee, r.VAT, r.FeeKnown = kes(math.MaxInt64), kes(1), true
			})},
			addErr: "ikhokha payment P1: fee 92,233,720,368,547,758.07 KES + VAT 0.01 KES sums beyond"},
		{name: "settled",
			recs: []reconcile.Record{
				settleRec(testprov.IKhokha, reconcile.KindSettlement, "S1", kes(big), at),
				settleRec(testprov.IKhokha, reconcile.KindSettlement, "S2", kes(big), at)},
			addErr: "the settled amount sums beyond"},
		{name: "payouts of another account",
			recs: []reconcile.Record{
				settleRec(testprov.IKhokha, reconcile.KindPayment, "P1", kes(big), at),
				settleRec(testprov.IKhokha, reconcile.KindPayout, "O1", kes(big), at),
				settleRec(testprov.IKhokha, reconcile.KindPayout, "O2", kes(big), eat(2, 11, 0), func(r *reconcile.Record) { r.Account = "E2" }),
				settleRec(testprov.IKhokha, reconcile.KindPayout, "O3", kes(big), eat(2, 11, 0), func(r *reconcile.Record) { r.Account = "E2" }),
			},
			addErr: "ikhokha KES account E2 on 2026-03-02: the payouts sums beyond"},
		{name: "net of one day beyond int64",
			recs: []reconcile.Record{
				settleRec(testprov.IKhokha, reconcile.KindFee, "F1", kes(big), at),
				settleRec(testprov.IKhokha, reconcile.KindPayout, "O1", kes(big), at)},
			lateErr: "ikhokha KES account E1 on 2026-03-02: the net expected sums beyond"},
		{name: "unsettled balance over two days",
			recs: []reconcile.Record{
				settleRec(testprov.IKhokha, reconcile.KindPayment, "P1", kes(big), at),
				settleRec(testprov.IKhokha, reconcile.KindPayment, "P2", kes(big), eat(3, 10, 0))},
			lateErr: "ikhokha KES account E1 on 2026-03-03: the unsettled balance sums beyond"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			window := reconcile.Window{From: eat(2, 0, 0).UTC(), To: eat(4, 0, 0).UTC()}
			s, err := settlement.New(settlement.Config{Window: window, Zone: nairobi})
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range tt.recs {
				err = s.AddRecord(r)
				if i < len(tt.recs)-1 && err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
			}
			if tt.addErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.addErr) {
					t.Fatalf("AddRecord: %v, want an error containing %q", err, tt.addErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			rows, discs := s.Result()
			want := cmp(tt.addErr, tt.lateErr)
			if want == "" {
				if s.Err() != nil {
					t.Fatal(s.Err())
				}
				if len(rows) != 1 || rows[0].Gross != big || rows[0].NetExpected != big || rows[0].Unsettled != big {
					t.Fatalf("rows %+v, want one of gross, net and unsettled %d", rows, big)
				}
				return
			}
			if err := s.Err(); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Err: %v, want an error containing %q", err, want)
			}
			if rows != nil || discs != nil {
				t.Errorf("Result after an overflow: %d rows, %d discrepancies, want none", len(rows), len(discs))
			}
		})
	}
}

// cmp is the first of a, b not empty.
func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
