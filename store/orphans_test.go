package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/store"
)

// orphans counts the records and history rows that point to no row: with
// no foreign keys on them (migration 00007), the writers must leave none.
func orphans(t *testing.T, s *store.Store) int {
	t.Helper()
	var n int
	if err := s.DB().Get(&n, `SELECT
		(SELECT count(*) FROM provider_records r WHERE r.raw_payload_id IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM raw_payloads p WHERE p.id = r.raw_payload_id)) +
		(SELECT count(*) FROM record_history h WHERE NOT EXISTS (SELECT 1 FROM provider_records r WHERE r.id = h.record_id)
			OR (h.raw_payload_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM raw_payloads p WHERE p.id = h.raw_payload_id)))`); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNoOrphanSightings: Save, SaveBatch, SaveGroup and Import, over the
// same transactions, leave every record and history row pointing to its
// payload and record.
func TestNoOrphanSightings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	batch := mixedBatch(11, store.ImportChunk+500)
	third := len(batch) / 3
	for _, p := range batch[:third] {
		if _, err := s.Save(ctx, p.Payload, p.Records); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.SaveBatch(ctx, batch[third:2*third]); err != nil {
		t.Fatal(err)
	}
	for _, p := range batch[2*third : 2*third+50] {
		if s.Groupable(p.Records) {
			if _, err := s.SaveGroup(ctx, []reconcile.RawPayload{p.Payload}, [][]reconcile.Record{p.Records}); err != nil {
				// As the webhook receiver does: alone, with Save's leniency.
				if _, err := s.Save(ctx, p.Payload, p.Records); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if _, _, _, err := importAll(t, s, batch); err != nil {
		t.Fatal(err)
	}
	var records, history int
	s.DB().Get(&records, `SELECT count(*) FROM provider_records`)
	s.DB().Get(&history, `SELECT count(*) FROM record_history`)
	if n := orphans(t, s); n != 0 || records == 0 || history == 0 {
		t.Errorf("%d orphan rows among %d records and %d history rows", n, records, history)
	}
}

// TestImportRacesAWebhook: a payload and a transaction stored by someone
// else (a webhook) between an import's look at the store and its COPY —
// here, inserted by a transaction that commits while the COPY waits on it
// — make the COPY fail on the unique key; the import rolls that back and
// takes the staged way, so the payload is a duplicate and the sighting is
// merged into the record, as if the webhook had come first.
func TestImportRacesAWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, race := range []string{"payload", "record"} {
		t.Run(race, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			var batch []store.Parsed
			for i := range 20 {
				p := payload(fmt.Sprint("ev-", i))
				p.Source = reconcile.SourceImport
				batch = append(batch, store.Parsed{Payload: p, Records: []reconcile.Record{payment(fmt.Sprint("TX", i), reconcile.StatusSucceeded, 100, true)}})
			}
			other, err := s.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Rollback()
			if _, err := other.Exec(`INSERT INTO raw_payloads (provider, source, kind, dedup_key, body, doc)
				VALUES ('kopokopo', 'webhook', 'k', $1, '{}', '{}')`, map[string]string{"payload": "ev-7", "record": "webhook-1"}[race]); err != nil {
				t.Fatal(err)
			}
			if _, err := other.Exec(`INSERT INTO provider_records (provider, kind, tx_id, currency, amount_minor, status, occurred_at, source, raw_payload_id)
				VALUES ('kopokopo', 'payment', 'TX7', 'KES', 100, 'reversed', $1, 'webhook', currval(pg_get_serial_sequence('raw_payloads', 'id')))`, t0); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			var saved, dups int
			go func() {
				var err error
				saved, dups, _, err = importAll(t, s, batch)
				done <- err
			}()
			// Commit once the import waits on the uncommitted rows.
			for waited := 0; ; waited++ {
				var n int
				s.DB().Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)
				if n > 0 {
					break
				}
				if waited > 500 {
					t.Fatal("the import never waited on the other transaction")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := other.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			wantSaved := 20
			if race == "payload" {
				wantSaved = 19 // ev-7 was the webhook's
			}
			if saved != wantSaved || dups != 20-wantSaved {
				t.Errorf("saved %d, dups %d; want %d and %d", saved, dups, wantSaved, 20-wantSaved)
			}
			// The webhook's TX7 (written raw: no history row) keeps its
			// status, reversed; the import's sighting is merged into it,
			// unless it came with the duplicate payload.
			wantHistory := map[string]int{"payload": 0, "record": 1}[race]
			if r := stored(t, s, "TX7"); r.Status != string(reconcile.StatusReversed) || r.History != wantHistory {
				t.Errorf("TX7 = %+v, want reversed with %d history rows", r, wantHistory)
			}
			var n int
			s.DB().Get(&n, `SELECT count(*) FROM provider_records`)
			if n != 20 || orphans(t, s) != 0 {
				t.Errorf("%d records (want 20), %d orphans", n, orphans(t, s))
			}
		})
	}
}
