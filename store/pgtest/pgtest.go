// Package pgtest gives every test its own PostgreSQL schema, migrated to the
// latest version and dropped when the test ends, so tests in every package
// can run with t.Parallel() against one database.
//
// The database comes from TEST_DATABASE_URL, else DefaultURL when a local
// PostgreSQL answers there; it is created if it does not exist. Failing both, a throwaway PostgreSQL container is started
// with Docker, once per test process; Docker stops and removes it after an
// hour, since a test helper has no hook at the end of the process.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"

	"github.com/mizani/reconcile/store"
)

// EnvURL names the environment variable holding the test database URL.
const EnvURL = "TEST_DATABASE_URL"

// DefaultURL is tried when EnvURL is unset: a local PostgreSQL with trust auth.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/mizani_test?sslmode=disable"

// New returns a *sqlx.DB on a fresh schema private to t, migrated to the
// latest version, dropped in t.Cleanup.
func New(t testing.TB) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", URL(t))
	if err != nil {
		t.Fatalf("pgtest: opening test schema: %v", err)
	}
	t.Cleanup(func() { db.Close() }) // runs before the schema is dropped
	return db
}

// URL is New for code that opens its own connections (CLI tests): a database
// URL whose search_path is a fresh, migrated schema private to t, dropped in
// t.Cleanup.
func URL(t testing.TB) string {
	t.Helper()
	base, admin := server(t)
	schema := schemaName(t.Name())
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+pq.QuoteIdentifier(schema)); err != nil {
		t.Fatalf("pgtest: creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+pq.QuoteIdentifier(schema)+" CASCADE"); err != nil {
			t.Errorf("pgtest: dropping schema %s: %v", schema, err)
		}
	})
	u := withParam(base, "search_path", schema)
	db, err := sql.Open("postgres", u)
	if err != nil {
		t.Fatalf("pgtest: opening schema %s: %v", schema, err)
	}
	defer db.Close()
	if err := store.Migrate(ctx, db); err != nil {
		t.Fatalf("pgtest: migrating schema %s: %v", schema, err)
	}
	return u
}

// schemaName turns a test name into a unique, valid schema name.
func schemaName(test string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(test) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 44 {
		name = name[:44]
	}
	var suffix [8]byte
	rand.Read(suffix[:])
	return name + "_" + hex.EncodeToString(suffix[:])
}

// withParam returns rawURL with query parameter key set to value. lib/pq
// sends parameters it does not know, such as search_path, as run-time
// parameters of every connection.
func withParam(rawURL, key, value string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err) // validated by server
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

var (
	serverOnce sync.Once
	serverURL  string
	serverDB   *sql.DB
	serverErr  error
)

// server returns the base URL of the test database and an administrative
// handle on it, set up once per test process.
func server(t testing.TB) (string, *sql.DB) {
	t.Helper()
	serverOnce.Do(func() {
		if os.Getenv(EnvURL) == "" {
			if db, err := openCreating(DefaultURL); err == nil {
				serverURL, serverDB = DefaultURL, db
				return
			}
		}
		serverURL, serverErr = baseURL()
		if serverErr == nil {
			serverDB, serverErr = openCreating(serverURL)
		}
	})
	if serverErr != nil {
		t.Fatalf("pgtest: %v\n\nTests need PostgreSQL. Either set %s, e.g.\n"+
			"  export %s='postgres://postgres@127.0.0.1:5432/mizani_test?sslmode=disable'\n"+
			"(the database is created if missing), or make Docker available so a throwaway\n"+
			"postgres:16 container can be started.", serverErr, EnvURL, EnvURL)
	}
	return serverURL, serverDB
}

func baseURL() (string, error) {
	if u := os.Getenv(EnvURL); u != "" {
		if _, err := url.Parse(u); err != nil {
			return "", fmt.Errorf("%s is not a URL: %w", EnvURL, err)
		}
		return u, nil
	}
	u, err := startContainer()
	if err != nil {
		return "", fmt.Errorf("%s is unset, nothing answers at %s, and starting PostgreSQL with Docker failed: %w", EnvURL, DefaultURL, err)
	}
	return u, nil
}

// openCreating opens rawURL, creating its database first if it does not exist.
func openCreating(rawURL string) (*sql.DB, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("postgres", rawURL)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", EnvURL, err)
	}
	err = db.PingContext(ctx)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "3D000" { // invalid_catalog_name
		err = createDatabase(ctx, rawURL)
		if err == nil {
			err = db.PingContext(ctx)
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to the test database: %w", err)
	}
	return db, nil
}

// createDatabase creates the database rawURL names, through the "postgres"
// maintenance database. Another test process creating it at the same time is
// not an error.
func createDatabase(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && (pqErr.Code == "42P04" || pqErr.Code == "23505") { // duplicate_database, or lost the race
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating database %s: %w", name, err)
	}
	return nil
}

// startContainer runs postgres:16 in Docker and waits until it answers. The
// container is stopped and removed after an hour, so no test process, even a
// killed one, leaves it running for long.
func startContainer() (string, error) {
	pool, err := dockertest.NewPool("")
	if err != nil {
		return "", fmt.Errorf("connecting to Docker: %w", err)
	}
	if err := pool.Client.Ping(); err != nil {
		return "", fmt.Errorf("connecting to Docker: %w", err)
	}
	res, err := pool.RunWithOptions(&dockertest.RunOptions{
		Repository: "postgres",
		Tag:        "16-alpine",
		Env:        []string{"POSTGRES_HOST_AUTH_METHOD=trust", "POSTGRES_DB=mizani_test"},
	}, func(hc *docker.HostConfig) {
		hc.AutoRemove = true
		hc.RestartPolicy = docker.RestartPolicy{Name: "no"}
	})
	if err != nil {
		return "", fmt.Errorf("starting postgres container: %w", err)
	}
	_ = res.Expire(3600)
	u := fmt.Sprintf("postgres://postgres@%s/mizani_test?sslmode=disable", res.GetHostPort("5432/tcp"))
	pool.MaxWait = 2 * time.Minute
	if err := pool.Retry(func() error {
		db, err := sql.Open("postgres", u)
		if err != nil {
			return err
		}
		defer db.Close()
		return db.Ping()
	}); err != nil {
		pool.Purge(res)
		return "", fmt.Errorf("waiting for postgres container: %w", err)
	}
	return u, nil
}
