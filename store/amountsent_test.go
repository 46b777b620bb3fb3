package store_test

import (
	"context"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
)

// TestAmountSentReadInLedgerCurrency stores records whose payload named no
// currency (Record.AmountSent, as Pixel callbacks send them) and reads them
// back: each takes the currency of the ledger entry of the same provider and
// direction whose reference is its merchant reference, its amount read
// exactly in it; an amount more precise than that currency allows stays
// unread (AmountKnown false, AmountSent kept); without a ledger entry the
// record's own currency, if any, applies (a provider's fallback), else it
// stays unknown. A record whose amount was read when stored keeps its own.
func TestAmountSentReadInLedgerCurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	ledger := func(ref string, dir reconcile.Direction, minor int64, cur reconcile.Currency) reconcile.LedgerEntry {
		return reconcile.LedgerEntry{Reference: ref, Provider: testprov.Pixel, Direction: dir,
			Amount: reconcile.Money{Minor: minor, Currency: cur}, Status: reconcile.LedgerPaid, OccurredAt: t0}
	}
	if _, err := s.ImportLedger(ctx, seq(
		ledger("O-KES", reconcile.In, 10000, "KES"),
		ledger("O-XOF", reconcile.In, 1100, "XOF"),
		ledger("O-XOF-FRAC", reconcile.In, 200, "XOF"),
		ledger("O-OUT", reconcile.Out, 50000, "KES"),
		ledger("O-OUT", reconcile.In, 500, "XOF"), // same reference, other direction
		ledger("O-STATUS", reconcile.In, 700, "XOF"),
	)); err != nil {
		t.Fatal(err)
	}
	rec := func(tx, ref string, kind reconcile.Kind, sent string, cur reconcile.Currency) reconcile.Record {
		return reconcile.Record{Provider: testprov.Pixel, Kind: kind, TxID: tx, MerchantRef: ref, ProviderRef: "R" + tx,
			Amount: reconcile.Money{Currency: cur}, AmountSent: sent, Status: reconcile.StatusSucceeded,
			OccurredAt: t0, Source: reconcile.SourceWebhook}
	}
	saves := [][]reconcile.Record{
		{rec("T1", "O-KES", reconcile.KindPayment, "100", "")},
		{rec("T2", "O-XOF", reconcile.KindPayment, "1100.00", "")},
		{rec("T3", "O-XOF-FRAC", reconcile.KindPayment, "200.50", "")},
		{rec("T4", "O-OUT", reconcile.KindPayout, "500.00", "")},
		{rec("T5", "O-NONE", reconcile.KindPayment, "100", "")},
		// A fallback currency (the channel's), no ledger entry: kept, and
		// too precise for it.
		{rec("T6", "O-NONE", reconcile.KindPayment, "7.5", "XOF")},
		// A fallback currency, and a ledger entry naming another: the
		// ledger's wins.
		{rec("T8", "O-XOF", reconcile.KindPayment, "1100", "KES")},
		// An amount read when stored keeps its currency, whatever the
		// ledger says (a currency_mismatch to report).
		{func() reconcile.Record {
			r := rec("T10", "O-XOF", reconcile.KindPayment, "", "KES")
			r.Amount.Minor, r.AmountKnown = 500, true
			return r
		}()},
		// A fallback currency, no ledger entry: the amount read in it.
		{rec("T9", "O-NONE-2", reconcile.KindPayment, "12.50", "KES")},
		// A callback, then a status response for the same transaction
		// (no amount at all): the amount as sent is kept.
		{rec("T7", "O-STATUS", reconcile.KindPayment, "700", "")},
		{rec("T7", "O-STATUS", reconcile.KindPayment, "", "")},
	}
	for i, recs := range saves {
		p := payload("amount-sent-" + string(rune('a'+i)))
		p.Provider = testprov.Pixel
		if _, err := s.Save(ctx, p, recs); err != nil {
			t.Fatal(err)
		}
	}
	type want struct {
		cur   reconcile.Currency
		minor int64
		known bool
		sent  string
	}
	wants := map[string]want{
		"T1":  {"KES", 10000, true, ""},
		"T2":  {"XOF", 1100, true, ""},
		"T3":  {"XOF", 0, false, "200.50"},
		"T4":  {"KES", 50000, true, ""},
		"T5":  {"", 0, false, "100"},
		"T6":  {"XOF", 0, false, "7.5"},
		"T8":  {"XOF", 1100, true, ""},
		"T9":  {"KES", 1250, true, ""},
		"T10": {"KES", 500, true, ""},
		"T7":  {"XOF", 700, true, ""},
	}
	got := map[string]reconcile.Record{}
	for r, err := range s.Records(ctx, all1M) {
		if err != nil {
			t.Fatal(err)
		}
		got[r.TxID] = r
	}
	for tx, w := range wants {
		r, ok := got[tx]
		if !ok {
			t.Errorf("%s: not read back", tx)
			continue
		}
		if r.Amount.Currency != w.cur || r.Amount.Minor != w.minor || r.AmountKnown != w.known || r.AmountSent != w.sent {
			t.Errorf("%s: read %s %d known %v sent %q; want %s %d known %v sent %q", tx,
				r.Amount.Currency, r.Amount.Minor, r.AmountKnown, r.AmountSent, w.cur, w.minor, w.known, w.sent)
		}
	}
}
