package jobs

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/store"
)

// MaxImportLine bounds one JSON document of an import file; the webhook
// receiver accepts 1 MiB.
const MaxImportLine = 16 << 20

// utf8BOM is the UTF-8 byte-order mark, skipped at the start of a file.
var utf8BOM = []byte("\xef\xbb\xbf")

// BadInputError is an import refused for what its file holds: bad lines,
// each as FILE:LINE: reason, or a file that cannot be read as lines.
// Nothing was stored.
type BadInputError struct{ Err error }

func (e *BadInputError) Error() string { return e.Err.Error() }
func (e *BadInputError) Unwrap() error { return e.Err }

// ImportStats counts what an import stored.
type ImportStats struct {
	// Saved payloads are new, Duplicates already stored; Records is the
	// number of records parsed from them.
	Saved, Duplicates, Records int
}

// ImportPayloads imports the payloads of r — one JSON document per line,
// each exactly as the provider sent it; name is the file's name for errors
// — into st in one transaction, streaming: it holds a line at a time, the
// store a few chunks. Blank lines and a leading byte-order mark are
// skipped. Any bad line (one the parser refuses or the store cannot hold)
// stores nothing and is reported in a *BadInputError listing every bad line.
// Importing the same file again changes nothing.
func ImportPayloads(ctx context.Context, st *store.Store, name string, r io.Reader, parser sources.Parser) (ImportStats, error) {
	im, err := st.BeginImport(ctx)
	if err != nil {
		return ImportStats{}, fmt.Errorf("%s: nothing imported: %w", name, err)
	}
	defer im.Rollback()
	if err := readPayloads(name, r, parser, im); err != nil {
		return ImportStats{}, err
	}
	saved, dups, records, err := im.Commit()
	if err != nil {
		var refused *store.BadPayloadError
		if errors.As(err, &refused) {
			return ImportStats{}, &BadInputError{fmt.Errorf("1 bad line(s), nothing imported:\n%s:%d: %v", name, refused.Pos, refused.Err)}
		}
		return ImportStats{}, fmt.Errorf("%s: nothing imported: %w", name, err)
	}
	return ImportStats{Saved: saved, Duplicates: dups, Records: records}, nil
}

// CheckPayloads parses every line of r as ImportPayloads does, storing
// nothing, and returns the same *BadInputError for bad lines: what is wrong
// with a file needs no store to say.
func CheckPayloads(name string, r io.Reader, parser sources.Parser) error {
	return readPayloads(name, r, parser, nil)
}

// readPayloads parses every non-blank line of r and adds it to im (nil:
// only parse). A bad line stops the writing but not the reading, so every
// bad line is reported; a failure of the store stops both.
func readPayloads(name string, r io.Reader, parser sources.Parser, im *store.Import) error {
	type badLine struct {
		line int
		msg  string
	}
	var bads []badLine
	reported := map[int]bool{}
	addBad := func(line int, err error) {
		if !reported[line] {
			reported[line] = true
			bads = append(bads, badLine{line, fmt.Sprintf("%s:%d: %v", name, line, err)})
		}
		if im != nil {
			im.Fail()
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxImportLine)
	for line := 1; sc.Scan(); line++ {
		text := sc.Bytes()
		if line == 1 {
			// Editors on Windows save UTF-8 with a byte-order mark.
			text = bytes.TrimPrefix(text, utf8BOM)
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		// The scanner reuses its buffer; the payload keeps its own copy.
		payload, records, err := parser.Parse(bytes.Clone(text), reconcile.SourceImport)
		if err != nil {
			addBad(line, err)
			continue
		}
		if im == nil {
			continue
		}
		if err := im.Add(line, store.Parsed{Payload: payload, Records: records}); err != nil {
			var refused *store.BadPayloadError
			if !errors.As(err, &refused) {
				return fmt.Errorf("%s: nothing imported: %w", name, err)
			}
			addBad(refused.Pos, refused.Err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("a line is longer than %d MiB", MaxImportLine>>20)
		}
		return &BadInputError{fmt.Errorf("reading %s: %w", name, err)}
	}
	if len(bads) == 0 {
		return nil
	}
	slices.SortFunc(bads, func(a, b badLine) int { return cmp.Compare(a.line, b.line) })
	msgs := make([]string, len(bads))
	for i, b := range bads {
		msgs[i] = b.msg
	}
	return &BadInputError{fmt.Errorf("%d bad line(s), nothing imported:\n%s", len(bads), strings.Join(msgs, "\n"))}
}
