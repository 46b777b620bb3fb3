package sources_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

func TestAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw       string
		cur       reconcile.Currency
		want      int64
		known     bool
		wantError string
	}{
		{`"500.0"`, "KES", 50000, true, ""},
		{`780`, "KES", 78000, true, ""},
		{`"1100"`, "XOF", 1100, true, ""},
		{`"200.00"`, "XOF", 200, true, ""},
		{`"200.50"`, "XOF", 0, false, "precision"},
		{`null`, "KES", 0, false, ""},
		{`""`, "KES", 0, false, ""},
		{``, "KES", 0, false, ""},
		{`"-1.00"`, "KES", 0, false, "negative"},
		{`"-0.0"`, "KES", 0, false, "negative"},
		{`"1e3"`, "KES", 0, false, ""},
		{`"99999999999999999999"`, "KES", 0, false, ""},
	}
	for _, tt := range tests {
		m, known, err := sources.Amount(json.RawMessage(tt.raw), tt.cur)
		if tt.wantError != "" || (err != nil && tt.want == 0 && !tt.known) {
			if err == nil && tt.wantError != "" {
				t.Errorf("Amount(%s %s) = %v, want an error about %s", tt.raw, tt.cur, m, tt.wantError)
			} else if err != nil && tt.wantError != "" && !strings.Contains(err.Error(), tt.wantError) {
				t.Errorf("Amount(%s %s) error %q, want it to mention %q", tt.raw, tt.cur, err, tt.wantError)
			}
			continue
		}
		if err != nil || m.Minor != tt.want || known != tt.known || m.Currency != tt.cur {
			t.Errorf("Amount(%s %s) = %v %v %v, want %d %v", tt.raw, tt.cur, m, known, err, tt.want, tt.known)
		}
	}
}

func TestMinorAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw   string
		want  int64
		known bool
		bad   bool
	}{
		{`19999`, 19999, true, false},
		{`"19999"`, 19999, true, false},
		{`null`, 0, false, false},
		{`"199.99"`, 0, false, true},
		{`-5`, 0, false, true},
		{`"9223372036854775808"`, 0, false, true},
		{`9223372036854775807`, 9223372036854775807, true, false},
	}
	for _, tt := range tests {
		m, known, err := sources.MinorAmount(json.RawMessage(tt.raw), "ZAR")
		if (err != nil) != tt.bad || m.Minor != tt.want || known != tt.known {
			t.Errorf("MinorAmount(%s) = %v %v %v, want %d %v bad=%v", tt.raw, m, known, err, tt.want, tt.known, tt.bad)
		}
	}
}

func TestInstant(t *testing.T) {
	t.Parallel()
	lagos, _ := time.LoadLocation("Africa/Lagos")
	tests := []struct {
		in   string
		zone *time.Location
		want time.Time
		bad  bool
	}{
		{"2020-10-22T10:43:19+03:00", nil, time.Date(2020, 10, 22, 7, 43, 19, 0, time.UTC), false},
		{"2020-10-22T10:43:19.123Z", nil, time.Date(2020, 10, 22, 10, 43, 19, 123e6, time.UTC), false},
		{"2020-11-25 10:08:32.832969", time.UTC, time.Date(2020, 11, 25, 10, 8, 32, 832969000, time.UTC), false},
		{"2026-03-02 10:00:00", lagos, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false},
		{"2026-03-02T10:00:00", lagos, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false},
		{"2026-03-02-10-00-00", lagos, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false},
		{"2026-03-02 10:00:00+01:00", nil, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false},
		{"", nil, time.Time{}, true},
		{"yesterday", nil, time.Time{}, true},
		{"2026-02-30 10:00:00", lagos, time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := sources.Instant(tt.in, tt.zone)
		if (err != nil) != tt.bad || !got.Equal(tt.want) || (err == nil && got.Location() != time.UTC) {
			t.Errorf("Instant(%q, %v) = %v, %v; want %v (error %v)", tt.in, tt.zone, got, err, tt.want, tt.bad)
		}
	}
	if _, err := sources.Instant("", nil); !errors.Is(err, sources.ErrMissing) {
		t.Errorf("empty time: %v, want ErrMissing", err)
	}
}

func TestLooseStringAndDecode(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{`"abc"`: "abc", `123`: "123", `12.50`: "12.50", `null`: "", ``: ""} {
		if got, err := sources.LooseString(json.RawMessage(raw)); err != nil || got != want {
			t.Errorf("LooseString(%s) = %q, %v; want %q", raw, got, err, want)
		}
	}
	if _, err := sources.LooseString(json.RawMessage(`{}`)); err == nil {
		t.Error("LooseString of an object: no error")
	}
	var v struct {
		N json.Number `json:"n"`
	}
	if err := sources.DecodeObject([]byte(`{"n": 0.1000000000000000055511151231257827}`), &v); err != nil || v.N.String() != "0.1000000000000000055511151231257827" {
		t.Errorf("DecodeObject kept %q, %v: numbers must stay exact", v.N, err)
	}
	for _, bad := range []string{`[1]`, `{"n":1} {"n":2}`, `nope`, ``, "{\"n\":1}\v", "\f{\"n\":1}", "{\"n\":1}\u00a0"} {
		if err := sources.DecodeObject([]byte(bad), &v); err == nil {
			t.Errorf("DecodeObject(%q): no error", bad)
		}
	}
	err := sources.Malformed("pixel", "data.amount", errors.New("not a number"))
	if !errors.Is(err, sources.ErrMalformed) || err.Error() != "pixel: malformed payload: data.amount: not a number" {
		t.Errorf("Malformed = %q", err)
	}
}
