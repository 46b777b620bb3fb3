package matchers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/matchers"
)

// TestTapFeedsSettlement runs the matcher and the settlement accumulator off
// one record stream, as the run job does.
func TestTapFeedsSettlement(t *testing.T) {
	t.Parallel()
	cfg := matchers.Config{Window: day, Now: day.To}
	if got, want := cfg.LookAround(), day.Grow(24*time.Hour); got != want {
		t.Errorf("LookAround %s, want %s", got, want)
	}
	s, err := matchers.NewSettlement(matchers.SettlementConfig{Window: day, Zone: time.UTC, Fees: testFees(), PerCompany: perCompany})
	if err != nil {
		t.Fatal(err)
	}
	recs := []reconcile.Record{rec("T1", "A1"), rec("T2", "", rAt(time.Hour))}
	var c collector
	if _, err := matchers.Match(context.Background(), cfg, seq([]reconcile.LedgerEntry{led("A1")}), matchers.Tap(seq(recs), s.AddRecord), &c); err != nil {
		t.Fatal(err)
	}
	rows, _ := s.Result()
	if len(rows) != 1 || rows[0].Transactions != 2 || rows[0].Gross != 200000 {
		t.Errorf("settlement rows %+v, want one day of 2 payments, 2,000.00 KES", rows)
	}
	if len(c.matches) != 1 || len(c.discs) != 1 {
		t.Errorf("got %q", c.order)
	}

	bad := errors.New("mixed currencies")
	_, err = matchers.Match(context.Background(), cfg, seq[reconcile.LedgerEntry](nil),
		matchers.Tap(seq(recs), func(reconcile.Record) error { return bad }), &collector{})
	if !errors.Is(err, bad) {
		t.Errorf("error %v, want %v", err, bad)
	}
}

var nairobi = mustZone("Africa/Nairobi")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// eat is an instant in Nairobi on March 2026.
func eat(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, nairobi) }

func zar(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "ZAR"} }

func settleRec(p reconcile.Provider, kind reconcile.Kind, tx string, amount reconcile.Money, at time.Time, mods ...func(*reconcile.Record)) reconcile.Record {
	r := reconcile.Record{Provider: p, Kind: kind, TxID: tx, Amount: amount, AmountKnown: true,
		Status: reconcile.StatusSucceeded, OccurredAt: at.UTC(), Account: "E1"}
	for _, m := range mods {
		m(&r)
	}
	return r
}

func method(m string) func(*reconcile.Record) { return func(r *reconcile.Record) { r.Method = m } }

func dumpRows(rows []reconcile.SettlementDay) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%+v\n", r)
	}
	return b.String()
}

// testFees is the fee schedule the settlement tests assume: iKhokha's
// published rates, as its registration gives them to a run.
func testFees() matchers.FeeSchedule {
	return matchers.FeeSchedule{testprov.IKhokha: {
		"eft":                {Percent: decimal.RequireFromString("2")},
		"card":               {Percent: decimal.RequireFromString("2.85")},
		"international_card": {Percent: decimal.RequireFromString("3.25")},
	}}
}

// perCompany are the providers that settle per company in the tests (Kopo Kopo).
var perCompany = []reconcile.Provider{testprov.KopoKopo}
