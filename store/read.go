package store

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"time"

	"github.com/lib/pq"

	"github.com/mizani/reconcile"
)

// Filter selects what the streaming readers return.
type Filter struct {
	// Window bounds occurred_at: From inclusive, To exclusive.
	Window reconcile.Window
	// Providers limits the rows to these providers; empty means all.
	Providers []reconcile.Provider
}

// args returns the query arguments $1..$3 every filtered reader uses.
func (f Filter) args() []any {
	ps := make([]string, len(f.Providers))
	for i, p := range f.Providers {
		ps[i] = string(p)
	}
	return []any{f.Window.From, f.Window.To, pq.StringArray(ps)}
}

const filterSQL = `occurred_at >= $1 AND occurred_at < $2 AND (cardinality($3::text[]) = 0 OR provider = ANY($3))`

// Times are read as Unix microseconds: scanning an integer is several times
// cheaper than parsing a timestamp text per row.
const occurredMicros = `(extract(epoch FROM occurred_at) * 1000000)::bigint`

// LedgerEntries streams the ledger entries f selects, ordered by occurred_at
// then id. Rows are read as the caller iterates, so memory stays flat however
// many there are. Iteration stops at the first error, which is yielded.
func (s *Store) LedgerEntries(ctx context.Context, f Filter) iter.Seq2[reconcile.LedgerEntry, error] {
	q := `SELECT id, reference, provider, direction, amount_minor, currency, status, ` + occurredMicros + `,
		account, provider_reference, customer_phone, description
		FROM ledger_entries WHERE ` + filterSQL + ` ORDER BY occurred_at, id`
	return stream(ctx, s.db.DB, "ledger entries", q, f.args(), func(rows *sql.Rows) (reconcile.LedgerEntry, error) {
		var e reconcile.LedgerEntry
		var micros int64
		err := rows.Scan(&e.ID, &e.Reference, &e.Provider, &e.Direction, &e.Amount.Minor, &e.Amount.Currency,
			&e.Status, &micros, &e.Account, &e.ProviderReference, &e.CustomerPhone, &e.Description)
		e.OccurredAt = time.UnixMicro(micros).UTC()
		return e, err
	})
}

// Records streams the provider records f selects, ordered by occurred_at then
// id, like LedgerEntries.
func (s *Store) Records(ctx context.Context, f Filter) iter.Seq2[reconcile.Record, error] {
	q := `SELECT id, provider, kind, tx_id, merchant_ref, provider_ref, related_tx_id, account, currency,
		amount_minor, fee_minor, vat_minor, status, provider_status, ` + occurredMicros + `,
		counterparty, method, source, COALESCE(raw_payload_id, 0)
		FROM provider_records WHERE ` + filterSQL + ` ORDER BY occurred_at, id`
	return stream(ctx, s.db.DB, "provider records", q, f.args(), func(rows *sql.Rows) (reconcile.Record, error) {
		var r reconcile.Record
		var id, micros int64
		var cur reconcile.Currency
		var amount, fee, vat sql.NullInt64
		err := rows.Scan(&id, &r.Provider, &r.Kind, &r.TxID, &r.MerchantRef, &r.ProviderRef, &r.RelatedTxID,
			&r.Account, &cur, &amount, &fee, &vat, &r.Status, &r.ProviderStatus, &micros,
			&r.Counterparty, &r.Method, &r.Source, &r.RawPayloadID)
		r.Amount = reconcile.Money{Minor: amount.Int64, Currency: cur}
		r.AmountKnown = amount.Valid
		r.Fee = reconcile.Money{Minor: fee.Int64, Currency: cur}
		r.VAT = reconcile.Money{Minor: vat.Int64, Currency: cur}
		r.FeeKnown = fee.Valid
		r.OccurredAt = time.UnixMicro(micros).UTC()
		return r, err
	})
}

// stream runs q and yields one scanned value per row.
func stream[T any](ctx context.Context, db *sql.DB, what, q string, args []any, scan func(*sql.Rows) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			yield(zero, fmt.Errorf("reading %s: %w", what, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				yield(zero, fmt.Errorf("reading %s: %w", what, err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(zero, fmt.Errorf("reading %s: %w", what, err))
		}
	}
}

// BankLines returns the bank statement lines whose value date, taken as
// midnight UTC, lies in w, ordered by value date then id. Statements are
// small, so they come as a slice.
func (s *Store) BankLines(ctx context.Context, w reconcile.Window) ([]reconcile.BankLine, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, account, value_date, amount_minor, currency, reference, description, provider
		FROM bank_lines
		WHERE value_date >= ($1::timestamptz AT TIME ZONE 'UTC') AND value_date < ($2::timestamptz AT TIME ZONE 'UTC')
		ORDER BY value_date, id`, w.From, w.To)
	if err != nil {
		return nil, fmt.Errorf("reading bank lines: %w", err)
	}
	defer rows.Close()
	var out []reconcile.BankLine
	for rows.Next() {
		var l reconcile.BankLine
		if err := rows.Scan(&l.ID, &l.Account, &l.ValueDate, &l.Amount.Minor, &l.Amount.Currency,
			&l.Reference, &l.Description, &l.Provider); err != nil {
			return nil, fmt.Errorf("reading bank lines: %w", err)
		}
		l.ValueDate = l.ValueDate.UTC()
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading bank lines: %w", err)
	}
	return out, nil
}
