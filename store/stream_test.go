package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/store"
)

// mixedBatch is n payloads over a pool of transactions small enough that
// most are sighted several times, within a chunk and across chunks, with
// every status, repeated payloads (a redelivery), payloads carrying the
// same transaction twice, unknown amounts and fees, and bodies text or
// jsonb cannot hold.
func mixedBatch(seed uint64, n int) []store.Parsed {
	rng := rand.New(rand.NewPCG(seed, 1))
	statuses := []reconcile.Status{reconcile.StatusPending, reconcile.StatusSucceeded, reconcile.StatusFailed,
		reconcile.StatusReversed, reconcile.StatusCancelled, reconcile.StatusExpired}
	bodies := []string{`{"a":1}`, `{"a":"\u0000"}`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":1e200000}`, "{\"a\":\"\x00\"}"}
	var batch []store.Parsed
	for i := range n {
		key := fmt.Sprintf("p-%d", i)
		if i > 10 && rng.IntN(20) == 0 {
			key = fmt.Sprintf("p-%d", rng.IntN(i)) // a redelivery
		}
		body := bodies[0]
		if rng.IntN(10) == 0 {
			body = bodies[rng.IntN(len(bodies))]
		}
		p := reconcile.RawPayload{Provider: "kopokopo", Source: reconcile.SourceImport, Kind: "k", DedupKey: key,
			Body: []byte(strings.Replace(body, "{", `{"key":"`+key+`",`, 1)), ReceivedAt: t0.Add(time.Duration(i) * time.Second)}
		var recs []reconcile.Record
		for range rng.IntN(3) + 1 {
			r := payment(fmt.Sprintf("T%d", rng.IntN(n/4+1)), statuses[rng.IntN(len(statuses))], int64(rng.IntN(1000)), rng.IntN(5) > 0)
			r.Source = ""
			if !r.AmountKnown && rng.IntN(2) == 0 {
				r.AmountSent = "12.50"
			}
			if rng.IntN(3) == 0 {
				r.Fee, r.VAT, r.FeeKnown = reconcile.Money{Minor: 5, Currency: "KES"}, reconcile.Money{Minor: 1, Currency: "KES"}, true
			}
			if rng.IntN(4) == 0 {
				r.MerchantRef = "INV-" + key
			}
			r.OccurredAt = t0.Add(time.Duration(rng.IntN(100000)) * time.Second)
			r.FeeOnPayer, r.Partial = rng.IntN(7) == 0, rng.IntN(9) == 0
			recs = append(recs, r)
		}
		if rng.IntN(15) == 0 {
			again := recs[0]
			again.Status = statuses[rng.IntN(len(statuses))]
			recs = append(recs, again) // the same transaction twice in one payload
		}
		batch = append(batch, store.Parsed{Payload: p, Records: recs})
	}
	return batch
}

// dump is what a store holds, without ids and clock times: every payload,
// record and history row, sorted.
func dump(t *testing.T, s *store.Store) []string {
	t.Helper()
	var rows []string
	for _, q := range []string{
		`SELECT concat_ws('|', 'p', provider, source, kind, dedup_key, encode(body, 'hex'), doc::text, received_at) FROM raw_payloads`,
		`SELECT concat_ws('|', 'r', r.provider, r.kind, tx_id, merchant_ref, provider_ref, related_tx_id, account, currency,
			amount_minor, fee_minor, vat_minor, status, provider_status, occurred_at, counterparty, method, r.source,
			amount_sent, fee_on_payer, partial, p.dedup_key, r.first_seen_at, r.reversed_at) FROM provider_records r JOIN raw_payloads p ON p.id = r.raw_payload_id`,
		`SELECT concat_ws('|', 'h', r.tx_id, h.status, h.provider_status, h.amount_minor, h.source, p.dedup_key)
			FROM record_history h JOIN provider_records r ON r.id = h.record_id JOIN raw_payloads p ON p.id = h.raw_payload_id`,
	} {
		var got []string
		if err := s.DB().Select(&got, q); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, got...)
	}
	slices.Sort(rows)
	return rows
}

func importAll(t *testing.T, s *store.Store, batch []store.Parsed) (saved, dups, records int, err error) {
	t.Helper()
	im, err := s.BeginImport(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer im.Rollback()
	for i := range batch {
		if err := im.Add(i+1, batch[i]); err != nil {
			return 0, 0, 0, err
		}
	}
	return im.Commit()
}

// TestImportStreamEqualsSaveBatch: streaming a batch through an Import, in
// chunks, stores exactly what SaveBatch stores payload by payload — the
// same payloads byte for byte, the same records by status precedence, the
// same history — both into an empty store and over one already holding part
// of it.
func TestImportStreamEqualsSaveBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	batch := mixedBatch(7, 2*store.ImportChunk+777)
	first := mixedBatch(7, store.ImportChunk/2) // the same payloads' start, already stored
	want, got := newStore(t), newStore(t)
	for _, s := range []*store.Store{want, got} {
		if _, _, err := s.SaveBatch(ctx, first); err != nil {
			t.Fatal(err)
		}
	}
	wantSaved, wantDups, err := want.SaveBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	saved, dups, records, err := importAll(t, got, batch)
	if err != nil {
		t.Fatal(err)
	}
	nrec := 0
	for _, p := range batch {
		nrec += len(p.Records)
	}
	if saved != wantSaved || dups != wantDups || records != nrec {
		t.Errorf("import: %d saved, %d dups, %d records; SaveBatch %d, %d, %d", saved, dups, records, wantSaved, wantDups, nrec)
	}
	w, g := dump(t, want), dump(t, got)
	if !slices.Equal(w, g) {
		for i := range min(len(w), len(g)) {
			if w[i] != g[i] {
				t.Fatalf("stores differ (%d vs %d rows); first difference:\nSaveBatch %s\nimport    %s", len(w), len(g), w[i], g[i])
			}
		}
		t.Fatalf("stores differ: %d vs %d rows", len(w), len(g))
	}
	var nullDocs int
	got.DB().Get(&nullDocs, `SELECT count(*) FROM raw_payloads WHERE doc IS NULL`)
	if nullDocs == 0 {
		t.Error("no payload with a doc jsonb cannot hold: the batch does not test them")
	}
}

// TestImportStreamAtomic: a payload the store cannot hold names its
// position; after it nothing is stored, whether it is refused before
// staging (a NUL in a transaction id) or by PostgreSQL while staging (a
// time beyond timestamptz), and Rollback leaves the store as it was.
func TestImportStreamAtomic(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	nul := mixedBatch(3, 10)
	nul[4].Records[0].TxID = "T\x00X"
	far := mixedBatch(4, store.ImportChunk+10)
	far[store.ImportChunk+3].Records[0].OccurredAt = time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		batch   []store.Parsed
		wantPos int
	}{
		{"NUL in a transaction id", nul, 5},
		{"time out of range", far, store.ImportChunk + 4},
	} {
		_, _, _, err := importAll(t, s, tt.batch)
		var bad *store.BadPayloadError
		if !errors.As(err, &bad) || bad.Pos != tt.wantPos || !errors.Is(err, sources.ErrMalformed) {
			t.Errorf("%s: err %v, want a BadPayloadError at %d", tt.name, err, tt.wantPos)
		}
		if d := dump(t, s); len(d) != 0 {
			t.Errorf("%s: store holds %d rows after a failed import", tt.name, len(d))
		}
	}
	im, err := s.BeginImport(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range mixedBatch(5, store.ImportChunk+1) {
		if err := im.Add(i+1, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := im.Rollback(); err != nil {
		t.Fatal(err)
	}
	if d := dump(t, s); len(d) != 0 {
		t.Errorf("store holds %d rows after Rollback", len(d))
	}
}
