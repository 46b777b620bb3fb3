package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/mizani/reconcile"
)

// LedgerImport counts what ImportLedger did.
type LedgerImport struct {
	New, Updated, Unchanged int
}

var ledgerColumns = []string{"provider", "direction", "reference", "amount_minor", "currency", "status", "occurred_at",
	"account", "provider_reference", "customer_phone", "description"}

// ImportLedger loads entries into the ledger in one transaction and returns
// what changed. An entry identical to the stored one is left alone (its
// updated_at too), so importing the same file twice changes nothing; a
// changed entry is updated. If entries yields an error, nothing is imported
// and that error is returned as is.
//
// Imports hold a lock that serializes them with every other writer of the
// ledger (readers are not blocked), so the ledger cannot change under one.
// Into an empty ledger the entries are streamed with COPY straight into
// ledger_entries. Otherwise they are COPYed into a temporary table and merged
// with one UPDATE of the changed entries and one INSERT of the new ones.
//
// Entries must be unique per (provider, direction, reference); the ledger
// CSV reader guarantees it.
func (s *Store) ImportLedger(ctx context.Context, entries iter.Seq2[reconcile.LedgerEntry, error]) (LedgerImport, error) {
	var res LedgerImport
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("importing ledger: %w", err)
	}
	defer tx.Rollback()
	// SHARE ROW EXCLUSIVE conflicts with itself and with INSERT/UPDATE/DELETE,
	// not with SELECT.
	if _, err := tx.ExecContext(ctx, `LOCK TABLE ledger_entries IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return res, fmt.Errorf("importing ledger: locking ledger_entries: %w", err)
	}
	var empty bool
	if err := tx.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT FROM ledger_entries)`).Scan(&empty); err != nil {
		return res, fmt.Errorf("importing ledger: %w", err)
	}
	if empty {
		if res.New, err = copyLedger(ctx, tx, "ledger_entries", entries); err != nil {
			return LedgerImport{}, err
		}
	} else if res, err = mergeLedger(ctx, tx, entries); err != nil {
		return LedgerImport{}, err
	}
	if err := tx.Commit(); err != nil {
		return LedgerImport{}, fmt.Errorf("importing ledger: commit: %w", err)
	}
	return res, nil
}

// mergeLedger stages entries in a temporary table and merges them into a
// ledger that already holds rows. The caller holds the ledger lock, so a
// plain UPDATE then INSERT cannot race another writer, and both are single
// hash joins rather than a million speculative inserts.
func mergeLedger(ctx context.Context, tx *sql.Tx, entries iter.Seq2[reconcile.LedgerEntry, error]) (LedgerImport, error) {
	var res LedgerImport
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE ledger_stage (
		provider text, direction text, reference text, amount_minor bigint, currency text, status text,
		occurred_at timestamptz, account text, provider_reference text, customer_phone text, description text
	) ON COMMIT DROP`); err != nil {
		return res, fmt.Errorf("importing ledger: staging table: %w", err)
	}
	staged, err := copyLedger(ctx, tx, "ledger_stage", entries)
	if err != nil {
		return res, err
	}
	// Fresh statistics let the planner hash the smaller side; the hash of a
	// million keys needs about 80 MB, beyond the default work_mem.
	for _, q := range []string{`ANALYZE ledger_stage`, `ANALYZE ledger_entries`, `SET LOCAL work_mem = '64MB'`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return res, fmt.Errorf("importing ledger: %s: %w", q, err)
		}
	}
	key := `(l.provider, l.direction, l.reference) = (s.provider, s.direction, s.reference)`
	var sets, olds, news []string
	for _, c := range ledgerColumns[3:] {
		sets = append(sets, c+" = s."+c)
		olds = append(olds, "l."+c)
		news = append(news, "s."+c)
	}
	updated, err := tx.ExecContext(ctx, `UPDATE ledger_entries l SET `+strings.Join(sets, ", ")+`, updated_at = now()
		FROM ledger_stage s WHERE `+key+` AND (`+strings.Join(olds, ", ")+`) IS DISTINCT FROM (`+strings.Join(news, ", ")+`)`)
	if err != nil {
		return res, fmt.Errorf("importing ledger: updating changed entries: %w", err)
	}
	cols := strings.Join(ledgerColumns, ", ")
	inserted, err := tx.ExecContext(ctx, `INSERT INTO ledger_entries (`+cols+`)
		SELECT `+cols+` FROM ledger_stage s WHERE NOT EXISTS (SELECT FROM ledger_entries l WHERE `+key+`)`)
	if err != nil {
		return res, fmt.Errorf("importing ledger: inserting new entries: %w", err)
	}
	n, _ := updated.RowsAffected()
	res.Updated = int(n)
	n, _ = inserted.RowsAffected()
	res.New = int(n)
	res.Unchanged = staged - res.New - res.Updated
	return res, nil
}

// copyLedger streams entries into table with COPY and returns how many it sent.
func copyLedger(ctx context.Context, tx *sql.Tx, table string, entries iter.Seq2[reconcile.LedgerEntry, error]) (int, error) {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, ledgerColumns...))
	if err != nil {
		return 0, fmt.Errorf("importing ledger: starting COPY: %w", err)
	}
	defer stmt.Close()
	n := 0
	for e, err := range entries {
		if err != nil {
			return 0, err
		}
		if _, err := stmt.ExecContext(ctx, string(e.Provider), string(e.Direction), e.Reference, e.Amount.Minor,
			string(e.Amount.Currency), string(e.Status), e.OccurredAt.UTC().Format(time.RFC3339Nano),
			e.Account, e.ProviderReference, e.CustomerPhone, e.Description); err != nil {
			return 0, fmt.Errorf("importing ledger: copying %s %s %q: %w", e.Provider, e.Direction, e.Reference, err)
		}
		n++
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return 0, fmt.Errorf("importing ledger: finishing COPY: %w", err)
	}
	if err := stmt.Close(); err != nil {
		return 0, fmt.Errorf("importing ledger: finishing COPY: %w", err)
	}
	return n, nil
}

// BankImport counts what ImportBank did.
type BankImport struct {
	New, Existing int
}

// ImportBank stores statement lines in one transaction. A line's identity is
// a hash of its content plus its ordinal among identical lines in the same
// statement (two equal card payouts on one day are two lines), so importing
// a statement again adds nothing. If lines yields an error, nothing is
// imported and that error is returned as is.
func (s *Store) ImportBank(ctx context.Context, lines iter.Seq2[reconcile.BankLine, error]) (BankImport, error) {
	var res BankImport
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("importing bank lines: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO bank_lines
		(dedup_key, account, value_date, amount_minor, currency, reference, description, provider)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedup_key) DO NOTHING`)
	if err != nil {
		return res, fmt.Errorf("importing bank lines: %w", err)
	}
	defer stmt.Close()
	seen := map[string]int{}
	for l, err := range lines {
		if err != nil {
			return res, err
		}
		norm := strings.Join([]string{l.Account, l.ValueDate.Format(time.DateOnly), strconv.FormatInt(l.Amount.Minor, 10),
			string(l.Amount.Currency), l.Reference, l.Description}, "\x00")
		sum := sha256.Sum256([]byte(norm))
		h := hex.EncodeToString(sum[:16])
		seen[h]++
		r, err := stmt.ExecContext(ctx, h+"#"+strconv.Itoa(seen[h]), l.Account, l.ValueDate.Format(time.DateOnly),
			l.Amount.Minor, string(l.Amount.Currency), l.Reference, l.Description, string(l.Provider))
		if err != nil {
			return res, fmt.Errorf("importing bank line %s %s %q: %w", l.ValueDate.Format(time.DateOnly), l.Amount, l.Reference, err)
		}
		if n, _ := r.RowsAffected(); n == 1 {
			res.New++
		} else {
			res.Existing++
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("importing bank lines: commit: %w", err)
	}
	return res, nil
}
