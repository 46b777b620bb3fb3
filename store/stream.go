package store

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// ImportChunk is how many payloads an Import stages and merges at a time:
// what it holds in memory is a few chunks, however long the file.
const ImportChunk = 4000

// Import streams payloads into the store in ONE transaction, with the rules
// of SaveBatch (a payload already stored, or seen earlier in the same
// import, is a duplicate and changes nothing; records are upserted by status
// precedence, in the order added, with their history), but without holding
// them: every ImportChunk payloads are sent with COPY into temporary tables
// and merged from there, in a goroutine of their own while the caller
// parses the next chunk. Nothing is visible to anyone else until Commit;
// Rollback (or any error) leaves the store as it was.
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
	if _, err := tx.ExecContext(ctx, importTablesSQL); err != nil {
		tx.Rollback()
		cancel()
		return nil, fmt.Errorf("starting import: %w", err)
	}
	im := &Import{ctx: ctx, cancel: cancel, s: s, tx: tx, chunks: make(chan []staged, 1), done: make(chan struct{})}
	go im.merge()
	return im, nil
}

// importTablesSQL creates the staging tables of an Import, dropped with its
// transaction. import_payloads holds a chunk's payloads (body_text: the body
// when text can hold it, body_bin otherwise), import_records their records
// (pord: the payload's ord) each with its round: the n-th sighting of a
// transaction in the chunk is in round n, since one statement cannot update
// a row twice. import_new holds the ord, id and receipt time of each
// payload the chunk stored.
const importTablesSQL = `
CREATE TEMP TABLE import_payloads (
	ord bigint, provider text, source text, kind text, dedup_key text,
	body_text text, body_bin bytea, doc_ok boolean, received_at timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE import_records (
	pord bigint, round bigint, provider text, kind text, tx_id text, merchant_ref text, provider_ref text,
	related_tx_id text, account text, currency text, amount_minor bigint, fee_minor bigint, vat_minor bigint,
	status text, provider_status text, occurred_at timestamptz, counterparty text, method text, source text,
	amount_sent text, fee_on_payer boolean, partial boolean) ON COMMIT DROP;
CREATE INDEX ON import_records (round); -- a transaction sighted n times costs n index scans, not n scans
CREATE TEMP TABLE import_new (ord bigint PRIMARY KEY, id bigint, received_at timestamptz) ON COMMIT DROP;
-- The staging tables are never analyzed (that would cost more than the
-- merges): no nested loop over what the planner takes for a few rows, and
-- the sort of a chunk's payloads by ord stays in memory.
SET LOCAL enable_nestloop = off;
SET LOCAL work_mem = '64MB';`

var (
	importPayloadCols = []string{"ord", "provider", "source", "kind", "dedup_key", "body_text", "body_bin", "doc_ok", "received_at"}
	importRecordCols  = []string{"pord", "round", "provider", "kind", "tx_id", "merchant_ref", "provider_ref", "related_tx_id",
		"account", "currency", "amount_minor", "fee_minor", "vat_minor", "status", "provider_status", "occurred_at",
		"counterparty", "method", "source", "amount_sent", "fee_on_payer", "partial"}
)

// importPayloadsSQL stores the chunk's payloads (each (provider,
// dedup_key) once in a chunk: mergeChunk leaves out its later copies) in
// the order added, and notes the ord and id of each one stored: a payload
// already stored, or stored by an earlier chunk, is not.
func importPayloadsSQL(doc string) string {
	return `WITH ins AS (
	INSERT INTO raw_payloads (provider, source, kind, dedup_key, body, doc, received_at)
	SELECT provider, source, kind, dedup_key, b.body, CASE WHEN doc_ok THEN ` + doc + ` END, received_at
	FROM import_payloads, LATERAL (SELECT COALESCE(body_bin, convert_to(body_text, 'UTF8')) AS body) b
	-- No ORDER BY ord: one COPY into a table truncated before it lays the
	-- chunk out in ord order, and a scan reads it so; sorting a chunk's
	-- bodies cost more than the scan.
	ON CONFLICT (provider, dedup_key) DO NOTHING
	RETURNING id, provider, dedup_key)
INSERT INTO import_new (ord, id, received_at)
SELECT f.ord, ins.id, f.received_at FROM ins JOIN import_payloads f USING (provider, dedup_key)`
}

var (
	importPayloadsStrict  = importPayloadsSQL("body_text::jsonb")
	importPayloadsLenient = importPayloadsSQL("mizani_jsonb_or_null(b.body)")
)

// importRoundSQL upserts round $1 of the chunk's records, those of the
// payloads it stored, in (kind, tx_id) order, the lock order Save uses too.
var importRoundSQL = `WITH s AS (
	SELECT r.*, n.id AS payload_id, n.received_at AS seen_at, row_number() OVER (ORDER BY r.kind, r.tx_id, r.provider) AS ord
	FROM import_records r JOIN import_new n ON n.ord = r.pord WHERE r.round = $1),
` + upsertSQL("s.payload_id", "s.seen_at", false) + `
SELECT count(*) FROM up`

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

// mergeChunk stages chunk with COPY and merges it into the store.
func (im *Import) mergeChunk(chunk []staged) error {
	ctx, tx := im.ctx, im.tx
	if _, err := tx.ExecContext(ctx, "TRUNCATE import_payloads, import_records, import_new"); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	base := im.payloads
	type key struct{ provider, dedup string }
	seen := make(map[key]bool, len(chunk))
	err := copyRows(ctx, tx, "import_payloads", importPayloadCols, chunk, func(i int, st *staged, row func(...any) error) error {
		p := &st.Payload
		if k := (key{string(p.Provider), p.DedupKey}); seen[k] {
			return nil // a copy of a payload earlier in the chunk: a duplicate
		} else {
			seen[k] = true
		}
		body := p.Body
		if body == nil {
			body = []byte{}
		}
		var text, bin any
		if utf8.Valid(body) && bytes.IndexByte(body, 0) < 0 {
			text = string(body)
		} else {
			bin = body
		}
		at := p.ReceivedAt
		if at.IsZero() {
			at = time.Now()
		}
		return row(int64(base+i), string(p.Provider), string(p.Source), p.Kind, p.DedupKey, text, bin,
			jsonbSafe(body), at.UTC().Format(time.RFC3339Nano))
	})
	if err != nil {
		return err
	}
	rounds, err := copyRecordRows(ctx, tx, base, chunk)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT import_chunk"); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	res, err := tx.ExecContext(ctx, importPayloadsStrict)
	if isDataError(err) {
		// A doc jsonb refused (a number beyond numeric's range): derive
		// the chunk's docs leniently, NULL where the cast fails.
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT import_chunk"); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		res, err = tx.ExecContext(ctx, importPayloadsLenient)
	}
	if err != nil {
		return fmt.Errorf("import: storing payloads: %w", err)
	}
	n, _ := res.RowsAffected()
	for k := int64(1); k <= rounds; k++ {
		var up int64
		if err := tx.QueryRowContext(ctx, importRoundSQL, k).Scan(&up); err != nil {
			return fmt.Errorf("import: storing records: %w", err)
		}
	}
	im.payloads += len(chunk)
	im.saved += int(n)
	for i := range chunk {
		im.records += len(chunk[i].Records)
	}
	return nil
}

// copyRecordRows stages the records of chunk, whose first payload has ord
// base, each in its round, and returns the number of rounds. (A round
// counts the sightings of a transaction in the chunk, also those of a
// payload that will prove a duplicate: the rounds only keep each
// transaction's sightings in the order added.)
func copyRecordRows(ctx context.Context, tx *sql.Tx, base int, chunk []staged) (rounds int64, err error) {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("import_records", importRecordCols...))
	if err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	defer stmt.Close()
	type txKey struct {
		provider reconcile.Provider
		kind     reconcile.Kind
		tx       string
	}
	seen := make(map[txKey]int64, len(chunk))
	for i := range chunk {
		p := &chunk[i].Payload
		for j := range chunk[i].Records {
			r := &chunk[i].Records[j]
			var amount, fee, vat, sent any
			if r.AmountKnown {
				amount = r.Amount.Minor
			} else if r.AmountSent != "" {
				sent = r.AmountSent
			}
			if r.FeeKnown {
				fee, vat = r.Fee.Minor, r.VAT.Minor
			}
			k := txKey{r.Provider, r.Kind, r.TxID}
			round := seen[k] + 1
			seen[k] = round
			rounds = max(rounds, round)
			if _, err := stmt.ExecContext(ctx, int64(base+i), round, string(r.Provider), string(r.Kind), r.TxID,
				r.MerchantRef, r.ProviderRef, r.RelatedTxID, r.Account, string(r.Currency()), amount, fee, vat,
				string(r.Status), r.ProviderStatus, r.OccurredAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano), r.Counterparty, r.Method,
				string(cmp.Or(r.Source, p.Source)), sent, r.FeeOnPayer, r.Partial); err != nil {
				return 0, copyError(err, chunk)
			}
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return 0, copyError(err, chunk)
	}
	return rounds, nil
}

// copyRows stages one row per staged payload through COPY into table.
func copyRows(ctx context.Context, tx *sql.Tx, table string, cols []string, chunk []staged,
	each func(i int, st *staged, row func(...any) error) error) error {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, cols...))
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer stmt.Close()
	row := func(v ...any) error {
		_, err := stmt.ExecContext(ctx, v...)
		return err
	}
	for i := range chunk {
		if err := each(i, &chunk[i], row); err != nil {
			return copyError(err, chunk)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return copyError(err, chunk)
	}
	return nil
}

// copyLine finds the row number in a COPY error's context.
var copyLine = regexp.MustCompile(`COPY import_(payloads|records), line (\d+)`)

// copyError turns a data error PostgreSQL raised on a staged row into a
// BadPayloadError at the payload's position; other errors pass unchanged.
func copyError(err error, chunk []staged) error {
	var pqErr *pq.Error
	if !isDataError(err) || !errors.As(err, &pqErr) {
		return fmt.Errorf("import: %w", err)
	}
	m := copyLine.FindStringSubmatch(pqErr.Where)
	if m == nil {
		return fmt.Errorf("import: %w: %w", sources.ErrMalformed, err)
	}
	n, _ := strconv.Atoi(m[2])
	if m[1] == "records" { // line n is the n-th record of the chunk
		for i := range chunk {
			if n <= len(chunk[i].Records) {
				return &BadPayloadError{Pos: chunk[i].pos, Err: unstorable(chunk[i].Payload, err)}
			}
			n -= len(chunk[i].Records)
		}
	} else if n >= 1 && n <= len(chunk) {
		return &BadPayloadError{Pos: chunk[n-1].pos, Err: unstorable(chunk[n-1].Payload, err)}
	}
	return fmt.Errorf("import: %w: %w", sources.ErrMalformed, err)
}
