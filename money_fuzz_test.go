package reconcile

import (
	"encoding/json"
	"strconv"
	"testing"
)

// FuzzParseJSONMajor checks the JSON amount reader on arbitrary values: an
// amount it reads is exactly the decimal text sent (never through a float),
// and reads back the same written as a JSON string and as a JSON number.
func FuzzParseJSONMajor(f *testing.F) {
	for _, s := range []string{`"500.0"`, `780`, `10.5`, `"200.50"`, `null`, `"-0.05"`, `1e3`, `0.1000000000000000055511151231257827`, `"\u0031.5"`, `92233720368547758.07`, `"12"x`} {
		f.Add([]byte(s), "KES")
		f.Add([]byte(s), "XOF")
	}
	f.Fuzz(func(t *testing.T, raw []byte, cur string) {
		m, err := ParseJSONMajor(raw, Currency(cur))
		if err != nil {
			return
		}
		var text string
		if json.Unmarshal(raw, &text) != nil {
			var n json.Number
			if err := json.Unmarshal(raw, &n); err != nil {
				t.Fatalf("ParseJSONMajor(%q) = %+v, but it is neither a JSON string nor a number", raw, m)
			}
			text = n.String()
		}
		if want, err := ParseMajor(text, m.Currency); err != nil || want != m {
			t.Fatalf("ParseJSONMajor(%q) = %+v; ParseMajor(%q) = %+v, %v", raw, m, text, want, err)
		}
		for _, back := range []string{strconv.Quote(m.String()), m.String()} {
			if got, err := ParseJSONMajor(json.RawMessage(back), m.Currency); err != nil || got != m {
				t.Fatalf("ParseJSONMajor(%q) = %+v, but ParseJSONMajor(%s) = %+v, %v", raw, m, back, got, err)
			}
		}
	})
}

// FuzzParseMinor checks the minor-unit reader: an amount it reads is the
// same written back in minor units, and the same read in major units.
func FuzzParseMinor(f *testing.F) {
	for _, s := range []string{"19999", "0", "-5", "10.0", "10.5", "+7", "9223372036854775807", "9223372036854775808", "", "1e3"} {
		f.Add(s, "ZAR")
		f.Add(s, "XOF")
	}
	f.Fuzz(func(t *testing.T, s, cur string) {
		m, err := ParseMinor(s, Currency(cur))
		if err != nil {
			return
		}
		if back, err := ParseMinor(strconv.FormatInt(m.Minor, 10), m.Currency); err != nil || back != m {
			t.Fatalf("ParseMinor(%q) = %+v, but its minor units read back as %+v, %v", s, m, back, err)
		}
		if major, err := ParseMajor(m.String(), m.Currency); err != nil || major != m {
			t.Fatalf("ParseMinor(%q) = %+v, but ParseMajor(%q) = %+v, %v", s, m, m.String(), major, err)
		}
	})
}
