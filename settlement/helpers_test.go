package settlement_test

import (
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
)

// The run window of most tests: 1 March 2026, UTC.
var (
	day = reconcile.Window{
		From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		To:   time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
	}
	noon = day.From.Add(12 * time.Hour)
)

// rec is a succeeded 1,000.00 KES Kopo Kopo payment at noon carrying
// merchant reference ref; mods adjust it.
func rec(tx, ref string, mods ...func(*reconcile.Record)) reconcile.Record {
	r := reconcile.Record{
		Provider: testprov.KopoKopo, Kind: reconcile.KindPayment, TxID: tx, MerchantRef: ref,
		Amount: reconcile.Money{Minor: 100000, Currency: "KES"}, AmountKnown: true,
		Status: reconcile.StatusSucceeded, OccurredAt: noon,
	}
	for _, m := range mods {
		m(&r)
	}
	return r
}

func rStatus(s reconcile.Status) func(*reconcile.Record) {
	return func(r *reconcile.Record) { r.Status = s }
}

func details(ds []reconcile.Discrepancy) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Detail
	}
	return out
}
