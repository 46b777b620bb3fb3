package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/mizani/reconcile"
)

// groupSQL stores several payloads and their records in ONE statement: the
// payloads as parallel arrays $1..$7 (ordinality pord), their records as
// the arrays of sightingsSQL from $9 on, each with the pord of its payload
// in $8. Only the records of payloads it stored are upserted; it returns
// the pord and id of each payload stored (a duplicate returns none).
var groupSQL = `WITH pin AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::timestamptz[], $7::boolean[])
		WITH ORDINALITY AS t(provider, source, kind, dedup_key, body, received_at, doc_ok, pord)),
p AS (
	INSERT INTO raw_payloads (provider, source, kind, dedup_key, body, doc, received_at)
	SELECT provider, source, kind, dedup_key, body, CASE WHEN doc_ok THEN ` + strictDoc("body") + ` END, received_at
	FROM pin ORDER BY pord
	ON CONFLICT (provider, dedup_key) DO NOTHING
	RETURNING id, provider, dedup_key),
pn AS (SELECT pin.pord, p.id, pin.received_at FROM p JOIN pin USING (provider, dedup_key)),
s0 AS (SELECT * FROM unnest($8::bigint[]) WITH ORDINALITY AS o(pord, ord)),
` + strings.Replace(sightingsSQL(9), "s AS (", "s1 AS (", 1) + `,
s AS (SELECT s1.*, pn.id AS payload_id, pn.received_at AS seen_at FROM s1 JOIN s0 USING (ord) JOIN pn USING (pord)),
` + upsertSQL("s.payload_id", "s.seen_at", false) + `
SELECT pord, id FROM pn`

// Groupable reports whether SaveGroup can take records with others in one
// statement: one sighting of each transaction (a payload carrying the same
// transaction twice needs Save's rounds).
func (s *Store) Groupable(records []reconcile.Record) bool {
	return len(sightings(records)) <= 1
}

// SaveGroup stores several payloads and their records, each with the rules
// of Save, in ONE transaction and one statement — the group commit of a
// webhook receiver: concurrent deliveries share a commit. dups[i] tells
// whether payloads[i] was already stored. Either every payload of the group
// is stored or none; the caller retries each with Save on an error.
//
// The group must hold each (Provider, DedupKey) once and each (Provider,
// Kind, TxID) once over all its records (see Groupable), or SaveGroup
// returns an error without writing. On success each stored record's
// RawPayloadID is set.
func (s *Store) SaveGroup(ctx context.Context, payloads []reconcile.RawPayload, records [][]reconcile.Record) (dups []bool, err error) {
	if len(payloads) != len(records) {
		return nil, fmt.Errorf("saving a group: %d payloads, %d record lists", len(payloads), len(records))
	}
	seenP, seenR := map[reconcile.PayloadKey]bool{}, map[reconcile.RecordKey]bool{}
	n := len(payloads)
	var (
		provider, source, kind, dedup = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		bodies                        = make([][]byte, n)
		receivedAt                    = make([]string, n)
		docOK                         = make([]bool, n)
		recs                          []*reconcile.Record
		pords                         []int64
	)
	now := time.Now()
	for i, p := range payloads {
		if err := checkStorable(p, records[i]); err != nil {
			return nil, err
		}
		k := p.Key()
		if seenP[k] {
			return nil, fmt.Errorf("saving a group: payload %s %s twice", p.Provider, p.DedupKey)
		}
		seenP[k] = true
		provider[i], source[i], kind[i], dedup[i] = string(p.Provider), string(p.Source), p.Kind, p.DedupKey
		bodies[i] = bodyOf(&p)
		receivedAt[i] = receivedText(&p, now)
		docOK[i] = jsonbSafe(bodies[i])
		for j := range records[i] {
			r := &records[i][j]
			k := r.Key()
			if seenR[k] {
				return nil, fmt.Errorf("saving a group: transaction %s %s %s twice", r.Provider, r.Kind, r.TxID)
			}
			seenR[k] = true
			recs = append(recs, r)
		}
	}
	// Lock order, as Save: records by (Kind, TxID).
	owner := map[*reconcile.Record]int64{}
	for i := range payloads {
		for j := range records[i] {
			owner[&records[i][j]] = int64(i + 1)
		}
	}
	slices.SortStableFunc(recs, func(a, b *reconcile.Record) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.TxID, b.TxID), cmp.Compare(a.Provider, b.Provider))
	})
	pords = make([]int64, len(recs))
	for i, r := range recs {
		pords[i] = owner[r]
	}
	args := []any{pq.StringArray(provider), pq.StringArray(source), pq.StringArray(kind), pq.StringArray(dedup),
		pq.ByteaArray(bodies), pq.StringArray(receivedAt), pq.BoolArray(docOK), pq.Int64Array(pords)}
	args = append(args, sightingArgs("", recs)...)
	// A record without a Source takes its payload's.
	srcs := args[len(args)-4].(pq.StringArray)
	for i, r := range recs {
		if r.Source == "" {
			srcs[i] = string(payloads[owner[r]-1].Source)
		}
	}
	rows, err := s.query(ctx, groupSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("saving a group of %d payloads: %w", n, err)
	}
	defer rows.Close()
	ids := make([]int64, n)
	for rows.Next() {
		var pord, id int64
		if err := rows.Scan(&pord, &id); err != nil {
			return nil, fmt.Errorf("saving a group of %d payloads: %w", n, err)
		}
		ids[pord-1] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("saving a group of %d payloads: %w", n, err)
	}
	dups = make([]bool, n)
	for i := range payloads {
		dups[i] = ids[i] == 0
		for j := range records[i] {
			records[i][j].RawPayloadID = ids[i]
		}
	}
	return dups, nil
}

// query is queryRow for a query returning rows, on the pool.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s.mu.Lock()
	stmt, ok := s.stmts[q]
	if !ok {
		var err error
		if stmt, err = s.db.PrepareContext(ctx, q); err != nil {
			s.mu.Unlock()
			return s.db.QueryContext(ctx, q, args...)
		}
		if s.stmts == nil {
			s.stmts = map[string]*sql.Stmt{}
		}
		s.stmts[q] = stmt
	}
	s.mu.Unlock()
	return stmt.QueryContext(ctx, args...)
}
