package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// openNamed opens a store on a fresh test schema whose connections carry a
// unique application_name, so that the test can find (and terminate) its
// backends, and returns it with an administrative handle.
func openNamed(t *testing.T) (*store.Store, *sql.DB, string) {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	app := "mizani_test_" + hex.EncodeToString(b[:])
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	st, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	admin, err := sql.Open("postgres", pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return st, admin, app
}

// terminate ends every backend named app and waits until they are gone.
func terminate(t *testing.T, admin *sql.DB, app string) int {
	t.Helper()
	ctx := context.Background()
	var n int
	if err := admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1`, app).Scan(&n); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var left int
		if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d backends of %s still there after pg_terminate_backend", left, app)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPingAfterBackendsTerminated: after every pooled connection has been
// killed server-side (a database restart, a failover, an operator), the
// first Ping already says the database is up, and so does every query after
// it: the dead connections are gone from the pool.
func TestPingAfterBackendsTerminated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, admin, app := openNamed(t)
	// Fill the pool with idle connections.
	const pooled = 8
	conns := make([]*sql.Conn, pooled)
	for i := range conns {
		c, err := st.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	for _, c := range conns {
		c.Close()
	}
	if idle := st.DB().Stats().Idle; idle != pooled {
		t.Fatalf("%d idle connections, want %d", idle, pooled)
	}
	if n := terminate(t, admin, app); n != pooled {
		t.Fatalf("terminated %d backends, want %d", n, pooled)
	}
	for i := range 3 {
		if err := st.Ping(ctx); err != nil {
			t.Fatalf("Ping %d after the backends were terminated: %v", i+1, err)
		}
	}
	// The pool holds no dead connection any more: plain queries work too.
	for i := range pooled {
		var one int
		if err := st.DB().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			t.Fatalf("query %d after Ping: %v", i+1, err)
		}
	}
}

// TestPingDatabaseDown: Ping does not say up when the database does not
// answer, nor when its context is done.
func TestPingDatabaseDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlx.Open("postgres", "postgres://postgres@127.0.0.1:1/db?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	down := store.New(db)
	defer down.Close()
	if err := down.Ping(ctx); err == nil {
		t.Error("Ping of a database that is not there: no error")
	}
	st, _, _ := openNamed(t)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := st.Ping(cancelled); err == nil {
		t.Error("Ping with a cancelled context: no error")
	}
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping of the live database: %v", err)
	}
}

// TestOpenBoundsPool: Open's pool is bounded.
func TestOpenBoundsPool(t *testing.T) {
	t.Parallel()
	st, _, _ := openNamed(t)
	if got := st.DB().Stats().MaxOpenConnections; got != store.DefaultMaxOpenConns {
		t.Errorf("MaxOpenConnections = %d, want %d", got, store.DefaultMaxOpenConns)
	}
	st.SetMaxOpenConns(4)
	if got := st.DB().Stats().MaxOpenConnections; got != 4 {
		t.Errorf("after SetMaxOpenConns(4): MaxOpenConnections = %d", got)
	}
}

// TestOpenPasswordForms: passwords holding every character that needs care
// open, percent-encoded in a URL or quoted in a "key=value" string.
func TestOpenPasswordForms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	const password = `a/b#c@d:e%f?g h'i\j`
	withPassword := *base
	withPassword.User = url.UserPassword("postgres", password)
	kv := "host=" + base.Hostname() + " port=" + base.Port() + " user=postgres dbname=" + base.Path[1:] +
		` password='a/b#c@d:e%f?g h\'i\\j' sslmode=disable search_path=` + base.Query().Get("search_path")
	for _, dsn := range []string{withPassword.String(), kv} {
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("Open(%s): %v", store.RedactDSN(dsn), err)
		}
		var n int
		if err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM runs`).Scan(&n); err != nil {
			t.Errorf("%s: %v", store.RedactDSN(dsn), err)
		}
		st.Close()
	}
}
