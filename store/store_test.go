package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	return store.New(pgtest.New(t))
}

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t).DB // already up
	tables := func() int {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name <> 'goose_db_version'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := tables(); n != 10 {
		t.Fatalf("after up: %d tables, want 10", n)
	}
	if applied, err := store.MigrateUp(ctx, db); err != nil || len(applied) != 0 {
		t.Fatalf("second up applied %v, err %v; want nothing", applied, err)
	}
	if err := store.MigrateDownTo(ctx, db, 0); err != nil {
		t.Fatal(err)
	}
	if n := tables(); n != 0 {
		t.Fatalf("after down to zero: %d tables, want 0", n)
	}
	st, err := store.MigrationStatus(ctx, db)
	if err != nil || len(st) == 0 || st[0].Applied {
		t.Fatalf("status after down: %+v, %v", st, err)
	}
	if applied, err := store.MigrateUp(ctx, db); err != nil || len(applied) != len(st) {
		t.Fatalf("up again applied %v, err %v", applied, err)
	}
	if n := tables(); n != 10 {
		t.Fatalf("after up again: %d tables, want 10", n)
	}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func payment(tx string, status reconcile.Status, amount int64, known bool) reconcile.Record {
	return reconcile.Record{
		Provider: testprov.KopoKopo, Kind: reconcile.KindPayment, TxID: tx, ProviderRef: tx,
		Account: "K555", Amount: reconcile.Money{Minor: amount, Currency: "KES"}, AmountKnown: known,
		Status: status, ProviderStatus: string(status), OccurredAt: t0, Source: reconcile.SourceWebhook,
	}
}

func payload(key string) reconcile.RawPayload {
	return reconcile.RawPayload{Provider: testprov.KopoKopo, Source: reconcile.SourceWebhook,
		Kind: "buygoods_transaction_received", DedupKey: key, Body: []byte(`{"id":"` + key + `"}`)}
}

type storedRecord struct {
	Status       string
	Amount       *int64
	MerchantRef  string
	History      int
	RawPayloadID int64
}

func stored(t *testing.T, s *store.Store, tx string) storedRecord {
	t.Helper()
	var r storedRecord
	err := s.DB().QueryRow(`SELECT status, amount_minor, merchant_ref, raw_payload_id,
		(SELECT count(*) FROM record_history h WHERE h.record_id = r.id)
		FROM provider_records r WHERE tx_id = $1`, tx).Scan(&r.Status, &r.Amount, &r.MerchantRef, &r.RawPayloadID, &r.History)
	if err != nil {
		t.Fatalf("reading record %s: %v", tx, err)
	}
	return r
}

func TestSaveDuplicatePayload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	recs := []reconcile.Record{payment("OJM6Q1W84K", reconcile.StatusSucceeded, 50000, true)}
	dup, err := s.Save(ctx, payload("ev-1"), recs)
	if err != nil || dup {
		t.Fatalf("first save: dup %v, err %v", dup, err)
	}
	if recs[0].RawPayloadID == 0 {
		t.Fatal("RawPayloadID not set on the record")
	}
	dup, err = s.Save(ctx, payload("ev-1"), []reconcile.Record{payment("OJM6Q1W84K", reconcile.StatusSucceeded, 50000, true)})
	if err != nil || !dup {
		t.Fatalf("second save: dup %v, err %v; want dup", dup, err)
	}
	if r := stored(t, s, "OJM6Q1W84K"); r.History != 1 || r.RawPayloadID != recs[0].RawPayloadID {
		t.Fatalf("after duplicate: %+v, want 1 history row and the first payload", r)
	}
}

func TestSavePrecedence(t *testing.T) {
	t.Parallel()
	type sighting struct {
		status reconcile.Status
		amount int64
		known  bool
		ref    string
	}
	tests := []struct {
		name       string
		sightings  []sighting
		wantStatus reconcile.Status
		wantAmount *int64
		wantRef    string
	}{
		{"pending then succeeded", []sighting{{reconcile.StatusPending, 100, true, ""}, {reconcile.StatusSucceeded, 100, true, ""}},
			reconcile.StatusSucceeded, ptr(100), ""},
		{"succeeded then late pending", []sighting{{reconcile.StatusSucceeded, 100, true, "A1"}, {reconcile.StatusPending, 90, true, "B2"}},
			reconcile.StatusSucceeded, ptr(100), "A1"},
		{"reversal overrides success", []sighting{{reconcile.StatusSucceeded, 100, true, ""}, {reconcile.StatusReversed, 100, true, ""}},
			reconcile.StatusReversed, ptr(100), ""},
		{"status-only sighting keeps amount", []sighting{{reconcile.StatusPending, 100, true, ""}, {reconcile.StatusSucceeded, 0, false, ""}},
			reconcile.StatusSucceeded, ptr(100), ""},
		{"losing sighting fills missing amount", []sighting{{reconcile.StatusSucceeded, 0, false, ""}, {reconcile.StatusPending, 250, true, "M9"}},
			reconcile.StatusSucceeded, ptr(250), "M9"},
		{"amount never reported", []sighting{{reconcile.StatusPending, 0, false, ""}, {reconcile.StatusFailed, 0, false, ""}},
			reconcile.StatusFailed, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := newStore(t)
			for i, sg := range tt.sightings {
				r := payment("TX1", sg.status, sg.amount, sg.known)
				r.MerchantRef = sg.ref
				if _, err := s.Save(ctx, payload(fmt.Sprint("ev-", i)), []reconcile.Record{r}); err != nil {
					t.Fatal(err)
				}
			}
			got := stored(t, s, "TX1")
			if got.Status != string(tt.wantStatus) || !slices.Equal(opt(got.Amount), opt(tt.wantAmount)) ||
				got.MerchantRef != tt.wantRef || got.History != len(tt.sightings) {
				t.Fatalf("got %+v (amount %v), want status %s amount %v ref %q and %d history rows",
					got, opt(got.Amount), tt.wantStatus, opt(tt.wantAmount), tt.wantRef, len(tt.sightings))
			}
		})
	}
}

func ptr(v int64) *int64 { return &v }

func opt(p *int64) []int64 {
	if p == nil {
		return nil
	}
	return []int64{*p}
}

func TestSaveConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	const workers = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	dups := make(chan bool, workers)
	for i := range workers {
		wg.Add(2)
		// The same webhook delivered many times at once.
		go func() {
			defer wg.Done()
			dup, err := s.Save(ctx, payload("same"), []reconcile.Record{payment("SAME", reconcile.StatusSucceeded, 100, true)})
			errs <- err
			dups <- dup
		}()
		// Different payloads carrying the same two transactions in opposite
		// orders, with statuses racing: no deadlock, one row each.
		go func() {
			defer wg.Done()
			st := []reconcile.Status{reconcile.StatusPending, reconcile.StatusSucceeded}[i%2]
			recs := []reconcile.Record{payment("X", st, 100, true), payment("Y", st, 100, true)}
			if i%2 == 1 {
				recs[0], recs[1] = recs[1], recs[0]
			}
			_, err := s.Save(ctx, payload(fmt.Sprint("poll-", i)), recs)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	close(dups)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	fresh := 0
	for d := range dups {
		if !d {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d saves of one payload were not duplicates, want 1", fresh)
	}
	var records, payloads int
	s.DB().QueryRow("SELECT count(*) FROM provider_records").Scan(&records)
	s.DB().QueryRow("SELECT count(*) FROM raw_payloads").Scan(&payloads)
	if records != 3 || payloads != workers+1 {
		t.Fatalf("%d records and %d payloads, want 3 and %d", records, payloads, workers+1)
	}
	for _, tx := range []string{"X", "Y"} {
		if r := stored(t, s, tx); r.Status != "succeeded" || r.History != workers {
			t.Fatalf("%s: %+v, want succeeded with %d history rows", tx, r, workers)
		}
	}
}

func TestStreamsOrderAndFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	// Inserted out of time order; two share an instant so id breaks the tie.
	times := []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour, time.Hour, 30 * time.Hour, -time.Hour}
	for i, d := range times {
		prov := testprov.KopoKopo
		if i == 3 {
			prov = testprov.Kora
		}
		if _, err := s.DB().Exec(`INSERT INTO ledger_entries (provider, reference, amount_minor, currency, status, occurred_at)
			VALUES ($1, $2, 100, 'KES', 'paid', $3)`, prov, fmt.Sprint("L", i), t0.Add(d)); err != nil {
			t.Fatal(err)
		}
		r := payment(fmt.Sprint("T", i), reconcile.StatusSucceeded, 100, i != 2)
		r.Provider = prov
		r.OccurredAt = t0.Add(d)
		if _, err := s.Save(ctx, payload(fmt.Sprint("p", i)), []reconcile.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	day := reconcile.Window{From: t0, To: t0.Add(24 * time.Hour)}
	tests := []struct {
		name      string
		providers []reconcile.Provider
		want      []string
	}{
		{"all providers", nil, []string{"1", "3", "2", "0"}},
		{"kopokopo only", []reconcile.Provider{testprov.KopoKopo}, []string{"1", "2", "0"}},
		{"kora only", []reconcile.Provider{testprov.Kora}, []string{"3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := store.Filter{Window: day, Providers: tt.providers}
			var ledger, records []string
			for e, err := range s.LedgerEntries(ctx, f) {
				if err != nil {
					t.Fatal(err)
				}
				ledger = append(ledger, e.Reference[1:])
			}
			for r, err := range s.Records(ctx, f) {
				if err != nil {
					t.Fatal(err)
				}
				if r.AmountKnown != (r.TxID != "T2") || !r.OccurredAt.Equal(t0.Add(times[r.TxID[1]-'0'])) ||
					r.RawPayloadID == 0 || r.Currency() != "KES" {
					t.Errorf("record read back wrong: %+v", r)
				}
				records = append(records, r.TxID[1:])
			}
			if !slices.Equal(ledger, tt.want) || !slices.Equal(records, tt.want) {
				t.Fatalf("ledger %v, records %v; want %v", ledger, records, tt.want)
			}
		})
	}
	// Stopping early releases the rows.
	for range s.LedgerEntries(ctx, store.Filter{Window: day}) {
		break
	}
}

func TestTryLockExclusive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Two processes on the same store: two handles on one schema.
	url := pgtest.URL(t)
	a, b := store.New(sqlx.MustOpen("postgres", url)), store.New(sqlx.MustOpen("postgres", url))
	t.Cleanup(func() { a.Close(); b.Close() })
	key := "run " + t.Name() + time.Now().String()
	unlock, ok, err := a.TryLock(ctx, key)
	if err != nil || !ok {
		t.Fatalf("first lock: ok %v, err %v", ok, err)
	}
	if _, ok, err := b.TryLock(ctx, key); err != nil || ok {
		t.Fatalf("second lock from another session: ok %v, err %v; want refused", ok, err)
	}
	if _, ok, err := a.TryLock(ctx, key); err != nil || ok {
		t.Fatalf("second lock from the same store: ok %v, err %v; want refused", ok, err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	unlock, ok, err = b.TryLock(ctx, key)
	if err != nil || !ok {
		t.Fatalf("lock after unlock: ok %v, err %v", ok, err)
	}
	// Another store in the same database (another schema) is not blocked.
	other := newStore(t)
	otherUnlock, ok, err := other.TryLock(ctx, key)
	if err != nil || !ok {
		t.Fatalf("the same key in another schema: ok %v, err %v; want taken", ok, err)
	}
	if err := errors.Join(otherUnlock(), unlock()); err != nil {
		t.Fatal(err)
	}
}

func TestRunsAndCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	w := reconcile.Window{From: t0, To: t0.Add(24 * time.Hour)}
	// A run left "running" under the same lock by a process that died is
	// recorded as abandoned when the next one starts; another lock's is not.
	dead, err := s.StartRun(ctx, "run", "run:w:kora", w, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.StartRun(ctx, "run", "run:w:pixel", w, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.StartRun(ctx, "run", "run:w:kora", w, map[string]string{"provider": "kora"})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	if err := s.DB().Select(&states, `SELECT outcome || ':' || error FROM runs WHERE id IN ($1, $2, $3) ORDER BY id`, dead, other, id); err != nil {
		t.Fatal(err)
	}
	if want := []string{"failed:" + store.AbandonedRun, "running:", "running:"}; !slices.Equal(states, want) {
		t.Fatalf("runs after a restart under the same lock: %q, want %q", states, want)
	}
	if err := s.FinishRun(ctx, id, store.OutcomeFailed, map[string]int{"matches": 3}, errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	var outcome, params, counts, msg string
	if err := s.DB().QueryRow(`SELECT outcome, params::text, counts::text, error FROM runs WHERE id = $1 AND finished_at IS NOT NULL`, id).
		Scan(&outcome, &params, &counts, &msg); err != nil {
		t.Fatal(err)
	}
	if outcome != "failed" || params != `{"lock": "run:w:kora", "provider": "kora"}` || counts != `{"matches": 3}` || msg != "boom" {
		t.Fatalf("run row: %s %s %s %s", outcome, params, counts, msg)
	}
	if err := s.FinishRun(ctx, id+100, store.OutcomeSucceeded, nil, nil); err == nil {
		t.Fatal("finishing an unknown run: want an error")
	}

	if done, err := s.ChunkDone(ctx, "kopokopo", "till:555", w); err != nil || done {
		t.Fatalf("fresh chunk: done %v, err %v", done, err)
	}
	for range 2 {
		if err := s.MarkChunkDone(ctx, "kopokopo", "till:555", w, 42); err != nil {
			t.Fatal(err)
		}
	}
	if done, err := s.ChunkDone(ctx, "kopokopo", "till:555", w); err != nil || !done {
		t.Fatalf("marked chunk: done %v, err %v", done, err)
	}
	if done, _ := s.ChunkDone(ctx, "kopokopo", "till:556", w); done {
		t.Fatal("another scope reported done")
	}
}

// TestSaveRepeatedTransaction: one payload carrying the same transaction
// twice (a poll listing a payment and then its final status) stores both
// sightings in order, in one transaction; a payload with no records is
// stored raw.
func TestSaveRepeatedTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	recs := []reconcile.Record{
		payment("R1", reconcile.StatusPending, 0, false),
		payment("R2", reconcile.StatusSucceeded, 700, true),
		payment("R1", reconcile.StatusSucceeded, 300, true),
		payment("R1", reconcile.StatusFailed, 0, false),
	}
	if dup, err := s.Save(ctx, payload("poll-1"), recs); err != nil || dup {
		t.Fatalf("Save = dup %v, err %v", dup, err)
	}
	for i, r := range recs {
		if r.RawPayloadID == 0 {
			t.Errorf("record %d: RawPayloadID not set", i)
		}
	}
	// succeeded outranks the later failed sighting; every sighting is history.
	if r := stored(t, s, "R1"); r.Status != "succeeded" || r.Amount == nil || *r.Amount != 300 || r.History != 3 {
		t.Fatalf("R1 = %+v, want succeeded 300 with 3 history rows", r)
	}
	if r := stored(t, s, "R2"); r.Status != "succeeded" || r.History != 1 {
		t.Fatalf("R2 = %+v", r)
	}
	if dup, err := s.Save(ctx, payload("poll-1"), recs); err != nil || !dup {
		t.Fatalf("second Save = dup %v, err %v; want dup", dup, err)
	}
	if r := stored(t, s, "R1"); r.History != 3 {
		t.Fatalf("duplicate payload added history: %+v", r)
	}
	if dup, err := s.Save(ctx, payload("customer-created"), nil); err != nil || dup {
		t.Fatalf("Save without records = dup %v, err %v", dup, err)
	}
	var n int
	s.DB().Get(&n, `SELECT count(*) FROM raw_payloads`)
	if n != 2 {
		t.Fatalf("%d payloads stored, want 2", n)
	}
}
