package pixel_test

import (
	"context"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/pixel"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// TestStatusChecker checks orders against the simulator into a real store:
// a payout asked as one (the answer does not say), the same transaction by
// callback and by status one record, a second check of a final order
// nothing new, an unknown order not found, a reference without order_id an
// error.
func TestStatusChecker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	sim, err := pixel.NewSimulator(sources.SimOptions{Quiet: true, Fixtures: []byte(
		`{"order_id":"PO-1","operation":"b2c","transaction_id":"T-PO-1","transaction_ref":"MP.1","status":2,"amount":"750.00","currency":"KES","customer_id":"254700000001","provider_id":2162,"at":"2026-03-02T09:00:00Z"}
{"order_id":"PX-1","operation":"c2b","transaction_id":"T-PX-1","transaction_ref":"MP.2","status":2,"amount":"1100","currency":"XOF","customer_id":"2250700000001","provider_id":2304,"at":"2026-03-02T09:00:00Z"}
{"order_id":"PX-2","operation":"c2b","transaction_id":"T-PX-2","status":1,"amount":"100.00","currency":"KES","customer_id":"0900000001","provider_id":14,"at":"2026-03-02T09:00:00Z"}
`)})
	if err != nil {
		t.Fatal(err)
	}
	e := serve(t, sim)
	checker, err := pixel.Provider.Status(e.cfg, sources.ClientOptions{RateLimit: 100})
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(pgtest.New(t))
	// PX-1's callback arrived first (amount as sent, channel XOF).
	tx, _ := sim.Transaction("PX-1")
	parser, _ := pixel.Provider.Parser(e.cfg)
	payload, recs, err := parser.Parse(sim.Callback(tx), reconcile.SourceWebhook)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(ctx, payload, recs); err != nil {
		t.Fatal(err)
	}

	refs := []struct {
		ref   sources.StatusRef
		found bool
		final bool
	}{
		{sources.StatusRef{MerchantRef: "PO-1", Direction: reconcile.Out, Currency: "KES", At: at}, true, true},
		{sources.StatusRef{MerchantRef: "PX-1", Direction: reconcile.In, Currency: "XOF", At: at}, true, true},
		{sources.StatusRef{MerchantRef: "PX-2", Direction: reconcile.In, Currency: "KES", At: at}, true, false},
		{sources.StatusRef{MerchantRef: "NOPE", Direction: reconcile.In, At: at}, false, false},
	}
	for _, r := range refs {
		res, err := checker.Check(ctx, r.ref, st)
		if err != nil {
			t.Fatalf("Check(%s): %v", r.ref, err)
		}
		if res.Found != r.found || res.Final != r.final || (r.found && res.Payloads != 1) || (!r.found && res.Records != 0) {
			t.Errorf("Check(%s) = %+v, want found %v final %v", r.ref, res, r.found, r.final)
		}
	}
	again, err := checker.Check(ctx, refs[0].ref, st)
	if err != nil || again.Payloads != 0 || again.Duplicates != 1 {
		t.Errorf("second Check(PO-1) = %+v, %v; want the same answer, stored once", again, err)
	}
	if _, err := checker.Check(ctx, sources.StatusRef{ProviderRef: "MP.1"}, st); err == nil {
		t.Error("a reference without order_id was asked")
	}

	got := map[string]reconcile.Record{}
	all := reconcile.Window{From: at.Add(-time.Hour), To: at.Add(time.Hour)}
	for r, err := range st.Records(ctx, store.Filter{Window: all}) {
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := got[r.MerchantRef]; dup {
			t.Errorf("%s stored twice", r.MerchantRef)
		}
		got[r.MerchantRef] = r
	}
	if r := got["PO-1"]; r.Kind != reconcile.KindPayout || r.Status != reconcile.StatusSucceeded || r.AmountKnown || r.Currency() != "KES" {
		t.Errorf("PO-1 = %+v, want a succeeded KES payout, amount not reported", r)
	}
	if r := got["PX-1"]; r.Kind != reconcile.KindPayment || !r.AmountKnown || r.Amount != (reconcile.Money{Minor: 1100, Currency: "XOF"}) ||
		r.Source != reconcile.SourceStatus || r.Account != pixel.SandboxMerchantID {
		t.Errorf("PX-1 = %+v, want the callback's 1100 XOF kept beside the status answer", r)
	}
	if r := got["PX-2"]; r.Status != reconcile.StatusPending || r.ProviderStatus != "1 in progress" {
		t.Errorf("PX-2 (provider 14) = %+v, want still in progress", r)
	}
	if len(got) != 3 {
		t.Errorf("%d records, want 3", len(got))
	}
}

// served is a simulator behind httptest and the configuration a client
// takes from it.
type served struct{ cfg sources.Config }

func serve(t *testing.T, sim *pixel.Simulator) served {
	t.Helper()
	srv := httptestServer(t, sim)
	vars := sim.ClientEnv(srv)
	return served{cfg: pixel.Provider.ConfigFrom(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })}
}
