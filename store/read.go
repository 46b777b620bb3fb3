package store

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"strconv"
	"strings"
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
// cheaper than parsing a timestamp text per row. date_part works in float8,
// where extract's numeric arithmetic costs PostgreSQL ~0.6 s a million rows;
// seconds/1e6 in float8, times 1e6, rounds back to the exact microsecond
// for any instant below 2^53 µs (the year 2255): the two roundings add up to
// under 0.25 µs (TestStreamsKeepEveryMicrosecond).
const occurredMicros = `(date_part('epoch', occurred_at) * 1000000)::bigint`

// packedSQL selects a row as one text value: the integer expressions ints
// (empty for NULL) and the byte lengths of the text columns texts but the
// last, comma-separated, then a ';' and the texts back to back. lib/pq
// allocates twice for every column it returns, so a row read as one value
// costs two allocations; rowReader unpacks it without copying.
func packedSQL(ints, texts []string) string {
	parts := make([]string, 0, 2*(len(ints)+len(texts)))
	for _, c := range ints {
		parts = append(parts, c, "','")
	}
	for _, c := range texts[:len(texts)-1] {
		parts = append(parts, "octet_length("+c+")", "','")
	}
	parts[len(parts)-1] = "';'"
	return "concat(" + strings.Join(append(parts, texts...), ", ") + ")"
}

// LedgerEntries streams the ledger entries f selects, ordered by occurred_at
// then id. Rows are read as the caller iterates, so memory stays flat however
// many there are. Iteration stops at the first error, which is yielded.
func (s *Store) LedgerEntries(ctx context.Context, f Filter) iter.Seq2[reconcile.LedgerEntry, error] {
	ints := []string{"id", "amount_minor", occurredMicros}
	texts := []string{"provider", "direction", "currency", "status", "account",
		"reference", "provider_reference", "customer_phone", "description"}
	q := `SELECT ` + packedSQL(ints, texts) + ` FROM ledger_entries WHERE ` + filterSQL + ` ORDER BY occurred_at, id`
	return stream(ctx, s.db.DB, "ledger entries", q, f.args(), len(ints), len(texts), func(r *rowReader) reconcile.LedgerEntry {
		return reconcile.LedgerEntry{
			ID: r.int(0), OccurredAt: time.UnixMicro(r.int(2)).UTC(),
			Provider: reconcile.Provider(r.word(3)), Direction: reconcile.Direction(r.word(4)),
			Amount: reconcile.Money{Minor: r.int(1), Currency: reconcile.Currency(r.word(5))},
			Status: reconcile.LedgerStatus(r.word(6)), Account: r.word(7),
			Reference: r.field(8), ProviderReference: r.field(9), CustomerPhone: r.field(10), Description: r.field(11),
		}
	})
}

// recordCurrencySQL is a record's currency. A record whose payload named
// none (Pixel) — stored without a currency, or with its amount kept as sent
// (amount_sent) and the provider's best guess of a currency at most — takes
// that of the ledger entry of the same provider and direction whose
// reference is its merchant reference, else keeps its own (possibly ""). Any
// other record keeps its own. The lookup runs only for such records, through
// the ledger's unique (provider, direction, reference) index.
const recordCurrencySQL = `CASE WHEN (r.currency <> '' AND (r.amount_minor IS NOT NULL OR r.amount_sent IS NULL))
		OR r.merchant_ref = '' THEN r.currency
	ELSE COALESCE((SELECT l.currency FROM ledger_entries l WHERE l.provider = r.provider
		AND l.direction = CASE WHEN r.kind IN ('payout', 'reversal') THEN 'out' ELSE 'in' END
		AND l.reference = btrim(r.merchant_ref, E' \t\r\n')), r.currency) END`

// recordFlagsSQL packs a record's flags into one integer: 1 fee_on_payer,
// 2 partial.
const recordFlagsSQL = `(CASE WHEN r.fee_on_payer THEN 1 ELSE 0 END + CASE WHEN r.partial THEN 2 ELSE 0 END)`

// Records streams the provider records f selects, ordered by occurred_at then
// id, like LedgerEntries. A record stored without a currency takes that of
// its ledger entry (recordCurrencySQL), and an amount kept as sent
// (Record.AmountSent) is read in it here: one more precise than the
// currency allows stays AmountKnown false, AmountSent set, for the matcher
// to report.
func (s *Store) Records(ctx context.Context, f Filter) iter.Seq2[reconcile.Record, error] {
	q := `SELECT ` + recordPacked + ` FROM provider_records r WHERE ` + filterSQL + ` ORDER BY occurred_at, id`
	return stream(ctx, s.db.DB, "provider records", q, f.args(), len(recordInts), len(recordTexts), scanRecord)
}

// LateReversals streams the payments of f's providers that occurred before
// f.Window.From and were first seen reversed within f.Window
// (Record.ReversedAt): a settlement look-back that starts after such a
// payment still counts its reversal, on the day it was seen, as a run
// whose look-back reads the payment does. Read as Records reads, in
// (reversed_at, id) order.
func (s *Store) LateReversals(ctx context.Context, f Filter) iter.Seq2[reconcile.Record, error] {
	q := `SELECT ` + recordPacked + ` FROM provider_records r
	WHERE reversed_at >= $1 AND reversed_at < $2 AND occurred_at < $1 AND kind = 'payment'
		AND (cardinality($3::text[]) = 0 OR provider = ANY($3))
	ORDER BY reversed_at, id`
	return stream(ctx, s.db.DB, "late reversals", q, f.args(), len(recordInts), len(recordTexts), scanRecord)
}

// PaymentByTxID returns the payment of provider p with transaction id tx,
// else its payout, wherever it lies in time — read as Records reads it —
// and whether there is one. The matcher asks it for the payment a reversal
// names when that payment is not among the records a run read (a reversal
// days after its payment), so that each run judges the reversal alike.
func (s *Store) PaymentByTxID(ctx context.Context, p reconcile.Provider, tx string) (reconcile.Record, bool, error) {
	q := `SELECT ` + recordPacked + ` FROM provider_records r WHERE r.provider = $1 AND r.tx_id = $2
		AND r.kind IN ('payment', 'payout') ORDER BY r.kind = 'payment' DESC, r.occurred_at, r.id LIMIT 1`
	for rec, err := range stream(ctx, s.db.DB, "the payment a reversal names", q, []any{string(p), tx}, len(recordInts), len(recordTexts), scanRecord) {
		if err != nil {
			return reconcile.Record{}, false, err
		}
		return rec, true, nil
	}
	return reconcile.Record{}, false, nil
}

// The columns Records and PaymentByTxID read, packed (packedSQL).
var (
	recordInts = []string{"amount_minor", "fee_minor", "vat_minor", occurredMicros, "raw_payload_id", recordFlagsSQL,
		`(date_part('epoch', reversed_at) * 1000000)::bigint`}
	recordTexts = []string{"provider", "kind", "account", recordCurrencySQL, "status", "provider_status", "method", "source",
		"tx_id", "merchant_ref", "provider_ref", "related_tx_id", "counterparty", "COALESCE(amount_sent, '')"}
	recordPacked = packedSQL(recordInts, recordTexts)
)

// scanRecord builds a record from a row of recordPacked. A record stored
// without a currency takes that of its ledger entry (recordCurrencySQL), and
// an amount kept as sent (Record.AmountSent) is read in it here: one more
// precise than the currency allows stays AmountKnown false, AmountSent set,
// for the matcher to report.
func scanRecord(r *rowReader) reconcile.Record {
	cur := reconcile.Currency(r.word(10))
	rec := reconcile.Record{
		Amount: reconcile.Money{Minor: r.int(0), Currency: cur}, AmountKnown: r.field(0) != "",
		Fee: reconcile.Money{Minor: r.int(1), Currency: cur}, VAT: reconcile.Money{Minor: r.int(2), Currency: cur},
		FeeKnown: r.field(1) != "", OccurredAt: time.UnixMicro(r.int(3)).UTC(), RawPayloadID: r.int(4),
		Provider: reconcile.Provider(r.word(7)), Kind: reconcile.Kind(r.word(8)), Account: r.word(9),
		Status: reconcile.Status(r.word(11)), ProviderStatus: r.word(12), Method: r.word(13),
		Source: reconcile.Source(r.word(14)), TxID: r.field(15), MerchantRef: r.field(16), ProviderRef: r.field(17),
		RelatedTxID: r.field(18), Counterparty: r.field(19),
		FeeOnPayer: r.int(5)&1 != 0, Partial: r.int(5)&2 != 0,
	}
	if r.field(6) != "" {
		rec.ReversedAt = time.UnixMicro(r.int(6)).UTC()
	}
	if sent := r.field(20); !rec.AmountKnown && sent != "" {
		rec.AmountSent = strings.Clone(sent)
		if cur != "" {
			if m, err := reconcile.ParseMajor(sent, cur); err == nil {
				rec.Amount, rec.AmountKnown, rec.AmountSent = m, true, ""
			}
		}
	}
	return rec
}

// stream runs q, whose rows are packedSQL values of ints integers and texts
// text columns, and yields one value per row, built by scan.
func stream[T any](ctx context.Context, db *sql.DB, what, q string, args []any, ints, texts int, scan func(*rowReader) T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			yield(zero, fmt.Errorf("reading %s: %w", what, err))
			return
		}
		defer rows.Close()
		r := &rowReader{ints: ints, fields: make([]string, ints+texts), words: map[string]string{}}
		for rows.Next() {
			if err := rows.Scan(&r.packed); err != nil {
				yield(zero, fmt.Errorf("reading %s: %w", what, err))
				return
			}
			var v T
			if err = r.unpack(); err == nil {
				v = scan(r)
				err = r.err
			}
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

// maxWords bounds the strings a rowReader interns.
const maxWords = 4096

// rowReader unpacks a packedSQL row with few allocations: its fields are
// substrings of the value lib/pq returned, and repeated words (provider,
// status, currency, account…) are shared between rows.
type rowReader struct {
	ints   int
	packed string
	fields []string
	words  map[string]string
	err    error // the first conversion error of the row
}

// unpack splits packed into fields.
func (r *rowReader) unpack() error {
	r.err = nil
	head, rest, ok := strings.Cut(r.packed, ";")
	last := len(r.fields) - 1
	for i := range r.fields[:last] {
		var f string
		f, head, _ = strings.Cut(head, ",")
		if i < r.ints {
			r.fields[i] = f
			continue
		}
		n, err := strconv.Atoi(f)
		if !ok || err != nil || n > len(rest) {
			return fmt.Errorf("unpacking field %d of %q", i+1, r.packed)
		}
		r.fields[i], rest = rest[:n], rest[n:]
	}
	r.fields[last] = rest
	return nil
}

// field returns field i as read.
func (r *rowReader) field(i int) string { return r.fields[i] }

// word returns field i, shared with earlier rows of the same value.
func (r *rowReader) word(i int) string {
	if s, ok := r.words[r.fields[i]]; ok {
		return s
	}
	s := strings.Clone(r.fields[i]) // do not keep the whole row alive
	if len(r.words) < maxWords {
		r.words[s] = s
	}
	return s
}

// int returns integer field i, 0 for NULL.
func (r *rowReader) int(i int) int64 {
	if r.fields[i] == "" {
		return 0
	}
	v, err := strconv.ParseInt(r.fields[i], 10, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("integer field %d: %w", i+1, err)
	}
	return v
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
