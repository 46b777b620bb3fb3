package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/lib/pq"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// ImportChunk is how many payloads an Import writes at a time:
// what it holds in memory is a few chunks, however long the file.
const ImportChunk = 4000

// Import streams payloads into the store in ONE transaction, with the rules
// of SaveBatch (a payload already stored, or seen earlier in the same
// import, is a duplicate and changes nothing; records are upserted by status
// precedence, in the order added, with their history), but without holding
// them: every ImportChunk payloads are written with COPY — what is new to
// the store straight into its tables, the rest through temporary tables it
// is merged from (mergeChunk) — in a goroutine of their own while the
// caller parses the next chunk. Nothing is visible to anyone else until
// Commit; Rollback (or any error) leaves the store as it was.
//
// Add, Fail, Commit and Rollback are not safe for concurrent use.
type Import struct {
	ctx    context.Context
	cancel context.CancelFunc
	s      *Store
	tx     *sql.Tx

	chunk  []staged
	chunks chan []staged
	done   chan struct{}
	err    error // set by the merging goroutine before done closes
	failed bool  // no more writing: a bad payload, or an error
	closed bool

	payloads, saved, records int
	// payloadSeq and recordSeq name the sequences of raw_payloads.id and
	// provider_records.id.
	payloadSeq, recordSeq string
}

// staged is one payload added to an Import, with its caller's position.
type staged struct {
	pos int
	Parsed
}

// BadPayloadError is a payload that PostgreSQL refused to store as staged
// by an Import: Pos is the position its caller gave Add (a line number).
// It wraps sources.ErrMalformed.
type BadPayloadError struct {
	Pos int
	Err error
}

func (e *BadPayloadError) Error() string { return e.Err.Error() }
func (e *BadPayloadError) Unwrap() error { return e.Err }

// BeginImport starts an Import. The caller must end it with Commit or
// Rollback.
func (s *Store) BeginImport(ctx context.Context) (*Import, error) {
	ctx, cancel := context.WithCancel(ctx)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("starting import: %w", err)
	}
	im := &Import{ctx: ctx, cancel: cancel, s: s, tx: tx, chunks: make(chan []staged, 1), done: make(chan struct{})}
	if _, err = tx.ExecContext(ctx, importTablesSQL); err == nil {
		err = tx.QueryRowContext(ctx, `SELECT pg_get_serial_sequence('raw_payloads', 'id'), pg_get_serial_sequence('provider_records', 'id')`).
			Scan(&im.payloadSeq, &im.recordSeq)
	}
	if err != nil {
		tx.Rollback()
		cancel()
		return nil, fmt.Errorf("starting import: %w", err)
	}
	go im.merge()
	return im, nil
}

// importTablesSQL creates the staging tables of an Import, dropped with its
// transaction, for what a chunk cannot COPY straight into the store:
// import_payloads holds its payloads when one of them is stored already by
// someone else or cannot be read as jsonb (each with the id reserved for
// it), and
// import_records the sightings of transactions already stored or sighted
// more than once in the chunk, each with its payload's id and receipt time
// and its round: the n-th sighting of a transaction in the chunk is in
// round n, since one statement cannot update a row twice.
const importTablesSQL = `
CREATE TEMP TABLE import_payloads (
	id bigint, provider text, source text, kind text, dedup_key text,
	body bytea, doc_ok boolean, received_at timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE import_records (
	payload_id bigint, seen_at timestamptz, round bigint, provider text, kind text, tx_id text, merchant_ref text,
	provider_ref text, related_tx_id text, account text, currency text, amount_minor bigint, fee_minor bigint,
	vat_minor bigint, status text, provider_status text, occurred_at timestamptz, counterparty text, method text,
	source text, amount_sent text, fee_on_payer boolean, partial boolean) ON COMMIT DROP;
CREATE INDEX ON import_records (round); -- a transaction sighted n times costs n index scans, not n scans
-- The staging tables are never analyzed (that would cost more than the
-- merges): no nested loop over what the planner takes for a few rows. Nor
-- JIT compilation, which the cost of a plan forced to a nested loop (the
-- probes of storedPayloadsSQL) would start at 40 ms a statement.
SET LOCAL enable_nestloop = off;
SET LOCAL jit = off;
SET LOCAL work_mem = '64MB';`

// The columns an Import COPYs: payloads and records straight into the
// store, and into the staging tables.
var (
	payloadCols       = []string{"id", "provider", "source", "kind", "dedup_key", "body", "doc", "received_at"}
	importPayloadCols = []string{"id", "provider", "source", "kind", "dedup_key", "body", "doc_ok", "received_at"}
	recordFields      = []string{"provider", "kind", "tx_id", "merchant_ref", "provider_ref", "related_tx_id", "account", "currency", "amount_minor", "fee_minor", "vat_minor", "status", "provider_status", "occurred_at", "counterparty", "method", "source", "amount_sent", "fee_on_payer", "partial"}
	recordCols        = append([]string{"id", "raw_payload_id", "first_seen_at"}, recordFields...)
	historyCols       = []string{"record_id", "status", "provider_status", "amount_minor", "source", "raw_payload_id"}
	importRecordCols  = append([]string{"payload_id", "seen_at", "round"}, recordFields...)
)

// importPayloadsSQL stores the staged payloads of a chunk, each under its
// reserved id, and returns the ids of those stored: one stored meanwhile
// by someone else is not.
func importPayloadsSQL(doc string) string {
	return `INSERT INTO raw_payloads (id, provider, source, kind, dedup_key, body, doc, received_at)
	SELECT id, provider, source, kind, dedup_key, body, CASE WHEN doc_ok THEN ` + doc + ` END, received_at
	FROM import_payloads
	ON CONFLICT (provider, dedup_key) DO NOTHING
	RETURNING id`
}

var importPayloadsStrict, importPayloadsLenient = importPayloadsSQL(strictDoc("body")), importPayloadsSQL(lenientDoc("body"))

// importRoundSQL upserts round $1 of the staged records in (kind, tx_id)
// order, the lock order Save uses too.
var importRoundSQL = `WITH s AS (
	SELECT r.*, row_number() OVER (ORDER BY r.kind, r.tx_id, r.provider) AS ord
	FROM import_records r WHERE r.round = $1),
` + upsertSQL("s.payload_id", "s.seen_at", false) + `
SELECT count(*) FROM up`

// storedPayloadsSQL returns which of the dedup keys $2 of provider $1 are
// stored: one probe of the unique index each, a LATERAL LIMIT 1 that no
// plan can turn into a scan of the table (a join or an = ANY can be, by
// estimates of a table this very import is filling).
const storedPayloadsSQL = `SELECT k FROM unnest($2::text[]) AS k,
	LATERAL (SELECT 1 FROM raw_payloads WHERE provider = $1 AND dedup_key = k LIMIT 1) AS found`

// storedRecordsSQL returns which of the transaction ids $3 of provider $1
// and kind $2 are stored, as storedPayloadsSQL does.
const storedRecordsSQL = `SELECT k FROM unnest($3::text[]) AS k,
	LATERAL (SELECT 1 FROM provider_records WHERE provider = $1 AND kind = $2 AND tx_id = k LIMIT 1) AS found`

// reserveSQL takes $2 values of the sequence $1.
const reserveSQL = `SELECT nextval($1::regclass) FROM generate_series(1, $2::int)`

// Add stages one payload and its records; pos is the caller's position for
// it (a line number), named by a BadPayloadError. A payload whose records
// hold what a text column cannot is refused at once with an error wrapping
// sources.ErrMalformed; the Import goes on, so the caller can find every bad
// payload, but will not commit. Any other error ends the Import.
func (im *Import) Add(pos int, p Parsed) error {
	if err := checkStorable(p.Payload, p.Records); err != nil {
		im.Fail()
		return &BadPayloadError{Pos: pos, Err: err}
	}
	if im.failed {
		return im.errNow()
	}
	im.chunk = append(im.chunk, staged{pos: pos, Parsed: p})
	if len(im.chunk) >= ImportChunk {
		return im.flush()
	}
	return im.errNow()
}

// Fail marks the import as failed by the caller (it found a bad payload):
// nothing more is written, and Commit refuses.
func (im *Import) Fail() {
	if !im.failed {
		im.failed = true
		im.chunk = nil
	}
}

// errNow returns the merging goroutine's error, if it has stopped on one.
func (im *Import) errNow() error {
	select {
	case <-im.done:
		return im.err
	default:
		return nil
	}
}

// flush hands the chunk to the merging goroutine, waiting while it merges
// the previous one.
func (im *Import) flush() error {
	if len(im.chunk) == 0 {
		return im.errNow()
	}
	select {
	case im.chunks <- im.chunk:
		im.chunk = make([]staged, 0, ImportChunk)
		return nil
	case <-im.done:
		im.failed = true
		return im.err
	}
}

// merge stages and merges chunks until the channel closes or one fails.
func (im *Import) merge() {
	defer close(im.done)
	for chunk := range im.chunks {
		if err := im.mergeChunk(chunk); err != nil {
			im.err = err
			im.cancel() // the transaction is lost: roll it back now
			return
		}
	}
}

// Commit merges what is staged and commits: saved payloads were new, dups
// were already stored; records counts the records of every payload added.
func (im *Import) Commit() (saved, dups, records int, err error) {
	if im.closed {
		return 0, 0, 0, errors.New("import already ended")
	}
	if !im.failed {
		err = im.flush()
	}
	im.closed = true
	close(im.chunks)
	<-im.done
	defer im.cancel()
	if err == nil {
		err = im.err
	}
	if err == nil && im.failed {
		err = errors.New("import failed: a payload was refused")
	}
	if err != nil {
		im.tx.Rollback()
		return 0, 0, 0, err
	}
	if err := im.tx.Commit(); err != nil {
		return 0, 0, 0, fmt.Errorf("import of %d payloads: commit: %w", im.payloads, err)
	}
	return im.saved, im.payloads - im.saved, im.records, nil
}

// Rollback discards the import. It is safe to call after Commit.
func (im *Import) Rollback() error {
	if im.closed {
		return nil
	}
	im.closed, im.failed = true, true
	close(im.chunks)
	<-im.done
	err := im.tx.Rollback()
	im.cancel()
	return err
}

// mergeChunk stores chunk. What is new to the store — payloads not
// stored, the first sighting of a transaction not stored and sighted once
// in the chunk — is COPYed straight into raw_payloads, provider_records and
// record_history under ids reserved for it; the other sightings are staged
// and upserted in rounds. A COPY refused for a row stored meanwhile by
// someone else (a webhook) or for a body jsonb cannot read is rolled back
// to its savepoint and its rows take the staged way.
func (im *Import) mergeChunk(chunk []staged) error {
	fresh, err := im.freshPayloads(chunk)
	if err != nil {
		return err
	}
	ids, err := im.reserve(im.payloadSeq, len(fresh))
	if err != nil {
		return err
	}
	// payloadID[i] is the id of chunk[i]'s payload if this chunk stored it.
	payloadID := make([]int64, len(chunk))
	if err := im.storePayloads(chunk, fresh, ids, payloadID); err != nil {
		return err
	}
	saved := 0
	for _, id := range payloadID {
		if id != 0 {
			saved++
		}
	}
	if err := im.storeRecords(chunk, payloadID); err != nil {
		return err
	}
	im.payloads += len(chunk)
	im.saved += saved
	for i := range chunk {
		im.records += len(chunk[i].Records)
	}
	return nil
}

// freshPayloads returns the indexes in chunk of the payloads not stored
// yet, each (provider, dedup key) once: a later copy in the chunk is a
// duplicate.
func (im *Import) freshPayloads(chunk []staged) ([]int, error) {
	seen := make(map[reconcile.PayloadKey]bool, len(chunk))
	var fresh []int
	keys := map[reconcile.Provider][]string{}
	for i := range chunk {
		if k := chunk[i].Payload.Key(); !seen[k] {
			seen[k] = true
			fresh = append(fresh, i)
			keys[k.Provider] = append(keys[k.Provider], k.DedupKey)
		}
	}
	stored := map[reconcile.PayloadKey]bool{}
	for provider, ks := range keys {
		found, err := im.present(storedPayloadsSQL, string(provider), pq.StringArray(ks))
		if err != nil {
			return nil, err
		}
		for _, k := range found {
			stored[reconcile.PayloadKey{Provider: provider, DedupKey: k}] = true
		}
	}
	return slices.DeleteFunc(fresh, func(i int) bool { return stored[chunk[i].Payload.Key()] }), nil
}

// present runs q, which returns the keys among its arguments that are
// stored.
func (im *Import) present(q string, args ...any) ([]string, error) {
	rows, err := im.tx.QueryContext(im.ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		found = append(found, k)
	}
	return found, rows.Err()
}

// reserve takes n ids of the sequence seq.
func (im *Import) reserve(seq string, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if n == 0 {
		return ids, nil
	}
	rows, err := im.tx.QueryContext(im.ctx, reserveSQL, seq, n)
	if err != nil {
		return nil, fmt.Errorf("import: reserving ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("import: reserving ids: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// storePayloads stores the payloads chunk[fresh[k]] under ids[k], and sets
// payloadID for each one stored: with one COPY, or, when that is refused
// (a payload stored meanwhile by someone else, a body whose jsonb cast
// fails), staged and inserted unless stored, their doc derived leniently if
// need be.
func (im *Import) storePayloads(chunk []staged, fresh []int, ids []int64, payloadID []int64) error {
	ctx, tx := im.ctx, im.tx
	if len(fresh) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT import_payloads"); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	err := copyIn(ctx, tx, "raw_payloads", payloadCols, len(fresh), func(k int, row func(...any) error) error {
		p := &chunk[fresh[k]].Payload
		b := bodyOf(p)
		var doc any
		if jsonbSafe(b) {
			doc = string(b)
		}
		return row(ids[k], string(p.Provider), string(p.Source), p.Kind, p.DedupKey, b, doc, receivedText(p, time.Now()))
	})
	if err == nil {
		for k, i := range fresh {
			payloadID[i] = ids[k]
		}
		return nil
	}
	if !isDataError(err) && !isUniqueViolation(err) {
		return fmt.Errorf("import: storing payloads: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT import_payloads"); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "TRUNCATE import_payloads"); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	err = copyIn(ctx, tx, "import_payloads", importPayloadCols, len(fresh), func(k int, row func(...any) error) error {
		p := &chunk[fresh[k]].Payload
		b := bodyOf(p)
		return row(ids[k], string(p.Provider), string(p.Source), p.Kind, p.DedupKey, b, jsonbSafe(b), receivedText(p, time.Now()))
	})
	if err != nil {
		return copyError(err, "import_payloads", len(fresh), func(k int) int { return fresh[k] }, chunk)
	}
	stored, err := im.insertStaged(importPayloadsStrict)
	if isDataError(err) {
		// A doc jsonb refused (a number beyond numeric's range): derive
		// the chunk's docs leniently, NULL where the cast fails.
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT import_payloads"); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		stored, err = im.insertStaged(importPayloadsLenient)
	}
	if err != nil {
		return fmt.Errorf("import: storing payloads: %w", err)
	}
	for k, i := range fresh {
		if stored[ids[k]] {
			payloadID[i] = ids[k]
		}
	}
	return nil
}

// insertStaged runs q, an insert of the staged payloads returning the ids
// it stored, under a savepoint of its own.
func (im *Import) insertStaged(q string) (map[int64]bool, error) {
	ctx, tx := im.ctx, im.tx
	if _, err := tx.ExecContext(ctx, "SAVEPOINT import_payloads"); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	stored := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		stored[id] = true
	}
	return stored, rows.Err()
}

// sighting is record j of chunk[i].
type sighting struct{ i, j int }

// storeRecords stores the records of the payloads this chunk stored
// (payloadID), in the order added: a transaction not stored and sighted
// once in the chunk is COPYed in with its history row; the others are
// staged and upserted in rounds.
func (im *Import) storeRecords(chunk []staged, payloadID []int64) error {
	keyOf := func(sg sighting) reconcile.RecordKey { return chunk[sg.i].Records[sg.j].Key() }
	var all []sighting
	count := map[reconcile.RecordKey]int{}
	for i := range chunk {
		if payloadID[i] == 0 {
			continue // a duplicate: its records change nothing
		}
		for j := range chunk[i].Records {
			sg := sighting{i, j}
			all = append(all, sg)
			count[keyOf(sg)]++
		}
	}
	if len(all) == 0 {
		return nil
	}
	type group struct {
		provider reconcile.Provider
		kind     reconcile.Kind
	}
	txs := map[group][]string{}
	for _, sg := range all {
		if k := keyOf(sg); count[k] == 1 {
			g := group{k.Provider, k.Kind}
			txs[g] = append(txs[g], k.TxID)
		}
	}
	stored := map[reconcile.RecordKey]bool{}
	for g, ids := range txs {
		found, err := im.present(storedRecordsSQL, string(g.provider), string(g.kind), pq.StringArray(ids))
		if err != nil {
			return err
		}
		for _, id := range found {
			stored[reconcile.RecordKey{Provider: g.provider, Kind: g.kind, TxID: id}] = true
		}
	}
	var fresh, again []sighting
	for _, sg := range all {
		if k := keyOf(sg); count[k] == 1 && !stored[k] {
			fresh = append(fresh, sg)
		} else {
			again = append(again, sg)
		}
	}
	if len(fresh) > 0 {
		copied, err := im.copyRecords(chunk, payloadID, fresh)
		if err != nil {
			return err
		}
		if !copied { // one was stored meanwhile by someone else
			again = all
		}
	}
	return im.upsertRecords(chunk, payloadID, again)
}

// recordArgs are the values of recordFields for record r of payload p.
func recordArgs(p *reconcile.RawPayload, r *reconcile.Record) []any {
	var amount, fee, vat, sent any
	if r.AmountKnown {
		amount = r.Amount.Minor
	} else if r.AmountSent != "" {
		sent = r.AmountSent
	}
	if r.FeeKnown {
		fee, vat = r.Fee.Minor, r.VAT.Minor
	}
	return []any{string(r.Provider), string(r.Kind), r.TxID, r.MerchantRef, r.ProviderRef, r.RelatedTxID, r.Account,
		string(r.Currency()), amount, fee, vat, string(r.Status), r.ProviderStatus,
		r.OccurredAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano), r.Counterparty, r.Method,
		string(cmp.Or(r.Source, p.Source)), sent, r.FeeOnPayer, r.Partial}
}

// copyRecords COPYs the sightings fresh — each the only one of a
// transaction not stored — into provider_records under reserved ids and
// their history rows into record_history. It returns false, with nothing
// written, if one was stored meanwhile by someone else.
func (im *Import) copyRecords(chunk []staged, payloadID []int64, fresh []sighting) (bool, error) {
	ctx, tx := im.ctx, im.tx
	ids, err := im.reserve(im.recordSeq, len(fresh))
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT import_records"); err != nil {
		return false, fmt.Errorf("import: %w", err)
	}
	args := make([]any, 0, len(recordCols))
	err = copyIn(ctx, tx, "provider_records", recordCols, len(fresh), func(k int, row func(...any) error) error {
		sg := fresh[k]
		p := &chunk[sg.i].Payload
		args = append(args[:0], ids[k], payloadID[sg.i], receivedText(p, time.Now()))
		return row(append(args, recordArgs(p, &chunk[sg.i].Records[sg.j])...)...)
	})
	table := "provider_records"
	if err == nil {
		table = "record_history"
		err = copyIn(ctx, tx, "record_history", historyCols, len(fresh), func(k int, row func(...any) error) error {
			sg := fresh[k]
			p, r := &chunk[sg.i].Payload, &chunk[sg.i].Records[sg.j]
			var amount any
			if r.AmountKnown {
				amount = r.Amount.Minor
			}
			return row(ids[k], string(r.Status), r.ProviderStatus, amount, string(cmp.Or(r.Source, p.Source)), payloadID[sg.i])
		})
	}
	if isUniqueViolation(err) {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT import_records"); err != nil {
			return false, fmt.Errorf("import: %w", err)
		}
		return false, nil
	}
	if err != nil {
		return false, copyError(err, table, len(fresh), func(k int) int { return fresh[k].i }, chunk)
	}
	return true, nil
}

// upsertRecords stages the sightings again, each in its round, and
// upserts the rounds in turn.
func (im *Import) upsertRecords(chunk []staged, payloadID []int64, again []sighting) error {
	ctx, tx := im.ctx, im.tx
	if len(again) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "TRUNCATE import_records"); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	seen := make(map[reconcile.RecordKey]int64, len(again))
	var rounds int64
	args := make([]any, 0, len(importRecordCols))
	err := copyIn(ctx, tx, "import_records", importRecordCols, len(again), func(k int, row func(...any) error) error {
		sg := again[k]
		p, r := &chunk[sg.i].Payload, &chunk[sg.i].Records[sg.j]
		key := r.Key()
		round := seen[key] + 1
		seen[key] = round
		rounds = max(rounds, round)
		args = append(args[:0], payloadID[sg.i], receivedText(p, time.Now()), round)
		return row(append(args, recordArgs(p, r)...)...)
	})
	if err != nil {
		return copyError(err, "import_records", len(again), func(k int) int { return again[k].i }, chunk)
	}
	for k := int64(1); k <= rounds; k++ {
		var up int64
		if err := tx.QueryRowContext(ctx, importRoundSQL, k).Scan(&up); err != nil {
			return fmt.Errorf("import: storing records: %w", err)
		}
	}
	return nil
}

// copyIn sends n rows through COPY into table: each(k, row) gives row k.
func copyIn(ctx context.Context, tx *sql.Tx, table string, cols []string, n int, each func(k int, row func(...any) error) error) error {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, cols...))
	if err != nil {
		return err
	}
	defer stmt.Close()
	row := func(v ...any) error {
		_, err := stmt.ExecContext(ctx, v...)
		return err
	}
	for k := range n {
		if err := each(k, row); err != nil {
			return err
		}
	}
	_, err = stmt.ExecContext(ctx)
	return err
}

// copyLine finds the row number in a COPY error's context.
var copyLine = regexp.MustCompile(`COPY (\w+), line (\d+)`)

// copyError turns a data error PostgreSQL raised on a row of a COPY into
// table of n rows, row k from the payload chunk[index(k)], into a
// BadPayloadError at that payload's position; other errors are wrapped as
// they are.
func copyError(err error, table string, n int, index func(k int) int, chunk []staged) error {
	var pqErr *pq.Error
	if !isDataError(err) || !errors.As(err, &pqErr) {
		return fmt.Errorf("import: %w", err)
	}
	if m := copyLine.FindStringSubmatch(pqErr.Where); m != nil && m[1] == table {
		if line, _ := strconv.Atoi(m[2]); line >= 1 && line <= n {
			i := index(line - 1)
			return &BadPayloadError{Pos: chunk[i].pos, Err: unstorable(chunk[i].Payload, err)}
		}
	}
	return fmt.Errorf("import: %w: %w", sources.ErrMalformed, err)
}
