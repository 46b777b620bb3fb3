package store_test

import (
	"context"

	"sync"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// seed1M fills both sides with 1,000,000 rows each, a row every 600 ms from
// t0 over four providers, with INSERT … SELECT FROM generate_series.
func seed1M(b *testing.B) *store.Store {
	b.Helper()
	s := store.New(pgtest.New(b))
	for _, q := range []string{
		`INSERT INTO ledger_entries (provider, direction, reference, amount_minor, currency, status, occurred_at,
			account, provider_reference, customer_phone, description)
		SELECT (ARRAY['kopokopo','pixel','ikhokha','kora'])[i%4+1], 'in', 'REF-' || i, 1000 + i%900000,
			(ARRAY['KES','XOF','ZAR','NGN'])[i%4+1], 'paid', $1::timestamptz + i * interval '600 ms',
			'ACC' || i%7, 'PR' || i, '+2547' || lpad(i::text, 8, '0'), 'order ' || i
		FROM generate_series(0, 999999) i`,
		`INSERT INTO provider_records (provider, kind, tx_id, merchant_ref, provider_ref, account, currency,
			amount_minor, fee_minor, vat_minor, status, provider_status, occurred_at, counterparty, method, source)
		SELECT (ARRAY['kopokopo','pixel','ikhokha','kora'])[i%4+1], 'payment', 'TX-' || i, 'REF-' || i, 'PR' || i,
			'ACC' || i%7, (ARRAY['KES','XOF','ZAR','NGN'])[i%4+1], 1000 + i%900000,
			CASE WHEN i%2 = 0 THEN 20 + i%100 END, CASE WHEN i%2 = 0 THEN 3 END, 'succeeded', 'Received',
			$1::timestamptz + i * interval '600 ms' + interval '2 s', '+2547' || lpad(i::text, 8, '0'), 'mpesa', 'poll'
		FROM generate_series(0, 999999) i`,
		`ANALYZE ledger_entries`, `ANALYZE provider_records`,
	} {
		var args []any
		if len(q) > 30 {
			args = []any{t0}
		}
		if _, err := s.DB().Exec(q, args...); err != nil {
			b.Fatalf("seeding: %v", err)
		}
	}
	return s
}

var all1M = store.Filter{Window: reconcile.Window{From: t0, To: t0.Add(7 * 24 * time.Hour)}}

// drain reads every row of seq and fails unless there are want.
func drain[T any](b *testing.B, seq func(context.Context, store.Filter) func(func(T, error) bool), want int) {
	n := 0
	for _, err := range seq(context.Background(), all1M) {
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	if n != want {
		b.Fatalf("read %d rows, want %d", n, want)
	}
}

// BenchmarkRead1M streams 1,000,000 ledger entries, 1,000,000 provider
// records, and both at once as a run does, reporting rows/s (seeding is not
// timed).
func BenchmarkRead1M(b *testing.B) {
	const rows = 1_000_000
	s := seed1M(b)
	ledger := func(ctx context.Context, f store.Filter) func(func(reconcile.LedgerEntry, error) bool) {
		return s.LedgerEntries(ctx, f)
	}
	records := func(ctx context.Context, f store.Filter) func(func(reconcile.Record, error) bool) {
		return s.Records(ctx, f)
	}
	for _, bc := range []struct {
		name  string
		sides int
		read  func(*testing.B)
	}{
		{"ledger", 1, func(b *testing.B) { drain(b, ledger, rows) }},
		{"records", 1, func(b *testing.B) { drain(b, records, rows) }},
		{"both", 2, func(b *testing.B) {
			var wg sync.WaitGroup
			wg.Go(func() { drain(b, ledger, rows) })
			drain(b, records, rows)
			wg.Wait()
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				bc.read(b)
			}
			b.ReportMetric(float64(bc.sides*rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// TestStreamsKeepText: text holding the packing's separators, multi-byte
// characters and empty fields reads back exactly.
func TestStreamsKeepText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(pgtest.New(t))
	e := entry("Ré;f,1;", 150, reconcile.LedgerPaid)
	e.Description, e.CustomerPhone, e.Account = "a,b;c ✓", "", "till;9"
	if _, err := s.ImportLedger(ctx, seq(e)); err != nil {
		t.Fatal(err)
	}
	r := payment("TX;1,é", reconcile.StatusSucceeded, 0, false)
	r.MerchantRef, r.Counterparty, r.Fee, r.FeeKnown = "", "+254 7;00", reconcile.Money{Minor: 7, Currency: "KES"}, true
	recs := []reconcile.Record{r}
	if _, err := s.Save(ctx, payload("p;1"), recs); err != nil {
		t.Fatal(err)
	}
	r = recs[0]
	f := store.Filter{Window: reconcile.Window{From: t0, To: t0.Add(time.Hour)}}
	for got, err := range s.LedgerEntries(ctx, f) {
		if err != nil {
			t.Fatal(err)
		}
		got.ID = 0
		if got != e {
			t.Errorf("ledger entry read back as %+v, want %+v", got, e)
		}
	}
	for got, err := range s.Records(ctx, f) {
		if err != nil {
			t.Fatal(err)
		}
		if got.RawPayloadID != r.RawPayloadID || got.TxID != r.TxID || got.MerchantRef != "" || got.Counterparty != r.Counterparty ||
			got.AmountKnown || !got.FeeKnown || got.Fee != r.Fee || got.VAT.Minor != 0 || got.Account != r.Account || !got.OccurredAt.Equal(t0) {
			t.Errorf("record read back as %+v, want %+v", got, r)
		}
	}
}

// TestStreamsKeepEveryMicrosecond: times are read as Unix microseconds
// through float8 (date_part), which is exact up to 2^53 µs (year 2255);
// check it against PostgreSQL's exact numeric epoch over a run of
// consecutive microseconds and instants far apart.
func TestStreamsKeepEveryMicrosecond(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO provider_records (provider, kind, tx_id, currency, amount_minor, status, occurred_at, source)
		SELECT 'kopokopo', 'payment', 'T' || i, 'KES', 100, 'succeeded', at, 'import'
		FROM (SELECT i, timestamptz '2026-03-01 00:00:00+00' + i * interval '1 microsecond' AS at FROM generate_series(0, 20000) i
		      UNION ALL SELECT 30000 + i, timestamptz '1970-01-01 00:00:00.000001+00' + i * interval '7 years 3 days 1.000001 seconds' FROM generate_series(0, 32) i
		      UNION ALL SELECT 40000, timestamptz '2199-12-31 23:59:59.999999+00') t`); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	rows, err := s.DB().QueryContext(ctx, `SELECT tx_id, (extract(epoch FROM occurred_at) * 1000000)::bigint FROM provider_records`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tx string
		var micros int64
		if err := rows.Scan(&tx, &micros); err != nil {
			t.Fatal(err)
		}
		want[tx] = micros
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	all := reconcile.Window{From: time.Unix(0, 0), To: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)}
	n := 0
	for r, err := range s.Records(ctx, store.Filter{Window: all}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if got := r.OccurredAt.UnixMicro(); got != want[r.TxID] {
			t.Errorf("%s: read %d µs (%s), PostgreSQL holds %d", r.TxID, got, r.OccurredAt.Format(time.RFC3339Nano), want[r.TxID])
		}
	}
	if n != len(want) || n != 20001+33+1 {
		t.Errorf("read %d records, stored %d", n, len(want))
	}
}
