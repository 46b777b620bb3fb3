package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/matchers"
	"github.com/mizani/reconcile/reports"
)

func seqOf[T any](items []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, v := range items {
			if !yield(v, nil) {
				return
			}
		}
	}
}

// messy builds seeded input in KES, USD and XOF: missing sides, amounts that
// differ, currencies that differ, duplicates, reversals, payouts, pending and
// failed records, refunded entries, and items across the window's edges.
func messy(seed uint64, w reconcile.Window) ([]reconcile.LedgerEntry, []reconcile.Record) {
	rng := rand.New(rand.NewPCG(seed, 3))
	curs := []reconcile.Currency{"KES", "KES", "KES", "USD", "XOF"}
	span := w.To.Sub(w.From)
	var ledger []reconcile.LedgerEntry
	var recs []reconcile.Record
	for i := range 300 {
		p := []reconcile.Provider{testprov.KopoKopo, testprov.Kora}[rng.IntN(2)]
		dir, kind := reconcile.In, reconcile.KindPayment
		if rng.IntN(6) == 0 {
			dir, kind = reconcile.Out, reconcile.KindPayout
		}
		cur := curs[rng.IntN(len(curs))]
		at := w.From.Add(time.Duration(rng.Int64N(int64(span))))
		amt := int64(100 * (1 + rng.IntN(50)))
		l := reconcile.LedgerEntry{ID: int64(i + 1), Reference: fmt.Sprintf("R%d", i), Provider: p, Direction: dir,
			Amount: reconcile.Money{Minor: amt, Currency: cur}, OccurredAt: at,
			Status: []reconcile.LedgerStatus{"paid", "paid", "paid", "pending", "refunded", "failed"}[rng.IntN(6)]}
		if rng.IntN(8) > 0 {
			ledger = append(ledger, l)
		}
		for j := range rng.IntN(3) {
			r := reconcile.Record{Provider: p, Kind: kind, TxID: fmt.Sprintf("T%d-%d", i, j), MerchantRef: l.Reference,
				Amount: l.Amount, AmountKnown: rng.IntN(15) > 0, OccurredAt: at.Add(time.Duration(rng.IntN(120)) * time.Minute),
				Status: []reconcile.Status{"succeeded", "succeeded", "succeeded", "pending", "failed", "reversed"}[rng.IntN(6)]}
			switch rng.IntN(10) {
			case 0:
				r.Amount.Minor += 100
			case 1:
				r.Amount.Currency = curs[rng.IntN(len(curs))]
			}
			if !r.AmountKnown {
				r.Amount.Minor = 0
			}
			recs = append(recs, r)
			if rng.IntN(8) == 0 {
				recs = append(recs, reconcile.Record{Provider: p, Kind: reconcile.KindReversal, TxID: "V" + r.TxID, RelatedTxID: r.TxID,
					Amount: r.Amount, AmountKnown: r.AmountKnown, Status: reconcile.StatusSucceeded, OccurredAt: r.OccurredAt.Add(time.Hour)})
			}
		}
	}
	slices.SortStableFunc(ledger, func(a, b reconcile.LedgerEntry) int { return a.OccurredAt.Compare(b.OccurredAt) })
	slices.SortStableFunc(recs, func(a, b reconcile.Record) int { return a.OccurredAt.Compare(b.OccurredAt) })
	return ledger, recs
}

// csvOutput writes what the matcher reports to discrepancies.csv.
type csvOutput struct{ d *reports.DiscrepancyCSV }

func (c csvOutput) Match(reconcile.Match) error               { return nil }
func (c csvOutput) Discrepancy(d reconcile.Discrepancy) error { return c.d.Write(d) }

// TestCSVIdentity is the finance team's check, done on the CSV files of
// matcher runs over seeded messy input: for every provider and currency,
// ledger_total + Σ difference (plus, for rows whose provider_currency is
// this one but whose currency is not, their provider amount as counted) =
// provider_total, to the minor unit, read from summary.csv and
// discrepancies.csv as text; and the summary's own bridge columns close
// (unexplained 0).
func TestCSVIdentity(t *testing.T) {
	w := reconcile.Window{From: time.Date(2026, 3, 2, 21, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 3, 21, 0, 0, 0, time.UTC)}
	for seed := range uint64(15) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ledger, recs := messy(seed, w.Grow(6*time.Hour))
			var db, sb bytes.Buffer
			dc := reports.NewDiscrepancyCSV(&db, reports.Options{})
			sum := matchers.NewSummary(w)
			// The provider amounts as counted, for rows in two currencies:
			// the CSV shows the provider amount, which for a reversed or
			// payout record is not what the total counts.
			moved := map[string]int64{}
			var collect collectCross
			cfg := matchers.Config{Window: w, Grace: 6 * time.Hour, Now: w.To}
			if _, err := matchers.Match(context.Background(), cfg, seqOf(ledger), seqOf(recs), matchers.Tee(csvOutput{dc}, sum, &collect)); err != nil {
				t.Fatal(err)
			}
			if err := dc.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := reports.WriteSummaryCSV(&sb, sum.Lines(), reports.Options{}); err != nil {
				t.Fatal(err)
			}
			for k, v := range collect.cross {
				moved[k] += v
			}
			bridged := map[string]float64{}
			for _, row := range readCSV(t, db.Bytes()) {
				key := row["provider"] + " " + row["currency"]
				bridged[key] += num(t, row["difference"])
			}
			n := 0
			for _, row := range readCSV(t, sb.Bytes()) {
				key := row["provider"] + " " + row["currency"]
				got := num(t, row["ledger_total"]) + bridged[key] + float64(moved[key])/minorPer(row["currency"])
				if want := num(t, row["provider_total"]); !near(got, want) {
					t.Errorf("%s: ledger_total %s + Σ difference = %.2f, provider_total %s", key, row["ledger_total"], got, row["provider_total"])
				}
				if num(t, row["unexplained"]) != 0 {
					t.Errorf("%s: unexplained %s", key, row["unexplained"])
				}
				n++
			}
			if n < 3 {
				t.Errorf("only %d summary lines", n)
			}
		})
	}
}

// collectCross sums, per provider and provider currency, the provider
// amounts counted of discrepancies whose two sides are in different
// currencies.
type collectCross struct{ cross map[string]int64 }

func (c *collectCross) Match(reconcile.Match) error { return nil }
func (c *collectCross) Discrepancy(d reconcile.Discrepancy) error {
	if c.cross == nil {
		c.cross = map[string]int64{}
	}
	if d.ProviderCurrency != d.Currency {
		c.cross[string(d.Provider)+" "+string(d.ProviderCurrency)] += d.ProviderCounted
	}
	return nil
}

func readCSV(t *testing.T, data []byte) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// num reads a CSV amount; amounts here are small enough for float64 to
// hold every cent exactly.
func num(t *testing.T, s string) float64 {
	t.Helper()
	if s == "" {
		t.Fatal("empty amount")
	}
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return f
}

func minorPer(c string) float64 {
	if c == "XOF" {
		return 1
	}
	return 100
}

func near(a, b float64) bool { return a-b < 0.001 && b-a < 0.001 }

// TestNoCurrencyReported: a record whose provider reported no currency (its
// amount counts nothing) is still written, its amounts as whole numbers.
func TestNoCurrencyReported(t *testing.T) {
	d := reconcile.Discrepancy{Kind: reconcile.MissingInLedger, Provider: testprov.Pixel, Direction: reconcile.In,
		Records: []reconcile.Record{{Provider: testprov.Pixel, TxID: "MP.1", AmountSent: "100", Status: reconcile.StatusSucceeded}},
		Detail:  "Pixel received 100 (MP.1; currency not reported); the ledger has no entry for it"}
	matchers.Account(&d)
	var b bytes.Buffer
	c := reports.NewDiscrepancyCSV(&b, reports.Options{})
	if err := c.Write(d); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, b.Bytes())
	if got := rows[0]["difference"]; got != "0" {
		t.Errorf("difference %q, want 0 (nothing counted)", got)
	}
	var s bytes.Buffer
	if err := reports.WriteSummaryCSV(&s, []reconcile.SummaryLine{{Provider: testprov.Pixel, ProviderCount: 1}}, reports.Options{}); err != nil {
		t.Errorf("summary line without a currency: %v", err)
	}
}
