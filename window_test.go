package reconcile

import (
	"testing"
	"time"
)

func TestParseWindow(t *testing.T) {
	t.Parallel()
	nairobi, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from, to         string
		wantFrom, wantTo string
		wantErr          bool
	}{
		// Dates are whole days in the business zone, both included.
		{from: "2026-03-01", to: "2026-03-31", wantFrom: "2026-02-28T21:00:00Z", wantTo: "2026-03-31T21:00:00Z"},
		{from: "2026-03-01", to: "2026-03-01", wantFrom: "2026-02-28T21:00:00Z", wantTo: "2026-03-01T21:00:00Z"},
		// Instants are half-open [from, to).
		{from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z", wantFrom: "2026-03-01T00:00:00Z", wantTo: "2026-03-02T00:00:00Z"},
		{from: "2026-03-01T10:00:00+03:00", to: "2026-03-01", wantFrom: "2026-03-01T07:00:00Z", wantTo: "2026-03-01T21:00:00Z"},
		{from: "2026-03-02", to: "2026-03-01", wantErr: true},
		{from: "2026-03-01T00:00:00Z", to: "2026-03-01T00:00:00Z", wantErr: true},
		{from: "1 March", to: "2026-03-01", wantErr: true},
		{from: "2026-02-30", to: "2026-03-01", wantErr: true},
	}
	for _, tt := range tests {
		w, err := ParseWindow(tt.from, tt.to, nairobi)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseWindow(%s, %s) = %v, want error", tt.from, tt.to, w)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseWindow(%s, %s): %v", tt.from, tt.to, err)
			continue
		}
		if got := w.From.Format(time.RFC3339); got != tt.wantFrom {
			t.Errorf("ParseWindow(%s, %s).From = %s, want %s", tt.from, tt.to, got, tt.wantFrom)
		}
		if got := w.To.Format(time.RFC3339); got != tt.wantTo {
			t.Errorf("ParseWindow(%s, %s).To = %s, want %s", tt.from, tt.to, got, tt.wantTo)
		}
	}
}

func TestWindowContainsAndSplit(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	w := Window{From: from, To: from.Add(50 * time.Hour)}
	if !w.Contains(w.From) || w.Contains(w.To) || w.Contains(w.From.Add(-time.Nanosecond)) {
		t.Error("Contains must be half-open [From, To)")
	}
	chunks := w.Split(24 * time.Hour)
	if len(chunks) != 3 || chunks[0].To != chunks[1].From || chunks[2].To != w.To || chunks[2].From != from.Add(48*time.Hour) {
		t.Errorf("Split = %v", chunks)
	}
	g := w.Grow(time.Hour)
	if g.From != from.Add(-time.Hour) || g.To != w.To.Add(time.Hour) {
		t.Errorf("Grow = %v", g)
	}
}
