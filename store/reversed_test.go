package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/store"
)

// TestReversedAtFirstSeen (issue 14, item 2): a payment stored as not
// reversed and later sighted reversed (a polled transaction, now Reversed)
// keeps the receipt time of that sighting as Record.ReversedAt, and
// LateReversals finds it by that time even when the payment is older; a
// payment reversed at first sight, or never, has none; a later reversed
// sighting does not move it. Save and SaveGroup store the same; an import
// (a file of old payloads, loaded whenever) dates no reversal.
func TestReversedAtFirstSeen(t *testing.T) {
	t.Parallel()
	day := func(d int) time.Time { return t0.AddDate(0, 0, d) }
	type sighting struct {
		status reconcile.Status
		at     int // days after t0 the payload was received
	}
	tests := []struct {
		name      string
		sightings []sighting
		want      int // days after t0; -1: none
	}{
		{"succeeded then reversed", []sighting{{reconcile.StatusSucceeded, 0}, {reconcile.StatusReversed, 2}}, 2},
		{"reversed twice keeps the first", []sighting{{reconcile.StatusSucceeded, 0}, {reconcile.StatusReversed, 2}, {reconcile.StatusReversed, 3}}, 2},
		{"pending then reversed", []sighting{{reconcile.StatusPending, 0}, {reconcile.StatusReversed, 1}}, 1},
		{"reversed at first sight", []sighting{{reconcile.StatusReversed, 1}, {reconcile.StatusSucceeded, 2}}, -1},
		{"never reversed", []sighting{{reconcile.StatusPending, 0}, {reconcile.StatusSucceeded, 1}}, -1},
	}
	type writer func(t *testing.T, s *store.Store, p reconcile.RawPayload, r reconcile.Record) (dates bool)
	writers := map[string]writer{
		"Save": func(t *testing.T, s *store.Store, p reconcile.RawPayload, r reconcile.Record) bool {
			if _, err := s.Save(context.Background(), p, []reconcile.Record{r}); err != nil {
				t.Fatal(err)
			}
			return true
		},
		"SaveGroup": func(t *testing.T, s *store.Store, p reconcile.RawPayload, r reconcile.Record) bool {
			other := payload(p.DedupKey + "-other")
			other.ReceivedAt = p.ReceivedAt
			if _, err := s.SaveGroup(context.Background(), []reconcile.RawPayload{p, other},
				[][]reconcile.Record{{r}, {payment("OTHER-"+p.DedupKey, reconcile.StatusSucceeded, 1, true)}}); err != nil {
				t.Fatal(err)
			}
			return true
		},
		"Import": func(t *testing.T, s *store.Store, p reconcile.RawPayload, r reconcile.Record) bool {
			p.Source, r.Source = reconcile.SourceImport, reconcile.SourceImport
			if _, _, _, err := importAll(t, s, []store.Parsed{{Payload: p, Records: []reconcile.Record{r}}}); err != nil {
				t.Fatal(err)
			}
			return false
		},
	}
	for wname, write := range writers {
		for _, tt := range tests {
			t.Run(wname+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				s := newStore(t)
				dates := false
				for i, sg := range tt.sightings {
					p := payload(fmt.Sprint("ev-", i))
					p.ReceivedAt = day(sg.at)
					dates = write(t, s, p, payment("TX1", sg.status, 50000, true))
				}
				var got reconcile.Record
				for r, err := range s.Records(ctx, store.Filter{Window: reconcile.Window{From: t0, To: day(1)}}) {
					if err != nil {
						t.Fatal(err)
					}
					if r.TxID == "TX1" {
						got = r
					}
				}
				var late []string
				for r, err := range s.LateReversals(ctx, store.Filter{Window: reconcile.Window{From: day(1), To: day(10)}}) {
					if err != nil {
						t.Fatal(err)
					}
					late = append(late, r.TxID+"@"+r.ReversedAt.Format(time.DateOnly))
				}
				if tt.want < 0 || !dates {
					if !got.ReversedAt.IsZero() || len(late) != 0 {
						t.Errorf("ReversedAt %v, late reversals %v; want none", got.ReversedAt, late)
					}
					return
				}
				if !got.ReversedAt.Equal(day(tt.want)) {
					t.Errorf("ReversedAt %v, want %v", got.ReversedAt, day(tt.want))
				}
				if want := "TX1@" + day(tt.want).Format(time.DateOnly); len(late) != 1 || late[0] != want {
					t.Errorf("late reversals %v, want [%s]", late, want)
				}
			})
		}
	}
}
