package csvimport_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/fixtures"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/store/csvimport"
)

// csvSeeds adds the first rows of every demo file called name (ledger.csv,
// bank.csv) and the extra rows, each under the first line of the first demo
// file as header, also with a byte-order mark and CRLF line ends.
func csvSeeds(f *testing.F, name string, rows ...string) {
	var header string
	for _, p := range testprov.All {
		b, err := fs.ReadFile(fixtures.FS, string(p)+"/"+name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			f.Fatal(err)
		}
		// A few rows of each: large inputs slow the fuzzer down (every new
		// input is minimized) without reaching more code.
		if lines := bytes.SplitAfter(b, []byte("\n")); len(lines) > 8 {
			b = bytes.Join(lines[:8], nil)
		}
		f.Add(b)
		if header == "" {
			header, _, _ = strings.Cut(string(b), "\n")
		}
	}
	if header == "" {
		f.Fatalf("no demo %s", name)
	}
	for _, r := range rows {
		f.Add([]byte(header + "\n" + r))
		f.Add([]byte("\uFEFF" + strings.ReplaceAll(header+"\n"+r, "\n", "\r\n")))
	}
	f.Add([]byte{})
	f.Add([]byte("\x00\xff\n\x00"))
}

// rowErrors reads every row with next and checks what every error says: a
// *LineError naming file, a line of the file that no earlier error named
// (errors come in file order), and "FILE:LINE: reason" as its text. It
// fails when next yields more rows than the file has lines (a reader that
// never reaches EOF) or an error that is not a row's. check is called with
// each valid row.
func rowErrors[T any](t *testing.T, data []byte, next func() (T, error), check func(T)) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	last := 1 // the header
	for n := 0; ; n++ {
		if n > lines {
			t.Fatalf("%d rows from %d lines: the reader does not stop", n, lines)
		}
		v, err := next()
		if err == io.EOF {
			return
		}
		var le *csvimport.LineError
		switch {
		case errors.As(err, &le):
			if le.File != "f.csv" || le.Line <= last || le.Line > lines {
				t.Fatalf("%q: error %q names line %d of %s; want a line of f.csv after %d, at most %d", data, err, le.Line, le.File, last, lines)
			}
			if !strings.HasPrefix(err.Error(), "f.csv:"+strconv.Itoa(le.Line)+": ") || le.Reason == "" {
				t.Fatalf("%q: error %q is not FILE:LINE: reason", data, err)
			}
			last = le.Line
		case err != nil:
			t.Fatalf("%q: error %q names no line", data, err)
		default:
			check(v)
		}
	}
}

// storable fails unless every s is text PostgreSQL holds: UTF-8, no NUL.
func storable(t *testing.T, data []byte, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			t.Fatalf("%q: a valid row holds %q, which is not storable text", data, s)
		}
	}
}

// FuzzLedgerReader reads arbitrary bytes as a ledger CSV, seeded with the
// demo ledgers and rows with NUL bytes, invalid UTF-8, bad quoting, BOM and
// CRLF: it never panics and always ends; a bad header is named line 1;
// every bad row is a *LineError on its line; every row it accepts is
// storable text with a known provider, a non-negative amount in a known
// currency, a direction, and a time in UTC to the microsecond.
func FuzzLedgerReader(f *testing.F) {
	csvSeeds(f, "ledger.csv",
		"R\x001,kora,in,10.00,NGN,paid,2026-03-02T10:00:00Z,,,,\n",
		"R1,kor\xe9,in,10.00,NGN,paid,2026-03-02 10:00:00,,,,\n",
		"\"R1,kora,in,10.00,NGN,paid,2026-03-02T10:00:00Z\n",
		"R1,kora,out,-10.00,NGN,paid,2026-03-02T10:00:00.1234567+01:00,a,b,c,d\nR1,kora,out,10.00,NGN,paid,2026-03-02T10:00:00Z,,,,\n",
		"R1,KORA,IN,1e3,ngn,PAID,2026-03-02T10:00:00Z\n",
	)
	loc, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := csvimport.NewLedgerReader(bytes.NewReader(data), "f.csv", loc)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.csv:1: ") {
				t.Fatalf("%q: header error %q does not name line 1", data, err)
			}
			return
		}
		rowErrors(t, data, r.Next, func(e reconcile.LedgerEntry) {
			storable(t, data, e.Reference, e.Account, e.ProviderReference, e.CustomerPhone, e.Description)
			if _, err := reconcile.ParseProvider(string(e.Provider)); err != nil || e.Reference == "" {
				t.Fatalf("%q: accepted %+v: %v", data, e, err)
			}
			if e.Amount.Minor < 0 || !e.Amount.Currency.Valid() || (e.Direction != reconcile.In && e.Direction != reconcile.Out) {
				t.Fatalf("%q: accepted amount %+v, direction %q", data, e.Amount, e.Direction)
			}
			if e.OccurredAt.Location() != time.UTC || e.OccurredAt.IsZero() || e.OccurredAt.Nanosecond()%1000 != 0 {
				t.Fatalf("%q: accepted time %v: want UTC, to the microsecond", data, e.OccurredAt)
			}
		})
	})
}

// FuzzBankReader reads arbitrary bytes as a bank statement CSV, seeded with
// the demo statements and bad rows: it never panics and always ends; every
// bad row is a *LineError on its line; every line it accepts is storable
// text with a reference or description, an amount in a known currency and
// a value date at midnight UTC.
func FuzzBankReader(f *testing.F) {
	csvSeeds(f, "bank.csv",
		"2026-03-03,10.00,ZAR,STL\x0001,IKHOKHA SETTLEMENT,\n",
		"2026-03-03,-10.00,ZAR,,\xffKORAPAY,acc\n",
		"2026-02-30,10.00,ZAR,R,D,A\n2026-03-03,10.001,KES,R,D,A\n",
		"2026-03-03,10,XOF,,,\n\"2026-03-03\",\"1\"\"0\",XOF,R,D\n",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := csvimport.NewBankReader(bytes.NewReader(data), "f.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.csv:1: ") {
				t.Fatalf("%q: header error %q does not name line 1", data, err)
			}
			return
		}
		rowErrors(t, data, r.Next, func(l reconcile.BankLine) {
			storable(t, data, l.Reference, l.Description, l.Account)
			if l.Reference == "" && l.Description == "" {
				t.Fatalf("%q: accepted a line with neither reference nor description", data)
			}
			if !l.Amount.Currency.Valid() {
				t.Fatalf("%q: accepted amount %+v", data, l.Amount)
			}
			if l.ValueDate.Location() != time.UTC || !l.ValueDate.Equal(l.ValueDate.Truncate(24*time.Hour)) {
				t.Fatalf("%q: accepted value date %v: want midnight UTC", data, l.ValueDate)
			}
		})
	})
}
