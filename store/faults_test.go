package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// The store's fault suite (issue 12, item 9): a batch or an import whose
// PostgreSQL backend is terminated mid-transaction stores all or nothing,
// and doing it again stores everything once.

// faultStores returns a store on a fresh test schema whose connections
// carry an application_name of their own, the name, and a plain handle on
// the same schema without it (never terminated).
func faultStores(t *testing.T) (*store.Store, string, *sql.DB) {
	t.Helper()
	base := pgtest.URL(t)
	var b [6]byte
	rand.Read(b[:])
	app := "faults_" + hex.EncodeToString(b[:])
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	st, err := store.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return st, app, admin
}

// terminateApp ends every backend of application app; it returns how many.
func terminateApp(t *testing.T, admin *sql.DB, app string) int {
	t.Helper()
	var n int
	if err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// counts are the rows of the three tables a save writes.
func counts(t *testing.T, admin *sql.DB) string {
	t.Helper()
	var p, r, h int
	if err := admin.QueryRow(`SELECT (SELECT count(*) FROM raw_payloads), (SELECT count(*) FROM provider_records),
		(SELECT count(*) FROM record_history)`).Scan(&p, &r, &h); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d payloads, %d records, %d history rows", p, r, h)
}

// TestSaveBatchBackendTerminated: SaveBatch has stored all but the last
// payload of its batch when its backend is terminated (it waits on another
// transaction's insert of that payload, so the moment is certain). The batch
// fails with an error, and nothing of it is stored; saved again, it is all
// stored once.
func TestSaveBatchBackendTerminated(t *testing.T) {
	t.Parallel()
	st, app, admin := faultStores(t)
	ctx := context.Background()
	const n = 50
	batch := make([]store.Parsed, n)
	for i := range batch {
		key := fmt.Sprintf("fault-%03d", i)
		batch[i] = store.Parsed{Payload: payload(key), Records: []reconcile.Record{payment("T"+key, reconcile.StatusSucceeded, int64(100+i), true)}}
	}
	// Another transaction inserts the last payload and holds it uncommitted.
	blocker, err := admin.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := batch[n-1].Payload
	if _, err := blocker.ExecContext(ctx, `INSERT INTO raw_payloads (provider, source, kind, dedup_key, body, doc)
		VALUES ($1, $2, $3, $4, $5, '{}'::jsonb)`, string(last.Provider), string(last.Source), last.Kind, last.DedupKey, last.Body); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := st.SaveBatch(ctx, batch); done <- err }()
	// Wait until the batch waits on that insert: n-1 payloads written.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		var waiting bool
		if err := admin.QueryRow(`SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = $1
			AND wait_event_type = 'Lock' AND backend_xid IS NOT NULL)`, app).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the batch never waited on the held payload")
		}
	}
	if k := terminateApp(t, admin, app); k == 0 {
		t.Fatal("terminated no backend")
	}
	err = <-done
	if err := blocker.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err == nil {
		t.Fatal("SaveBatch whose backend was terminated mid-transaction succeeded")
	}
	t.Logf("SaveBatch of %d payloads, backend terminated before the last: %v", n, err)
	if got := counts(t, admin); got != "0 payloads, 0 records, 0 history rows" {
		t.Fatalf("after the failed batch: %s, want nothing (all or nothing)", got)
	}
	// The pool may still hold other connections of the terminated app:
	// Ping drops dead idle ones, as the next health probe does (a new
	// import process starts with none).
	if err := st.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	saved, dups, err := st.SaveBatch(ctx, batch)
	if err != nil || saved != n || dups != 0 {
		t.Fatalf("SaveBatch again = %d saved, %d dups, %v; want %d, 0, nil", saved, dups, err, n)
	}
	if got, want := counts(t, admin), fmt.Sprintf("%d payloads, %d records, %d history rows", n, n, n); got != want {
		t.Errorf("after saving again: %s, want %s", got, want)
	}
}

// TestImportBackendTerminated: a streaming Import has merged chunks in its
// transaction when its backend is terminated. Adding more or committing
// fails with an error, nothing is stored, and the import done again stores
// every payload once.
func TestImportBackendTerminated(t *testing.T) {
	t.Parallel()
	st, app, admin := faultStores(t)
	ctx := context.Background()
	n := 2*store.ImportChunk + 500
	parsed := func(i int) store.Parsed {
		key := fmt.Sprintf("imp-%06d", i)
		return store.Parsed{Payload: payload(key), Records: []reconcile.Record{payment("T"+key, reconcile.StatusSucceeded, int64(100+i), true)}}
	}
	tests := []struct {
		name string
		// at is how many payloads are added before the backend goes.
		at int
	}{
		{"after two merged chunks", 2*store.ImportChunk + 1},
		{"before the first chunk is merged", 10},
	}
	for _, tt := range tests {
		im, err := st.BeginImport(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var addErr error
		for i := range tt.at {
			if addErr = im.Add(i+1, parsed(i)); addErr != nil {
				break
			}
		}
		if addErr != nil {
			t.Fatalf("%s: Add before the fault: %v", tt.name, addErr)
		}
		// The last chunk handed over may still be merging: the fault
		// strikes in that statement or between statements, whichever
		// comes.
		time.Sleep(50 * time.Millisecond)
		if k := terminateApp(t, admin, app); k == 0 {
			t.Fatalf("%s: terminated no backend", tt.name)
		}
		for i := tt.at; i < n && addErr == nil; i++ {
			addErr = im.Add(i+1, parsed(i))
		}
		_, _, _, err = im.Commit()
		if err == nil {
			t.Fatalf("%s: the import whose backend was terminated committed", tt.name)
		}
		t.Logf("%s: Add: %v; Commit: %v", tt.name, addErr, err)
		im.Rollback()
		if got := counts(t, admin); got != "0 payloads, 0 records, 0 history rows" {
			t.Fatalf("%s: after the failed import: %s, want nothing", tt.name, got)
		}
	}
	im, err := st.BeginImport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := im.Add(i+1, parsed(i)); err != nil {
			t.Fatal(err)
		}
	}
	saved, dups, records, err := im.Commit()
	if err != nil || saved != n || dups != 0 || records != n {
		t.Fatalf("import again = %d saved, %d dups, %d records, %v; want %d, 0, %d, nil", saved, dups, records, err, n, n)
	}
	if got, want := counts(t, admin), fmt.Sprintf("%d payloads, %d records, %d history rows", n, n, n); got != want {
		t.Errorf("after importing again: %s, want %s", got, want)
	}
}
