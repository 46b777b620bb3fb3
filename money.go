package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/shopspring/decimal"
)

// Currency is an ISO 4217 alphabetic code such as "KES" or "XOF".
type Currency string

// currencyExponents is the number of minor-unit digits of every currency Mizani
// handles (ISO 4217). A currency not listed here is refused.
var currencyExponents = map[Currency]int32{
	"ZAR": 2, "KES": 2, "NGN": 2, "GHS": 2, "TZS": 2, "MWK": 2, "ZMW": 2,
	"EGP": 2, "GMD": 2, "CDF": 2, "USD": 2,
	"XOF": 0, "XAF": 0, "UGX": 0, "RWF": 0,
}

// ErrUnknownCurrency is returned for a currency code Mizani has no exponent for.
var ErrUnknownCurrency = errors.New("unknown currency")

// ErrAmountNotReported is returned when a provider sent no amount (empty string,
// JSON null or a missing field). Callers that accept a missing amount check for
// it with errors.Is and record the amount as not reported.
var ErrAmountNotReported = errors.New("amount not reported")

// ParseCurrency validates code (case-insensitive, surrounding space ignored)
// and returns it in canonical upper case.
func ParseCurrency(code string) (Currency, error) {
	c := Currency(strings.ToUpper(strings.TrimSpace(code)))
	if _, ok := currencyExponents[c]; !ok {
		if c == "" {
			return "", fmt.Errorf("%w: empty currency code", ErrUnknownCurrency)
		}
		return "", fmt.Errorf("%w %q", ErrUnknownCurrency, code)
	}
	return c, nil
}

// Exponent returns the number of minor-unit digits of c (2 for KES, 0 for XOF).
func (c Currency) Exponent() (int32, error) {
	e, ok := currencyExponents[c]
	if !ok {
		return 0, fmt.Errorf("%w %q", ErrUnknownCurrency, string(c))
	}
	return e, nil
}

// Valid reports whether c is a currency Mizani knows.
func (c Currency) Valid() bool {
	_, ok := currencyExponents[c]
	return ok
}

// Money is an exact amount: integer minor units of a currency. 1,500.00 KES is
// Money{Minor: 150000, Currency: "KES"}; 1100 XOF is Money{Minor: 1100, Currency: "XOF"}.
type Money struct {
	Minor    int64
	Currency Currency
}

// NewMoney returns minor units of currency c, checking that c is known.
func NewMoney(minor int64, c Currency) (Money, error) {
	if !c.Valid() {
		return Money{}, fmt.Errorf("%w %q", ErrUnknownCurrency, string(c))
	}
	return Money{Minor: minor, Currency: c}, nil
}

// ParseMajor parses an amount written in major units — "500.0", "100.00",
// "1100", "-12.5" — into Money. It refuses any value with more precision than
// the currency has ("200.50" XOF), exponents, thousands separators, anything
// that overflows int64 minor units, and an empty string (ErrAmountNotReported).
func ParseMajor(s string, c Currency) (Money, error) {
	exp, err := c.Exponent()
	if err != nil {
		return Money{}, err
	}
	t := strings.TrimSpace(s)
	if t == "" || t == "null" {
		return Money{}, ErrAmountNotReported
	}
	if err := checkPlainDecimal(t); err != nil {
		return Money{}, fmt.Errorf("amount %q: %w", s, err)
	}
	d, err := decimal.NewFromString(t)
	if err != nil {
		return Money{}, fmt.Errorf("amount %q: not a decimal number", s)
	}
	minor, err := toMinor(d, exp)
	if err != nil {
		return Money{}, fmt.Errorf("amount %q %s: %w", s, c, err)
	}
	return Money{Minor: minor, Currency: c}, nil
}

// ParseMinor parses an amount already in minor units, as iKhokha sends cents
// ("19999" → 199.99 ZAR). A fractional value is refused.
func ParseMinor(s string, c Currency) (Money, error) {
	if _, err := c.Exponent(); err != nil {
		return Money{}, err
	}
	t := strings.TrimSpace(s)
	if t == "" || t == "null" {
		return Money{}, ErrAmountNotReported
	}
	if err := checkPlainDecimal(t); err != nil {
		return Money{}, fmt.Errorf("minor-unit amount %q: %w", s, err)
	}
	d, err := decimal.NewFromString(t)
	if err != nil {
		return Money{}, fmt.Errorf("minor-unit amount %q: not a number", s)
	}
	minor, err := toMinor(d, 0)
	if err != nil {
		return Money{}, fmt.Errorf("minor-unit amount %q %s: %w", s, c, err)
	}
	return Money{Minor: minor, Currency: c}, nil
}

// ParseJSONMajor parses a JSON amount value in major units: a JSON string
// ("500.0"), a JSON number (780, 10.5) or null (ErrAmountNotReported). raw is
// the undecoded JSON value; numbers are never converted through float64.
func ParseJSONMajor(raw json.RawMessage, c Currency) (Money, error) {
	s, err := jsonAmountText(raw)
	if err != nil {
		return Money{}, err
	}
	return ParseMajor(s, c)
}

// ParseJSONMinor is ParseJSONMajor for amounts sent in minor units (cents).
func ParseJSONMinor(raw json.RawMessage, c Currency) (Money, error) {
	s, err := jsonAmountText(raw)
	if err != nil {
		return Money{}, err
	}
	return ParseMinor(s, c)
}

func jsonAmountText(raw json.RawMessage) (string, error) {
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		return "", ErrAmountNotReported
	}
	if t[0] == '"' {
		var s string
		if err := json.Unmarshal([]byte(t), &s); err != nil {
			return "", fmt.Errorf("amount %s: %w", t, err)
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal([]byte(t), &n); err != nil {
		return "", fmt.Errorf("amount %s: not a number or string", t)
	}
	return n.String(), nil
}

// checkPlainDecimal accepts an optional sign, digits, and at most one '.', with
// at least one digit. It refuses exponents, spaces, separators, hex and the like
// that decimal.NewFromString would otherwise accept or misread.
func checkPlainDecimal(s string) error {
	digits, dots := 0, 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.':
			dots++
		case (r == '-' || r == '+') && i == 0:
		default:
			return fmt.Errorf("unexpected character %q", r)
		}
	}
	if digits == 0 || dots > 1 {
		return errors.New("not a decimal number")
	}
	return nil
}

var (
	maxInt64 = decimal.NewFromInt(math.MaxInt64)
	minInt64 = decimal.NewFromInt(math.MinInt64)
)

// toMinor shifts d by exp digits and requires the result to be an exact int64.
func toMinor(d decimal.Decimal, exp int32) (int64, error) {
	shifted := d.Shift(exp)
	if !shifted.Equal(shifted.Truncate(0)) {
		return 0, fmt.Errorf("more precision than the currency's %d decimal places", exp)
	}
	if shifted.GreaterThan(maxInt64) || shifted.LessThan(minInt64) {
		return 0, errors.New("amount out of range")
	}
	return shifted.IntPart(), nil
}

// Decimal returns m in major units as an exact decimal (150000 KES → 1500.00).
func (m Money) Decimal() decimal.Decimal {
	exp, _ := m.Currency.Exponent()
	return decimal.New(m.Minor, -exp)
}

// String formats m in major units with exactly the currency's exponent digits,
// '.' as separator and no grouping: "1500.00", "1100", "-0.05". This is the
// form used in CSV reports.
func (m Money) String() string {
	exp, _ := m.Currency.Exponent()
	return FormatMinor(m.Minor, exp)
}

// FormatMinor renders minor units with exp decimal digits, without grouping.
func FormatMinor(minor int64, exp int32) string {
	neg := minor < 0
	// Work in uint64 so math.MinInt64 does not overflow on negation.
	u := uint64(minor)
	if neg {
		u = -u
	}
	digits := fmt.Sprintf("%d", u)
	if exp > 0 {
		for int32(len(digits)) <= exp {
			digits = "0" + digits
		}
		cut := len(digits) - int(exp)
		digits = digits[:cut] + "." + digits[cut:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// Human formats m for sentences a finance person reads: thousands grouped
// with ',' and the currency code after the number, "1,500.00 KES".
func (m Money) Human() string { return m.Grouped() + " " + string(m.Currency) }

// Grouped is Human without the currency code: "1,500.00".
func (m Money) Grouped() string {
	s := m.String()
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := sign + b.String()
	if hasFrac {
		out += "." + frac
	}
	return out
}

// Add returns m+o. It refuses mixed currencies and int64 overflow.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("adding %s to %s: currencies differ", o.Currency, m.Currency)
	}
	s, ok := AddMinor(m.Minor, o.Minor)
	if !ok {
		return Money{}, errors.New("money overflow")
	}
	return Money{Minor: s, Currency: m.Currency}, nil
}

// AddMinor returns a+b in minor units and whether the sum fits in int64;
// on overflow it returns 0, false. Every sum of amounts goes through it (or
// SubMinor), so that an overflow is an error, never a wrap.
func AddMinor(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// SubMinor returns a−b in minor units and whether the difference fits in
// int64; on overflow it returns 0, false.
func SubMinor(a, b int64) (int64, bool) {
	s := a - b
	if (b > 0 && s > a) || (b < 0 && s < a) {
		return 0, false
	}
	return s, true
}

// Sub returns m-o. It refuses mixed currencies and int64 overflow.
func (m Money) Sub(o Money) (Money, error) {
	if o.Minor == math.MinInt64 {
		return Money{}, errors.New("money overflow")
	}
	return m.Add(Money{Minor: -o.Minor, Currency: o.Currency})
}
