package reports

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"
)

var (
	update  = flag.Bool("update", false, "rewrite the testdata/*.golden files")
	xlsxOut = flag.String("xlsx-out", "", "also write the fixtures' report.xlsx to this file, to look at")
)

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", name, path, lineDiff(string(want), string(got)))
	}
}

// lineDiff lists the lines that differ, enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// reportSet holds every report written from the fixtures.
type reportSet struct {
	discrepancies, matches, summary, settlements, xlsx []byte
}

func writeAll(t testing.TB, o Options, ds []reconcile.Discrepancy, ms []reconcile.Match) reportSet {
	t.Helper()
	var r reportSet
	var db, mb, sb, stb, xb bytes.Buffer
	dc, mc := NewDiscrepancyCSV(&db, o), NewMatchCSV(&mb, o)
	x, err := NewXLSX(o)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for _, d := range ds {
		if err := dc.Write(d); err != nil {
			t.Fatal(err)
		}
		if err := x.WriteDiscrepancy(d); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ms {
		if err := mc.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := x.WriteMatch(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := dc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := mc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := WriteSummaryCSV(&sb, testSummary(), o); err != nil {
		t.Fatal(err)
	}
	if err := WriteSettlementsCSV(&stb, testSettlements(), o); err != nil {
		t.Fatal(err)
	}
	if err := x.Finish(&xb, testSummary(), testSettlements()); err != nil {
		t.Fatal(err)
	}
	r.discrepancies, r.matches, r.summary, r.settlements, r.xlsx = db.Bytes(), mb.Bytes(), sb.Bytes(), stb.Bytes(), xb.Bytes()
	return r
}

func TestGolden(t *testing.T) {
	r := writeAll(t, testOptions(), testDiscrepancies(), testMatches())
	golden(t, "discrepancies.csv", r.discrepancies)
	golden(t, "matches.csv", r.matches)
	golden(t, "summary.csv", r.summary)
	golden(t, "settlements.csv", r.settlements)
	golden(t, "report.xlsx", dumpXLSX(t, r.xlsx))
	if *xlsxOut != "" {
		if err := os.WriteFile(*xlsxOut, r.xlsx, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a := writeAll(t, testOptions(), testDiscrepancies(), testMatches())
	b := writeAll(t, testOptions(), testDiscrepancies(), testMatches())
	for _, c := range []struct {
		name string
		a, b []byte
	}{
		{"discrepancies.csv", a.discrepancies, b.discrepancies},
		{"matches.csv", a.matches, b.matches},
		{"summary.csv", a.summary, b.summary},
		{"settlements.csv", a.settlements, b.settlements},
		{"report.xlsx dump", dumpXLSX(t, a.xlsx), dumpXLSX(t, b.xlsx)},
		// Byte for byte too: the parts are written sorted (canonicalZip).
		{"report.xlsx", a.xlsx, b.xlsx},
	} {
		if !bytes.Equal(c.a, c.b) {
			t.Errorf("%s differs between two runs over the same input", c.name)
		}
	}
}

// TestEmpty: with nothing to report every CSV still has its header and the
// workbook its sheets.
func TestEmpty(t *testing.T) {
	var db, mb, xb bytes.Buffer
	if err := NewDiscrepancyCSV(&db, Options{}).Flush(); err != nil {
		t.Fatal(err)
	}
	if err := NewMatchCSV(&mb, Options{}).Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := db.String(), strings.Join(header(discrepancyColumns), ",")+"\n"; got != want {
		t.Errorf("empty discrepancies.csv = %q, want %q", got, want)
	}
	if got, want := mb.String(), strings.Join(header(matchColumns), ",")+"\n"; got != want {
		t.Errorf("empty matches.csv = %q, want %q", got, want)
	}
	x, err := NewXLSX(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if err := x.Finish(&xb, nil, nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "empty.xlsx", dumpXLSX(t, xb.Bytes()))
}

func TestNeutralize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"ORD-1", "ORD-1"},
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(1+1)", "'@SUM(1+1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{" =1", " =1"}, // not at the start
		{"'=1", "'=1"}, // already text
	} {
		if got := neutralize(c.in); got != c.want {
			t.Errorf("neutralize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMaskPhones(t *testing.T) {
	for _, c := range []struct {
		in, want string
		refs     []string
	}{
		{"paid by +254712349999", "paid by +254*****9999", nil},
		{"+27821234567 paid", "+27*****4567 paid", nil},
		{"+12025550123", "+1******0123", nil},
		{"from 254712349999.", "from 254*****9999.", nil},
		{"from 0712349999", "from 0*****9999", nil},
		{"(+254712349999)", "(+254*****9999)", nil},
		{"two: +254712349999, +255712349998", "two: +254*****9999, +255*****9998", nil},
		// Not phone numbers: amounts, short numbers, digits inside references.
		{"Ledger says 1,500.00 KES; 123456789 short", "Ledger says 1,500.00 KES; 123456789 short", nil},
		{"ORD-1234567890123 and TX1234567890", "ORD-1234567890123 and TX1234567890", nil},
		{"1234567890123456", "1234567890123456", nil}, // 16 digits: too long for E.164
		{"", "", nil},
		// A reference the row shows in a column of its own (a 12-digit
		// Pixel transaction id) stays; a phone beside it is masked.
		{"Pixel transaction 250712349999 paid by +254712349999", "Pixel transaction 250712349999 paid by +254*****9999", []string{"250712349999"}},
	} {
		if got := maskPhones(c.in, c.refs...); got != c.want {
			t.Errorf("maskPhones(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// csvCells reads a CSV report back and returns its rows keyed by header.
func csvCells(t *testing.T, data []byte) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := make(map[string]string)
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// TestCSVCells checks, column by column, the cases the golden file holds:
// injection, negative and zero-exponent amounts, a missing provider amount,
// several candidates, fees with VAT.
func TestCSVCells(t *testing.T) {
	r := writeAll(t, testOptions(), testDiscrepancies(), testMatches())
	ds, ms := csvCells(t, r.discrepancies), csvCells(t, r.matches)
	for _, c := range []struct {
		name      string
		row       map[string]string
		col, want string
	}{
		{"timestamp in business zone", ds[0], "occurred_at", "2026-03-01T10:30:00+03:00"},
		{"phone masked in detail", ds[0], "detail", "Ledger says 1,500.00 KES paid by +254*****9999; Kopo Kopo has no such payment"},
		{"no provider side", ds[0], "provider_amount", ""},
		{"missing provider side: the full amount", ds[0], "difference", "-1500.00"},
		{"two decimals", ds[1], "ledger_amount", "1500.00"},
		{"difference: provider − ledger", ds[1], "difference", "-500.00"},
		{"normalized provider status", ds[1], "provider_status", "succeeded"},
		{"amount not reported", ds[2], "provider_amount", ""},
		{"amount not reported: the ledger amount counted", ds[2], "difference", "-2500"},
		{"zero exponent", ds[2], "ledger_amount", "2500"},
		{"no ledger side", ds[3], "ledger_amount", ""},
		{"no ledger side, no status", ds[3], "ledger_status", ""},
		{"zero exponent provider", ds[3], "provider_amount", "1100"},
		{"injection in reference", ds[4], "ledger_reference", `'=HYPERLINK("http://x","y")`},
		{"injection in provider reference", ds[4], "provider_reference", "'+cmd|' /C calc'!A0"},
		{"candidates joined, injection in id", ds[4], "provider_transaction_id", "'@SUM(1+1);KPY-2"},
		{"injection in account", ds[4], "account", "'-2+3"},
		{"injection in detail (tab)", ds[4], "detail", "'\tKora charged the same order twice, \"quoted\", and a second line\nhere"},
		{"negative amount not neutralized", ds[5], "ledger_amount", "-199.99"},
		{"negative difference", ds[5], "difference", "-100.00"},
		{"detail starting with minus", ds[5], "detail", "'-100.00 ZAR refunded less than the ledger says"},
		{"settlement variance expected", ds[6], "ledger_amount", "9850.00"},
		{"settlement variance", ds[6], "difference", "-50.00"},
		{"small amount", ms[0], "amount", "0.99"},
		{"no fee reported", ms[0], "fee", ""},
		{"no fee, no net", ms[0], "net", ""},
		{"fee plus VAT", ms[1], "fee", "161.25"},
		{"net", ms[1], "net", "9838.75"},
		{"account from record", ms[1], "account", "KORA-M1"},
		{"instalments joined", ms[2], "provider_transaction_id", "KPY-11;KPY-12"},
		{"instalment fee", ms[2], "fee", "15.00"},
		{"injection in match reference", ms[2], "ledger_reference", "'=1+2"},
		{"zero exponent match", ms[3], "amount", "1100"},
		{"late evening in Nairobi is the next day", ms[3], "ledger_occurred_at", "2026-03-02T02:30:00+03:00"},
		{"negative match amount", ms[4], "amount", "-199.99"},
		{"provider currency", ds[1], "provider_currency", "KES"},
		{"currency mismatch: ledger currency", ds[7], "currency", "KES"},
		{"currency mismatch: provider currency", ds[7], "provider_currency", "USD"},
		{"currency mismatch: ledger amount in KES", ds[7], "ledger_amount", "2500.00"},
		{"currency mismatch: provider amount in USD", ds[7], "provider_amount", "20.00"},
		{"currency mismatch: the ledger amount leaves KES", ds[7], "difference", "-2500.00"},
	} {
		if got := c.row[c.col]; got != c.want {
			t.Errorf("%s: %s = %q, want %q", c.name, c.col, got, c.want)
		}
	}
}

func TestUnknownCurrency(t *testing.T) {
	d := testDiscrepancies()[0]
	d.Currency = "XYZ"
	err := NewDiscrepancyCSV(io.Discard, Options{}).Write(d)
	if err == nil || !strings.Contains(err.Error(), "row 1") || !strings.Contains(err.Error(), "currency") {
		t.Errorf("Write with currency XYZ: err = %v, want one naming the row and the currency", err)
	}
}

// openXLSX opens a written workbook.
func openXLSX(t *testing.T, data []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestXLSXCells checks injection and exact numeric amounts in the workbook.
func TestXLSXCells(t *testing.T) {
	r := writeAll(t, testOptions(), testDiscrepancies(), testMatches())
	f := openXLSX(t, r.xlsx)
	raw := excelize.Options{RawCellValue: true}
	for _, c := range []struct {
		sheet, cell, want string
		numeric           bool
		numFmt            string
	}{
		{DiscrepanciesSheet, "E6", `'=HYPERLINK("http://x","y")`, false, ""},
		{DiscrepanciesSheet, "G6", "'@SUM(1+1);KPY-2", false, ""},
		{DiscrepanciesSheet, "D6", "'-2+3", false, ""},
		{DiscrepanciesSheet, "A2", "Missing at provider", false, ""},
		{DiscrepanciesSheet, "B2", "Kopo Kopo", false, ""},
		{DiscrepanciesSheet, "J3", "1500", true, `#,##0.00_) "KES";(#,##0.00) "KES";0.00_) "KES"`},
		{DiscrepanciesSheet, "L3", "-500", true, `#,##0.00_) "KES";(#,##0.00) "KES";0.00_) "KES"`},
		{DiscrepanciesSheet, "J4", "2500", true, `#,##0_) "XOF";(#,##0) "XOF";0_) "XOF"`},
		{DiscrepanciesSheet, "J7", "-199.99", true, `#,##0.00_) "ZAR";(#,##0.00) "ZAR";0.00_) "ZAR"`},
		{DiscrepanciesSheet, "L7", "-100", true, `#,##0.00_) "ZAR";(#,##0.00) "ZAR";0.00_) "ZAR"`},
		{DiscrepanciesSheet, "K4", "", false, ""}, // amount not reported
		// 1 March 2026 10:30 in Nairobi, as a date-time serial.
		{DiscrepanciesSheet, "O2", "46082.4375", true, dateTimeFormat},
		// A currency mismatch: each amount in its own currency.
		{DiscrepanciesSheet, "J9", "2500", true, `#,##0.00_) "KES";(#,##0.00) "KES";0.00_) "KES"`},
		{DiscrepanciesSheet, "K9", "20", true, `#,##0.00_) "USD";(#,##0.00) "USD";0.00_) "USD"`},
		{DiscrepanciesSheet, "I9", "USD", false, ""},
		{MatchesSheet, "D4", "'=1+2", false, ""},
		{MatchesSheet, "H2", "0.99", true, `#,##0.00_) "KES";(#,##0.00) "KES";0.00_) "KES"`},
		{MatchesSheet, "I3", "161.25", true, `#,##0.00_) "NGN";(#,##0.00) "NGN";0.00_) "NGN"`},
		{MatchesSheet, "M2", "Paid", false, ""},
		{MatchesSheet, "M6", "Refunded: nets to nothing", false, ""},
		{SettlementsSheet, "D2", "46082", true, dateFormat},
	} {
		got, err := f.GetCellValue(c.sheet, c.cell, raw)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s!%s = %q, want %q", c.sheet, c.cell, got, c.want)
		}
		typ, err := f.GetCellType(c.sheet, c.cell)
		if err != nil {
			t.Fatal(err)
		}
		if isNum := typ == excelize.CellTypeUnset && got != ""; isNum != c.numeric {
			t.Errorf("%s!%s numeric = %v, want %v (type %v)", c.sheet, c.cell, isNum, c.numeric, typ)
		}
		if got := numFmt(t, f, c.sheet, c.cell); c.numeric && got != c.numFmt {
			t.Errorf("%s!%s number format = %q, want %q", c.sheet, c.cell, got, c.numFmt)
		}
	}
}

// TestXLSXExactAmounts: the number in the file is exactly the decimal amount,
// for every size up to 15 significant digits; longer ones stay exact as text.
func TestXLSXExactAmounts(t *testing.T) {
	cases := []struct {
		minor int64
		cur   reconcile.Currency
	}{
		{1, "KES"}, {10, "KES"}, {19999, "ZAR"}, {-5, "KES"}, {123456789012345, "KES"}, {-999999999999999, "NGN"},
		{1100, "XOF"}, {999999999999999, "UGX"}, {1234567890123456789, "KES"}, {-9223372036854775808, "XOF"},
	}
	o := Options{XLSXMaxMatches: len(cases)}
	x, err := NewXLSX(o)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for i, c := range cases {
		m := reconcile.Money{Minor: c.minor, Currency: c.cur}
		if err := x.WriteMatch(reconcile.Match{Ledger: ledger(testprov.Kora, fmt.Sprint(i), m, reconcile.LedgerPaid, at(1, 0, 0))}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := x.Finish(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, buf.Bytes())
	for i, c := range cases {
		m := reconcile.Money{Minor: c.minor, Currency: c.cur}
		cellRef := fmt.Sprintf("H%d", i+2)
		got, err := f.GetCellValue(MatchesSheet, cellRef, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		d, err := decimal.NewFromString(got)
		if err != nil || !d.Equal(m.Decimal()) {
			t.Errorf("%s: cell %s holds %q, want exactly %s", m.Human(), cellRef, got, m)
		}
		typ, _ := f.GetCellType(MatchesSheet, cellRef)
		if numeric, want := typ == excelize.CellTypeUnset, significantDigits(m.String()) <= maxExactDigits; numeric != want {
			t.Errorf("%s: numeric cell = %v, want %v", m.Human(), numeric, want)
		}
	}
}

// TestXLSXLimits: discrepancies continue on further sheets past the row
// limit; matches stop at XLSXMaxMatches with a line pointing to matches.csv.
func TestXLSXLimits(t *testing.T) {
	defer func(n int) { maxSheetRows = n }(maxSheetRows)
	maxSheetRows = 3 // header + 2 rows per sheet
	o := testOptions()
	o.XLSXMaxMatches = 2
	ds := testDiscrepancies() // 8: sheets of 2, 2, 2 and 2
	r := writeAll(t, o, ds, testMatches())
	f := openXLSX(t, r.xlsx)
	wantSheets := []string{SummarySheet, DiscrepanciesSheet, "Discrepancies (2)", "Discrepancies (3)", "Discrepancies (4)", MatchesSheet, SettlementsSheet}
	if got := f.GetSheetList(); !slices.Equal(got, wantSheets) {
		t.Fatalf("sheets = %q, want %q", got, wantSheets)
	}
	var kinds []string
	for _, s := range wantSheets[1:5] {
		rows, err := f.GetRows(s)
		if err != nil {
			t.Fatal(err)
		}
		if rows[0][0] != "Kind" || len(rows) > maxSheetRows {
			t.Errorf("sheet %s: %d rows, header %q", s, len(rows), rows[0])
		}
		for _, row := range rows[1:] {
			kinds = append(kinds, row[0])
		}
	}
	var want []string
	for _, d := range ds {
		want = append(want, d.Kind.Title())
	}
	if !slices.Equal(kinds, want) {
		t.Errorf("discrepancies across sheets = %q, want every one in order %q", kinds, want)
	}
	rows, err := f.GetRows(MatchesSheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("Matches sheet has %d rows, want header, 2 matches and the note", len(rows))
	}
	if got, want := rows[3][0], "Showing the first 2 of 5 matches; the full list is in matches.csv."; got != want {
		t.Errorf("last line = %q, want %q", got, want)
	}
	golden(t, "report_limits.xlsx", dumpXLSX(t, r.xlsx))
}

func TestNewXLSXRejectsNegativeMax(t *testing.T) {
	if _, err := NewXLSX(Options{XLSXMaxMatches: -1}); err == nil {
		t.Error("NewXLSX with XLSXMaxMatches -1: no error")
	}
}

// numFmt returns the number format of a cell: its custom code, or the
// built-in id.
func numFmt(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt != nil {
		return *st.CustomNumFmt
	}
	if st.NumFmt != 0 {
		return fmt.Sprintf("builtin %d", st.NumFmt)
	}
	return ""
}

var (
	chartRef   = regexp.MustCompile(`<f>([^<]*)</f>`)
	chartAttrs = regexp.MustCompile(`<(barDir|grouping|varyColors) val="([^"]*)"`)
	chartTitle = regexp.MustCompile(`<title>.*?<a:t>([^<]*)</a:t>`)
)

// dumpXLSX renders a workbook as text for golden files: every sheet in
// order with its frozen panes, column widths and every cell's type, raw
// value and number format; the defined names (autofilters); and each
// chart's type, title and references.
func dumpXLSX(t *testing.T, data []byte) []byte {
	t.Helper()
	f := openXLSX(t, data)
	var b bytes.Buffer
	for _, s := range f.GetSheetList() {
		fmt.Fprintf(&b, "== sheet %q\n", s)
		p, err := f.GetPanes(s)
		if err != nil {
			t.Fatal(err)
		}
		if p.Freeze {
			fmt.Fprintf(&b, "frozen: %d row(s), top-left %s\n", p.YSplit, p.TopLeftCell)
		}
		rows, err := f.GetRows(s, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		ncols := 0
		for _, r := range rows {
			ncols = max(ncols, len(r))
		}
		var widths []string
		for c := 1; c <= ncols; c++ {
			name, _ := excelize.ColumnNumberToName(c)
			w, err := f.GetColWidth(s, name)
			if err != nil {
				t.Fatal(err)
			}
			widths = append(widths, fmt.Sprintf("%s=%g", name, w))
		}
		fmt.Fprintf(&b, "widths: %s\n", strings.Join(widths, " "))
		for i, r := range rows {
			for j, v := range r {
				ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
				typ, err := f.GetCellType(s, ref)
				if err != nil {
					t.Fatal(err)
				}
				if v == "" && typ == excelize.CellTypeUnset {
					continue
				}
				kind := "s"
				if typ == excelize.CellTypeUnset {
					kind = "n"
				}
				line := fmt.Sprintf("%s %s %q", ref, kind, v)
				if nf := numFmt(t, f, s, ref); nf != "" {
					line += " fmt " + nf
				}
				b.WriteString(line + "\n")
			}
		}
	}
	b.WriteString("== defined names\n")
	for _, dn := range f.GetDefinedName() {
		fmt.Fprintf(&b, "%s scope=%s refers=%s\n", dn.Name, dn.Scope, dn.RefersTo)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var charts []*zip.File
	for _, zf := range zr.File {
		if strings.HasPrefix(zf.Name, "xl/charts/chart") {
			charts = append(charts, zf)
		}
	}
	slices.SortFunc(charts, func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })
	for _, zf := range charts {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		x, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "== %s\n", zf.Name)
		for _, m := range chartAttrs.FindAllSubmatch(x, -1) {
			fmt.Fprintf(&b, "%s=%s\n", m[1], m[2])
		}
		for _, m := range chartTitle.FindAllSubmatch(x, -1) {
			fmt.Fprintf(&b, "title=%s\n", m[1])
		}
		for _, m := range chartRef.FindAllSubmatch(x, -1) {
			fmt.Fprintf(&b, "ref=%s\n", m[1])
		}
	}
	return b.Bytes()
}

func TestFormatMinor(t *testing.T) {
	values := []int64{0, 1, -1, 5, -5, 9, 10, 99, 100, 101, -150000, 19999, 1100, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for v := int64(-2100); v <= 2100; v += 7 {
		values = append(values, v)
	}
	for _, v := range values {
		for _, exp := range []int32{0, 2, 3} {
			if got, want := formatMinor(v, exp), reconcile.FormatMinor(v, exp); got != want {
				t.Errorf("formatMinor(%d, %d) = %q, want %q", v, exp, got, want)
			}
		}
	}
}

func TestSummaryIsActive(t *testing.T) {
	r := writeAll(t, testOptions(), testDiscrepancies(), testMatches())
	f := openXLSX(t, r.xlsx)
	if got := f.GetSheetName(f.GetActiveSheetIndex()); got != SummarySheet {
		t.Errorf("active sheet = %q, want %q", got, SummarySheet)
	}
}

func TestJoinRecords(t *testing.T) {
	ref := func(r reconcile.Record) string { return r.ProviderRef }
	rec := func(ref string) reconcile.Record { return reconcile.Record{ProviderRef: ref} }
	tests := []struct {
		name string
		in   []reconcile.Record
		want string
	}{
		{"none", nil, ""},
		{"one", []reconcile.Record{rec("OJA")}, "OJA"},
		{"candidates", []reconcile.Record{rec("OJA"), rec("OJB")}, "OJA;OJB"},
		{"payment and its reversal", []reconcile.Record{rec("OJA"), rec("OJA")}, "OJA"},
		{"empty skipped", []reconcile.Record{rec(""), rec("OJB"), rec("")}, "OJB"},
		{"order kept", []reconcile.Record{rec("OJC"), rec("OJA"), rec("OJC"), rec("OJB")}, "OJC;OJA;OJB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := joinRecords(tt.in, ref); got != tt.want {
				t.Errorf("joinRecords = %q, want %q", got, tt.want)
			}
		})
	}
}
