package reconcile

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseMajor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		cur     Currency
		want    int64
		wantErr string
	}{
		// SPEC §3 examples.
		{in: "500.0", cur: "KES", want: 50000},
		{in: "100.00", cur: "KES", want: 10000},
		{in: "1100", cur: "XOF", want: 1100},
		{in: "200.00", cur: "XOF", want: 200},
		{in: "200.50", cur: "XOF", wantErr: "more precision than the currency's 0 decimal places"},
		{in: "100", cur: "NGN", want: 10000},
		// Other accepted forms.
		{in: "456", cur: "KES", want: 45600},
		{in: "0.01", cur: "ZAR", want: 1},
		{in: ".5", cur: "ZAR", want: 50},
		{in: "5.", cur: "ZAR", want: 500},
		{in: "-12.5", cur: "KES", want: -1250},
		{in: "+7", cur: "UGX", want: 7},
		{in: " 49452.0 ", cur: "KES", want: 4945200},
		{in: "0.000", cur: "KES", want: 0},
		{in: "92233720368547758.07", cur: "KES", want: math.MaxInt64},
		// Refused.
		{in: "0.001", cur: "KES", wantErr: "more precision"},
		{in: "92233720368547758.08", cur: "KES", wantErr: "out of range"},
		{in: "1e3", cur: "KES", wantErr: "unexpected character 'e'"},
		{in: "1,000.00", cur: "KES", wantErr: "unexpected character ','"},
		{in: "1.2.3", cur: "KES", wantErr: "not a decimal number"},
		{in: "abc", cur: "KES", wantErr: "unexpected character 'a'"},
		{in: "-", cur: "KES", wantErr: "not a decimal number"},
		{in: "NaN", cur: "KES", wantErr: "unexpected character"},
		{in: "0x10", cur: "KES", wantErr: "unexpected character 'x'"},
		{in: "", cur: "KES", wantErr: "amount not reported"},
		{in: "10", cur: "XYZ", wantErr: `unknown currency "XYZ"`},
	}
	for _, tt := range tests {
		t.Run(string(tt.cur)+"/"+tt.in, func(t *testing.T) {
			got, err := ParseMajor(tt.in, tt.cur)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMajor(%q, %s) error = %v, want containing %q", tt.in, tt.cur, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMajor(%q, %s): %v", tt.in, tt.cur, err)
			}
			if got != (Money{Minor: tt.want, Currency: tt.cur}) {
				t.Errorf("ParseMajor(%q, %s) = %+v, want %d", tt.in, tt.cur, got, tt.want)
			}
		})
	}
}

func TestParseJSONAmounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		cur     Currency
		minor   bool
		want    int64
		wantErr error
		errText string
	}{
		{name: "kopokopo string", raw: `"500.0"`, cur: "KES", want: 50000},
		{name: "kopokopo number", raw: `780`, cur: "KES", want: 78000},
		{name: "kora major number", raw: `100`, cur: "NGN", want: 10000},
		{name: "decimal number not through float", raw: `0.1`, cur: "ZAR", want: 10},
		{name: "large exact number", raw: `90071992547409.93`, cur: "KES", want: 9007199254740993},
		{name: "ikhokha cents", raw: `19999`, cur: "ZAR", minor: true, want: 19999},
		{name: "ikhokha cents string", raw: `"19999"`, cur: "ZAR", minor: true, want: 19999},
		{name: "pixel xof", raw: `"1100"`, cur: "XOF", want: 1100},
		{name: "null", raw: `null`, cur: "KES", wantErr: ErrAmountNotReported},
		{name: "missing", raw: ``, cur: "KES", wantErr: ErrAmountNotReported},
		{name: "empty string", raw: `""`, cur: "KES", wantErr: ErrAmountNotReported},
		{name: "fractional cents", raw: `199.5`, cur: "ZAR", minor: true, errText: "more precision"},
		{name: "boolean", raw: `true`, cur: "KES", errText: "not a number or string"},
		{name: "exponent number", raw: `1e2`, cur: "KES", errText: "unexpected character 'e'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parse := ParseJSONMajor
			if tt.minor {
				parse = ParseJSONMinor
			}
			got, err := parse(json.RawMessage(tt.raw), tt.cur)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
			case tt.errText != "":
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("error = %v, want containing %q", err, tt.errText)
				}
			case err != nil:
				t.Fatalf("unexpected error: %v", err)
			case got.Minor != tt.want || got.Currency != tt.cur:
				t.Errorf("got %+v, want %d %s", got, tt.want, tt.cur)
			}
		})
	}
}

func TestMoneyFormatting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m     Money
		plain string
		human string
	}{
		{Money{19999, "ZAR"}, "199.99", "199.99 ZAR"},
		{Money{1100, "XOF"}, "1100", "1,100 XOF"},
		{Money{150000, "KES"}, "1500.00", "1,500.00 KES"},
		{Money{-5, "KES"}, "-0.05", "-0.05 KES"},
		{Money{0, "UGX"}, "0", "0 UGX"},
		{Money{0, "KES"}, "0.00", "0.00 KES"},
		{Money{123456789, "RWF"}, "123456789", "123,456,789 RWF"},
		{Money{math.MinInt64, "KES"}, "-92233720368547758.08", "-92,233,720,368,547,758.08 KES"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.plain {
			t.Errorf("%+v.String() = %q, want %q", tt.m, got, tt.plain)
		}
		if got := tt.m.Human(); got != tt.human {
			t.Errorf("%+v.Human() = %q, want %q", tt.m, got, tt.human)
		}
		if got, want := tt.m.Grouped(), strings.TrimSuffix(tt.human, " "+string(tt.m.Currency)); got != want {
			t.Errorf("%+v.Grouped() = %q, want %q", tt.m, got, want)
		}
	}
}

func TestParseCurrency(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Currency{"kes": "KES", " XOF ": "XOF", "Ugx": "UGX"} {
		got, err := ParseCurrency(in)
		if err != nil || got != want {
			t.Errorf("ParseCurrency(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "EUR1", "XYZ", "KESS"} {
		if _, err := ParseCurrency(in); !errors.Is(err, ErrUnknownCurrency) {
			t.Errorf("ParseCurrency(%q) error = %v, want ErrUnknownCurrency", in, err)
		}
	}
}

func TestMoneyArithmetic(t *testing.T) {
	t.Parallel()
	a, b := Money{150000, "KES"}, Money{100000, "KES"}
	if d, err := a.Sub(b); err != nil || d != (Money{50000, "KES"}) {
		t.Errorf("Sub = %+v, %v", d, err)
	}
	if _, err := a.Add(Money{1, "ZAR"}); err == nil {
		t.Error("adding ZAR to KES: want error")
	}
	if _, err := (Money{math.MaxInt64, "KES"}).Add(Money{1, "KES"}); err == nil {
		t.Error("overflow: want error")
	}
	if _, err := (Money{0, "KES"}).Sub(Money{math.MinInt64, "KES"}); err == nil {
		t.Error("negating MinInt64: want error")
	}
}

func TestPercentAndRounding(t *testing.T) {
	t.Parallel()
	pct := func(s string) decimal.Decimal { return decimal.RequireFromString(s) }
	tests := []struct {
		m    Money
		pct  string
		rule RoundingRule
		want int64
	}{
		// 2.85% of 199.99 ZAR = 5.699715 → 5.70
		{Money{19999, "ZAR"}, "2.85", RoundHalfEven, 570},
		// 2% of 0.25 = 0.005: half-even → 0.00, half-up → 0.01, up → 0.01, down → 0.00
		{Money{25, "ZAR"}, "2", RoundHalfEven, 0},
		{Money{25, "ZAR"}, "2", RoundHalfUp, 1},
		{Money{25, "ZAR"}, "2", RoundUp, 1},
		{Money{25, "ZAR"}, "2", RoundDown, 0},
		// 2% of 0.75 = 0.015: half-even → 0.02
		{Money{75, "ZAR"}, "2", RoundHalfEven, 2},
		// 3.25% of 1,001 XOF = 32.5325 → 33 (up), 32 (half-even)
		{Money{1001, "XOF"}, "3.25", RoundHalfEven, 33},
		{Money{1001, "XOF"}, "3.25", RoundDown, 32},
		// negative amounts round symmetrically
		{Money{-25, "ZAR"}, "2", RoundHalfUp, -1},
	}
	for _, tt := range tests {
		got, err := tt.m.Percent(pct(tt.pct), tt.rule)
		if err != nil {
			t.Fatalf("%+v.Percent(%s, %s): %v", tt.m, tt.pct, tt.rule, err)
		}
		if got.Minor != tt.want {
			t.Errorf("%s%% of %s by %s = %d, want %d", tt.pct, tt.m.Human(), tt.rule, got.Minor, tt.want)
		}
	}
	if _, err := ParseRoundingRule("bankers"); err == nil {
		t.Error("ParseRoundingRule(bankers): want error")
	}
	if r, err := ParseRoundingRule(""); err != nil || r != RoundHalfEven {
		t.Errorf("default rounding = %q, %v", r, err)
	}
}

// FuzzParseMajor checks that parsing never panics and that formatting then
// parsing again gives back the same money.
func FuzzParseMajor(f *testing.F) {
	for _, s := range []string{"500.0", "100.00", "1100", "200.50", "-0.05", "92233720368547758.07", "", "1e3", ".", "-.5"} {
		f.Add(s, "KES")
		f.Add(s, "XOF")
	}
	f.Fuzz(func(t *testing.T, s, cur string) {
		m, err := ParseMajor(s, Currency(cur))
		if err != nil {
			return
		}
		back, err := ParseMajor(m.String(), m.Currency)
		if err != nil {
			t.Fatalf("ParseMajor(%q) = %+v, but its formatting %q does not parse: %v", s, m, m.String(), err)
		}
		if back != m {
			t.Fatalf("round trip of %q: %+v → %q → %+v", s, m, m.String(), back)
		}
	})
}
