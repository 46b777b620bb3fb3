package store

import (
	"context"
	"fmt"

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
//
// A payload or record PostgreSQL cannot store (see Save) fails the batch with
// an error wrapping sources.ErrMalformed; for a large file use ImportStream,
// which streams and names each bad line.
func (s *Store) SaveBatch(ctx context.Context, batch []Parsed) (saved, dups int, err error) {
	for i := range batch {
		if err := checkStorable(batch[i].Payload, batch[i].Records); err != nil {
			return 0, 0, fmt.Errorf("payload %d of the batch: %w", i+1, err)
		}
	}
	saved, dups, err = s.saveBatch(ctx, batch, false)
	if isDataError(err) {
		saved, dups, err = s.saveBatch(ctx, batch, true)
	}
	return saved, dups, err
}

// saveBatch is SaveBatch, with docs derived leniently when lenient is set.
func (s *Store) saveBatch(ctx context.Context, batch []Parsed, lenient bool) (saved, dups int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("saving batch: %w", err)
	}
	defer tx.Rollback()
	for i := range batch {
		dup, err := s.saveTx(ctx, tx, batch[i].Payload, sightings(batch[i].Records), lenient)
		if err != nil {
			if lenient && isDataError(err) {
				err = unstorable(batch[i].Payload, err)
			}
			return 0, 0, fmt.Errorf("payload %d of the batch: %w", i+1, err)
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
