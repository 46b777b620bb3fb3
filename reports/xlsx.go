package reports

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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

// Number formats of the workbook's date and time cells. Dates and times are
// written in the business zone (the headings name it): Excel has no time
// zones, so a cell holds the wall-clock time there.
const (
	dateTimeFormat = "d mmm yyyy hh:mm"
	dateFormat     = "d mmm yyyy"
)

// XLSX streams report.xlsx with excelize's StreamWriter, so memory stays
// bounded however many rows are written (excelize spills rows to temporary
// files). Feed it every discrepancy and match with WriteDiscrepancy and
// WriteMatch (interleaved or not, each in report order), then call Finish
// with the small summary and settlement tables, and Close in any case.
//
// The workbook is written for people: headings and kinds in words, the
// providers' display names, dates and times as date cells in the business
// zone, amounts as numbers in accounting formats with the currency and
// negatives in parentheses, long references and sentences wrapped, and
// every sheet set to print landscape, one page wide, with its header row on
// every page. The CSV files keep the codes.
//
// Every discrepancy is written, continuing on "Discrepancies (2)" past
// Excel's row limit. Matches past Options.XLSXMaxMatches are counted but not
// written; a closing line says the full list is in matches.csv.
type XLSX struct {
	o      Options
	tmpDir string
	f      *excelize.File
	styles map[styleKey]int

	disc      *sheet
	discPages int
	match     *sheet

	discrepancies int
	byKind        map[reconcile.DiscrepancyKind]int
	matches       int

	cells []cell
	vals  []any
}

// styleKey names a cell style: what it formats and how it is aligned.
type styleKey struct {
	role string             // "header", "text", "amount", "count", "datetime", "date", "title", "bold", "note"…
	cur  reconcile.Currency // amounts
	exp  int32
	wrap bool
}

// sheet is one streamed worksheet and the last row written to it.
//
// A stream writer takes the column widths before any row, so a data sheet
// holds its first fitRows rows (pending) until it starts: the widths then
// fit what those rows hold — text up to its column's width, past which it
// wraps, amounts whole — and the header and the rows are written.
type sheet struct {
	name    string
	sw      *excelize.StreamWriter
	cols    []column
	row     int
	started bool
	pending [][]cell
}

// fitRows is how many rows a data sheet holds to fit its column widths.
const fitRows = 1000

// rows is how many rows s has, header and pending rows included.
func (s *sheet) rows() int {
	if s.started {
		return s.row
	}
	return 1 + len(s.pending)
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
		o:      o,
		tmpDir: tmpDir,
		f:      excelize.NewFile(excelize.Options{TmpDir: tmpDir}),
		styles: make(map[styleKey]int),
		byKind: make(map[reconcile.DiscrepancyKind]int),
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
	if x.disc, err = x.newTable(DiscrepanciesSheet, discrepancyColumns, true); err != nil {
		return err
	}
	x.discPages = 1
	x.match, err = x.newTable(MatchesSheet, append(matchColumns[:len(matchColumns):len(matchColumns)], matchStatusColumn), true)
	return err
}

// style returns the id of the style k, creating it once.
func (x *XLSX) style(k styleKey) (int, error) {
	if id, ok := x.styles[k]; ok {
		return id, nil
	}
	st := &excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: k.wrap}}
	if k.role == "text" {
		st.Alignment.Horizontal, st.Alignment.Indent = "left", 1
	}
	switch k.role {
	case "header":
		st.Font = &excelize.Font{Bold: true}
		st.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}
		st.Border = []excelize.Border{{Type: "bottom", Color: "9BC2E6", Style: 1}}
		st.Alignment.WrapText, st.Alignment.Vertical = true, "center"
	case "title":
		st.Font = &excelize.Font{Bold: true, Size: 14}
		st.Alignment = nil
	case "bold":
		st.Font = &excelize.Font{Bold: true}
	case "warning":
		st.Font = &excelize.Font{Bold: true, Color: "C00000"}
	case "total":
		st.Font = &excelize.Font{Bold: true}
		st.Border = []excelize.Border{{Type: "top", Color: "808080", Style: 1}}
	case "amount", "totalAmount":
		f := amountFormat(k.cur, k.exp)
		st.CustomNumFmt = &f
		if k.role == "totalAmount" {
			st.Font = &excelize.Font{Bold: true}
			st.Border = []excelize.Border{{Type: "top", Color: "808080", Style: 1}}
		}
	case "count":
		f := "#,##0"
		st.CustomNumFmt = &f
	case "datetime":
		f := dateTimeFormat
		st.CustomNumFmt = &f
	case "date":
		f := dateFormat
		st.CustomNumFmt = &f
	}
	id, err := x.f.NewStyle(st)
	if err != nil {
		return 0, fmt.Errorf("style %+v: %w", k, err)
	}
	x.styles[k] = id
	return id, nil
}

// amountFormat is the accounting format of amounts in c: grouped
// thousands, exactly the currency's decimals, negatives in parentheses, the
// code after the number (#,##0.00_) "KES";(#,##0.00) "KES";0.00_) "KES").
func amountFormat(c reconcile.Currency, exp int32) string {
	n, z := "#,##0", "0"
	if exp > 0 {
		dec := "." + strings.Repeat("0", int(exp))
		n, z = n+dec, z+dec
	}
	code := ` "` + string(c) + `"`
	return n + "_)" + code + ";(" + n + ")" + code + ";" + z + "_)" + code
}

// title is a column's heading in the workbook, the zone filled in.
func (x *XLSX) title(c column) string {
	return strings.ReplaceAll(c.title, "{zone}", x.o.location().String())
}

// printSetup sets sheet name to print landscape on A4, one page wide and as
// many pages down as it takes, with rows 1..headerRow repeated on every
// page. FitToPage lives in the sheet properties that a stream writer writes
// first, so it is called before NewStreamWriter.
func (x *XLSX) printSetup(name string) error {
	fit := true
	return x.f.SetSheetProps(name, &excelize.SheetPropsOptions{FitToPage: &fit})
}

// pageLayout finishes printSetup: the page setup is written when the stream
// is flushed.
func (x *XLSX) pageLayout(name string, headerRow int) error {
	landscape, a4, wide, down := "landscape", 9, 1, 0
	if err := x.f.SetPageLayout(name, &excelize.PageLayoutOptions{
		Size: &a4, Orientation: &landscape, FitToWidth: &wide, FitToHeight: &down,
	}); err != nil {
		return err
	}
	if headerRow == 0 {
		return nil
	}
	return x.f.SetDefinedName(&excelize.DefinedName{
		Name: "_xlnm.Print_Titles", Scope: name,
		RefersTo: fmt.Sprintf("'%s'!$%d:$%d", name, headerRow, headerRow),
	})
}

// newTable starts streaming a data sheet: print setup, then, once its
// widths are known (start), column widths, a frozen header row and the
// header. With fit the widths fit the first fitRows rows; else they are
// cols' own.
func (x *XLSX) newTable(name string, cols []column, fit bool) (*sheet, error) {
	if err := x.printSetup(name); err != nil {
		return nil, err
	}
	sw, err := x.f.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	s := &sheet{name: name, sw: sw, cols: slices.Clone(cols)}
	if !fit {
		return s, x.start(s)
	}
	return s, nil
}

// start writes the column widths — fitted to the pending rows — the frozen
// header, and the pending rows. It does nothing once s has started.
func (x *XLSX) start(s *sheet) error {
	if s.started {
		return nil
	}
	s.started = true
	if s.pending != nil {
		fitWidths(s.cols, s.pending)
	}
	for i, c := range s.cols {
		if err := s.sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return err
		}
	}
	if err := s.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	hs, err := x.style(styleKey{role: "header"})
	if err != nil {
		return err
	}
	h := make([]any, len(s.cols))
	lines := 1
	for i, c := range s.cols {
		h[i] = excelize.Cell{StyleID: hs, Value: x.title(c)}
		lines = max(lines, wrappedLines(x.title(c), c.width, 1.15))
	}
	if err := x.setRow(s, h, excelize.RowOpts{Height: lineHeight * float64(lines)}); err != nil {
		return err
	}
	pending := s.pending
	s.pending = nil
	for _, cells := range pending {
		if err := x.writeNow(s, cells); err != nil {
			return err
		}
	}
	return nil
}

// fitWidths sets each column's width from rows: wrapped text as wide as
// its longest value, up to the column's width; other text, amounts and
// counts as wide as their longest value; never narrower than the longest
// word of the heading. Dates keep the column's width.
func fitWidths(cols []column, rows [][]cell) {
	need := make([]float64, len(cols))
	for _, r := range rows {
		for i, c := range r {
			if i >= len(cols) {
				break
			}
			var n float64
			switch c.kind {
			case textCell:
				n = float64(utf8.RuneCountInString(c.text)) + 2.5 // the indent
			case amountCell:
				if !c.blank {
					n = float64(len(formatMinor(c.n, c.exp))*4/3+len(c.cur)) + 4 // grouping, parentheses, code
				}
			case countCell:
				n = float64(len(strconv.FormatInt(c.n, 10))*4/3) + 2
			}
			need[i] = max(need[i], n)
		}
	}
	for i := range cols {
		c := &cols[i]
		word := 0.0
		for w := range strings.FieldsSeq(c.title) {
			if strings.Contains(w, "{zone}") {
				w = "(Africa/Nairobi)"
			}
			word = max(word, float64(utf8.RuneCountInString(w))*1.15+2)
		}
		switch {
		case len(rows) > 0 && rows[0][i].kind == timeCell, len(rows) > 0 && rows[0][i].kind == dayCell:
			c.width = max(c.width, word)
		case c.wrap:
			c.width = max(min(need[i], c.width), word)
		default:
			c.width = max(need[i], word)
		}
	}
}

// lineHeight is the height in points of one line of 11-point text.
const lineHeight = 15

// wrappedLines estimates how many lines text takes wrapped in a column of
// width characters, its characters being about factor wide (bold text is
// wider). Spreadsheets do not grow rows written with the stream writer to
// fit wrapped text when they open the file, so rows are given the height
// this estimates.
func wrappedLines(text string, width, factor float64) int {
	n := 0
	for line := range strings.SplitSeq(text, "\n") {
		n += max(1, int(math.Ceil(float64(utf8.RuneCountInString(line))*factor/max(width-0.5, 1))))
	}
	return n
}

func (x *XLSX) setRow(s *sheet, vals []any, opts ...excelize.RowOpts) error {
	s.row++
	if err := s.sw.SetRow("A"+strconv.Itoa(s.row), vals, opts...); err != nil {
		return fmt.Errorf("sheet %s row %d: %w", s.name, s.row, err)
	}
	return nil
}

// finishTable puts an autofilter over the header and rows 2..lastRow, sets
// the page layout and ends the sheet's stream.
func (x *XLSX) finishTable(s *sheet, lastRow int) error {
	last, err := excelize.CoordinatesToCellName(len(s.cols), max(lastRow, 2))
	if err != nil {
		return err
	}
	// AutoFilter and the page layout update the worksheet the stream
	// writer holds; it is written out by Flush, so they come before it.
	if err := x.f.AutoFilter(s.name, "A1:"+last, nil); err != nil {
		return fmt.Errorf("sheet %s autofilter: %w", s.name, err)
	}
	if err := x.pageLayout(s.name, 1); err != nil {
		return fmt.Errorf("sheet %s page layout: %w", s.name, err)
	}
	if err := s.sw.Flush(); err != nil {
		return fmt.Errorf("sheet %s: %w", s.name, err)
	}
	return nil
}

// WriteDiscrepancy adds one discrepancy row.
func (x *XLSX) WriteDiscrepancy(d reconcile.Discrepancy) error {
	if x.disc.rows() >= maxSheetRows {
		if err := x.nextDiscrepancySheet(); err != nil {
			return fmt.Errorf("report.xlsx: %w", err)
		}
	}
	var err error
	if x.cells, err = discrepancyRow(x.cells[:0], d, x.o, words); err != nil {
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
	if err := x.start(x.disc); err != nil {
		return err
	}
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
	x.disc, err = x.newTable(name, discrepancyColumns, true)
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
	if x.cells, err = matchRow(x.cells[:0], m, x.o, words); err != nil {
		return fmt.Errorf("report.xlsx match %d (%s %s): %w", x.matches, m.Ledger.Provider, m.Ledger.Reference, err)
	}
	x.cells = append(x.cells, text(matchStatus(m)))
	if err := x.writeCells(x.match, x.cells); err != nil {
		return fmt.Errorf("report.xlsx: %w", err)
	}
	return nil
}

// matchStatus says, in words, what a match adds to the summary's matched
// total: a paid entry its amount, a refunded one (paid, then reversed by the
// provider) nothing.
func matchStatus(m reconcile.Match) string {
	var s string
	switch m.Ledger.Status {
	case reconcile.LedgerPaid:
		s = "Paid"
		if m.Ledger.Direction == reconcile.Out {
			s = "Paid out"
		}
	case reconcile.LedgerRefunded:
		s = "Refunded: nets to nothing"
	default:
		s = string(m.Ledger.Status)
	}
	for _, r := range m.Records {
		if !r.AmountKnown && r.Kind != reconcile.KindReversal {
			s += "; no amount reported"
			break
		}
	}
	if m.Heuristic {
		s += "; by amount, phone and time"
	}
	return s
}

// writeCells writes one row of report cells to s, or holds it until s
// starts (see sheet).
func (x *XLSX) writeCells(s *sheet, cells []cell) error {
	if !s.started {
		s.pending = append(s.pending, slices.Clone(cells))
		if len(s.pending) >= fitRows {
			return x.start(s)
		}
		return nil
	}
	return x.writeNow(s, cells)
}

// writeNow writes one row of report cells to s, each column wrapped or not
// as it says, the row as tall as its wrapped text.
func (x *XLSX) writeNow(s *sheet, cells []cell) error {
	x.vals = x.vals[:0]
	lines := 1
	for i, c := range cells {
		wrap := i < len(s.cols) && s.cols[i].wrap
		v, err := x.value(c, wrap, "")
		if err != nil {
			return err
		}
		if wrap && c.kind == textCell {
			lines = max(lines, wrappedLines(c.text, s.cols[i].width-1.5, 1.0)) // less the indent
		}
		x.vals = append(x.vals, v)
	}
	if lines > 1 {
		return x.setRow(s, x.vals, excelize.RowOpts{Height: lineHeight * float64(lines)})
	}
	return x.setRow(s, x.vals)
}

// value converts a report cell to what excelize writes. Text is neutralized
// against formula injection; empty text and unknown amounts are empty cells.
// role overrides the style role of amounts and text ("" for the default).
//
// Amounts are numeric cells with the currency's accounting format.
// excelize takes a number as float64, so the exact decimal string
// ("199.99") is parsed with strconv.ParseFloat: for at most 15 significant
// digits the float is the nearest to that decimal and excelize writes it
// back as the same digits, so the file holds the exact amount. The float is
// display only and never used in arithmetic. An amount with more digits
// (beyond 10 trillion in a two-decimal currency) is written as text to stay
// exact.
//
// Times are date-time cells of their wall-clock time in the business zone,
// days date cells.
func (x *XLSX) value(c cell, wrap bool, role string) (any, error) {
	switch c.kind {
	case countCell:
		id, err := x.style(styleKey{role: cmp.Or(role, "count")})
		if err != nil {
			return nil, err
		}
		return excelize.Cell{StyleID: id, Value: c.n}, nil
	case amountCell:
		if c.blank {
			return nil, nil
		}
		id, err := x.style(styleKey{role: cmp.Or(role, "amount"), cur: c.cur, exp: c.exp})
		if err != nil {
			return nil, err
		}
		s := formatMinor(c.n, c.exp)
		if significantDigits(s) > maxExactDigits {
			return excelize.Cell{StyleID: id, Value: s}, nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("amount %s: %w", s, err)
		}
		return excelize.Cell{StyleID: id, Value: v}, nil
	case timeCell, dayCell:
		if c.t.IsZero() {
			return nil, nil
		}
		r := "datetime"
		if c.kind == dayCell {
			r = "date"
		}
		id, err := x.style(styleKey{role: r})
		if err != nil {
			return nil, err
		}
		return excelize.Cell{StyleID: id, Value: excelSerial(c.t)}, nil
	}
	if c.text == "" {
		return nil, nil
	}
	id, err := x.style(styleKey{role: cmp.Or(role, "text"), wrap: wrap})
	if err != nil {
		return nil, err
	}
	return excelize.Cell{StyleID: id, Value: neutralize(c.text)}, nil
}

// excelSerial is t's wall-clock time, in t's own location, as an Excel date
// serial (days since 30 December 1899, the fraction the time of day), to the
// second.
func excelSerial(t time.Time) float64 {
	y, m, d := t.Date()
	days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()/86400 + 25569
	h, mi, s := t.Clock()
	secs := h*3600 + mi*60 + s
	if secs == 0 {
		return float64(days)
	}
	// Rounded to 10 decimals (under 10 µs), so the value is the same
	// however the float is produced.
	v := float64(days) + float64(secs)/86400
	return math.Round(v*1e10) / 1e10
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

// Finish writes the Summary and Settlements sheets, closes the streamed
// sheets and writes the workbook to w. Call Close afterwards.
func (x *XLSX) Finish(w io.Writer, summary []reconcile.SummaryLine, settlements []reconcile.SettlementDay) error {
	if err := x.finish(summary, settlements); err != nil {
		return fmt.Errorf("report.xlsx: %w", err)
	}
	if err := x.writeCanonical(w); err != nil {
		return fmt.Errorf("writing report.xlsx: %w", err)
	}
	return nil
}

func (x *XLSX) finish(summary []reconcile.SummaryLine, settlements []reconcile.SettlementDay) error {
	if err := errors.Join(x.start(x.disc), x.start(x.match)); err != nil {
		return err
	}
	if err := x.finishTable(x.disc, x.disc.row); err != nil {
		return err
	}
	last := x.match.row
	if shown := x.o.maxMatches(); x.matches > shown {
		note := fmt.Sprintf("Showing the first %d of %d matches; the full list is in matches.csv.", shown, x.matches)
		bold, err := x.style(styleKey{role: "bold"})
		if err != nil {
			return err
		}
		if err := x.setRow(x.match, []any{excelize.Cell{StyleID: bold, Value: note}}); err != nil {
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
	return x.writeSummary(summary, settlements)
}

func (x *XLSX) writeSettlements(rows []reconcile.SettlementDay) error {
	rows = sortedSettlements(rows)
	// The rows are all known: the columns are as wide as their content.
	cols := slices.Clone(settlementColumns)
	for _, r := range rows {
		cells, err := settlementRow(nil, r, words)
		if err != nil {
			return fmt.Errorf("settlement %s %s: %w", r.Provider, r.Account, err)
		}
		fitColumns(cols, cells)
	}
	s, err := x.newTable(SettlementsSheet, cols, false)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if x.cells, err = settlementRow(x.cells[:0], r, words); err != nil {
			return fmt.Errorf("settlement row %d (%s %s): %w", s.row, r.Provider, r.Account, err)
		}
		if err := x.writeCells(s, x.cells); err != nil {
			return err
		}
	}
	last := s.row
	s.row++ // a blank line, then what the columns mean
	for _, d := range settlementDefinitions {
		if err := x.paragraph(s, "", d, len(settlementColumns)); err != nil {
			return err
		}
	}
	return x.finishTable(s, last)
}

// fitColumns widens cols to fit cells: text to its length (up to 40, past
// which it wraps), amounts to their accounting format.
func fitColumns(cols []column, cells []cell) {
	for i, c := range cells {
		if i >= len(cols) {
			return
		}
		var n int
		switch c.kind {
		case textCell:
			n = min(utf8.RuneCountInString(c.text), 40)
		case amountCell:
			if !c.blank {
				n = len(formatMinor(c.n, c.exp))*4/3 + len(c.cur) + 3 // grouping, parentheses, code
			}
		}
		cols[i].width = max(cols[i].width, float64(n)+2)
	}
}

// settlementDefinitions explain the Settlements sheet's columns, below it.
var settlementDefinitions = []string{
	"Gross: the provider's succeeded payments of the business day. Fees: as the provider reported them, else by the configured fee schedule. Reversals and payouts: money the provider sent back or out that day. Net expected = gross − fees − reversals − payouts.",
	"Owed: what the day's settlement should pay — the net of the days since the previous settlement (T+1: up to the end of the day before), plus any earlier shortfall it pays back. Settled: what the provider paid out that day.",
	"Variance = settled − owed: negative means the provider paid less than it owed (short), positive more (over); zero on a day without a settlement. Unsettled: the provider's balance owed at the end of the day, a shortfall carried until it is paid.",
}

// paragraph writes text as one wrapped line across the first cols columns
// of s (merged), tall enough for its lines; with a label, the label takes
// the first column and the text the rest.
func (x *XLSX) paragraph(s *sheet, label, text string, cols int) error {
	var width float64
	from := 1
	if label != "" {
		from = 2
	}
	for i := from - 1; i < cols && i < len(s.cols); i++ {
		width += s.cols[i].width
	}
	return x.paragraphWidth(s, label, text, cols, width)
}

// paragraphWidth is paragraph with the width of the merged cells given.
func (x *XLSX) paragraphWidth(s *sheet, label, text string, cols int, width float64) error {
	return x.paragraphStyled(s, label, text, cols, width, "text")
}

// paragraphStyled is paragraphWidth with the text in style role.
func (x *XLSX) paragraphStyled(s *sheet, label, text string, cols int, width float64, role string) error {
	wrap, err := x.style(styleKey{role: role, wrap: true})
	if err != nil {
		return err
	}
	bold, err := x.style(styleKey{role: "bold"})
	if err != nil {
		return err
	}
	from := 1
	var vals []any
	if label != "" {
		vals = append(vals, excelize.Cell{StyleID: bold, Value: neutralize(label)})
		from = 2
	}
	vals = append(vals, excelize.Cell{StyleID: wrap, Value: neutralize(text)})
	// Merged cells do not grow to fit wrapped text: the row is as tall as
	// its lines at about one character per unit of column width.
	lines := wrappedLines(text, width, 1.1)
	if err := x.setRow(s, vals, excelize.RowOpts{Height: lineHeight * float64(lines)}); err != nil {
		return err
	}
	if from < cols {
		a, _ := excelize.CoordinatesToCellName(from, s.row)
		b, _ := excelize.CoordinatesToCellName(cols, s.row)
		return s.sw.MergeCell(a, b)
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
