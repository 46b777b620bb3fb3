// Package settletest holds what the settlement tests of packages settlement
// and matchers share: the business zone and days of their scenarios (March
// 2026, Nairobi), a record maker, the fee schedule they assume and a dump
// of settlement rows for failure messages.
package settletest

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/settlement"
)

// Nairobi is the business zone of the scenarios.
var Nairobi = mustZone("Africa/Nairobi")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// EAT is day d of March 2026 at h:m in Nairobi.
func EAT(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, Nairobi) }

// ZAR is minor units of rand.
func ZAR(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "ZAR"} }

// Record is a succeeded record of provider p on account E1, changed by mods.
func Record(p reconcile.Provider, kind reconcile.Kind, tx string, amount reconcile.Money, at time.Time, mods ...func(*reconcile.Record)) reconcile.Record {
	r := reconcile.Record{Provider: p, Kind: kind, TxID: tx, Amount: amount, AmountKnown: true,
		Status: reconcile.StatusSucceeded, OccurredAt: at.UTC(), Account: "E1"}
	for _, m := range mods {
		m(&r)
	}
	return r
}

// Method sets a record's payment method.
func Method(m string) func(*reconcile.Record) { return func(r *reconcile.Record) { r.Method = m } }

// DumpRows writes settlement rows one a line, every field named.
func DumpRows(rows []reconcile.SettlementDay) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%+v\n", r)
	}
	return b.String()
}

// Fees is the fee schedule the settlement tests assume: iKhokha's
// published rates, as its registration gives them to a run.
func Fees() settlement.FeeSchedule {
	return settlement.FeeSchedule{testprov.IKhokha: {
		"eft":                {Percent: decimal.RequireFromString("2")},
		"card":               {Percent: decimal.RequireFromString("2.85")},
		"international_card": {Percent: decimal.RequireFromString("3.25")},
	}}
}

// PerCompany are the providers that settle per company in the tests (Kopo Kopo).
var PerCompany = []reconcile.Provider{testprov.KopoKopo}
