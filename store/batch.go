package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mizani/reconcile"
)

// Parsed is one payload and the records parsed from it, as a sources.Parser
// returns them.
type Parsed struct {
	Payload reconcile.RawPayload
	Records []reconcile.Record
}

// SaveBatch stores every payload and its records in ONE transaction, with the
// same rules as Save: a payload already stored (or repeated in the batch) is a
// duplicate and changes nothing; records are upserted by status precedence
// with their history. Either the whole batch is committed or nothing is.
// It returns how many payloads were new and how many were duplicates; on
// success each new record's RawPayloadID is set.
func (s *Store) SaveBatch(ctx context.Context, batch []Parsed) (saved, dups int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("saving batch: %w", err)
	}
	defer tx.Rollback()
	for i := range batch {
		dup, err := saveTx(ctx, tx, batch[i].Payload, batch[i].Records)
		if err != nil {
			return 0, 0, err
		}
		if dup {
			dups++
		} else {
			saved++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("saving batch of %d payloads: commit: %w", len(batch), err)
	}
	return saved, dups, nil
}

// saveTx is Save's work inside an open transaction.
func saveTx(ctx context.Context, tx *sql.Tx, payload reconcile.RawPayload, records []reconcile.Record) (dup bool, err error) {
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
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("saving %s payload %s: %w", payload.Provider, payload.DedupKey, err)
	}
	// Upsert in (Kind, TxID) order so concurrent writers cannot deadlock.
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
		r.RawPayloadID = id
	}
	return false, nil
}
