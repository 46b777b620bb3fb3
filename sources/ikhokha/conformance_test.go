package ikhokha_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/ikhokha"
	"github.com/mizani/reconcile/sources/sourcetest"
)

const conformanceApp = "CONFORMANCE-APP-1"

// encodeFixtures writes planted transactions as the simulator's JSONL
// links: a payment is a paid link whose transactionID and
// externalTransactionID are the fixture's id; a reversal is a refund (its
// refundID the id) of a link paid a minute before.
func encodeFixtures(t *testing.T, fx []sourcetest.Fixture) []byte {
	t.Helper()
	var out []byte
	for _, f := range fx {
		l := ikhokha.Link{
			PaylinkID: "PL-" + f.ID, ExternalTransactionID: f.ID, EntityID: f.Account, Amount: f.Amount.Minor,
			Currency: string(f.Amount.Currency), Status: "paid", TransactionID: f.ID, PaymentMethod: "card",
			CardBrand: "VISA", CardOrigin: "local", CardCountry: "ZA",
		}
		paid := f.At.UTC()
		if f.Kind == reconcile.KindReversal {
			paid = paid.Add(-time.Minute)
			l.ExternalTransactionID, l.TransactionID = "ORDER-"+f.ID, "TX-"+f.ID
			l.Refunds = []ikhokha.Refund{{RefundID: f.ID, Amount: f.Amount.Minor, Status: "completed", RefundedAt: f.At.UTC()}}
		}
		l.PaidAt, l.CreatedAt = &paid, paid.Add(-5*time.Minute)
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(append(out, b...), '\n')
	}
	return out
}

func expected(recs []reconcile.Record) []sourcetest.Expected {
	out := make([]sourcetest.Expected, 0, len(recs))
	for _, r := range recs {
		out = append(out, sourcetest.Expected{Kind: r.Kind, TxID: r.TxID, MerchantRef: r.MerchantRef, Amount: r.Amount, AmountKnown: r.AmountKnown, Status: r.Status})
	}
	return out
}

func TestConformance(t *testing.T) {
	t.Parallel()
	vendorWebhook, err := os.ReadFile(filepath.Join("testdata", "vendor", "webhook_payment_link_paid.json"))
	if err != nil {
		t.Fatal(err)
	}
	signed := func(body []byte) func(key, path string) sources.Request {
		return func(key, path string) sources.Request {
			h := http.Header{}
			h.Set("Content-Type", "application/json")
			h.Set(ikhokha.HeaderAppID, conformanceApp)
			h.Set(ikhokha.HeaderSign, ikhokha.Sign(key, path, body))
			return sources.Request{Method: http.MethodPost, Path: path, Header: h, Body: body}
		}
	}
	created := []byte(`{"event":"paymentLink.created","timestamp":"2026-03-02T08:00:00Z","data":{"paylinkID":"PLC1","externalTransactionID":"ORD-C1","amount":5000,"currency":"ZAR"}}`)
	failed := []byte(`{"event":"paymentLink.failed","timestamp":"2026-03-02T09:00:00Z","data":{"paylinkID":"PLF1","externalTransactionID":"ORD-F1","transactionID":"TXF1","amount":7550,"currency":"ZAR","paymentMethod":"card","cardBrand":"VISA","responseCode":"05"}}`)
	sourcetest.Run(t, sourcetest.Harness{
		Provider:   ikhokha.Provider,
		Config:     map[string]string{ikhokha.EnvAppID: conformanceApp},
		KeyEnv:     ikhokha.EnvAppSecret,
		Currencies: []reconcile.Currency{"ZAR"},
		Kinds:      []reconcile.Kind{reconcile.KindPayment, reconcile.KindReversal},
		Encode:     encodeFixtures,
		Expected: func(t *testing.T, env *sourcetest.Env, w reconcile.Window, src reconcile.Source) []sourcetest.Expected {
			sim := env.Sim.(*ikhokha.Sim)
			var out []sourcetest.Expected
			for _, l := range sim.Links(w) {
				_, recs, err := ikhokha.Parser{}.Parse(ikhokha.StatusDocument(l), src)
				if err != nil {
					t.Fatal(err)
				}
				if src == reconcile.SourcePoll { // a pull keeps the records of its window
					var in []reconcile.Record
					for _, r := range recs {
						if w.Contains(r.OccurredAt) {
							in = append(in, r)
						}
					}
					recs = in
				}
				out = append(out, expected(recs)...)
			}
			return out
		},
		Refs: func(t *testing.T, env *sourcetest.Env, w reconcile.Window) []sources.StatusRef {
			var refs []sources.StatusRef
			for _, l := range env.Sim.(*ikhokha.Sim).Links(w) {
				refs = append(refs, sources.StatusRef{MerchantRef: l.ExternalTransactionID, ProviderRef: l.PaylinkID,
					Direction: reconcile.In, Currency: reconcile.Currency(l.Currency), At: l.At()})
			}
			return refs
		},
		Webhooks: []sourcetest.Webhook{
			{Name: "vendor paymentLink.paid", Request: signed(vendorWebhook), Want: []sourcetest.Expected{{
				Kind: reconcile.KindPayment, TxID: "txn_abc123def456", MerchantRef: "ORDER-12345",
				Amount: zar(19999), AmountKnown: true, Status: reconcile.StatusSucceeded,
			}}},
			{Name: "paymentLink.failed", Request: signed(failed), Want: []sourcetest.Expected{{
				Kind: reconcile.KindPayment, TxID: "TXF1", MerchantRef: "ORD-F1", Amount: zar(7550), AmountKnown: true, Status: reconcile.StatusFailed,
			}}},
			{Name: "paymentLink.created (no payment)", Request: signed(created)},
		},
		Malformed: []sourcetest.Malformed{
			{Name: "amount in rand, not cents", Want: "data.amount",
				Body: `{"event":"paymentLink.paid","timestamp":"2025-02-23T15:45:00Z","data":{"paylinkID":"l","transactionID":"t","amount":199.99,"currency":"ZAR","paidAt":"2025-02-23T15:45:00Z"}}`},
			{Name: "paid without paidAt", Want: "paidAt", Body: `{"responseCode":"00","paylinkID":"l","amount":5,"status":"paid"}`},
			{Name: "history row without paylinkID", Want: "payments[0].paylinkID", Body: `{"responseCode":"00","payments":[{"amount":5,"status":"pending","createdAt":"2026-03-02T10:00:00Z"}]}`},
			{Name: "unknown currency", Want: "currency", Body: `{"paylinkID":"l","amount":5,"currency":"ZZZ","status":"pending","createdAt":"2026-03-02T10:00:00Z"}`},
		},
	})
}
