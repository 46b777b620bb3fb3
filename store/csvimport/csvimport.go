// Package csvimport reads the CSV files people hand Mizani — the merchant
// ledger (SPEC §5) and bank statements — validating every row and naming the
// line at fault. It does no I/O beyond the reader it is given; the store
// loads what it yields.
//
// Readers stream: Next returns one row at a time, so a file of millions of
// rows is never held in memory. A bad row is reported as a *LineError and
// reading continues, so every bad line in a file can be listed at once.
package csvimport

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// LineError is one invalid row. Error() is "FILE:LINE: reason", LINE being
// the physical line the row starts on (the header is line 1).
type LineError struct {
	File   string
	Line   int
	Reason string
	// Fields are the row as read, for writing it to a rejects file.
	Fields []string
}

// Error is "FILE:LINE: reason", as the CLI lists bad rows.
func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// table reads a CSV file whose header names its columns.
type table struct {
	name   string
	csv    *csv.Reader
	header []string
	col    map[string]int // column name → index
	read   []int          // the indexes of the columns read, in file order
	fields []string
	line   int
}

// newTable reads the header of r: names are matched case-insensitively and
// without surrounding space (a UTF-8 byte-order mark is ignored), in any
// order; columns not in known are ignored. Every required column must be
// present.
func newTable(r io.Reader, name string, required, optional []string) (*table, error) {
	c := csv.NewReader(r)
	c.FieldsPerRecord = -1 // checked per row, so one bad row does not stop the file
	c.ReuseRecord = true
	header, err := c.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s:1: empty file, want a header line naming the columns (%s)", name, strings.Join(required, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("%s:1: reading header: %w", name, err)
	}
	t := &table{name: name, csv: c, header: slices.Clone(header), col: map[string]int{}}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
		if !slices.Contains(required, h) && !slices.Contains(optional, h) {
			continue
		}
		if _, dup := t.col[h]; dup {
			return nil, fmt.Errorf("%s:1: column %s appears twice", name, h)
		}
		t.col[h] = i
	}
	for i, h := range header {
		if j, ok := t.col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))]; ok && j == i {
			t.read = append(t.read, i)
		}
	}
	var missing []string
	for _, h := range required {
		if _, ok := t.col[h]; !ok {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s:1: missing required column(s) %s", name, strings.Join(missing, ", "))
	}
	return t, nil
}

// next reads the next row. It returns io.EOF at the end and a *LineError
// for a row that is not well-formed CSV or has the wrong number of fields.
func (t *table) next() error {
	fields, err := t.csv.Read()
	if err == io.EOF {
		return io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &LineError{File: t.name, Line: pe.StartLine, Reason: "malformed CSV: " + pe.Err.Error()}
	}
	if err != nil {
		return fmt.Errorf("%s: reading: %w", t.name, err)
	}
	t.fields = fields
	t.line, _ = t.csv.FieldPos(0)
	if len(fields) != len(t.header) {
		return t.fail("has %d fields, header has %d", len(fields), len(t.header))
	}
	for _, i := range t.read {
		if reason := badText(fields[i]); reason != "" {
			return t.fail("column %s: %s", strings.TrimSpace(strings.TrimPrefix(t.header[i], "\uFEFF")), reason)
		}
	}
	return nil
}

// badText says why s cannot be stored as text, "" when it can: PostgreSQL
// text holds neither NUL bytes nor invalid UTF-8. Such a field is bad input
// (a binary file, or one saved in another encoding), refused on its line
// rather than by the database for the whole file.
func badText(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return fmt.Sprintf("a NUL byte at byte %d; want text", i+1)
	}
	if !utf8.ValidString(s) {
		for i, r := range s {
			if r == utf8.RuneError {
				if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
					return fmt.Sprintf("invalid UTF-8 (byte 0x%02x at byte %d); save the file as UTF-8", s[i], i+1)
				}
			}
		}
	}
	return ""
}

// get returns the trimmed value of column name, "" when the column is absent.
func (t *table) get(name string) string {
	i, ok := t.col[name]
	if !ok {
		return ""
	}
	return strings.TrimSpace(t.fields[i])
}

// require returns the value of column name or a LineError when it is empty.
func (t *table) require(name string) (string, error) {
	if v := t.get(name); v != "" {
		return v, nil
	}
	return "", t.fail("missing required field %s", name)
}

// fail returns a LineError for the current row.
func (t *table) fail(format string, args ...any) *LineError {
	return &LineError{File: t.name, Line: t.line, Reason: fmt.Sprintf(format, args...), Fields: slices.Clone(t.fields)}
}
