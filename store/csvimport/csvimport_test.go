package csvimport_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/store/csvimport"
)

var nairobi, _ = time.LoadLocation("Africa/Nairobi")

const header = "provider,reference,amount,currency,status,occurred_at,direction,extra\n"

// readAll reads every row and returns the valid entries and the errors.
func readAll(t *testing.T, csv string) ([]reconcile.LedgerEntry, []string) {
	t.Helper()
	r, err := csvimport.NewLedgerReader(strings.NewReader(csv), "l.csv", nairobi)
	if err != nil {
		return nil, []string{err.Error()}
	}
	var ok []reconcile.LedgerEntry
	var bad []string
	for {
		e, err := r.Next()
		if err == io.EOF {
			return ok, bad
		}
		var le *csvimport.LineError
		if !errors.As(err, &le) {
			if err != nil {
				t.Fatal(err)
			}
			ok = append(ok, e)
			continue
		}
		bad = append(bad, le.Error())
	}
}

func TestLedgerRowErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, csv, want string
	}{
		{"missing required column", "reference,provider,amount,currency,status\n", "l.csv:1: missing required column(s) occurred_at"},
		{"empty file", "", "l.csv:1: empty file"},
		{"duplicate column", "reference,Reference,provider,amount,currency,status,occurred_at\n", "l.csv:1: column reference appears twice"},
		{"wrong column count", header + "kora,R1,10.00,NGN,paid\n", "l.csv:2: has 5 fields, header has 8"},
		{"missing reference", header + "kora,,10.00,NGN,paid,2026-03-02T10:00:00Z,in,\n", "l.csv:2: missing required field reference"},
		{"missing amount", header + "kora,R1, ,NGN,paid,2026-03-02T10:00:00Z,in,\n", "l.csv:2: missing required field amount"},
		{"too precise for XOF", header + "pixel,R1,200.50,XOF,paid,2026-03-02T10:00:00Z,in,\n", `l.csv:2: amount "200.50" XOF: more precision than the currency's 0 decimal places`},
		{"not a number", header + "kora,R1,1e3,NGN,paid,2026-03-02T10:00:00Z,in,\n", `l.csv:2: amount "1e3": unexpected character 'e'`},
		{"negative", header + "kora,R1,-5.00,NGN,paid,2026-03-02T10:00:00Z,in,\n", "l.csv:2: amount -5.00 is negative"},
		{"unknown provider", header + "mpesa,R1,10.00,KES,paid,2026-03-02T10:00:00Z,in,\n", `l.csv:2: unknown provider "mpesa"`},
		{"unknown currency", header + "kora,R1,10.00,XYZ,paid,2026-03-02T10:00:00Z,in,\n", `l.csv:2: unknown currency "XYZ"`},
		{"unknown status", header + "kora,R1,10.00,NGN,settled,2026-03-02T10:00:00Z,in,\n", `l.csv:2: unknown status "settled"`},
		{"unknown direction", header + "kora,R1,10.00,NGN,paid,2026-03-02T10:00:00Z,sideways,\n", `l.csv:2: unknown direction "sideways"`},
		{"bad time", header + "kora,R1,10.00,NGN,paid,02/03/2026 10:00,in,\n", `l.csv:2: occurred_at: "02/03/2026 10:00" is neither RFC 3339`},
		{"time without offset in RFC 3339 form", header + "kora,R1,10.00,NGN,paid,2026-03-02T10:00:00,in,\n", `l.csv:2: occurred_at:`},
		{"duplicate key", header + "kora,R1,10.00,NGN,paid,2026-03-02T10:00:00Z,,\nkora,R1,11.00,NGN,paid,2026-03-02T10:00:00Z,in,\n",
			`l.csv:3: duplicate of line 2 (provider kora, direction in, reference "R1")`},
		{"malformed CSV", header + "kora,\"R1,10.00\n", "l.csv:2: malformed CSV"},
		{"physical line after a quoted newline", header + "kora,\"R\n1\",10.00,NGN,paid,2026-03-02T10:00:00Z,in,\nkora,R2,x,NGN,paid,2026-03-02T10:00:00Z,in,\n",
			`l.csv:4: amount "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, bad := readAll(t, tt.csv)
			if len(bad) != 1 || !strings.HasPrefix(bad[0], tt.want) {
				t.Fatalf("errors %q, want one starting %q", bad, tt.want)
			}
		})
	}
}

func TestLedgerValidRows(t *testing.T) {
	t.Parallel()
	csv := "\uFEFFReference , provider,amount,currency,status,occurred_at,account,customer_phone,unused\n" +
		"OJM6Q1W84K,KopoKopo,1500.00,kes,PAID,2026-03-02 09:15:00,K555,+254700000001,x\n" +
		"880001,pixel,1100,XOF,pending,2026-03-02T06:15:00.5Z,,,\n" +
		"OJM6Q1W84K,kora,1,NGN,paid,2026-03-02T09:15:00+01:00,,,\n"
	ok, bad := readAll(t, csv)
	if len(bad) != 0 || len(ok) != 3 {
		t.Fatalf("ok %d, bad %q", len(ok), bad)
	}
	want := reconcile.LedgerEntry{Reference: "OJM6Q1W84K", Provider: testprov.KopoKopo, Direction: reconcile.In,
		Amount: reconcile.Money{Minor: 150000, Currency: "KES"}, Status: reconcile.LedgerPaid,
		OccurredAt: time.Date(2026, 3, 2, 6, 15, 0, 0, time.UTC), Account: "K555", CustomerPhone: "+254700000001"}
	if ok[0] != want {
		t.Fatalf("got %+v\nwant %+v", ok[0], want)
	}
	if ok[1].Amount.Minor != 1100 || ok[1].OccurredAt != time.Date(2026, 3, 2, 6, 15, 0, 5e8, time.UTC) {
		t.Fatalf("pixel row: %+v", ok[1])
	}
	if ok[2].OccurredAt != time.Date(2026, 3, 2, 8, 15, 0, 0, time.UTC) {
		t.Fatalf("offset not applied: %v", ok[2].OccurredAt)
	}
}

func TestBankRows(t *testing.T) {
	t.Parallel()
	csv := "date,amount,currency,reference,description\n" +
		"2026-03-03,19931.36,ZAR,STL02,IKHOKHA SETTLEMENT\n" +
		"2026-03-03,-150.00,ZAR,,MONTHLY FEE\n" +
		"03/03/2026,1.00,ZAR,X,\n" +
		"2026-03-03,1.001,ZAR,X,\n" +
		"2026-03-03,1.00,ZAR,,\n"
	r, err := csvimport.NewBankReader(strings.NewReader(csv), "b.csv")
	if err != nil {
		t.Fatal(err)
	}
	var lines []reconcile.BankLine
	var bad []string
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) != 2 || lines[0].Provider != testprov.IKhokha || lines[1].Provider != "" || lines[1].Amount.Minor != -15000 {
		t.Fatalf("lines %+v", lines)
	}
	want := []string{`b.csv:4: date "03/03/2026" is not YYYY-MM-DD`, `b.csv:5: amount "1.001" ZAR`, "b.csv:6: missing required field reference"}
	if len(bad) != len(want) {
		t.Fatalf("errors %q, want %q", bad, want)
	}
	for i := range want {
		if !strings.HasPrefix(bad[i], want[i]) {
			t.Errorf("error %q, want %q", bad[i], want[i])
		}
	}
}

func TestGuessProvider(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]reconcile.Provider{
		"KOPO KOPO SETTLEMENT": testprov.KopoKopo, "kopokopo stl": testprov.KopoKopo, "Pixel payout": testprov.Pixel,
		"IKHOKHA 0203": testprov.IKhokha, "KORAPAY LTD": testprov.Kora, "SALARY": "",
	} {
		if got := csvimport.GuessProvider(text); got != want {
			t.Errorf("GuessProvider(%q) = %q, want %q", text, got, want)
		}
	}
}
