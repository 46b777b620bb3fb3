package reconcile

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// RoundingRule says how a fee or percentage computed in decimal is brought
// back to whole minor units. The rule in force is written in every report.
type RoundingRule string

// The rounding rules Mizani supports.
const (
	// RoundHalfEven rounds halves to the even neighbour (banker's rounding):
	// 0.125 → 0.12, 0.135 → 0.14. The default.
	RoundHalfEven RoundingRule = "half-even"
	// RoundHalfUp rounds halves away from zero: 0.125 → 0.13.
	RoundHalfUp RoundingRule = "half-up"
	// RoundDown truncates toward zero: 0.129 → 0.12.
	RoundDown RoundingRule = "down"
	// RoundUp rounds away from zero: 0.121 → 0.13.
	RoundUp RoundingRule = "up"
)

// DefaultRounding is the rule used when none is configured.
const DefaultRounding = RoundHalfEven

// ParseRoundingRule validates s; "" means DefaultRounding.
func ParseRoundingRule(s string) (RoundingRule, error) {
	switch r := RoundingRule(s); r {
	case "":
		return DefaultRounding, nil
	case RoundHalfEven, RoundHalfUp, RoundDown, RoundUp:
		return r, nil
	}
	return "", fmt.Errorf("unknown rounding rule %q (want half-even, half-up, down or up)", s)
}

// Round rounds d to places decimal digits by rule r.
func (r RoundingRule) Round(d decimal.Decimal, places int32) decimal.Decimal {
	switch r {
	case RoundHalfUp:
		return d.Round(places)
	case RoundDown:
		return d.RoundDown(places)
	case RoundUp:
		return d.RoundUp(places)
	default:
		return d.RoundBank(places)
	}
}

// MoneyFromDecimal rounds a major-unit decimal to c's minor units by rule r.
func MoneyFromDecimal(d decimal.Decimal, c Currency, r RoundingRule) (Money, error) {
	exp, err := c.Exponent()
	if err != nil {
		return Money{}, err
	}
	minor, err := toMinor(r.Round(d, exp), exp)
	if err != nil {
		return Money{}, fmt.Errorf("%s %s: %w", d, c, err)
	}
	return Money{Minor: minor, Currency: c}, nil
}

// Percent returns pct percent of m (pct 2.85 means 2.85%), rounded to minor
// units by rule r. It is the building block of fee schedules.
func (m Money) Percent(pct decimal.Decimal, r RoundingRule) (Money, error) {
	return MoneyFromDecimal(m.Decimal().Mul(pct).Div(decimal.NewFromInt(100)), m.Currency, r)
}

// FeeRate is what a provider charges on one payment: Percent of the gross
// (2.85 means 2.85%) plus Fixed minor units of the payment's currency.
type FeeRate struct {
	Percent decimal.Decimal
	Fixed   int64
}
