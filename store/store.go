// Package store is Mizani's PostgreSQL store: raw provider payloads and their
// normalized records, the merchant ledger, bank statement lines, run history,
// pull checkpoints and advisory locks. All SQL lives here; the schema is the
// goose migrations embedded by package github.com/mizani/reconcile/sql.
//
// Readers stream: LedgerEntries and Records yield rows as PostgreSQL sends
// them, so a matcher over a million rows holds only what it needs.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq" // also registers the "postgres" driver
)

// Store is the PostgreSQL store. It is safe for concurrent use.
type Store struct {
	db *sqlx.DB

	mu      sync.Mutex
	stmts   map[string]*sql.Stmt // prepared hot statements, by query text
	maxIdle int                  // the pool's idle limit, restored after drainIdle
}

// Pool limits set by Open. A store serves a batch job or a webhook server:
// a bounded pool keeps a burst of requests from opening a connection each,
// and idle connections are recycled, so that one a database restart or a
// network blip has killed does not linger in the pool.
const (
	// DefaultMaxOpenConns bounds the connections Open's store holds, in use
	// or idle (SetMaxOpenConns changes it).
	DefaultMaxOpenConns = 16
	// DefaultConnMaxIdleTime closes a connection idle for that long.
	DefaultConnMaxIdleTime = time.Minute
	// DefaultConnMaxLifetime closes a connection that old once it is idle.
	DefaultConnMaxLifetime = 30 * time.Minute
)

// Open connects to the database at dsn (a postgres:// URL or a "key=value"
// connection string), configures a bounded pool and checks that the
// database answers. It does not migrate; call Migrate for that. Its errors
// never hold the password (see RedactDSN), even when dsn does not parse.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if err := checkDSN(dsn); err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, redact(fmt.Errorf("opening database: %w", err), dsn)
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	db.SetMaxOpenConns(DefaultMaxOpenConns)
	db.SetMaxIdleConns(DefaultMaxOpenConns)
	db.SetConnMaxIdleTime(DefaultConnMaxIdleTime)
	db.SetConnMaxLifetime(DefaultConnMaxLifetime)
	s := New(db)
	s.maxIdle = DefaultMaxOpenConns
	if err := s.Ping(ctx); err != nil {
		db.Close()
		return nil, redact(fmt.Errorf("connecting to database: %w", err), dsn)
	}
	return s, nil
}

// SetMaxOpenConns bounds the connections the store holds, in use or idle,
// to n (Open sets DefaultMaxOpenConns). n <= 0 means no bound, which a
// server should not use; up to DefaultMaxOpenConns of them are kept idle.
func (s *Store) SetMaxOpenConns(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idle := n
	if n <= 0 {
		n, idle = 0, DefaultMaxOpenConns
	}
	s.db.SetMaxOpenConns(n)
	s.db.SetMaxIdleConns(idle)
	s.maxIdle = idle
}

// Ping reports whether the database answers now, for a health check. A
// pooled connection found dead (the database restarted, or its backend was
// terminated) is no evidence that the database is down: Ping then closes
// every idle connection, most likely killed by the same event, and asks
// again on a fresh one. So Ping tells the truth at once, and the
// connections after it are fresh too.
func (s *Store) Ping(ctx context.Context) error {
	err := s.db.PingContext(ctx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	s.drainIdle()
	return s.db.PingContext(ctx)
}

// drainIdle closes the pool's idle connections; those in use are left
// alone.
func (s *Store) drainIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	idle := s.maxIdle
	if idle == 0 {
		idle = 2 // database/sql's default
	}
	s.db.SetMaxIdleConns(-1) // closes every idle connection now
	s.db.SetMaxIdleConns(idle)
}

// New wraps an open database.
func New(db *sqlx.DB) *Store { return &Store{db: db} }

// DB returns the underlying database handle.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the prepared statements and the database handle.
func (s *Store) Close() error {
	s.mu.Lock()
	for _, stmt := range s.stmts {
		stmt.Close()
	}
	s.stmts = nil
	s.mu.Unlock()
	return s.db.Close()
}
