package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/store"
)

func TestBankImport(t *testing.T) {
	t.Parallel()
	c := newStoreCLI(t)
	fixture := filepath.Join("..", "..", "fixtures", "ikhokha", "bank.csv")
	n := dataLines(t, fixture)
	code, out, errs := c.run("bank", "import", "--file", fixture)
	if code != exitOK || !strings.Contains(out, fmt.Sprintf("imported %d new bank line(s), 0 already present", n)) {
		t.Fatalf("first import: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = c.run("bank", "import", "--file", fixture)
	if code != exitOK || !strings.Contains(out, fmt.Sprintf("imported 0 new bank line(s), %d already present", n)) {
		t.Fatalf("re-import: exit %d\n%s", code, out)
	}

	// Two identical lines are two lines, and stay two on re-import.
	twice := c.write("twice.csv", "account,date,amount,currency,reference,description\n"+
		"ACC-9,2026-03-04,500.00,KES,KOPO KOPO STL,settlement\n"+
		"ACC-9,2026-03-04,500.00,KES,KOPO KOPO STL,settlement\n")
	for _, want := range []string{"imported 2 new", "imported 0 new"} {
		if code, out, _ := c.run("bank", "import", "--file", twice); code != exitOK || !strings.Contains(out, want) {
			t.Fatalf("exit %d, %s; want %s", code, out, want)
		}
	}

	st := store.New(c.db)
	lines, err := st.BankLines(context.Background(), reconcile.Window{
		From: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var kopo int
	for _, l := range lines {
		if !l.ValueDate.Equal(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("line outside the window: %+v", l)
		}
		if l.Provider == testprov.KopoKopo && l.Amount.Minor == 50000 && l.Account == "ACC-9" {
			kopo++
		}
	}
	if kopo != 2 || len(lines) < 3 {
		t.Fatalf("BankLines for 4 March: %+v", lines)
	}

	bad := c.write("bad.csv", "date,amount,currency,reference,description\n2026-03-04,5,KES,X,\n2026-13-01,5,KES,X,\n2026-03-04,5,QQQ,X,\n")
	code, _, errs = c.run("bank", "import", "--file", bad)
	if code != exitBadInput || !strings.Contains(errs, bad+`:3: date "2026-13-01"`) || !strings.Contains(errs, bad+`:4: unknown currency "QQQ"`) {
		t.Fatalf("bad file: exit %d\n%s", code, errs)
	}
	if n := c.count("SELECT count(*) FROM bank_lines WHERE reference = 'X'"); n != 0 {
		t.Fatalf("%d lines imported from a bad file", n)
	}
}

// dataLines counts the rows of a CSV file, its header aside.
func dataLines(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(strings.TrimSpace(string(b)), "\n")
}
