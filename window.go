package reconcile

import (
	"fmt"
	"time"
)

// Window is the half-open interval [From, To) a run or a pull covers.
type Window struct {
	From time.Time
	To   time.Time
}

// Contains reports whether t lies in [From, To).
func (w Window) Contains(t time.Time) bool {
	return !t.Before(w.From) && t.Before(w.To)
}

// Grow returns the window widened by d on both sides (the look-around window).
func (w Window) Grow(d time.Duration) Window {
	return Window{From: w.From.Add(-d), To: w.To.Add(d)}
}

// String renders the window in RFC 3339.
func (w Window) String() string {
	return w.From.Format(time.RFC3339) + "/" + w.To.Format(time.RFC3339)
}

// Split cuts w into consecutive chunks of at most size (the last may be shorter).
func (w Window) Split(size time.Duration) []Window {
	if size <= 0 || !w.From.Before(w.To) {
		return []Window{w}
	}
	var out []Window
	for from := w.From; from.Before(w.To); from = from.Add(size) {
		to := from.Add(size)
		if to.After(w.To) {
			to = w.To
		}
		out = append(out, Window{From: from, To: to})
	}
	return out
}

// ParseWindow turns the CLI's --from and --to into a Window. Dates
// (YYYY-MM-DD) are whole days in loc, both included: from 00:00 on from to
// 24:00 on to. RFC 3339 instants are taken as they are and mean [from, to).
func ParseWindow(from, to string, loc *time.Location) (Window, error) {
	f, _, err := parseBound(from, loc)
	if err != nil {
		return Window{}, fmt.Errorf("--from: %w", err)
	}
	t, tDate, err := parseBound(to, loc)
	if err != nil {
		return Window{}, fmt.Errorf("--to: %w", err)
	}
	if tDate {
		t = t.AddDate(0, 0, 1)
	}
	if !f.Before(t) {
		return Window{}, fmt.Errorf("--from %s and --to %s make an empty window: --from must come first", from, to)
	}
	return Window{From: f.UTC(), To: t.UTC()}, nil
}

func parseBound(s string, loc *time.Location) (time.Time, bool, error) {
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return d, true, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("%q is neither a date (2026-03-01) nor an RFC 3339 instant (2026-03-01T00:00:00+03:00)", s)
}
