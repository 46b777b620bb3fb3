package sources

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mizani/reconcile"
)

// ErrMissing is the detail of a required field that is absent or empty.
var ErrMissing = errors.New("missing")

// Malformed wraps ErrMalformed, naming the provider and the JSON path at
// fault: "pixel: malformed payload: amount: …".
func Malformed(provider reconcile.Provider, field string, err error) error {
	return fmt.Errorf("%s: %w: %s: %v", provider, ErrMalformed, field, err)
}

// DecodeObject unmarshals one JSON object into v, keeping numbers exact
// (json.Number, never float64) and refusing anything after the object.
// Only JSON's own whitespace may surround it: a body the store's JSONB
// column would refuse (a trailing \v or no-break space) is refused here.
func DecodeObject(raw []byte, v any) error {
	raw = bytes.Trim(raw, " \t\r\n")
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("not a JSON object")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// IsNull reports whether raw is absent or JSON null.
func IsNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// LooseString reads a JSON string or number as text; null or absent is "".
func LooseString(raw json.RawMessage) (string, error) {
	if IsNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", errors.New("not a string or number")
}

// Amount reads an amount in major units, a JSON string ("500.0") or number
// (780), exactly. Null, "" or absent is not reported (known false, no
// error); a negative amount ("-0.0" too) is an error: providers tell money
// out by kind, never by sign.
func Amount(raw json.RawMessage, cur reconcile.Currency) (m reconcile.Money, known bool, err error) {
	m, err = reconcile.ParseJSONMajor(raw, cur)
	if errors.Is(err, reconcile.ErrAmountNotReported) {
		return reconcile.Money{Currency: cur}, false, nil
	}
	if err != nil {
		return m, false, err
	}
	if m.Minor < 0 || strings.HasPrefix(strings.Trim(string(bytes.TrimSpace(raw)), `"`), "-") {
		return m, false, fmt.Errorf("negative amount %s", bytes.TrimSpace(raw))
	}
	return m, true, nil
}

// MinorAmount reads an amount given in whole minor units (iKhokha's cents:
// 19999 is 199.99 ZAR), a JSON integer or a string of digits. Null or absent
// is not reported; a fraction or a negative amount is an error.
func MinorAmount(raw json.RawMessage, cur reconcile.Currency) (m reconcile.Money, known bool, err error) {
	s, err := LooseString(raw)
	if err != nil {
		return m, false, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return reconcile.Money{Currency: cur}, false, nil
	}
	var n int64
	for i, r := range s {
		if r < '0' || r > '9' {
			return m, false, fmt.Errorf("%q is not a whole number of minor units", s)
		}
		if n > (1<<63-1-int64(r-'0'))/10 {
			return m, false, fmt.Errorf("%q overflows", s)
		}
		n = n*10 + int64(r-'0')
		_ = i
	}
	m, err = reconcile.NewMoney(n, cur)
	return m, err == nil, err
}

// Currency validates a currency code.
func Currency(code string) (reconcile.Currency, error) {
	return reconcile.ParseCurrency(code)
}

// zonelessLayouts are the zone-less time forms providers send: Pixel's
// service_date_time ("2020-11-25 10:08:32.832969"), Kora's date_created
// ("2026-03-02 10:00:00", "2026-03-02T10:00:00"), Kora's query form
// ("2026-03-02-10-00-00").
var zonelessLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02-15-04-05",
	"2006-01-02 15:04",
}

// Instant parses a provider time: RFC 3339 with its own offset or Z, else
// one of the zone-less forms read in zone (the provider's configured zone,
// SPEC §4). It returns the instant in UTC.
func Instant(s string, zone *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, ErrMissing
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	// RFC 3339 with a space instead of the T, as some APIs print it.
	if t, err := time.Parse("2006-01-02 15:04:05.999999999Z07:00", s); err == nil {
		return t.UTC(), nil
	}
	if zone == nil {
		zone = time.UTC
	}
	for _, layout := range zonelessLayouts {
		if t, err := time.ParseInLocation(layout, s, zone); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (want RFC 3339, or YYYY-MM-DD HH:MM:SS[.ffffff] in %s)", s, zone)
}
