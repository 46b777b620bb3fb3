package kora

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources/webhook"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// serveBodies are Kora webhooks as a sender other than Node might write
// them (indented, escapes JSON.stringify does not make, decimals with
// trailing zeros) and as Node writes them, with nested objects and unicode.
var serveBodies = []string{
	"{\n  \"event\": \"charge.success\",\n  \"data\": {\n    \"reference\": \"KPY-CA-S1\",\n    \"payment_reference\": \"ORD-\\u00c9T\\u00c9-1\",\n    \"currency\": \"NGN\",\n    \"amount\": 10000.50,\n    \"fee\": 140.00,\n    \"vat\": 10.50,\n    \"status\": \"success\",\n    \"transaction_date\": \"2026-03-02 10:00:00\",\n    \"customer\": {\"name\": \"Adé <Ọ̀ṣun> & Co\\u2028\", \"email\": \"a@b.ng\", \"address\": {\"city\": \"Lagos\", \"lines\": [\"1 Broad St\", \"Ikeja\"]}},\n    \"metadata\": {\"2\": \"two\", \"order\": {\"items\": 3, \"total\": 1.0e4}}\n  }\n}",
	`{"event":"transfer.success","data":{"reference":"PO-S2","currency":"KES","amount":2500.75,"fee":25,"vat":1.88,"status":"success","narration":"Supplier — 中文 😀","transaction_date":"2026-03-03 08:00:00","beneficiary":{"bank":{"code":"058","name":"GTBank"}}}}`,
}

// TestServeNodeSignedWebhooks: webhooks signed as Kora's documentation
// signs them (Node, JSON.stringify(req.body.data)) are stored once by the
// receiver serve runs, a replay is a duplicate, and a tampered one is
// refused with 401 and nothing stored.
func TestServeNodeSignedWebhooks(t *testing.T) {
	t.Parallel()
	st := store.New(pgtest.New(t))
	h, err := webhook.New(webhook.Config{Sink: st, Providers: map[reconcile.Provider]webhook.Provider{
		Name: {Parser: testParser(), Verifier: Verifier{SecretKey: testKey}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/{provider}", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(body, sig string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/kora", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set(SignatureHeader, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	count := func() (payloads, records int) {
		db := st.DB()
		if err := db.GetContext(context.Background(), &payloads, `SELECT count(*) FROM raw_payloads WHERE provider = 'kora'`); err != nil {
			t.Fatal(err)
		}
		if err := db.GetContext(context.Background(), &records, `SELECT count(*) FROM provider_records WHERE provider = 'kora'`); err != nil {
			t.Fatal(err)
		}
		return payloads, records
	}

	node := nodeSign(t, testKey, serveBodies)
	// Refused first: tampered in data, wrong key, unsigned. Nothing stored.
	for i, body := range serveBodies {
		tampered := strings.Replace(body, "10000.50", "10000.60", 1)
		if tampered == body {
			tampered = strings.Replace(body, "2500.75", "2500.76", 1)
		}
		for name, code := range map[string]int{
			"tampered":  post(tampered, node[i].Signature),
			"wrong key": post(body, Sign("sk_test_other", mustCompact(t, mustData(t, body)))),
			"unsigned":  post(body, ""),
		} {
			if code != http.StatusUnauthorized {
				t.Errorf("body %d %s: HTTP %d, want 401", i, name, code)
			}
		}
	}
	if p, r := count(); p != 0 || r != 0 {
		t.Fatalf("refused deliveries stored %d payloads, %d records", p, r)
	}
	// Accepted, as written and as Node sends it; each stored once.
	for i, body := range serveBodies {
		for _, b := range []string{body, body, node[i].Sent} {
			if code := post(b, node[i].Signature); code != http.StatusOK {
				t.Errorf("body %d: HTTP %d, want 200", i, code)
			}
		}
	}
	if p, r := count(); p != len(serveBodies) || r != len(serveBodies) {
		t.Errorf("stored %d payloads and %d records, want %d of each", p, r, len(serveBodies))
	}
	var stored []byte
	if err := st.DB().GetContext(context.Background(), &stored, `SELECT body FROM raw_payloads WHERE provider = 'kora' ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, []byte(serveBodies[0])) {
		t.Errorf("raw payload not stored verbatim:\n%s", stored)
	}
}
