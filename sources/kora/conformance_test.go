package kora_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/kora"
	"github.com/mizani/reconcile/sources/sourcetest"
)

// TestConformance runs the shared conformance suite on kora.Provider against
// its own simulator: the pay-ins history (one listing per currency of
// KORA_CURRENCIES, paged by pointer), charge verification by the merchant's
// reference, webhooks signed over the data member, zone-less times in
// KORA_TZ.
func TestConformance(t *testing.T) {
	t.Parallel()
	currencies := []reconcile.Currency{"NGN", "KES", "ZAR", "GHS", "XOF"}
	names := make([]string, len(currencies))
	for i, c := range currencies {
		names[i] = string(c)
	}
	sourcetest.Run(t, sourcetest.Harness{
		Provider:   kora.Provider,
		KeyEnv:     kora.EnvSecretKey,
		Config:     map[string]string{kora.EnvCurrencies: strings.Join(names, ",")},
		Currencies: currencies,
		Kinds:      []reconcile.Kind{reconcile.KindPayment},
		Encode:     encodeFixtures,
		Expected: func(t *testing.T, env *sourcetest.Env, w reconcile.Window, src reconcile.Source) []sourcetest.Expected {
			var out []sourcetest.Expected
			for _, c := range env.Sim.(*kora.Simulator).Charges(w) {
				out = append(out, sourcetest.Expected{Kind: reconcile.KindPayment, TxID: c.TransactionReference, MerchantRef: c.Reference,
					Amount: c.Money(), AmountKnown: true, Status: status(c.Status)})
			}
			return out
		},
		Refs: func(t *testing.T, env *sourcetest.Env, w reconcile.Window) []sources.StatusRef {
			var out []sources.StatusRef
			for _, c := range env.Sim.(*kora.Simulator).Charges(w) {
				out = append(out, sources.StatusRef{MerchantRef: c.Reference, Direction: reconcile.In,
					Currency: reconcile.Currency(c.Currency), At: c.At})
			}
			return out
		},
		Webhooks: []sourcetest.Webhook{
			webhook("charge.success, unicode", kora.Charge{Reference: "ORD-1 «Adé» <&>\u2028x", TransactionReference: "KPY-CA-conf1",
				Currency: "NGN", Amount: "10000.50", Fee: "140.00", VAT: "10.50", Status: "success", PaymentMethod: "voucher",
				Description: "Ünïcödé — 中文", At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)},
				sourcetest.Expected{Kind: reconcile.KindPayment, TxID: "KPY-CA-conf1", MerchantRef: "ORD-1 «Adé» <&>\u2028x",
					Amount: reconcile.Money{Minor: 1000050, Currency: "NGN"}, AmountKnown: true, Status: reconcile.StatusSucceeded}),
			webhook("charge.failed", kora.Charge{Reference: "ORD-2", TransactionReference: "KPY-CA-conf2", Currency: "ZAR", Amount: "100",
				Status: "failed", At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)},
				sourcetest.Expected{Kind: reconcile.KindPayment, TxID: "KPY-CA-conf2", MerchantRef: "ORD-2",
					Amount: reconcile.Money{Minor: 10000, Currency: "ZAR"}, AmountKnown: true, Status: reconcile.StatusFailed}),
			webhook("transfer.success", kora.Charge{Kind: "transfer", Reference: "PAYOUT-1", Currency: "KES", Amount: "2500.75", Fee: "25",
				Status: "success", At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)},
				sourcetest.Expected{Kind: reconcile.KindPayout, TxID: "PAYOUT-1", MerchantRef: "PAYOUT-1",
					Amount: reconcile.Money{Minor: 250075, Currency: "KES"}, AmountKnown: true, Status: reconcile.StatusSucceeded}),
			webhook("transfer.failed", kora.Charge{Kind: "transfer", Reference: "PAYOUT-2", Currency: "XOF", Amount: "1100",
				Status: "failed", At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)},
				sourcetest.Expected{Kind: reconcile.KindPayout, TxID: "PAYOUT-2", MerchantRef: "PAYOUT-2",
					Amount: reconcile.Money{Minor: 1100, Currency: "XOF"}, AmountKnown: true, Status: reconcile.StatusFailed}),
		},
		ZoneLess: func(t *testing.T, wall time.Time) ([]byte, reconcile.Source) {
			return []byte(fmt.Sprintf(`{"has_more":false,"data":[{"pointer":"p","reference":"KPY-Z","payment_reference":"ORD-Z","status":"success","amount":"5000.00","fee":"26.88","currency":"NGN","date_created":%q}]}`,
				wall.Format(time.DateTime))), reconcile.SourcePoll
		},
		Malformed: []sourcetest.Malformed{
			{Name: "no reference", Body: `{"event":"charge.success","data":{"currency":"NGN","amount":1,"status":"success","transaction_date":"2026-03-02 10:00:00"}}`, Want: "data.reference"},
			{Name: "amount with too many decimals", Body: `{"has_more":false,"data":[{"reference":"KPY-1","currency":"NGN","amount":"1.001","status":"success","date_created":"2026-03-02 10:00:00"}]}`, Want: "data[0].amount"},
			{Name: "unknown status", Body: `{"status":true,"message":"ok","data":{"reference":"KPY-1","currency":"NGN","amount":1,"status":"maybe","transaction_date":"2026-03-02 10:00:00"}}`, Want: "data.status"},
			{Name: "charge request (carries the PIN)", Body: `{"amount":100,"currency":"ZAR","reference":"r","voucher":{"pin":"1168648096792943"}}`, Want: "status"},
		},
	})
}

func status(s string) reconcile.Status {
	switch s {
	case "success":
		return reconcile.StatusSucceeded
	case "failed":
		return reconcile.StatusFailed
	}
	return reconcile.StatusPending
}

// encodeFixtures writes planted transactions as the simulator's JSONL.
func encodeFixtures(t *testing.T, fx []sourcetest.Fixture) []byte {
	var b bytes.Buffer
	for _, f := range fx {
		exp, err := f.Amount.Currency.Exponent()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, `{"reference":%q,"transaction_reference":%q,"currency":%q,"amount":%q,"at":%q}`+"\n",
			f.ID, "KPY-CA-"+f.ID, f.Amount.Currency, reconcile.FormatMinor(f.Amount.Minor, exp), f.At.UTC().Format(time.RFC3339Nano))
	}
	return b.Bytes()
}

// webhook is a conformance delivery of c's webhook, as the simulator builds
// it, signed over its data member.
func webhook(name string, c kora.Charge, want sourcetest.Expected) sourcetest.Webhook {
	sim, err := kora.NewSimulator(sources.SimOptions{Quiet: true})
	if err != nil {
		panic(err)
	}
	body := sim.Webhook(c)
	sim.Close()
	return sourcetest.Webhook{
		Name: name,
		Request: func(key, path string) sources.Request {
			data, err := kora.DataMember(body)
			if err != nil {
				panic(err)
			}
			h := http.Header{}
			h.Set(kora.SignatureHeader, kora.Sign(key, data))
			h.Set("Content-Type", "application/json")
			return sources.Request{Method: http.MethodPost, Path: path, Header: h, Body: bytes.Clone(body)}
		},
		Want: []sourcetest.Expected{want},
		Signed: func(body []byte) [][2]int {
			data, err := kora.DataMember(body)
			if err != nil {
				panic(err)
			}
			i := bytes.Index(body, data)
			return [][2]int{{i, i + len(data)}}
		},
	}
}
