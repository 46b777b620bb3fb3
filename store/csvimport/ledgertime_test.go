package csvimport_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile/store/csvimport"
)

// TestLedgerTimesTruncated checks that sub-microsecond ledger times are
// truncated at import, never rounded (PostgreSQL rounds to the
// microsecond), so that an item stays in its day (issue 13, item 9).
func TestLedgerTimesTruncated(t *testing.T) {
	t.Parallel()
	nairobi, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-03-02 23:59:59.9999999", time.Date(2026, 3, 2, 23, 59, 59, 999999000, nairobi)},
		{"2026-03-02 23:59:59.999999999", time.Date(2026, 3, 2, 23, 59, 59, 999999000, nairobi)},
		{"2026-03-02T23:59:59.9999995+03:00", time.Date(2026, 3, 2, 23, 59, 59, 999999000, nairobi)},
		{"2026-03-02T20:59:59.9999999Z", time.Date(2026, 3, 2, 23, 59, 59, 999999000, nairobi)},
		{"2026-03-02 10:00:00.1234564", time.Date(2026, 3, 2, 10, 0, 0, 123456000, nairobi)},
		{"2026-03-02 10:00:00.123456", time.Date(2026, 3, 2, 10, 0, 0, 123456000, nairobi)},
		{"2026-03-02 10:00:00", time.Date(2026, 3, 2, 10, 0, 0, 0, nairobi)},
	}
	for _, tt := range tests {
		got, err := csvimport.ParseTime(tt.in, nairobi)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("%s: %s, want %s (UTC)", tt.in, got.Format(time.RFC3339Nano), tt.want.UTC().Format(time.RFC3339Nano))
		}
		if d := got.In(nairobi).Day(); d != tt.want.Day() {
			t.Errorf("%s lands on day %d", tt.in, d)
		}
	}

	// Through the reader, as `reconcile ledger import` reads the file.
	csv := "reference,provider,amount,currency,status,occurred_at\nA1,kopokopo,10.00,KES,paid,2026-03-02 23:59:59.9999999\n"
	r, err := csvimport.NewLedgerReader(strings.NewReader(csv), "ledger.csv", nairobi)
	if err != nil {
		t.Fatal(err)
	}
	e, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 2, 20, 59, 59, 999999000, time.UTC); !e.OccurredAt.Equal(want) {
		t.Errorf("entry at %s, want %s", e.OccurredAt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
}
