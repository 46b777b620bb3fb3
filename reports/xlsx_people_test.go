package reports

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/xuri/excelize/v2"
)

// TestXLSXForPeople checks what a finance person sees: every sheet prints
// landscape one page wide with its header repeated; the Summary opens with
// the statement, each block closing on "Unexplained" 0, and the run's
// parameters in words below it; kinds and providers in words.
func TestXLSXForPeople(t *testing.T) {
	r := writeAll(t, testOptions(), testDiscrepancies(), testMatches())
	f := openXLSX(t, r.xlsx)
	for _, s := range f.GetSheetList() {
		pl, err := f.GetPageLayout(s)
		if err != nil {
			t.Fatal(err)
		}
		if pl.Orientation == nil || *pl.Orientation != "landscape" || pl.FitToWidth == nil || *pl.FitToWidth != 1 || pl.FitToHeight == nil || *pl.FitToHeight != 0 {
			t.Errorf("%s: page layout %+v, want landscape, one page wide", s, pl)
		}
		props, err := f.GetSheetProps(s)
		if err != nil {
			t.Fatal(err)
		}
		if props.FitToPage == nil || !*props.FitToPage {
			t.Errorf("%s: fit to page is off", s)
		}
	}
	var titles []string
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm.Print_Titles" {
			titles = append(titles, dn.Scope)
		}
	}
	if want := []string{DiscrepanciesSheet, MatchesSheet, SettlementsSheet}; !slices.Equal(titles, want) {
		t.Errorf("header rows repeated in print on %q, want %q", titles, want)
	}

	rows, err := f.GetRows(SummarySheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	find := func(label string) int {
		for i, r := range rows {
			if len(r) > 0 && strings.TrimSpace(r[0]) == label {
				return i
			}
		}
		return -1
	}
	statement, about := find("Reconciliation statement: ledger total → provider total"), find("About this run")
	if statement < 0 || about < 0 || statement > about || statement > 4 {
		t.Errorf("statement at row %d, about at row %d: want the statement first, the parameters below", statement+1, about+1)
	}
	unexplained := 0
	for _, r := range rows {
		if len(r) >= 3 && strings.TrimSpace(r[0]) == "Unexplained" {
			unexplained++
			if r[2] != "0" {
				t.Errorf("unexplained %q, want 0", r[2])
			}
		}
	}
	if unexplained != len(testSummary()) {
		t.Errorf("%d statement blocks close on Unexplained, want %d", unexplained, len(testSummary()))
	}
	grace := find("Look-around (grace)")
	if grace < 0 || rows[grace][1] != "24 hours" {
		t.Errorf("grace shown as %q, want 24 hours", rows[max(grace, 0)])
	}
	if a, _ := f.GetCellValue(DiscrepanciesSheet, "A2"); a != "Missing at provider" {
		t.Errorf("kind in words = %q", a)
	}
	if h, _ := f.GetCellValue(DiscrepanciesSheet, "O1"); h != "Occurred at (Africa/Nairobi)" {
		t.Errorf("time heading = %q, want the zone named", h)
	}
}

func TestDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{
		{"24h0m0s", "24 hours"}, {"30m0s", "30 minutes"}, {"1h30m0s", "1 hour and 30 minutes"},
		{"168h0m0s", "7 days"}, {"1h0m0s", "1 hour"}, {"90s", "90 seconds"}, {"0s", "none"},
		{"1.00 in the settlement currency", "1.00 in the settlement currency"}, {"0", "0"},
	} {
		if got := factWords(c.in); got != c.want {
			t.Errorf("factWords(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestXLSXFitsWidths: the data sheets' columns fit their first rows — a
// short column narrows, a long id widens it up to its cap and then wraps —
// and rows past those the widths were fitted on follow in order.
func TestXLSXFitsWidths(t *testing.T) {
	o := Options{XLSXMaxMatches: 1500}
	x, err := NewXLSX(o)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	base := testMatches()[0]
	for i := range 1500 {
		m := base
		m.Ledger.Reference = fmt.Sprintf("R%d", i)
		m.Records = []reconcile.Record{base.Records[0]}
		if i == 3 {
			m.Records[0].TxID = strings.Repeat("x", 60) // past the cap: wraps
		}
		if err := x.WriteMatch(m); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := x.Finish(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, buf.Bytes())
	width := func(col string) float64 {
		w, err := f.GetColWidth(MatchesSheet, col)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	if w := width("F"); w != 24 {
		t.Errorf("transaction id column %g wide, want its cap 24", w)
	}
	if w := width("D"); w >= 18 || w < 8 {
		t.Errorf("reference column %g wide for references like R1499, want it narrowed", w)
	}
	for _, c := range []struct{ cell, want string }{{"D2", "R0"}, {"D1001", "R999"}, {"D1002", "R1000"}, {"D1501", "R1499"}} {
		if got, _ := f.GetCellValue(MatchesSheet, c.cell); got != c.want {
			t.Errorf("%s = %q, want %q", c.cell, got, c.want)
		}
	}
}
