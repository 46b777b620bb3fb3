package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mizani/reconcile"
)

// precedenceSQL is Status.Precedence as a SQL expression over col.
func precedenceSQL(col string) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for _, s := range []reconcile.Status{reconcile.StatusPending, reconcile.StatusExpired, reconcile.StatusCancelled,
		reconcile.StatusFailed, reconcile.StatusSucceeded, reconcile.StatusReversed} {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", s, s.Precedence())
	}
	b.WriteString(" ELSE -1 END")
	return b.String()
}

// upsertRecordSQL inserts a record or updates the stored one, then appends
// the sighting to record_history, in one round trip. $17 is the incoming
// status precedence: the incoming sighting wins when it is at least as final
// as the stored one. The winner's status, source and payload are kept; other
// fields keep the winner's value where it has one and the other's otherwise,
// so a status-only sighting never erases a known amount and fills a missing
// one. occurred_at keeps the earliest sighting.
var upsertRecordSQL = func() string {
	win := "($17 >= " + precedenceSQL("r.status") + ")"
	pick := func(col, empty string) string {
		ex, old := "EXCLUDED."+col, "r."+col
		if empty != "" {
			ex, old = "NULLIF("+ex+", "+empty+")", "NULLIF("+old+", "+empty+")"
		}
		return fmt.Sprintf("%s = CASE WHEN %s THEN COALESCE(%s, r.%s) ELSE COALESCE(%s, EXCLUDED.%s) END",
			col, win, ex, col, old, col)
	}
	sets := []string{
		fmt.Sprintf("status = CASE WHEN %s THEN EXCLUDED.status ELSE r.status END", win),
		fmt.Sprintf("provider_status = CASE WHEN %s THEN EXCLUDED.provider_status ELSE r.provider_status END", win),
		fmt.Sprintf("source = CASE WHEN %s THEN EXCLUDED.source ELSE r.source END", win),
		fmt.Sprintf("raw_payload_id = CASE WHEN %s THEN EXCLUDED.raw_payload_id ELSE r.raw_payload_id END", win),
		pick("merchant_ref", "''"), pick("provider_ref", "''"), pick("related_tx_id", "''"),
		pick("account", "''"), pick("counterparty", "''"), pick("method", "''"), pick("currency", "''"),
		pick("amount_minor", ""), pick("fee_minor", ""), pick("vat_minor", ""),
		"occurred_at = LEAST(r.occurred_at, EXCLUDED.occurred_at)",
		"updated_at = now()",
	}
	return `WITH up AS (
	INSERT INTO provider_records AS r (provider, kind, tx_id, merchant_ref, provider_ref, related_tx_id, account,
		currency, amount_minor, fee_minor, vat_minor, status, provider_status, occurred_at, counterparty, method, source, raw_payload_id)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $18, $19)
	ON CONFLICT (provider, kind, tx_id) DO UPDATE SET ` + strings.Join(sets, ",\n\t\t") + `
	RETURNING id)
INSERT INTO record_history (record_id, status, provider_status, amount_minor, source, raw_payload_id)
SELECT id, $12, $13, $9, $18, $19 FROM up
RETURNING record_id`
}()

// Save stores payload and the records parsed from it in one transaction,
// implementing sources.Sink. A payload whose (Provider, DedupKey) is already
// stored is a duplicate: nothing changes and dup is true. A record already
// stored under the same (Provider, Kind, TxID) is updated by status
// precedence (reconcile.Status.Precedence); every sighting is appended to
// record_history. On success each record's RawPayloadID is set.
//
// Save is safe to call concurrently, also for the same payload or the same
// transaction: a second copy of a payload waits for the first to commit and
// then reports dup, and records are written in (Kind, TxID) order so that two
// payloads sharing transactions cannot deadlock.
func (s *Store) Save(ctx context.Context, payload reconcile.RawPayload, records []reconcile.Record) (dup bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("saving %s payload %s: %w", payload.Provider, payload.DedupKey, err)
	}
	defer tx.Rollback()

	receivedAt := payload.ReceivedAt
	if receivedAt.IsZero() {
		receivedAt = time.Now()
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO raw_payloads (provider, source, kind, dedup_key, body, doc, received_at)
		VALUES ($1, $2, $3, $4, $5::text, $5::text::jsonb, $6)
		ON CONFLICT (provider, dedup_key) DO NOTHING
		RETURNING id`,
		payload.Provider, payload.Source, payload.Kind, payload.DedupKey, string(payload.Body), receivedAt).Scan(&id)
	if err == sql.ErrNoRows {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("saving %s payload %s: %w", payload.Provider, payload.DedupKey, err)
	}

	order := make([]int, len(records))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(records[a].Kind, records[b].Kind), cmp.Compare(records[a].TxID, records[b].TxID))
	})
	for _, i := range order {
		r := &records[i]
		var recordID int64
		if err := tx.QueryRowContext(ctx, upsertRecordSQL,
			r.Provider, r.Kind, r.TxID, r.MerchantRef, r.ProviderRef, r.RelatedTxID, r.Account,
			r.Currency(), nullMinor(r.Amount.Minor, r.AmountKnown), nullMinor(r.Fee.Minor, r.FeeKnown),
			nullMinor(r.VAT.Minor, r.FeeKnown), r.Status, r.ProviderStatus, r.OccurredAt, r.Counterparty,
			r.Method, r.Status.Precedence(), cmp.Or(r.Source, payload.Source), id).Scan(&recordID); err != nil {
			return false, fmt.Errorf("saving %s %s %s from payload %s: %w", r.Provider, r.Kind, r.TxID, payload.DedupKey, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("saving %s payload %s: commit: %w", payload.Provider, payload.DedupKey, err)
	}
	for i := range records {
		records[i].RawPayloadID = id
	}
	return false, nil
}

func nullMinor(v int64, known bool) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: known} }
