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

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the "postgres" driver
)

// Store is the PostgreSQL store. It is safe for concurrent use.
type Store struct {
	db *sqlx.DB

	mu    sync.Mutex
	stmts map[string]*sql.Stmt // prepared hot statements, by query text
}

// Open connects to the database at url and checks that it answers. It does not
// migrate; call Migrate for that.
func Open(ctx context.Context, url string) (*Store, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to database: %w", err)
	}
	return New(db), nil
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
