package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
)

// TestStatusRefs: the references a status round asks about are the ledger
// entries with no final provider record (by merchant reference, or provider
// reference) and the records still pending; each once, oldest first; none
// once its answer is final.
func TestStatusRefs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	p := testprov.Pixel
	at := func(h int) time.Time { return time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC) }
	le := func(ref, pref string, h int) reconcile.LedgerEntry {
		return reconcile.LedgerEntry{Reference: ref, ProviderReference: pref, Provider: p, Direction: reconcile.In,
			Amount: reconcile.Money{Minor: 100, Currency: "XOF"}, Status: reconcile.LedgerPaid, OccurredAt: at(h)}
	}
	if _, err := st.ImportLedger(ctx, seq(
		le("O-1", "", 1),     // no record at all: asked
		le("O-2", "", 2),     // a final record by merchant ref: not asked
		le("O-3", "", 3),     // only a pending record: asked once (ledger and record)
		le("O-4", "PR-4", 4), // final record carries its provider reference: not asked
		le("O-5", "", 30),    // outside the window
	)); err != nil {
		t.Fatal(err)
	}
	rec := func(tx, ref, pref string, s reconcile.Status, h int) reconcile.Record {
		return reconcile.Record{Provider: p, Kind: reconcile.KindPayment, TxID: tx, MerchantRef: ref, ProviderRef: pref,
			Amount: reconcile.Money{Minor: 100, Currency: "XOF"}, AmountKnown: true, Status: s, OccurredAt: at(h), Source: reconcile.SourceStatus}
	}
	save := func(r reconcile.Record) {
		t.Helper()
		body := fmt.Sprintf(`{"tx":%q,"status":%q}`, r.TxID, r.Status)
		if _, err := st.Save(ctx, reconcile.RawPayload{Provider: p, Source: reconcile.SourceStatus, Kind: "status", DedupKey: body, Body: []byte(body)},
			[]reconcile.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	save(rec("T2", "O-2", "", reconcile.StatusSucceeded, 2))
	save(rec("T3", "O-3", "", reconcile.StatusPending, 3))
	save(rec("T4", "", "PR-4", reconcile.StatusFailed, 4))
	save(rec("T6", "", "PR-6", reconcile.StatusPending, 5)) // a provider-only pending record: asked

	w := reconcile.Window{From: at(0), To: at(24)}
	names := func() string {
		refs, err := st.StatusRefs(ctx, p, w)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range refs {
			out = append(out, r.String())
		}
		return strings.Join(out, ",")
	}
	if got, want := names(), "O-1,O-3,PR-6"; got != want {
		t.Errorf("StatusRefs = %s, want %s", got, want)
	}
	refs, _ := st.StatusRefs(ctx, p, w)
	if refs[0].Currency != "XOF" || refs[0].Direction != reconcile.In || !refs[0].At.Equal(at(1)) {
		t.Errorf("ledger reference %+v: want its currency, direction and time", refs[0])
	}
	// The answers come in final: nothing is left to ask.
	save(rec("T1", "O-1", "", reconcile.StatusSucceeded, 1))
	save(rec("T3", "O-3", "", reconcile.StatusSucceeded, 3))
	save(rec("T6", "", "PR-6", reconcile.StatusCancelled, 5))
	if got := names(); got != "" {
		t.Errorf("after final answers StatusRefs = %s, want none", got)
	}
	if refs, err := st.StatusRefs(ctx, testprov.Kora, w); err != nil || len(refs) != 0 {
		t.Errorf("another provider: %v %v", refs, err)
	}
}

// TestPresence counts each provider's records and ledger entries in a window.
func TestPresence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	if _, err := st.ImportLedger(ctx, seq(entry("A", 1, reconcile.LedgerPaid), entry("B", 2, reconcile.LedgerPaid))); err != nil {
		t.Fatal(err)
	}
	r := reconcile.Record{Provider: testprov.KopoKopo, Kind: reconcile.KindPayment, TxID: "K1",
		Amount: reconcile.Money{Minor: 1, Currency: "KES"}, AmountKnown: true, Status: reconcile.StatusSucceeded, OccurredAt: t0, Source: reconcile.SourceImport}
	if _, err := st.Save(ctx, reconcile.RawPayload{Provider: testprov.KopoKopo, Source: reconcile.SourceImport, Kind: "x", DedupKey: "k1", Body: []byte(`{}`)},
		[]reconcile.Record{r}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Presence(ctx, reconcile.Window{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Ledger[testprov.Kora] != 2 || got.Records[testprov.KopoKopo] != 1 || len(got.Ledger) != 1 || len(got.Records) != 1 {
		t.Errorf("Presence = %+v", got)
	}
	empty, err := st.Presence(ctx, reconcile.Window{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)})
	if err != nil || len(empty.Ledger)+len(empty.Records) != 0 {
		t.Errorf("an empty window: %+v %v", empty, err)
	}
}

// TestRecordTimesTruncatedToTheMicrosecond: PostgreSQL rounds to the
// microsecond, so a provider time of 23:59:59.9999999 would land on the next
// day; the store truncates it and the record stays in its day.
func TestRecordTimesTruncatedToTheMicrosecond(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	at := time.Date(2026, 3, 2, 23, 59, 59, 999999900, time.UTC)
	r := reconcile.Record{Provider: testprov.Kora, Kind: reconcile.KindPayment, TxID: "K-late", MerchantRef: "O-late",
		Amount: reconcile.Money{Minor: 100, Currency: "NGN"}, AmountKnown: true, Status: reconcile.StatusSucceeded, OccurredAt: at, Source: reconcile.SourceImport}
	if _, err := st.Save(ctx, reconcile.RawPayload{Provider: testprov.Kora, Source: reconcile.SourceImport, Kind: "x", DedupKey: "late", Body: []byte(`{}`)},
		[]reconcile.Record{r}); err != nil {
		t.Fatal(err)
	}
	var got time.Time
	if err := st.DB().GetContext(ctx, &got, `SELECT occurred_at FROM provider_records WHERE tx_id = 'K-late'`); err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Microsecond); !got.Equal(want) {
		t.Errorf("stored %s, want %s (truncated, still 2 March)", got.UTC().Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
}
