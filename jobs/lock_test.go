package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/reports"
	"github.com/mizani/reconcile/store"
)

func TestRunLockKey(t *testing.T) {
	w := reconcile.Window{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	key := func(ps ...reconcile.Provider) string {
		c := RunConfig{Window: w, Providers: ps}
		return c.lockKey()
	}
	all := key()
	tests := []struct {
		name      string
		providers []reconcile.Provider
		sameAsAll bool
	}{
		{"every provider named", testprov.All, true},
		{"every provider, reordered and repeated", []reconcile.Provider{testprov.Kora, testprov.KopoKopo, testprov.Pixel, testprov.IKhokha, testprov.Kora}, true},
		{"one provider", []reconcile.Provider{testprov.KopoKopo}, false},
		{"all but one", testprov.All[1:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := key(tt.providers...); (got == all) != tt.sameAsAll {
				t.Errorf("lock key %q; the key of a run of every provider is %q", got, all)
			}
		})
	}
	if key(testprov.Pixel, testprov.KopoKopo) != key(testprov.KopoKopo, testprov.Pixel, testprov.KopoKopo) {
		t.Error("the same providers in another order take another lock")
	}
}

// TestRunLockLost: the connection holding a run's lock drops mid-run, so
// PostgreSQL releases the lock and a second run of the same window starts
// and publishes. The first run must notice before publishing: it fails with
// ErrLockLost, writes nothing, and the history records both truthfully.
func TestRunLockLost(t *testing.T) {
	t.Parallel()
	st, nairobi := storeWithRecords(t, `
		('kopokopo', 'payment', 'P-1', 'ORDER-1', 'OJA', 'T1', 'KES', 100000, 'succeeded', 'Received', '2026-03-09 12:00+03', '', 'webhook')`)
	ctx := context.Background()
	w, err := reconcile.ParseWindow("2026-03-09", "2026-03-09", nairobi)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	base := RunConfig{Window: w, Zone: nairobi, Formats: reports.FormatCSV, OutDir: out}
	var second RunResult
	var secondErr error
	first := base
	first.beforePublish = func() {
		terminateLockHolder(t, st, first.lockKey())
		second, secondErr = Run(ctx, st, base)
	}
	_, err = Run(ctx, st, first)
	if secondErr != nil {
		t.Fatalf("the second run, started once the lock was lost: %v", secondErr)
	}
	if !errors.Is(err, store.ErrLockLost) || !strings.Contains(err.Error(), "without publishing") {
		t.Fatalf("the run that lost its lock: %v, want an error wrapping store.ErrLockLost", err)
	}
	// Only the second run's reports are there, and no temporary file.
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{reports.DiscrepanciesFile, reports.MatchesFile, reports.SettlementsFile, reports.SummaryFile}; !slices.Equal(names, want) {
		t.Errorf("out holds %q, want %q", names, want)
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT id, outcome, error FROM runs ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int64
		var outcome, msg string
		if err := rows.Scan(&id, &outcome, &msg); err != nil {
			t.Fatal(err)
		}
		lost := strings.Contains(msg, "lost the run lock")
		got = append(got, fmt.Sprintf("%v %s lost=%v", id == second.RunID, outcome, lost))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"false failed lost=true", "true succeeded lost=false"}; !slices.Equal(got, want) {
		t.Errorf("run history %q, want %q", got, want)
	}
}

// terminateLockHolder ends the backend holding the store's advisory lock
// key, as a database restart, a failover or an operator would, and waits
// until PostgreSQL has released it.
func terminateLockHolder(t *testing.T, st *store.Store, key string) {
	t.Helper()
	ctx := context.Background()
	const holder = `FROM pg_locks l, (SELECT hashtextextended(current_schema() || ':' || $1, 0) AS id) k
		WHERE l.locktype = 'advisory' AND l.objsubid = 1
		AND l.classid = ((k.id >> 32) & 4294967295)::oid AND l.objid = (k.id & 4294967295)::oid`
	var n int
	if err := st.DB().QueryRowContext(ctx, `SELECT count(pg_terminate_backend(l.pid)) `+holder, key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("terminated %d holders of lock %q, want 1", n, key)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var held bool
		if err := st.DB().QueryRowContext(ctx, `SELECT EXISTS (SELECT `+holder+`)`, key).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if !held {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lock %q still held after its backend was terminated", key)
		}
	}
}
