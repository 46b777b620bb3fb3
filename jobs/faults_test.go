package jobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/reports"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// The fault suite of the jobs (issue 12, item 9): a run or a pull whose
// PostgreSQL backends are terminated mid-way fails clearly or retries,
// leaves nothing half written, and gives, run again, what an uninterrupted
// one gives.

// faultStore opens a store on a fresh test schema whose connections carry
// an application_name of their own, by which pg_stat_activity tells them
// from every other test's, and returns it with a handle on the same schema
// without that name (whose backends are never terminated).
func faultStore(t *testing.T) (st *store.Store, app string, admin *store.Store) {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	app = "faults_" + hex.EncodeToString(b[:])
	base := pgtest.URL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	if st, err = store.Open(ctx, u.String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if admin, err = store.Open(ctx, base); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return st, app, admin
}

// terminate ends the backends of application app that match where (an SQL
// condition over pg_stat_activity) and returns how many it ended.
func terminate(t *testing.T, admin *store.Store, app, where string) int {
	t.Helper()
	var n int
	if err := admin.DB().QueryRowContext(context.Background(), `SELECT count(pg_terminate_backend(pid))
		FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid() AND (`+where+`)`, app).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRunBackendTerminated: mid-run, in a streaming read, PostgreSQL ends
// the backends the run reads on (or every backend
// it has, its lock's too). The run must either get over it, writing the
// reports of an uninterrupted run (a read that had returned no row may be
// sent again: database/sql does so), or fail with an error saying what
// failed, publish no report and leave no work directory, and record itself
// as failed; then a second run into the same directory must write the CSVs
// of a run that was never interrupted, byte for byte. Losing the lock's
// backend must always fail the run.
func TestRunBackendTerminated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, where string
		// mayRetry: the run may get over the fault (a query that has
		// returned no row is sent again on a new connection).
		mayRetry bool
		wantErr  string
	}{
		{"the reading backends", `query LIKE 'SELECT concat(%'`, true, "run: reading"},
		{"every backend of the run, its lock's too", `true`, false, "lost the run lock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, app, admin := faultStore(t)
			ctx := context.Background()
			const n = 15_000
			if _, err := st.DB().ExecContext(ctx, strings.ReplaceAll(benchSeedSQL, "{{N}}", strconv.Itoa(n))); err != nil {
				t.Fatalf("seeding: %v", err)
			}
			nairobi, err := time.LoadLocation("Africa/Nairobi")
			if err != nil {
				t.Fatal(err)
			}
			w, err := reconcile.ParseWindow("2026-03-01", "2026-03-30", nairobi)
			if err != nil {
				t.Fatal(err)
			}
			cfg := RunConfig{Window: w, Zone: nairobi, Formats: reports.FormatCSV,
				Providers: []reconcile.Provider{testprov.KopoKopo}, HeuristicProviders: []reconcile.Provider{testprov.KopoKopo}}
			control := cfg
			control.OutDir = t.TempDir()
			start := time.Now()
			if _, err := Run(ctx, st, control); err != nil {
				t.Fatalf("uninterrupted run: %v", err)
			}
			took := time.Since(start)

			faulted := cfg
			faulted.OutDir = t.TempDir()
			// Hold the ledger locked, so that the run, once it has taken
			// its lock, recorded itself and created its work directory,
			// waits in its first streaming read (the records of the
			// settlement look-back, which read the ledger for a currency;
			// pg_stat_activity shows the start of the query only); then
			// terminate, and let go.
			hold, err := admin.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := hold.ExecContext(ctx, `LOCK TABLE ledger_entries IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := Run(ctx, st, faulted); done <- err }()
			var killed atomic.Int64
			for deadline := time.Now().Add(15 * time.Second); killed.Load() == 0 && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
				var waiting bool
				if err := admin.DB().GetContext(ctx, &waiting, `SELECT EXISTS (SELECT FROM pg_stat_activity
					WHERE application_name = $1 AND wait_event_type = 'Lock' AND query LIKE 'SELECT concat(%')`, app); err != nil {
					t.Fatal(err)
				}
				if waiting {
					killed.Store(int64(terminate(t, admin, app, tt.where)))
				}
			}
			if err := hold.Rollback(); err != nil {
				t.Fatal(err)
			}
			err = <-done
			if killed.Load() == 0 {
				t.Fatalf("no backend was terminated mid-run (run took %s uninterrupted; err %v)", took, err)
			}
			switch {
			case err == nil && tt.mayRetry:
				// The query had returned no row yet: database/sql sent it
				// again on a new connection. The reports must be the
				// uninterrupted run's.
				t.Logf("run of %d × %d rows (%s uninterrupted): %d backend(s) terminated in its read: retried transparently", n, n, took.Round(time.Millisecond), killed.Load())
			case err == nil:
				t.Fatalf("the run whose backends (%d) were terminated succeeded", killed.Load())
			default:
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not say what failed", err)
				}
				t.Logf("run of %d × %d rows (%s uninterrupted): %d backend(s) terminated: %v", n, n, took.Round(time.Millisecond), killed.Load(), err)
				if entries, _ := os.ReadDir(faulted.OutDir); len(entries) > 0 {
					t.Errorf("the failed run left %q in --out", entries[0].Name())
				}
				var outcome string
				if err := st.DB().GetContext(ctx, &outcome, `SELECT outcome FROM runs WHERE job = 'run' ORDER BY id DESC LIMIT 1`); err != nil {
					t.Fatal(err)
				}
				if outcome != store.OutcomeFailed {
					t.Errorf("the failed run is recorded %q, want %q", outcome, store.OutcomeFailed)
				}
				if _, err := Run(ctx, st, faulted); err != nil {
					t.Fatalf("re-run after the fault: %v", err)
				}
			}
			for _, name := range reports.FormatCSV.Files() {
				want, err := os.ReadFile(filepath.Join(control.OutDir, name))
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(filepath.Join(faulted.OutDir, name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s after the fault (%d bytes) differs from the uninterrupted run's (%d bytes)", name, len(got), len(want))
				}
			}
		})
	}
}

// TestPullBackendTerminated: mid-pull, after some of the window's chunks
// are stored, PostgreSQL ends every backend the pull's store holds. The
// pull either gets over it (the pool opens new connections) or fails
// saying so; pulling again completes the window, and the store then holds
// exactly what an uninterrupted pull of the same simulator stores: every
// transaction once, every payload once.
func TestPullBackendTerminated(t *testing.T) {
	t.Parallel()
	const id, secret = "faults-client", "faults-secret"
	newSim := func() *kopokopo.Simulator {
		return kopokopo.NewSimulator(kopokopo.SimConfig{Seed: 23, ClientID: id, ClientSecret: secret, APIKey: "k", PerHour: 4})
	}
	nairobi, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		t.Fatal(err)
	}
	w := reconcile.Window{From: time.Date(2026, 3, 2, 0, 0, 0, 0, nairobi), To: time.Date(2026, 3, 9, 0, 0, 0, 0, nairobi)}
	now := func() time.Time { return time.Date(2026, 3, 10, 2, 0, 0, 0, nairobi) }
	pull := func(t *testing.T, st *store.Store, h http.Handler) (sources.PullStats, error) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		client, err := kopokopo.New(kopokopo.Config{
			BaseURL: srv.URL, ClientID: id, ClientSecret: secret, RateLimit: 1000, Burst: 10,
			PollInterval: time.Millisecond, Retry: sources.RetryPolicy{Base: time.Millisecond, Max: 10 * time.Millisecond, MaxRetries: 2},
		})
		if err != nil {
			t.Fatal(err)
		}
		p := kopokopo.Puller{Client: client}
		return Pull(context.Background(), st, sources.PullJob{Provider: testprov.KopoKopo, Scope: p.Scope(), Puller: p,
			Sink: st, Checkpoints: st, Now: now}, w)
	}
	contents := func(t *testing.T, st *store.Store) (payloads, records, history int, txs string) {
		t.Helper()
		if err := st.DB().QueryRowContext(context.Background(), `SELECT (SELECT count(*) FROM raw_payloads),
			(SELECT count(*) FROM provider_records), (SELECT count(*) FROM record_history),
			(SELECT coalesce(string_agg(kind || ' ' || tx_id || ' ' || status || ' ' || coalesce(amount_minor::text, '-'), ',' ORDER BY kind, tx_id), '') FROM provider_records)`).
			Scan(&payloads, &records, &history, &txs); err != nil {
			t.Fatal(err)
		}
		return
	}

	// The uninterrupted pull, from a simulator of its own.
	controlSim := newSim()
	t.Cleanup(func() { controlSim.Close() })
	controlStore := store.New(pgtest.New(t))
	if _, err := pull(t, controlStore, controlSim); err != nil {
		t.Fatalf("uninterrupted pull: %v", err)
	}
	wantP, wantR, wantH, wantTx := contents(t, controlStore)
	if wantR == 0 {
		t.Fatal("the simulator served nothing: the test proves nothing")
	}

	st, app, admin := faultStore(t)
	sim := newSim()
	t.Cleanup(func() { sim.Close() })
	// Once some chunks are stored, every backend of the pull's store is
	// terminated before the simulator answers the next request.
	var requests, killed atomic.Int64
	var stored atomic.Int64
	schema := schemaOf(t, st)
	faulty := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if killed.Load() == 0 {
			var n int64
			if err := admin.DB().GetContext(r.Context(), &n, `SELECT count(*) FROM `+schema+`.raw_payloads`); err == nil && n > 0 {
				stored.Store(n)
				killed.Store(int64(terminate(t, admin, app, `true`)))
			}
		}
		requests.Add(1)
		sim.ServeHTTP(rw, r)
	})
	_, err = pull(t, st, faulty)
	if killed.Load() == 0 {
		t.Fatalf("no backend was terminated mid-pull (%d requests; err %v)", requests.Load(), err)
	}
	t.Logf("terminated %d backend(s) with %d payloads stored, of %d; the pull: %v", killed.Load(), stored.Load(), wantP, err)
	if err != nil {
		// A clear failure: the chunk is incomplete, pull again.
		if !strings.Contains(err.Error(), "pull kopokopo") {
			t.Errorf("error %q does not name the pull", err)
		}
		if _, err := pull(t, st, sim); err != nil {
			t.Fatalf("pull again after the fault: %v", err)
		}
	}
	gotP, gotR, gotH, gotTx := contents(t, st)
	if gotP != wantP || gotR != wantR || gotH != wantH || gotTx != wantTx {
		t.Errorf("after the fault: %d payloads, %d records, %d history rows; an uninterrupted pull stores %d, %d, %d (same records: %v)",
			gotP, gotR, gotH, wantP, wantR, wantH, gotTx == wantTx)
	}
}

// schemaOf is the quoted schema st's connections work in.
func schemaOf(t *testing.T, st *store.Store) string {
	t.Helper()
	var s string
	if err := st.DB().GetContext(context.Background(), &s, `SELECT quote_ident(current_schema())`); err != nil {
		t.Fatal(err)
	}
	return s
}
