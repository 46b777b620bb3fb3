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
	"regexp"
	"strings"
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
		return nil, redact(fmt.Errorf("opening database: %w", err), url)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, redact(fmt.Errorf("connecting to database: %w", err), url)
	}
	return New(db), nil
}

// passwordInURL finds the password of a postgres:// URL, or of a
// "key=value" connection string, without parsing it: the URL may be the
// very thing that failed to parse, and its error quotes it whole.
var passwordInURL = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://[^/@:]*:([^@/]+)@|(?:^|\s)password=('(?:[^'\\]|\\.)*'|\S+)|[?&]password=([^&]+)`)

// redactedError is an error whose text has a password blanked out.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact blanks out every password in url from err's text, so that a
// connection error can be logged and printed.
func redact(err error, url string) error {
	msg := err.Error()
	changed := false
	for _, m := range passwordInURL.FindAllStringSubmatch(url, -1) {
		for _, pw := range m[1:] {
			if pw != "" && strings.Contains(msg, pw) {
				msg, changed = strings.ReplaceAll(msg, pw, "xxxxx"), true
			}
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
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
