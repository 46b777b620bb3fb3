package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/lib/pq"
	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"
)

// Name is the database (local server) or schema (DATABASE_URL) the demo
// drops and recreates, so it never touches other data.
const Name = "mizani_demo"

// DB is the store the demo runs on.
type DB struct {
	// URL names the database (it may hold a password: never print it).
	URL string
	// Where says, for the user, where the store is; never the URL.
	Where string
	// Close removes what the demo started (a container).
	Close func()
}

// Database finds the demo a store (see the command's help): an
// explicitly named database gets schema mizani_demo, else the local server
// database mizani_demo, else a Docker container.
func Database(ctx context.Context, databaseURL string, explicit bool) (DB, error) {
	if explicit {
		u, err := recreateSchema(ctx, databaseURL, Name)
		if err != nil {
			return DB{}, fmt.Errorf("demo store: DATABASE_URL: %w", err)
		}
		return DB{u, "schema " + Name + " of the database DATABASE_URL names (dropped and recreated)", func() {}}, nil
	}
	u, localErr := recreateDatabase(ctx, databaseURL, Name)
	if localErr == nil {
		return DB{u, "database " + Name + " on the PostgreSQL at 127.0.0.1:5432 (dropped and recreated)", func() {}}, nil
	}
	if !errors.Is(localErr, errUnreachable) {
		return DB{}, fmt.Errorf("demo store: preparing database %s on 127.0.0.1:5432: %w", Name, localErr)
	}
	db, dockerErr := demoContainer()
	if dockerErr == nil {
		return db, nil
	}
	return DB{}, fmt.Errorf(`the demo needs PostgreSQL and found none:
  DATABASE_URL is unset;
  nothing usable answers at 127.0.0.1:5432 (%v);
  Docker is not available (%v).
Do one of these, then run the demo again:
  - start PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres (.ci/run shows how);
  - export DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DB?sslmode=disable (the demo
    uses only its own schema, %s, in that database);
  - start Docker, and the demo runs a throwaway postgres:16 container`, localErr, dockerErr, Name)
}

// recreateSchema drops and creates schema in the database rawURL names and
// returns rawURL with search_path set to it (lib/pq sends unknown URL
// parameters as run-time parameters of every connection).
func recreateSchema(ctx context.Context, rawURL, schema string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", errors.New("want a postgres:// URL")
	}
	q := quoted(schema)
	if err := execOn(ctx, rawURL, "DROP SCHEMA IF EXISTS "+q+" CASCADE", "CREATE SCHEMA "+q); err != nil {
		return "", err
	}
	params := u.Query()
	params.Set("search_path", schema)
	u.RawQuery = params.Encode()
	return u.String(), nil
}

// recreateDatabase drops and creates database name on the server rawURL
// points at and returns the URL of the new database.
func recreateDatabase(ctx context.Context, rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	q := quoted(name)
	// WITH (FORCE) ends other sessions on the demo database, e.g. a psql
	// left open on it after the last demo.
	if err := execOn(ctx, rawURL, "DROP DATABASE IF EXISTS "+q+" WITH (FORCE)", "CREATE DATABASE "+q); err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func quoted(name string) string { return pq.QuoteIdentifier(name) }

// errUnreachable means no PostgreSQL answered within the probe timeout.
var errUnreachable = errors.New("no PostgreSQL answered")

// execOn runs statements, one after another, on the database rawURL names.
// A server that does not answer within 5 seconds is errUnreachable; once it
// has answered, the statements get two minutes (DROP DATABASE waits for a
// checkpoint, which takes a while on a busy server).
func execOn(ctx context.Context, rawURL string, statements ...string) error {
	db, err := sql.Open("postgres", rawURL)
	if err != nil {
		return err
	}
	defer db.Close()
	pingCtx, cancelPing := context.WithTimeout(ctx, 5*time.Second)
	defer cancelPing()
	if err := db.PingContext(pingCtx); err != nil {
		return fmt.Errorf("%w: %w", errUnreachable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, s := range statements {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// demoContainer starts a throwaway PostgreSQL in Docker, removed when the
// demo ends (and by Docker after ten minutes at the latest).
func demoContainer() (DB, error) {
	pool, err := dockertest.NewPool("")
	if err == nil {
		err = pool.Client.Ping()
	}
	if err != nil {
		return DB{}, err
	}
	res, err := pool.RunWithOptions(&dockertest.RunOptions{
		Repository: "postgres", Tag: "16-alpine",
		Env: []string{"POSTGRES_HOST_AUTH_METHOD=trust", "POSTGRES_DB=" + Name},
	}, func(hc *docker.HostConfig) {
		hc.AutoRemove = true
		hc.RestartPolicy = docker.RestartPolicy{Name: "no"}
	})
	if err != nil {
		return DB{}, fmt.Errorf("starting a postgres container: %w", err)
	}
	_ = res.Expire(600)
	u := fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", res.GetHostPort("5432/tcp"), Name)
	pool.MaxWait = 2 * time.Minute
	if err := pool.Retry(func() error { return execOn(context.Background(), u, "SELECT 1") }); err != nil {
		pool.Purge(res)
		return DB{}, fmt.Errorf("waiting for the postgres container: %w", err)
	}
	return DB{u, "a throwaway PostgreSQL container (removed when the demo ends)", func() { pool.Purge(res) }}, nil
}
