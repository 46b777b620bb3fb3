package kopokopo_test

import (
	"net/http"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/sources/sourcetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	// The vendor document's buygoods_transaction_received example.
	webhook := []byte(`{"topic":"buygoods_transaction_received","id":"2133dbfb-24b9-40fc-ae57-2d7559785760","created_at":"2020-10-22T10:43:20+03:00","event":{"type":"Buygoods Transaction","resource":{"id":"458712f-gr76y-24b9-40fc-ae57-2d35785760","amount":"100.0","status":"Received","system":"Lipa Na M-PESA","currency":"KES","reference":"OJM6Q1W84K","till_number":"000000","sender_phone_number":"+254999999999","origination_time":"2020-10-22T10:43:19+03:00","sender_last_name":"Doe","sender_first_name":"Jane","sender_middle_name":null}},"_links":{"self":"https://sandbox.kopokopo.com/webhook_events/2133dbfb-24b9-40fc-ae57-2d7559785760","resource":"https://sandbox.kopokopo.com/financial_transaction/458712f-gr76y-24b9-40fc-ae57-2d35785760"}}`)
	sourcetest.Run(t, sourcetest.Harness{
		Provider: reconcile.KopoKopo,
		Start: func(t *testing.T, fixtures []sourcetest.Fixture, quiet bool) sourcetest.Env {
			cfg := kopokopo.SimConfig{Seed: 7}
			if quiet {
				cfg.PerHour = -1
			}
			for _, f := range fixtures {
				cfg.Extra = append(cfg.Extra, kopokopo.Transaction{
					ID: f.ID, Amount: f.Amount.String(), Status: "Received", System: "Lipa Na M-PESA",
					Currency: string(f.Amount.Currency), Reference: "OJM6Q1W84K", TillNumber: "000000",
					OriginationTime: f.At, SenderPhoneNumber: "+254799999999",
				})
			}
			sim, client := newSim(t, cfg, kopokopo.Config{})
			return sourcetest.Env{
				Puller: kopokopo.Puller{Client: client},
				Expected: func(w reconcile.Window) []sourcetest.Expected {
					return expected(t, sim.Transactions(w, ""))
				},
			}
		},
		Parser:   kopokopo.Parser{},
		Verifier: kopokopo.Verifier{APIKey: "conformance-key"},
		Webhook:  webhook,
		Sign: func(key string, body []byte) http.Header {
			h := http.Header{}
			h.Set(kopokopo.SignatureHeader, kopokopo.ComputeSignature(key, body))
			return h
		},
		Key: "conformance-key",
		Malformed: []sourcetest.Malformed{
			{Name: "polling transaction without resource", Want: "resource",
				Body: `{"data":{"id":"p1","type":"polling","attributes":{"status":"Success","transactions":[{"type":"Buygoods Transaction"}]}}}`},
			{Name: "polling amount not a number", Want: "amount",
				Body: `{"data":{"id":"p1","type":"polling","attributes":{"status":"Success","transactions":[{"type":"Buygoods Transaction","resource":{"id":"t1","amount":"5OO.0","status":"Received","currency":"KES","till_number":"000000","origination_time":"2026-03-02T10:00:00+03:00"}}]}}}`},
			{Name: "webhook without id", Want: "id",
				Body: `{"topic":"buygoods_transaction_received","event":{"type":"Buygoods Transaction","resource":{}}}`},
		},
	})
}
