package matchers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/settletest"
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
