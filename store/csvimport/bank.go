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

// providerNames are the spellings a bank narrative uses for each provider.
var providerNames = []struct {
	name string
	p    reconcile.Provider
}{
	{"kopokopo", reconcile.KopoKopo}, {"kopo kopo", reconcile.KopoKopo}, {"kopo-kopo", reconcile.KopoKopo},
	{"ikhokha", reconcile.IKhokha}, {"pixel", reconcile.Pixel}, {"korapay", reconcile.Kora}, {"kora", reconcile.Kora},
}

// GuessProvider returns the provider a bank narrative names, or "" when it
// names none.
func GuessProvider(text string) reconcile.Provider {
	text = strings.ToLower(text)
	for _, n := range providerNames {
		if strings.Contains(text, n.name) {
			return n.p
		}
	}
	return ""
}
