package kopokopo_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/sources/sourcetest"
)

// TestConformance runs the shared conformance suite on kopokopo.Provider
// against its own simulator: history by polling (payments, some reversed:
// a poll reports a reversal only as the payment's status; KES), webhooks signed with the API key over the raw body, the simulator's
// webhooks posted to the receiver. Kopo Kopo has no status checker and sends
// no zone-less times; the suite says so in -v output.
func TestConformance(t *testing.T) {
	t.Parallel()
	kes := func(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "KES"} }
	sourcetest.Run(t, sourcetest.Harness{
		Provider:   kopokopo.Provider,
		KeyEnv:     kopokopo.EnvAPIKey,
		Currencies: []reconcile.Currency{"KES"},
		Kinds:      []reconcile.Kind{reconcile.KindPayment},
		Encode:     encodeFixtures,
		Expected: func(t *testing.T, env *sourcetest.Env, w reconcile.Window, src reconcile.Source) []sourcetest.Expected {
			// The puller polls the whole company (K2_TILL unset).
			return conformanceExpected(t, env.Sim.(*kopokopo.Simulator).Transactions(w, ""))
		},
		Webhooks: []sourcetest.Webhook{
			{Name: "buygoods received", Request: vendorWebhook(t, "webhook_buygoods_transaction_received.json"),
				Want: []sourcetest.Expected{
					{Kind: reconcile.KindPayment, TxID: "458712f-gr76y-24b9-40fc-ae57-2d35785760", Amount: kes(10000), AmountKnown: true, Status: reconcile.StatusSucceeded},
				}},
			{Name: "buygoods reversed", Request: vendorWebhook(t, "webhook_buygoods_transaction_reversed.json"),
				Want: []sourcetest.Expected{
					{Kind: reconcile.KindPayment, TxID: "86345adf21e-5721-476a-8643-609b4a863", Amount: kes(23300), AmountKnown: true, Status: reconcile.StatusReversed},
					{Kind: reconcile.KindReversal, TxID: "86345adf21e-5721-476a-8643-609b4a863", Amount: kes(23300), AmountKnown: true, Status: reconcile.StatusReversed},
				}},
			{Name: "b2b received", Request: vendorWebhook(t, "webhook_b2b_transaction_received.json"),
				Want: []sourcetest.Expected{
					{Kind: reconcile.KindPayment, TxID: "fbygwu7175-bc7f-46e8-9727-f88edyy", Amount: kes(31300), AmountKnown: true, Status: reconcile.StatusSucceeded},
				}},
			{Name: "settlement transfer completed", Request: vendorWebhook(t, "webhook_settlement_transfer_completed.json"),
				Want: []sourcetest.Expected{
					{Kind: reconcile.KindSettlement, TxID: "2021-01-27T07:57:58.623Z/24452.00/KES", Amount: kes(2445200), AmountKnown: true, Status: reconcile.StatusSucceeded},
					{Kind: reconcile.KindSettlement, TxID: "2021-01-27T07:57:58.627Z/25000.00/KES", Amount: kes(2500000), AmountKnown: true, Status: reconcile.StatusSucceeded},
				}},
			// No money moved: stored raw, no record.
			{Name: "customer created", Request: vendorWebhook(t, "webhook_customer_created.json")},
		},
		Malformed: []sourcetest.Malformed{
			{Name: "polling transaction without resource", Want: "resource",
				Body: `{"data":{"id":"p1","type":"polling","attributes":{"status":"Success","transactions":[{"type":"Buygoods Transaction"}]}}}`},
			{Name: "polling amount not a number", Want: "amount",
				Body: `{"data":{"id":"p1","type":"polling","attributes":{"status":"Success","transactions":[{"type":"Buygoods Transaction","resource":{"id":"t1","amount":"5OO.0","status":"Received","currency":"KES","till_number":"000000","origination_time":"2026-03-02T10:00:00+03:00"}}]}}}`},
			{Name: "polling amount negative", Want: "amount",
				Body: `{"data":{"id":"p1","type":"polling","attributes":{"status":"Success","transactions":[{"type":"Buygoods Transaction","resource":{"id":"t1","amount":"-5.0","status":"Received","currency":"KES","till_number":"000000","origination_time":"2026-03-02T10:00:00+03:00"}}]}}}`},
			{Name: "polling currency unknown", Want: "currency",
				Body: `{"data":{"id":"p1","type":"polling","attributes":{"status":"Success","transactions":[{"type":"Buygoods Transaction","resource":{"id":"t1","amount":"5.0","status":"Received","currency":"XXX","till_number":"000000","origination_time":"2026-03-02T10:00:00+03:00"}}]}}}`},
			{Name: "polling time not a time", Want: "origination_time",
				Body: `{"data":{"id":"p1","type":"polling","attributes":{"status":"Success","transactions":[{"type":"Buygoods Transaction","resource":{"id":"t1","amount":"5.0","status":"Received","currency":"KES","till_number":"000000","origination_time":"yesterday"}}]}}}`},
			{Name: "webhook without id", Want: "id",
				Body: `{"topic":"buygoods_transaction_received","event":{"type":"Buygoods Transaction","resource":{}}}`},
		},
	})
}

// encodeFixtures writes planted transactions as the simulator's fixture
// lines (Transaction JSON, as LoadTransactions reads them).
func encodeFixtures(t *testing.T, fixtures []sourcetest.Fixture) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, f := range fixtures {
		if f.Kind != "" && f.Kind != reconcile.KindPayment {
			t.Fatalf("fixture %s: Kopo Kopo polling serves no %s", f.ID, f.Kind)
		}
		till := f.Account
		if till == "" {
			till = "000000"
		}
		if err := enc.Encode(kopokopo.Transaction{
			ID: f.ID, Amount: f.Amount.String(), Status: "Received", System: "Lipa Na M-PESA",
			Currency: string(f.Amount.Currency), Reference: "OJM6Q1W84K", TillNumber: till,
			OriginationTime: f.At, SenderPhoneNumber: "+254799999999",
		}); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// conformanceExpected turns simulator transactions into the records a pull
// must leave: a payment each, succeeded or reversed (a poll says no more
// of a reversal: the store dates it, see kopokopo.Parser).
func conformanceExpected(t *testing.T, txs []kopokopo.Transaction) []sourcetest.Expected {
	t.Helper()
	var out []sourcetest.Expected
	for _, tx := range txs {
		m, err := tx.Money()
		if err != nil {
			t.Fatalf("simulator transaction %s: %v", tx.ID, err)
		}
		e := sourcetest.Expected{Kind: reconcile.KindPayment, TxID: tx.ID, Amount: m, AmountKnown: true, Status: reconcile.StatusSucceeded}
		if tx.Status == "Reversed" {
			e.Status = reconcile.StatusReversed
		}
		out = append(out, e)
	}
	return out
}

// vendorWebhook returns a delivery of the vendor document's example body,
// signed as Kopo Kopo signs: X-KopoKopo-Signature over the raw bytes.
func vendorWebhook(t *testing.T, name string) func(key, path string) sources.Request {
	body, err := os.ReadFile(filepath.Join("testdata", "vendor", name))
	if err != nil {
		t.Fatal(err)
	}
	return func(key, path string) sources.Request {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(kopokopo.SignatureHeader, kopokopo.ComputeSignature(key, body))
		return sources.Request{Method: http.MethodPost, Path: path, Header: h, Body: body}
	}
}
