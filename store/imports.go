package store

import (
	"context"
	"crypto/sha256"
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

// ImportLedger loads entries into the ledger in one transaction: they are
// streamed with COPY into a temporary table, then upserted on (provider,
// direction, reference) with a single statement. An entry identical to the
// stored one is left alone (its updated_at too), so importing the same file
// twice changes nothing. If entries yields an error, nothing is imported and
// that error is returned as is.
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
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE ledger_stage (
		provider text, direction text, reference text, amount_minor bigint, currency text, status text,
		occurred_at timestamptz, account text, provider_reference text, customer_phone text, description text
	) ON COMMIT DROP`); err != nil {
		return res, fmt.Errorf("importing ledger: staging table: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("ledger_stage", ledgerColumns...))
	if err != nil {
		return res, fmt.Errorf("importing ledger: starting COPY: %w", err)
	}
	defer stmt.Close()
	staged := 0
	for e, err := range entries {
		if err != nil {
			return res, err
		}
		if _, err := stmt.ExecContext(ctx, string(e.Provider), string(e.Direction), e.Reference, e.Amount.Minor,
			string(e.Amount.Currency), string(e.Status), e.OccurredAt.UTC().Format(time.RFC3339Nano),
			e.Account, e.ProviderReference, e.CustomerPhone, e.Description); err != nil {
			return res, fmt.Errorf("importing ledger: copying %s %s %q: %w", e.Provider, e.Direction, e.Reference, err)
		}
		staged++
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return res, fmt.Errorf("importing ledger: finishing COPY: %w", err)
	}
	if err := stmt.Close(); err != nil {
		return res, fmt.Errorf("importing ledger: finishing COPY: %w", err)
	}

	cols := strings.Join(ledgerColumns, ", ")
	var sets, olds, news []string
	for _, c := range ledgerColumns[3:] {
		sets = append(sets, c+" = EXCLUDED."+c)
		olds = append(olds, "l."+c)
		news = append(news, "EXCLUDED."+c)
	}
	q := `WITH up AS (
		INSERT INTO ledger_entries AS l (` + cols + `)
		SELECT ` + cols + ` FROM ledger_stage
		ON CONFLICT (provider, direction, reference) DO UPDATE SET ` + strings.Join(sets, ", ") + `, updated_at = now()
		WHERE (` + strings.Join(olds, ", ") + `) IS DISTINCT FROM (` + strings.Join(news, ", ") + `)
		RETURNING (xmax = 0) AS inserted)
	SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`
	if err := tx.QueryRowContext(ctx, q).Scan(&res.New, &res.Updated); err != nil {
		return LedgerImport{}, fmt.Errorf("importing ledger: upserting: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return LedgerImport{}, fmt.Errorf("importing ledger: commit: %w", err)
	}
	res.Unchanged = staged - res.New - res.Updated
	return res, nil
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
