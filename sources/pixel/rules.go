package pixel

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mizani/reconcile"
)

// Operation names a payment direction as the documents' limit tables do.
type Operation string

// Operations.
const (
	C2B Operation = "c2b" // payment_c2b: deposit, customer to merchant
	B2C Operation = "b2c" // payment_b2c: withdrawal, merchant to customer
)

// Rule is one of the documents' per-country limit tables: minimums and
// maximums in major units (0: no maximum), and whether amounts must be
// multiples of 5. A rule applies to Providers (empty: every other provider
// of the country).
type Rule struct {
	Country   string
	Currency  reconcile.Currency
	Providers []int
	// C2BMin, B2CMin, C2BMax, B2CMax are whole major units.
	C2BMin, B2CMin, C2BMax, B2CMax int64
	MultipleOf5                    bool
	// Source names the document the table comes from.
	Source string
}

// SimulatorProviderID is the vendor's simulator channel (country ANY): no
// country rule applies, the operation stays "in progress" and no callback
// is ever sent (documents 002 and 003).
const SimulatorProviderID = 14

// Rules are the limit tables of documents 003 (current) and 002 (older
// channels still listed there), by ISO 3166-1 alpha-2 country. The
// documents print a country's tables under headings the text lost; each is
// attributed here by its channels and phone format (229 Benin, 226 Burkina
// Faso, 237 Cameroon, 243 DR Congo, 225 Côte d'Ivoire, …). Tables the
// documents print without saying which channels they concern are not
// guessed at: a country's general rule is the one printed for all its
// channels.
var Rules = []Rule{
	{Country: "BJ", Currency: "XOF", C2BMin: 100, B2CMin: 100, C2BMax: 1000000, B2CMax: 1000000, Source: "003"},
	{Country: "BF", Currency: "XOF", C2BMin: 200, B2CMin: 200, C2BMax: 1000000, B2CMax: 1000000, MultipleOf5: true, Source: "003"},
	{Country: "CM", Currency: "XAF", C2BMin: 500, B2CMin: 500, C2BMax: 500000, B2CMax: 500000, Source: "003"},
	{Country: "CD", Currency: "CDF", C2BMin: 100, B2CMin: 100, C2BMax: 1500000, B2CMax: 1500000, Source: "003"},
	{Country: "GM", Currency: "GMD", C2BMin: 10, B2CMin: 10, Source: "003"},
	{Country: "CI", Currency: "XOF", Providers: []int{536, 537, 538, 539},
		C2BMin: 200, B2CMin: 500, C2BMax: 500000, B2CMax: 500000, Source: "002"},
	{Country: "CI", Currency: "XOF", C2BMin: 200, B2CMin: 200, C2BMax: 1000000, B2CMax: 1000000, MultipleOf5: true, Source: "003"},
	{Country: "MW", Currency: "MWK", C2BMin: 50, B2CMin: 50, C2BMax: 750000, B2CMax: 750000, Source: "003"},
	{Country: "NG", Currency: "NGN", Providers: []int{2311, 706, 9122, 9143, 9231},
		C2BMin: 100, B2CMin: 100, C2BMax: 400000, B2CMax: 400000, Source: "003"},
	{Country: "NG", Currency: "NGN", C2BMin: 100, B2CMin: 100, Source: "003"},
	{Country: "EG", Currency: "EGP", C2BMin: 350, B2CMin: 350, C2BMax: 15000, B2CMax: 15000, Source: "003"},
	{Country: "SN", Currency: "XOF", Providers: []int{540, 541, 542},
		C2BMin: 200, B2CMin: 500, C2BMax: 500000, B2CMax: 500000, Source: "002"},
	{Country: "SN", Currency: "XOF", C2BMin: 100, B2CMin: 100, C2BMax: 500000, B2CMax: 500000, Source: "003"},
	{Country: "RW", Currency: "RWF", C2BMin: 100, B2CMin: 100, C2BMax: 10000000, B2CMax: 10000000, Source: "003"},
	{Country: "TZ", Currency: "TZS", Providers: []int{2405},
		C2BMin: 1000, B2CMin: 7500, C2BMax: 3000000, B2CMax: 3000000, Source: "003"},
	{Country: "TZ", Currency: "TZS", C2BMin: 1000, B2CMin: 1000, C2BMax: 5000000, B2CMax: 5000000, Source: "003"},
	{Country: "TG", Currency: "XOF", Providers: []int{2357},
		C2BMin: 200, B2CMin: 500, C2BMax: 1000000, B2CMax: 1000000, Source: "003"},
	{Country: "TG", Currency: "XOF", Providers: []int{2358},
		C2BMin: 5, B2CMin: 5, C2BMax: 1000000, B2CMax: 1000000, Source: "003"},
	{Country: "TG", Currency: "XOF", Providers: []int{2359},
		C2BMin: 100, B2CMin: 100, C2BMax: 1000000, B2CMax: 500000, Source: "003"},
	{Country: "UG", Currency: "UGX", C2BMin: 500, B2CMin: 900, C2BMax: 4000000, B2CMax: 4000000, Source: "003"},
	{Country: "ZM", Currency: "ZMW", C2BMin: 1, B2CMin: 1, C2BMax: 20000, B2CMax: 20000, Source: "003"},
	{Country: "KE", Currency: "KES", Providers: []int{2162},
		C2BMin: 1, B2CMin: 500, C2BMax: 150000, B2CMax: 150000, Source: "002"},
	{Country: "KE", Currency: "KES", C2BMin: 1, B2CMin: 250, C2BMax: 150000, B2CMax: 150000, Source: "003"},
	{Country: "GH", Currency: "GHS", Providers: []int{2163, 2164, 2165},
		C2BMin: 10, B2CMin: 10, C2BMax: 25000, B2CMax: 25000, Source: "002"},
	{Country: "GH", Currency: "GHS", Providers: []int{980},
		C2BMin: 1, B2CMin: 1, C2BMax: 2000, B2CMax: 2000, Source: "003"},
	{Country: "GH", Currency: "GHS", Providers: []int{981},
		C2BMin: 100, B2CMin: 10, B2CMax: 25000, Source: "003"},
	{Country: "GH", Currency: "GHS", Providers: []int{982},
		C2BMin: 100, B2CMin: 10, C2BMax: 25000, B2CMax: 25000, Source: "003"},
	{Country: "GH", Currency: "GHS", C2BMin: 10, B2CMin: 10, C2BMax: 1000, B2CMax: 1000, Source: "003"},
}

// RuleFor returns the rule for a payment through provider in country: the
// table naming the provider, else the country's general table. ok is false
// for the simulator channel and for countries the documents give no table.
func RuleFor(country string, provider int) (Rule, bool) {
	if provider == SimulatorProviderID {
		return Rule{}, false
	}
	country = strings.ToUpper(strings.TrimSpace(country))
	var general *Rule
	for i, r := range Rules {
		if r.Country != country {
			continue
		}
		if slices.Contains(r.Providers, provider) {
			return r, true
		}
		if len(r.Providers) == 0 && general == nil {
			general = &Rules[i]
		}
	}
	if general != nil {
		return *general, true
	}
	return Rule{}, false
}

// RuleError is a payment refused by a country rule, before it is sent (the
// client) or when received (the simulator).
type RuleError struct {
	// Rule names what was broken: "c2b minimum", "b2c maximum",
	// "multiples of 5", "currency", "precision".
	Rule      string
	Operation Operation
	Country   string
	Provider  int
	Amount    string
	Currency  reconcile.Currency
	Limit     string
	Source    string
}

// Error names the rule and the document it comes from.
func (e *RuleError) Error() string {
	where := fmt.Sprintf("%s, provider %d", e.Country, e.Provider)
	switch e.Rule {
	case "multiples of 5":
		return fmt.Sprintf("pixel: %s %s %s breaks the multiples of 5 rule (%s: deposits and withdrawals are made in multiples of 5, document %s)",
			e.Operation, e.Amount, e.Currency, where, e.Source)
	case "currency":
		return fmt.Sprintf("pixel: %s in %s breaks the currency rule (%s takes %s, document %s)", e.Operation, e.Currency, where, e.Limit, e.Source)
	case "precision":
		return fmt.Sprintf("pixel: %s amount %q breaks the precision rule: %s", e.Operation, e.Amount, e.Limit)
	case "amount":
		return fmt.Sprintf("pixel: %s amount %q: %s", e.Operation, e.Amount, e.Limit)
	}
	return fmt.Sprintf("pixel: %s %s %s breaks the %s rule of %s %s (%s, document %s)",
		e.Operation, e.Amount, e.Currency, e.Rule, e.Limit, e.Currency, where, e.Source)
}

// CheckAmount validates a payment of amount (major units, as sent:
// "100.00") in currency through provider in country against the documents'
// rules: the amount is a positive decimal exact in the currency, within the
// country's minimum and maximum for op, a multiple of 5 where the country
// requires it. It returns nil or a *RuleError naming the rule.
func CheckAmount(op Operation, country string, provider int, amount string, currency reconcile.Currency) error {
	base := RuleError{Operation: op, Country: strings.ToUpper(country), Provider: provider, Amount: amount, Currency: currency}
	fail := func(rule, limit, source string) error {
		e := base
		e.Rule, e.Limit, e.Source = rule, limit, source
		return &e
	}
	if !plainAmount.MatchString(strings.TrimSpace(amount)) {
		return fail("amount", "not a positive decimal number of major units", "")
	}
	m, err := reconcile.ParseMajor(amount, currency)
	if err != nil {
		return fail("precision", err.Error(), "")
	}
	if m.Minor <= 0 {
		return fail("amount", "must be more than zero", "")
	}
	r, ok := RuleFor(country, provider)
	if !ok {
		return nil
	}
	if r.Currency != currency {
		return fail("currency", string(r.Currency), r.Source)
	}
	exp, _ := currency.Exponent()
	unit := int64(1)
	for range exp {
		unit *= 10
	}
	lo, hi := r.C2BMin, r.C2BMax
	if op == B2C {
		lo, hi = r.B2CMin, r.B2CMax
	}
	if m.Minor < lo*unit {
		return fail(string(op)+" minimum", strconv.FormatInt(lo, 10), r.Source)
	}
	if hi > 0 && m.Minor > hi*unit {
		return fail(string(op)+" maximum", strconv.FormatInt(hi, 10), r.Source)
	}
	if r.MultipleOf5 && m.Minor%(5*unit) != 0 {
		return fail("multiples of 5", "", r.Source)
	}
	return nil
}
