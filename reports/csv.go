package reports

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mizani/reconcile"
)

// csvWriter writes one CSV report: the header first, then rows of cells.
// It formats each row into one reused buffer, quoting fields exactly as
// encoding/csv does with its defaults, so writing a row allocates nothing.
type csvWriter struct {
	w      *bufio.Writer
	cols   []column
	header bool
	rows   int
	cells  []cell
	line   []byte
}

func newCSVWriter(w io.Writer, cols []column) csvWriter {
	return csvWriter{w: bufio.NewWriter(w), cols: cols} // a *bufio.Writer is used as is
}

func (c *csvWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	line := c.line[:0]
	for i, col := range c.cols {
		if i > 0 {
			line = append(line, ',')
		}
		line = appendCSVField(line, col.name)
	}
	if err := c.writeLine(line); err != nil {
		return fmt.Errorf("writing header: %w", err)
	}
	return nil
}

func (c *csvWriter) writeCells(cells []cell) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.rows++
	line := c.line[:0]
	for i, v := range cells {
		if i > 0 {
			line = append(line, ',')
		}
		line = v.appendCSV(line)
	}
	if err := c.writeLine(line); err != nil {
		return fmt.Errorf("writing row %d: %w", c.rows, err)
	}
	return nil
}

// writeLine writes line and a "\n", and keeps line's storage for the next.
func (c *csvWriter) writeLine(line []byte) error {
	c.line = append(line, '\n')
	_, err := c.w.Write(c.line)
	return err
}

// flush writes the header even when there were no rows, so an empty report
// is still a valid CSV file with its columns.
func (c *csvWriter) flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	return c.w.Flush()
}

// appendCSVField appends field to b as encoding/csv.Writer writes it (comma
// separator, "\n" line ends): quoted, with quotes doubled, when it holds a
// comma, quote, CR or LF, begins with a space, or is `\.`.
func appendCSVField(b []byte, field string) []byte {
	if !csvNeedsQuotes(field) {
		return append(b, field...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(field, '"')
		if i < 0 {
			break
		}
		b = append(b, field[:i+1]...)
		b = append(b, '"')
		field = field[i+1:]
	}
	b = append(b, field...)
	return append(b, '"')
}

// csvNeedsQuotes is encoding/csv's fieldNeedsQuotes for a comma separator.
func csvNeedsQuotes(field string) bool {
	if field == "" {
		return false
	}
	if field == `\.` {
		return true
	}
	for i := 0; i < len(field); i++ {
		switch field[i] {
		case '\n', '\r', '"', ',':
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(field)
	return unicode.IsSpace(r)
}

// DiscrepancyCSV streams discrepancies.csv. Create it with NewDiscrepancyCSV,
// call Write for each discrepancy in report order, then Flush.
type DiscrepancyCSV struct {
	c csvWriter
	o Options
}

// NewDiscrepancyCSV returns a writer of discrepancies.csv to w.
func NewDiscrepancyCSV(w io.Writer, o Options) *DiscrepancyCSV {
	return &DiscrepancyCSV{c: newCSVWriter(w, discrepancyColumns), o: o}
}

// Write writes one discrepancy row.
func (d *DiscrepancyCSV) Write(disc reconcile.Discrepancy) error {
	var err error
	d.c.cells, err = discrepancyRow(d.c.cells[:0], disc, d.o, codes)
	if err != nil {
		return fmt.Errorf("discrepancies.csv row %d (%s %s): %w", d.c.rows+1, disc.Kind, disc.Provider, err)
	}
	if err := d.c.writeCells(d.c.cells); err != nil {
		return fmt.Errorf("discrepancies.csv: %w", err)
	}
	return nil
}

// Flush writes any buffered data (and the header if nothing was written).
func (d *DiscrepancyCSV) Flush() error {
	if err := d.c.flush(); err != nil {
		return fmt.Errorf("discrepancies.csv: %w", err)
	}
	return nil
}

// MatchCSV streams matches.csv. Create it with NewMatchCSV, call Write for
// each match in report order, then Flush.
type MatchCSV struct {
	c csvWriter
	o Options
}

// NewMatchCSV returns a writer of matches.csv to w.
func NewMatchCSV(w io.Writer, o Options) *MatchCSV {
	return &MatchCSV{c: newCSVWriter(w, matchColumns), o: o}
}

// Write writes one match row.
func (m *MatchCSV) Write(match reconcile.Match) error {
	var err error
	m.c.cells, err = matchRow(m.c.cells[:0], match, m.o, codes)
	if err != nil {
		return fmt.Errorf("matches.csv row %d (%s %s): %w", m.c.rows+1, match.Ledger.Provider, match.Ledger.Reference, err)
	}
	if err := m.c.writeCells(m.c.cells); err != nil {
		return fmt.Errorf("matches.csv: %w", err)
	}
	return nil
}

// Flush writes any buffered data (and the header if nothing was written).
func (m *MatchCSV) Flush() error {
	if err := m.c.flush(); err != nil {
		return fmt.Errorf("matches.csv: %w", err)
	}
	return nil
}

// WriteSummaryCSV writes summary.csv: rows sorted by currency, then provider
// in reconcile.Providers() order.
func WriteSummaryCSV(w io.Writer, rows []reconcile.SummaryLine, o Options) error {
	c := newCSVWriter(w, summaryColumns)
	for _, s := range sortedSummary(rows) {
		var err error
		if c.cells, err = summaryRow(c.cells[:0], s, codes); err != nil {
			return fmt.Errorf("summary.csv row %d (%s %s): %w", c.rows+1, s.Provider, s.Currency, err)
		}
		if err := c.writeCells(c.cells); err != nil {
			return fmt.Errorf("summary.csv: %w", err)
		}
	}
	if err := c.flush(); err != nil {
		return fmt.Errorf("summary.csv: %w", err)
	}
	return nil
}

// WriteSettlementsCSV writes settlements.csv: rows sorted by provider,
// account, currency and business day.
func WriteSettlementsCSV(w io.Writer, rows []reconcile.SettlementDay, o Options) error {
	c := newCSVWriter(w, settlementColumns)
	for _, s := range sortedSettlements(rows) {
		var err error
		if c.cells, err = settlementRow(c.cells[:0], s, codes); err != nil {
			return fmt.Errorf("settlements.csv row %d (%s %s %s): %w", c.rows+1, s.Provider, s.Account, s.Day.Format("2006-01-02"), err)
		}
		if err := c.writeCells(c.cells); err != nil {
			return fmt.Errorf("settlements.csv: %w", err)
		}
	}
	if err := c.flush(); err != nil {
		return fmt.Errorf("settlements.csv: %w", err)
	}
	return nil
}

// sortedSummary returns a sorted copy: by currency, then provider. Rows of
// one currency are contiguous, which the per-currency XLSX charts rely on.
func sortedSummary(rows []reconcile.SummaryLine) []reconcile.SummaryLine {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b reconcile.SummaryLine) int {
		return cmp.Or(strings.Compare(string(a.Currency), string(b.Currency)), compareProviders(a.Provider, b.Provider))
	})
	return out
}

// sortedSettlements returns a sorted copy: by provider, account, currency, day.
func sortedSettlements(rows []reconcile.SettlementDay) []reconcile.SettlementDay {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b reconcile.SettlementDay) int {
		return cmp.Or(compareProviders(a.Provider, b.Provider), strings.Compare(a.Account, b.Account),
			strings.Compare(string(a.Currency), string(b.Currency)), a.Day.Compare(b.Day))
	})
	return out
}
