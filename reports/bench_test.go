package reports

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
)

// genMatch fills m with the i-th synthetic match, reusing its storage, so
// the benchmark measures the writers rather than the generator.
func genMatch(m *reconcile.Match, i int) {
	ref := "ORD-" + strconv.Itoa(i)
	t := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	m.Ledger = reconcile.LedgerEntry{Reference: ref, Provider: testprov.Kora, Direction: reconcile.In,
		Amount: reconcile.Money{Minor: int64(100 + i%100000), Currency: "NGN"}, Status: reconcile.LedgerPaid,
		OccurredAt: t, Account: "KORA-M1"}
	if m.Records == nil {
		m.Records = make([]reconcile.Record, 1)
	}
	m.Records[0] = reconcile.Record{Provider: testprov.Kora, TxID: "KPY-" + strconv.Itoa(i), ProviderRef: "pay-" + strconv.Itoa(i),
		Amount: m.Ledger.Amount, AmountKnown: true, Fee: reconcile.Money{Minor: 15, Currency: "NGN"}, FeeKnown: true,
		OccurredAt: t.Add(time.Minute)}
}

func genDiscrepancy(i int) reconcile.Discrepancy {
	l := reconcile.LedgerEntry{Reference: "ORD-X" + strconv.Itoa(i), Provider: testprov.KopoKopo, Direction: reconcile.In,
		Amount: reconcile.Money{Minor: 150000, Currency: "KES"}, Status: reconcile.LedgerPaid}
	return reconcile.Discrepancy{Kind: reconcile.AmountMismatch, Provider: testprov.KopoKopo, Direction: reconcile.In,
		Ledger: &l, Records: []reconcile.Record{{TxID: "k2-" + strconv.Itoa(i), ProviderRef: "OJM6Q1W84K", Status: reconcile.StatusSucceeded}},
		Currency: "KES", LedgerAmount: 150000, ProviderAmount: 100000, ProviderAmountKnown: true, Difference: 50000,
		OccurredAt: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC),
		Detail:     "Ledger says 1,500.00 KES paid; Kopo Kopo received 1,000.00 KES (OJM6Q1W84K) — 500.00 short"}
}

// BenchmarkWriteReports1M writes the reports of a large run: 1,000,000
// matches and 10,000 discrepancies to discrepancies.csv and matches.csv
// (io.Discard) and to report.xlsx (a temporary file), which holds the first
// 100,000 matches. rows/s counts every row fed to the writers.
func BenchmarkWriteReports1M(b *testing.B) {
	benchmarkReports(b, 1_000_000, 10_000, true)
}

// BenchmarkWriteCSV1M is BenchmarkWriteReports1M without the workbook.
func BenchmarkWriteCSV1M(b *testing.B) {
	benchmarkReports(b, 1_000_000, 10_000, false)
}

// BenchmarkWriteXLSX100kMatches measures report.xlsx alone with 100,000
// match rows, the default cap.
func BenchmarkWriteXLSX100kMatches(b *testing.B) {
	o := testOptions()
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		x, err := NewXLSX(o)
		if err != nil {
			b.Fatal(err)
		}
		var m reconcile.Match
		for i := range 100_000 {
			genMatch(&m, i)
			if err := x.WriteMatch(m); err != nil {
				b.Fatal(err)
			}
		}
		writeXLSXFile(b, x, filepath.Join(dir, "report.xlsx"))
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func benchmarkReports(b *testing.B, matches, discrepancies int, withXLSX bool) {
	o := testOptions()
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		mw, dw := bufio.NewWriterSize(io.Discard, 1<<16), bufio.NewWriterSize(io.Discard, 1<<16)
		mc, dc := NewMatchCSV(mw, o), NewDiscrepancyCSV(dw, o)
		var x *XLSX
		if withXLSX {
			var err error
			if x, err = NewXLSX(o); err != nil {
				b.Fatal(err)
			}
		}
		for i := range discrepancies {
			d := genDiscrepancy(i)
			if err := dc.Write(d); err != nil {
				b.Fatal(err)
			}
			if x != nil {
				if err := x.WriteDiscrepancy(d); err != nil {
					b.Fatal(err)
				}
			}
		}
		var m reconcile.Match
		for i := range matches {
			genMatch(&m, i)
			if err := mc.Write(m); err != nil {
				b.Fatal(err)
			}
			if x != nil {
				if err := x.WriteMatch(m); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := mc.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := dc.Flush(); err != nil {
			b.Fatal(err)
		}
		if x != nil {
			writeXLSXFile(b, x, filepath.Join(dir, "report.xlsx"))
		}
	}
	b.ReportMetric(float64((matches+discrepancies)*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func writeXLSXFile(b *testing.B, x *XLSX, path string) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	if err := x.Finish(w, testSummary(), testSettlements()); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := x.Close(); err != nil {
		b.Fatal(err)
	}
}
