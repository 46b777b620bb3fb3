package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

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

// sightingsSQL is the CTE s: the records passed as parallel arrays from
// parameter $n on (see sightingArgs), one row per record, numbered ord in
// the order given.
func sightingsSQL(n int) string {
	types := []string{"text", "text", "text", "text", "text", "text", "text", "text",
		"bigint", "boolean", "bigint", "bigint", "boolean", "text", "text", "timestamptz", "text", "text", "text", "text", "boolean", "boolean"}
	arrays := make([]string, len(types))
	for i, t := range types {
		arrays[i] = fmt.Sprintf("$%d::%s[]", n+i, t)
	}
	return `s AS (
	SELECT provider, kind, tx_id, merchant_ref, provider_ref, related_tx_id, account, currency,
		CASE WHEN amount_known THEN amount END AS amount_minor, CASE WHEN fee_known THEN fee END AS fee_minor,
		CASE WHEN fee_known THEN vat END AS vat_minor, status, provider_status, occurred_at, counterparty, method, source,
		NULLIF(amount_sent, '') AS amount_sent, fee_on_payer, partial, ord
	FROM unnest(` + strings.Join(arrays, ", ") + `) WITH ORDINALITY AS s(provider, kind, tx_id, merchant_ref, provider_ref,
		related_tx_id, account, currency, amount, amount_known, fee, vat, fee_known, status, provider_status, occurred_at,
		counterparty, method, source, amount_sent, fee_on_payer, partial, ord))`
}

// upsertSQL is the CTEs up and h: every row of s is inserted into
// provider_records or merged into the stored record, in ord order, and
// appended to record_history, all attributed to payload id pid and seen at
// seen (SQL expressions, over the CTE p when withP is set): the payload's
// receipt time, which a new record keeps as first_seen_at and a stored one
// not yet reversed takes as reversed_at when this sighting (a webhook, poll
// or status query: not an import of old payloads) reverses it.
//
// The incoming sighting wins when its status is at least as final as the
// stored one (reconcile.Status.Precedence). The winner's status, source and
// payload are kept; other fields keep the winner's value where it has one and
// the other's otherwise, so a status-only sighting never erases a known
// amount and fills a missing one. occurred_at keeps the earliest sighting.
func upsertSQL(pid, seen string, withP bool) string {
	p := ""
	if withP {
		p = ", p"
	}
	win := "(" + precedenceSQL("EXCLUDED.status") + " >= " + precedenceSQL("r.status") + ")"
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
		pick("amount_minor", ""), pick("fee_minor", ""), pick("vat_minor", ""), pick("amount_sent", ""),
		"occurred_at = LEAST(r.occurred_at, EXCLUDED.occurred_at)",
		"fee_on_payer = r.fee_on_payer OR EXCLUDED.fee_on_payer",
		"partial = r.partial OR EXCLUDED.partial",
		"updated_at = now()",
		// EXCLUDED.first_seen_at is this sighting's receipt time; an
		// import's is only when a file was loaded, which dates nothing.
		"reversed_at = CASE WHEN r.reversed_at IS NULL AND r.status <> 'reversed' AND EXCLUDED.status = 'reversed' " +
			"AND EXCLUDED.source <> 'import' THEN EXCLUDED.first_seen_at ELSE r.reversed_at END",
	}
	return `up AS (
	INSERT INTO provider_records AS r (provider, kind, tx_id, merchant_ref, provider_ref, related_tx_id, account,
		currency, amount_minor, fee_minor, vat_minor, status, provider_status, occurred_at, counterparty, method, source, raw_payload_id,
		amount_sent, fee_on_payer, partial, first_seen_at)
	SELECT s.provider, s.kind, s.tx_id, s.merchant_ref, s.provider_ref, s.related_tx_id, s.account, s.currency, s.amount_minor,
		s.fee_minor, s.vat_minor, s.status, s.provider_status, s.occurred_at, s.counterparty, s.method, s.source, ` + pid + `,
		s.amount_sent, s.fee_on_payer, s.partial, ` + seen + `
	FROM s` + p + ` ORDER BY s.ord
	ON CONFLICT (provider, kind, tx_id) DO UPDATE SET ` + strings.Join(sets, ",\n\t\t") + `
	RETURNING r.id, r.provider, r.kind, r.tx_id),
h AS (
	INSERT INTO record_history (record_id, status, provider_status, amount_minor, source, raw_payload_id)
	SELECT up.id, s.status, s.provider_status, s.amount_minor, s.source, ` + pid + `
	FROM up JOIN s USING (provider, kind, tx_id)` + p + `)`
}

// saveSQL stores a payload ($1..$7: $5 the body's exact bytes, $7 whether
// doc can be derived from them) and its records (arrays from $8) in one
// statement. It returns the new payload's id, or no row for a duplicate, in
// which case the records are not touched: the payload insert waits for a
// concurrent insert of the same payload to commit, then does nothing.
// saveSQLLenient is the same with doc derived by mizani_jsonb_or_null, for a
// body the plain cast refused (a number beyond numeric's range).
var saveSQL, saveSQLLenient = saveSQLWith(strictDoc("$5::bytea")), saveSQLWith(lenientDoc("$5::bytea"))

// strictDoc and lenientDoc derive doc from the body bytes b (an SQL
// expression): the plain cast, which fails on a number beyond numeric's
// range, or NULL where the cast fails (mizani_jsonb_or_null, whose EXCEPTION
// block costs a subtransaction a call: only for a retry).
func strictDoc(b string) string  { return "convert_from(" + b + ", 'UTF8')::jsonb" }
func lenientDoc(b string) string { return "mizani_jsonb_or_null(" + b + ")" }

func saveSQLWith(doc string) string {
	return `WITH p AS (
	INSERT INTO raw_payloads (provider, source, kind, dedup_key, body, doc, received_at)
	VALUES ($1, $2, $3, $4, $5::bytea, CASE WHEN $7::boolean THEN ` + doc + ` END, $6)
	ON CONFLICT (provider, dedup_key) DO NOTHING
	RETURNING id),
` + sightingsSQL(8) + `,
` + upsertSQL("p.id", "$6::timestamptz", true) + `
SELECT id FROM p`
}

// sightAgainSQL stores more records (arrays from $2) of the already stored
// payload $1: the second and later sightings of a transaction one payload
// carries more than once.
var sightAgainSQL = `WITH ` + sightingsSQL(2) + `,
` + upsertSQL("$1::bigint", "(SELECT received_at FROM raw_payloads WHERE id = $1)", false) + `
SELECT count(*) FROM up`

// Save stores payload and the records parsed from it in one transaction,
// implementing sources.Sink. The body is kept as the exact bytes received,
// whatever they hold; its doc (jsonb) is NULL where jsonb cannot hold it (a
// \u0000 escape, a lone surrogate, invalid UTF-8, a number beyond numeric's
// range). A record field text cannot hold (a NUL character, invalid UTF-8)
// is bad input: the error wraps sources.ErrMalformed and nothing is stored. A payload whose (Provider, DedupKey) is already
// stored is a duplicate: nothing changes and dup is true. A record already
// stored under the same (Provider, Kind, TxID) is updated by status
// precedence (reconcile.Status.Precedence); every sighting is appended to
// record_history. On success each record's RawPayloadID is set.
//
// A payload is stored with one statement, one round trip to PostgreSQL, unless
// it carries the same transaction twice. Save is safe to call concurrently,
// also for the same payload or the same transaction: a second copy of a
// payload waits for the first to commit and then reports dup, and records are
// written in (Kind, TxID) order so that two payloads sharing transactions
// cannot deadlock.
func (s *Store) Save(ctx context.Context, payload reconcile.RawPayload, records []reconcile.Record) (dup bool, err error) {
	if err := checkStorable(payload, records); err != nil {
		return false, err
	}
	rounds := sightings(records)
	dup, err = s.save(ctx, payload, rounds, false)
	if isDataError(err) {
		// PostgreSQL refused a value: the doc (a number beyond numeric's
		// range), kept NULL on the second try, or a record field, which is
		// bad input that no retry will store.
		if dup, err = s.save(ctx, payload, rounds, true); isDataError(err) {
			return false, unstorable(payload, err)
		}
	}
	return dup, err
}

// save is Save, with doc derived leniently when lenient is set.
func (s *Store) save(ctx context.Context, payload reconcile.RawPayload, rounds [][]*reconcile.Record, lenient bool) (dup bool, err error) {
	if len(rounds) <= 1 { // one statement is its own transaction
		return s.saveTx(ctx, nil, payload, rounds, lenient)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("saving %s payload %s: %w", payload.Provider, payload.DedupKey, err)
	}
	defer tx.Rollback()
	if dup, err = s.saveTx(ctx, tx, payload, rounds, lenient); err != nil || dup {
		return dup, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("saving %s payload %s: commit: %w", payload.Provider, payload.DedupKey, err)
	}
	return false, nil
}

// saveTx stores payload and its records, grouped by sightings, in tx (nil:
// in a statement of its own, only for a single round), and sets each
// record's RawPayloadID. It is the body of Save and of SaveBatch. The body
// is stored as its exact bytes; doc is derived from it where jsonbSafe says
// jsonb can hold it (leniently, NULL where the cast fails, when lenient is
// set), NULL otherwise.
func (s *Store) saveTx(ctx context.Context, tx *sql.Tx, payload reconcile.RawPayload, rounds [][]*reconcile.Record, lenient bool) (dup bool, err error) {
	receivedAt := payload.ReceivedAt
	if receivedAt.IsZero() {
		receivedAt = time.Now()
	}
	var first []*reconcile.Record
	if len(rounds) > 0 {
		first = rounds[0]
	}
	body := bodyOf(&payload)
	args := append([]any{payload.Provider, payload.Source, payload.Kind, payload.DedupKey, body, receivedAt, jsonbSafe(body)},
		sightingArgs(payload.Source, first)...)
	q := saveSQL
	if lenient {
		q = saveSQLLenient
	}
	var id int64
	err = s.queryRow(ctx, tx, q, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("saving %s payload %s with %s: %w", payload.Provider, payload.DedupKey, describe(first), err)
	}
	for _, round := range rounds[min(1, len(rounds)):] {
		var n int
		if err := s.queryRow(ctx, tx, sightAgainSQL, append([]any{id}, sightingArgs(payload.Source, round)...)...).Scan(&n); err != nil {
			return false, fmt.Errorf("saving %s payload %s with %s: %w", payload.Provider, payload.DedupKey, describe(round), err)
		}
	}
	for _, round := range rounds {
		for _, r := range round {
			r.RawPayloadID = id
		}
	}
	return false, nil
}

// queryRow runs q, prepared once per connection so that PostgreSQL neither
// parses nor plans it again and a call is one round trip, in tx (nil: on the
// pool).
func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	s.mu.Lock()
	stmt, ok := s.stmts[q]
	if !ok {
		var err error
		if stmt, err = s.db.PrepareContext(ctx, q); err != nil {
			s.mu.Unlock()
			// A failed prepare is not cached; the query reports the error.
			if tx != nil {
				return tx.QueryRowContext(ctx, q, args...)
			}
			return s.db.QueryRowContext(ctx, q, args...)
		}
		if s.stmts == nil {
			s.stmts = map[string]*sql.Stmt{}
		}
		s.stmts[q] = stmt
	}
	s.mu.Unlock()
	if tx != nil {
		stmt = tx.StmtContext(ctx, stmt)
	}
	return stmt.QueryRowContext(ctx, args...)
}

// sightings orders records by (Kind, TxID), the lock order that keeps
// concurrent writers from deadlocking, and splits them into rounds: round k
// holds the (k+1)-th sighting of each transaction, in payload order, since
// one statement cannot update a row twice. Almost every payload has one round.
func sightings(records []reconcile.Record) [][]*reconcile.Record {
	sorted := make([]*reconcile.Record, len(records))
	for i := range records {
		sorted[i] = &records[i]
	}
	slices.SortStableFunc(sorted, func(a, b *reconcile.Record) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.TxID, b.TxID), cmp.Compare(a.Provider, b.Provider))
	})
	var rounds [][]*reconcile.Record
	k := 0
	for i, r := range sorted {
		if i > 0 && r.Kind == sorted[i-1].Kind && r.TxID == sorted[i-1].TxID && r.Provider == sorted[i-1].Provider {
			k++
		} else {
			k = 0
		}
		if k == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[k] = append(rounds[k], r)
	}
	return rounds
}

// sightingArgs returns records as the parallel arrays sightingsSQL reads. A
// record without a Source takes the payload's.
func sightingArgs(src reconcile.Source, records []*reconcile.Record) []any {
	n := len(records)
	var (
		provider, kind, txID, merchantRef, providerRef, relatedTxID, account, currency = make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		status, providerStatus, occurredAt, counterparty, method, source, amountSent = make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		amount, fee, vat      = make([]int64, n), make([]int64, n), make([]int64, n)
		amountKnown, feeKnown = make([]bool, n), make([]bool, n)
		feeOnPayer, partial   = make([]bool, n), make([]bool, n)
	)
	for i, r := range records {
		provider[i], kind[i], txID[i] = string(r.Provider), string(r.Kind), r.TxID
		merchantRef[i], providerRef[i], relatedTxID[i], account[i] = r.MerchantRef, r.ProviderRef, r.RelatedTxID, r.Account
		currency[i], amount[i], amountKnown[i] = string(r.Currency()), r.Amount.Minor, r.AmountKnown
		fee[i], vat[i], feeKnown[i] = r.Fee.Minor, r.VAT.Minor, r.FeeKnown
		status[i], providerStatus[i] = string(r.Status), r.ProviderStatus
		occurredAt[i] = r.OccurredAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
		counterparty[i], method[i], source[i] = r.Counterparty, r.Method, string(cmp.Or(r.Source, src))
		if !r.AmountKnown {
			amountSent[i] = r.AmountSent
		}
		feeOnPayer[i], partial[i] = r.FeeOnPayer, r.Partial
	}
	return []any{pq.StringArray(provider), pq.StringArray(kind), pq.StringArray(txID), pq.StringArray(merchantRef),
		pq.StringArray(providerRef), pq.StringArray(relatedTxID), pq.StringArray(account), pq.StringArray(currency),
		pq.Int64Array(amount), pq.BoolArray(amountKnown), pq.Int64Array(fee), pq.Int64Array(vat), pq.BoolArray(feeKnown),
		pq.StringArray(status), pq.StringArray(providerStatus), pq.StringArray(occurredAt), pq.StringArray(counterparty),
		pq.StringArray(method), pq.StringArray(source), pq.StringArray(amountSent), pq.BoolArray(feeOnPayer), pq.BoolArray(partial)}
}

// describe names records for an error message: "payment TX1", or a count.
func describe(records []*reconcile.Record) string {
	switch len(records) {
	case 0:
		return "no records"
	case 1:
		return fmt.Sprintf("%s %s %s", records[0].Provider, records[0].Kind, records[0].TxID)
	}
	return fmt.Sprintf("%d records (%s %s %s, …)", len(records), records[0].Provider, records[0].Kind, records[0].TxID)
}
