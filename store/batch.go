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
func (s *Store) SaveBatch(ctx context.Context, batch []Parsed) (saved, dups int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("saving batch: %w", err)
	}
	defer tx.Rollback()
	for i := range batch {
		dup, err := s.saveTx(ctx, tx, batch[i].Payload, sightings(batch[i].Records))
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
