package csvimport

import (
	"io"
	"strings"
	"time"

	"github.com/mizani/reconcile"
)

// Bank statement CSV columns.
var (
	BankRequired = []string{"date", "amount", "currency", "reference", "description"}
	BankOptional = []string{"account"}
)

// BankReader reads a bank statement CSV: one line per credit (positive
// amount) or debit (negative amount).
type BankReader struct{ t *table }

// NewBankReader reads the header of the statement r, named name in errors.
func NewBankReader(r io.Reader, name string) (*BankReader, error) {
	t, err := newTable(r, name, BankRequired, BankOptional)
	if err != nil {
		return nil, err
	}
	return &BankReader{t: t}, nil
}

// Header returns the file's header row as written.
func (r *BankReader) Header() []string { return r.t.header }

// Next returns the next valid line, with the same contract as
// LedgerReader.Next. Reference and description may be empty, but not both.
func (r *BankReader) Next() (reconcile.BankLine, error) {
	t := r.t
	if err := t.next(); err != nil {
		return reconcile.BankLine{}, err
	}
	var l reconcile.BankLine
	date, err := t.require("date")
	if err != nil {
		return l, err
	}
	if l.ValueDate, err = time.Parse(time.DateOnly, date); err != nil {
		return l, t.fail("date %q is not YYYY-MM-DD", date)
	}
	amount, err := t.require("amount")
	if err != nil {
		return l, err
	}
	cur, err := t.require("currency")
	if err != nil {
		return l, err
	}
	c, err := reconcile.ParseCurrency(cur)
	if err != nil {
		return l, t.fail("%v", err)
	}
	if l.Amount, err = reconcile.ParseMajor(amount, c); err != nil {
		return l, t.fail("%v", err)
	}
	l.Account, l.Reference, l.Description = t.get("account"), t.get("reference"), t.get("description")
	if l.Reference == "" && l.Description == "" {
		return l, t.fail("missing required field reference (or description)")
	}
	l.Provider = GuessProvider(l.Reference + " " + l.Description)
	return l, nil
}

// GuessProvider returns the known provider a bank narrative names, or ""
// when it names none. A provider is named by its code ("kopokopo") or its
// display name in any case, with a space, a hyphen or nothing between its
// words ("KOPO KOPO", "Kopo-Kopo"); "korapay" names Kora.
func GuessProvider(text string) reconcile.Provider {
	text = strings.ToLower(text)
	for _, p := range reconcile.Providers() {
		display := strings.ToLower(p.DisplayName())
		for _, name := range []string{string(p), display, strings.ReplaceAll(display, " ", "-"), strings.ReplaceAll(display, " ", "")} {
			if name != "" && strings.Contains(text, name) {
				return p
			}
		}
	}
	return ""
}
