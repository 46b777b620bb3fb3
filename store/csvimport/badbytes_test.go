package csvimport_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/csvimport"
	"github.com/mizani/reconcile/store/pgtest"
)

// TestLedgerBadBytes: a field PostgreSQL cannot hold as text (a NUL byte,
// invalid UTF-8: a binary file, or one saved as Latin-1) is a bad row,
// named with its line and column, not a database error for the whole file.
// Columns the reader ignores may hold anything.
func TestLedgerBadBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, row, want string
	}{
		{"NUL in reference", "kora,R\x001,10.00,NGN,paid,2026-03-02T10:00:00Z,in,", "l.csv:2: column reference: a NUL byte at byte 2; want text"},
		{"NUL alone", "kora,\x00,10.00,NGN,paid,2026-03-02T10:00:00Z,in,", "l.csv:2: column reference: a NUL byte at byte 1; want text"},
		{"NUL in amount", "kora,R1,10.00\x00,NGN,paid,2026-03-02T10:00:00Z,in,", "l.csv:2: column amount: a NUL byte at byte 6; want text"},
		{"Latin-1 in provider", "kor\xe9,R1,10.00,NGN,paid,2026-03-02T10:00:00Z,in,", "l.csv:2: column provider: invalid UTF-8 (byte 0xe9 at byte 4); save the file as UTF-8"},
		{"invalid byte in reference", "kora,\xffR1,10.00,NGN,paid,2026-03-02T10:00:00Z,in,", "l.csv:2: column reference: invalid UTF-8 (byte 0xff at byte 1); save the file as UTF-8"},
		{"truncated sequence", "kora,R\xe2\x98,10.00,NGN,paid,2026-03-02T10:00:00Z,in,", "l.csv:2: column reference: invalid UTF-8 (byte 0xe2 at byte 2); save the file as UTF-8"},
		{"encoded surrogate", "kora,R\xed\xa0\x80,10.00,NGN,paid,2026-03-02T10:00:00Z,in,", "l.csv:2: column reference: invalid UTF-8 (byte 0xed at byte 2); save the file as UTF-8"},
		{"quoted field with NUL", "kora,\"R,\x00\",10.00,NGN,paid,2026-03-02T10:00:00Z,in,", "l.csv:2: column reference: a NUL byte at byte 3; want text"},
		{"valid multi-byte text", "kora,Café☕,10.00,NGN,paid,2026-03-02T10:00:00Z,in,", ""},
		{"ignored column", "kora,R1,10.00,NGN,paid,2026-03-02T10:00:00Z,in,\x00\xff", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, bad := readAll(t, header+tt.row+"\n"+"kora,R9,1.00,NGN,paid,2026-03-02T10:00:00Z,in,\n")
			var want []string
			if tt.want != "" {
				want = []string{tt.want}
			}
			if !slices.Equal(bad, want) {
				t.Errorf("errors %q, want %q", bad, want)
			}
			// The bad row does not stop the file.
			if n := 2 - len(want); len(ok) != n {
				t.Errorf("%d valid rows, want %d", len(ok), n)
			}
		})
	}
}

func TestBankBadBytes(t *testing.T) {
	t.Parallel()
	csv := "date,amount,currency,reference,description\n" +
		"2026-03-03,10.00,ZAR,STL\x0001,IKHOKHA SETTLEMENT\n" +
		"2026-03-03,10.00,ZAR,STL02,CR\xc9DIT IKHOKHA\n" +
		"2026-03-03,10.00,ZAR,STL03,IKHOKHA SETTLEMENT\n"
	r, err := csvimport.NewBankReader(strings.NewReader(csv), "b.csv")
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	var rejected [][]string
	good := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		var le *csvimport.LineError
		if errors.As(err, &le) {
			bad, rejected = append(bad, le.Error()), append(rejected, le.Fields)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		good++
	}
	want := []string{
		"b.csv:2: column reference: a NUL byte at byte 4; want text",
		"b.csv:3: column description: invalid UTF-8 (byte 0xc9 at byte 3); save the file as UTF-8",
	}
	if !slices.Equal(bad, want) || good != 1 {
		t.Fatalf("errors %q and %d good lines, want %q and 1", bad, good, want)
	}
	// The rejected row is kept as read, for the rejects file.
	if len(rejected) != 2 || rejected[1][4] != "CR\xc9DIT IKHOKHA" {
		t.Errorf("rejected fields %q", rejected)
	}
}

// rows reads every row with next, calling bad for each LineError and
// yielding the valid ones, as `ledger import --skip-invalid` does.
func rows[T any](next func() (T, error), bad func(*csvimport.LineError)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, err := next()
			if err == io.EOF {
				return
			}
			var le *csvimport.LineError
			if errors.As(err, &le) {
				bad(le)
				continue
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// TestBadBytesNeverReachPostgreSQL: a ledger and a statement holding NUL
// bytes and invalid UTF-8 import their good rows into real PostgreSQL, the
// bad ones each named by line, and the text stored is exactly the text read.
func TestBadBytesNeverReachPostgreSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(pgtest.New(t))

	ledger := header +
		"kora,R1,10.00,NGN,paid,2026-03-02T10:00:00Z,in,\n" +
		"kora,R\x002,10.00,NGN,paid,2026-03-02T10:00:00Z,in,\n" +
		"kora,R3\xff,10.00,NGN,paid,2026-03-02T10:00:00Z,in,\n" +
		"kora,Café☕,10.00,NGN,paid,2026-03-02T10:00:00Z,in,\x00\n"
	lr, err := csvimport.NewLedgerReader(strings.NewReader(ledger), "l.csv", nairobi)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	res, err := st.ImportLedger(ctx, rows(lr.Next, func(le *csvimport.LineError) { bad = append(bad, le.Error()) }))
	if err != nil {
		t.Fatalf("ImportLedger: %v", err)
	}
	if res.New != 2 || !slices.Equal(bad, []string{
		"l.csv:3: column reference: a NUL byte at byte 2; want text",
		"l.csv:4: column reference: invalid UTF-8 (byte 0xff at byte 3); save the file as UTF-8",
	}) {
		t.Fatalf("imported %+v, bad rows %q", res, bad)
	}
	var refs []string
	for e, err := range st.LedgerEntries(ctx, store.Filter{Window: reconcile.Window{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)}}) {
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, e.Reference)
	}
	slices.Sort(refs)
	if want := []string{"Café☕", "R1"}; !slices.Equal(refs, want) {
		t.Errorf("stored references %q, want %q", refs, want)
	}

	statement := "date,amount,currency,reference,description\n" +
		"2026-03-03,10.00,ZAR,STL01,IKHOKHA SETTLEMENT\n" +
		"2026-03-03,10.00,ZAR,STL02,IKHOKHA\x00SETTLEMENT\n" +
		"2026-03-03,10.00,ZAR,STL\xe903,IKHOKHA SETTLEMENT\n"
	br, err := csvimport.NewBankReader(strings.NewReader(statement), "b.csv")
	if err != nil {
		t.Fatal(err)
	}
	bad = nil
	if _, err := st.ImportBank(ctx, rows(br.Next, func(le *csvimport.LineError) { bad = append(bad, le.Error()) })); err != nil {
		t.Fatalf("ImportBank: %v", err)
	}
	if !slices.Equal(bad, []string{
		"b.csv:3: column description: a NUL byte at byte 8; want text",
		"b.csv:4: column reference: invalid UTF-8 (byte 0xe9 at byte 4); save the file as UTF-8",
	}) {
		t.Errorf("bad statement lines %q", bad)
	}
}
