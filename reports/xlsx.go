package reports

import (
	"fmt"
	"io"
	"strconv"

	"github.com/mizani/reconcile"
	"github.com/xuri/excelize/v2"
)

// Sheet names of report.xlsx, in workbook order.
const (
	SummarySheet       = "Summary"
	DiscrepanciesSheet = "Discrepancies"
	MatchesSheet       = "Matches"
	SettlementsSheet   = "Settlements"
)

// maxSheetRows is the most rows a sheet holds, header included: Excel's
// limit. Discrepancies continue on "Discrepancies (2)" and so on past it.
// A variable so tests can make it small.
var maxSheetRows = excelize.TotalRows

// maxExactDigits is the most significant digits an amount may have to be
// written as a numeric cell: excelize writes a float64 with at most 15
// significant digits, and every decimal of at most 15 significant digits
// survives the trip through float64 unchanged.
const maxExactDigits = 15

// XLSX streams report.xlsx with excelize's StreamWriter, so memory stays
// bounded however many rows are written (excelize spills rows to temporary
// files). Feed it every discrepancy and match with WriteDiscrepancy and
// WriteMatch (interleaved or not, each in report order), then call Finish
// with the small summary and settlement tables, and Close in any case.
//
// Every discrepancy is written, continuing on "Discrepancies (2)" past
// Excel's row limit. Matches past Options.XLSXMaxMatches are counted but not
// written; a closing line says the full list is in matches.csv.
type XLSX struct {
	o           Options
	f           *excelize.File
	headerStyle int
	boldStyle   int
	amountStyle map[reconcile.Currency]int

	disc      *sheet
	discPages int
	match     *sheet

	discrepancies int
	byKind        map[reconcile.DiscrepancyKind]int
	matches       int

	cells []cell
	vals  []any
}

// sheet is one streamed worksheet and the last row written to it.
type sheet struct {
	name string
	sw   *excelize.StreamWriter
	cols []column
	row  int
}

// NewXLSX starts report.xlsx with its four sheets.
func NewXLSX(o Options) (*XLSX, error) { return newXLSX(o, "") }

// newXLSX is NewXLSX with excelize's temporary files in tmpDir ("" means
// os.TempDir()).
func newXLSX(o Options, tmpDir string) (*XLSX, error) {
	if o.XLSXMaxMatches < 0 {
		return nil, fmt.Errorf("XLSXMaxMatches %d: must not be negative", o.XLSXMaxMatches)
	}
	x := &XLSX{
		o:           o,
		f:           excelize.NewFile(excelize.Options{TmpDir: tmpDir}),
		amountStyle: make(map[reconcile.Currency]int),
		byKind:      make(map[reconcile.DiscrepancyKind]int),
	}
	if err := x.init(); err != nil {
		x.Close()
		return nil, fmt.Errorf("report.xlsx: %w", err)
	}
	return x, nil
}

func (x *XLSX) init() error {
	f := x.f
	if err := f.SetSheetName(f.GetSheetName(0), SummarySheet); err != nil {
		return err
	}
	for _, name := range []string{DiscrepanciesSheet, MatchesSheet, SettlementsSheet} {
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
	}
	var err error
	if x.headerStyle, err = f.NewStyle(&excelize.Style{
		Font:   &excelize.Font{Bold: true},
		Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Border: []excelize.Border{{Type: "bottom", Color: "9BC2E6", Style: 1}},
	}); err != nil {
		return err
	}
	if x.boldStyle, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return err
	}
	if x.disc, err = x.newTable(DiscrepanciesSheet, discrepancyColumns); err != nil {
		return err
	}
	x.discPages = 1
	x.match, err = x.newTable(MatchesSheet, matchColumns)
	return err
}

// newTable starts streaming a data sheet: column widths, a frozen header row
// and the header.
func (x *XLSX) newTable(name string, cols []column) (*sheet, error) {
	sw, err := x.f.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	s := &sheet{name: name, sw: sw, cols: cols}
	for i, c := range cols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	h := make([]any, len(cols))
	for i, c := range cols {
		h[i] = excelize.Cell{StyleID: x.headerStyle, Value: c.name}
	}
	return s, x.setRow(s, h)
}

func (x *XLSX) setRow(s *sheet, vals []any) error {
	s.row++
	if err := s.sw.SetRow("A"+strconv.Itoa(s.row), vals); err != nil {
		return fmt.Errorf("sheet %s row %d: %w", s.name, s.row, err)
	}
	return nil
}

// finishTable puts an autofilter over the header and rows 2..lastRow and
// ends the sheet's stream.
func (x *XLSX) finishTable(s *sheet, lastRow int) error {
	last, err := excelize.CoordinatesToCellName(len(s.cols), max(lastRow, 2))
	if err != nil {
		return err
	}
	// AutoFilter updates the worksheet the stream writer holds; it is
	// written out by Flush, so it must come before it.
	if err := x.f.AutoFilter(s.name, "A1:"+last, nil); err != nil {
		return fmt.Errorf("sheet %s autofilter: %w", s.name, err)
	}
	if err := s.sw.Flush(); err != nil {
		return fmt.Errorf("sheet %s: %w", s.name, err)
	}
	return nil
}

// WriteDiscrepancy adds one discrepancy row.
func (x *XLSX) WriteDiscrepancy(d reconcile.Discrepancy) error {
	if x.disc.row >= maxSheetRows {
		if err := x.nextDiscrepancySheet(); err != nil {
			return fmt.Errorf("report.xlsx: %w", err)
		}
	}
	var err error
	if x.cells, err = discrepancyRow(x.cells[:0], d, x.o, providerDisplay); err != nil {
		return fmt.Errorf("report.xlsx discrepancy %d (%s %s): %w", x.discrepancies+1, d.Kind, d.Provider, err)
	}
	if err := x.writeCells(x.disc, x.cells); err != nil {
		return fmt.Errorf("report.xlsx: %w", err)
	}
	x.discrepancies++
	x.byKind[d.Kind]++
	return nil
}

// nextDiscrepancySheet closes the full discrepancies sheet and starts
// "Discrepancies (n)" right after it.
func (x *XLSX) nextDiscrepancySheet() error {
	if err := x.finishTable(x.disc, x.disc.row); err != nil {
		return err
	}
	x.discPages++
	name := fmt.Sprintf("%s (%d)", DiscrepanciesSheet, x.discPages)
	if _, err := x.f.NewSheet(name); err != nil {
		return err
	}
	if err := x.f.MoveSheet(name, MatchesSheet); err != nil {
		return err
	}
	var err error
	x.disc, err = x.newTable(name, discrepancyColumns)
	return err
}

// WriteMatch adds one match row, or only counts it once the sheet holds
// Options.XLSXMaxMatches matches.
func (x *XLSX) WriteMatch(m reconcile.Match) error {
	x.matches++
	if x.matches > x.o.maxMatches() {
		return nil
	}
	var err error
	if x.cells, err = matchRow(x.cells[:0], m, x.o, providerDisplay); err != nil {
		return fmt.Errorf("report.xlsx match %d (%s %s): %w", x.matches, m.Ledger.Provider, m.Ledger.Reference, err)
	}
	if err := x.writeCells(x.match, x.cells); err != nil {
		return fmt.Errorf("report.xlsx: %w", err)
	}
	return nil
}

// writeCells writes one row of report cells to s.
func (x *XLSX) writeCells(s *sheet, cells []cell) error {
	x.vals = x.vals[:0]
	for _, c := range cells {
		v, err := x.value(c)
		if err != nil {
			return err
		}
		x.vals = append(x.vals, v)
	}
	return x.setRow(s, x.vals)
}

// value converts a report cell to what excelize writes. Text is neutralized
// against formula injection; empty text and unknown amounts are empty cells.
//
// Amounts are numeric cells with the currency's number format. excelize
// takes a number as float64, so the exact decimal string ("199.99") is
// parsed with strconv.ParseFloat: for at most 15 significant digits the
// float is the nearest to that decimal and excelize writes it back as the
// same digits, so the file holds the exact amount. The float is display
// only and never used in arithmetic. An amount with more digits (beyond
// 10 trillion in a two-decimal currency) is written as text to stay exact.
func (x *XLSX) value(c cell) (any, error) {
	switch c.kind {
	case countCell:
		return c.n, nil
	case amountCell:
		if c.blank {
			return nil, nil
		}
		style, err := x.amountStyleFor(c.cur, c.exp)
		if err != nil {
			return nil, err
		}
		s := formatMinor(c.n, c.exp)
		if significantDigits(s) > maxExactDigits {
			return excelize.Cell{StyleID: style, Value: s}, nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("amount %s: %w", s, err)
		}
		return excelize.Cell{StyleID: style, Value: v}, nil
	}
	s := c.textValue()
	if s == "" {
		return nil, nil
	}
	return neutralize(s), nil
}

// significantDigits counts the digits of a plain decimal string, leading
// zeros excluded.
func significantDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) && (n > 0 || s[i] != '0') {
			n++
		}
	}
	return n
}

// amountStyleFor returns the style of amounts in c: grouped thousands,
// exactly the currency's decimals, and the code ("#,##0.00 "KES"").
func (x *XLSX) amountStyleFor(c reconcile.Currency, exp int32) (int, error) {
	if id, ok := x.amountStyle[c]; ok {
		return id, nil
	}
	numFmt := amountFormat(c, exp)
	id, err := x.f.NewStyle(&excelize.Style{CustomNumFmt: &numFmt})
	if err != nil {
		return 0, fmt.Errorf("number format %s: %w", numFmt, err)
	}
	x.amountStyle[c] = id
	return id, nil
}

func amountFormat(c reconcile.Currency, exp int32) string {
	f := "#,##0"
	if exp > 0 {
		f += "."
		for range exp {
			f += "0"
		}
	}
	return f + ` "` + string(c) + `"`
}

// Finish writes the Summary and Settlements sheets, closes the streamed
// sheets and writes the workbook to w. Call Close afterwards.
func (x *XLSX) Finish(w io.Writer, summary []reconcile.SummaryLine, settlements []reconcile.SettlementDay) error {
	if err := x.finish(summary, settlements); err != nil {
		return fmt.Errorf("report.xlsx: %w", err)
	}
	if err := x.f.Write(w); err != nil {
		return fmt.Errorf("writing report.xlsx: %w", err)
	}
	return nil
}

func (x *XLSX) finish(summary []reconcile.SummaryLine, settlements []reconcile.SettlementDay) error {
	if err := x.finishTable(x.disc, x.disc.row); err != nil {
		return err
	}
	last := x.match.row
	if shown := x.o.maxMatches(); x.matches > shown {
		note := fmt.Sprintf("Showing the first %d of %d matches; the full list is in matches.csv.", shown, x.matches)
		if err := x.setRow(x.match, []any{excelize.Cell{StyleID: x.boldStyle, Value: note}}); err != nil {
			return err
		}
	}
	if err := x.finishTable(x.match, last); err != nil {
		return err
	}
	if err := x.writeSettlements(settlements); err != nil {
		return err
	}
	// Summary, the first sheet, is already the active one; SetActiveSheet
	// would re-read every streamed sheet.
	return x.writeSummary(summary)
}

func (x *XLSX) writeSettlements(rows []reconcile.SettlementDay) error {
	s, err := x.newTable(SettlementsSheet, settlementColumns)
	if err != nil {
		return err
	}
	for _, r := range sortedSettlements(rows) {
		if x.cells, err = settlementRow(x.cells[:0], r, x.o, providerDisplay); err != nil {
			return fmt.Errorf("settlement row %d (%s %s): %w", s.row, r.Provider, r.Account, err)
		}
		if err := x.writeCells(s, x.cells); err != nil {
			return err
		}
	}
	return x.finishTable(s, s.row)
}

// writeSummary writes the Summary sheet: the run facts, the summary table,
// and one clustered column chart per currency of matched against discrepant
// amounts per provider (amounts of different currencies do not share an axis).
func (x *XLSX) writeSummary(lines []reconcile.SummaryLine) error {
	sw, err := x.f.NewStreamWriter(SummarySheet)
	if err != nil {
		return err
	}
	s := &sheet{name: SummarySheet, sw: sw, cols: summaryColumns}
	widths := []float64{30, 28}
	for i, c := range summaryColumns {
		w := c.width
		if i < len(widths) {
			w = max(w, widths[i])
		}
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	if err := x.setRow(s, []any{excelize.Cell{StyleID: x.boldStyle, Value: "Mizani reconciliation report"}}); err != nil {
		return err
	}
	s.row++ // blank line
	for _, fact := range x.facts() {
		if err := x.setRow(s, fact[:]); err != nil {
			return err
		}
	}
	s.row++
	h := make([]any, len(summaryColumns))
	for i, c := range summaryColumns {
		h[i] = excelize.Cell{StyleID: x.headerStyle, Value: c.name}
	}
	if err := x.setRow(s, h); err != nil {
		return err
	}
	headerRow := s.row
	lines = sortedSummary(lines)
	for _, l := range lines {
		if x.cells, err = summaryRow(x.cells[:0], l, providerDisplay); err != nil {
			return fmt.Errorf("summary row %d (%s %s): %w", s.row, l.Provider, l.Currency, err)
		}
		if err := x.writeCells(s, x.cells); err != nil {
			return err
		}
	}
	if err := x.addCharts(lines, headerRow); err != nil {
		return err
	}
	return sw.Flush()
}

// facts are the label/value lines at the top of the Summary sheet; counts
// are numbers.
func (x *XLSX) facts() [][2]any {
	o := x.o
	facts := [][2]any{
		{"Window from", o.timestamp(o.Window.From)},
		{"Window to (exclusive)", o.timestamp(o.Window.To)},
		{"Business time zone", o.location().String()},
		{"Data as of", o.timestamp(o.AsOf)},
		{"Rounding rule", string(o.rounding())},
	}
	for _, f := range o.Facts {
		facts = append(facts, [2]any{neutralize(f.Label), neutralize(f.Value)})
	}
	facts = append(facts, [2]any{"Matches", x.matches})
	if shown := o.maxMatches(); x.matches > shown {
		facts = append(facts, [2]any{"Matches in this workbook", fmt.Sprintf("the first %d; the full list is in matches.csv", shown)})
	}
	facts = append(facts, [2]any{"Discrepancies", x.discrepancies})
	for _, k := range reconcile.DiscrepancyKinds {
		facts = append(facts, [2]any{"  " + string(k), x.byKind[k]})
	}
	return facts
}

// addCharts adds a clustered column chart per currency, beside the table.
// The table is sorted by currency, so each currency's rows are contiguous.
func (x *XLSX) addCharts(lines []reconcile.SummaryLine, headerRow int) error {
	const (
		matchedCol     = "H" // matched_total
		discrepancyCol = "J" // discrepancy_total
	)
	ref := func(col string, from, to int) string {
		return fmt.Sprintf("%s!$%s$%d:$%s$%d", SummarySheet, col, from, col, to)
	}
	chartRow, vary := 1, false
	for start := 0; start < len(lines); {
		end := start
		for end < len(lines) && lines[end].Currency == lines[start].Currency {
			end++
		}
		from, to := headerRow+1+start, headerRow+end
		chart := &excelize.Chart{
			Type: excelize.Col,
			Series: []excelize.ChartSeries{
				{Name: fmt.Sprintf("%s!$%s$%d", SummarySheet, matchedCol, headerRow), Categories: ref("A", from, to), Values: ref(matchedCol, from, to)},
				{Name: fmt.Sprintf("%s!$%s$%d", SummarySheet, discrepancyCol, headerRow), Categories: ref("A", from, to), Values: ref(discrepancyCol, from, to)},
			},
			Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Matched vs discrepant amounts, " + string(lines[start].Currency)}}},
			Legend:     excelize.ChartLegend{Position: "bottom"},
			VaryColors: &vary,
		}
		if err := x.f.AddChart(SummarySheet, "L"+strconv.Itoa(chartRow), chart); err != nil {
			return fmt.Errorf("chart %s: %w", lines[start].Currency, err)
		}
		chartRow += 16
		start = end
	}
	return nil
}

// Close releases the workbook and its temporary files. It is safe to call
// after Finish and more than once.
func (x *XLSX) Close() error {
	if x.f == nil {
		return nil
	}
	err := x.f.Close()
	x.f = nil
	return err
}
