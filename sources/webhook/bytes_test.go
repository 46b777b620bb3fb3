package webhook_test

import (
	"bytes"
	"database/sql"
	"net/http"
	"strings"
	"testing"

	"github.com/mizani/reconcile/sources/kopokopo"
)

// buygoods is a Kopo Kopo buygoods webhook for event id, transaction txID,
// with sender_last_name and an extra "note" field holding exactly the raw
// JSON given (bytes included as they are).
func buygoods(id, txID, lastName, note string) []byte {
	return []byte(`{"topic":"buygoods_transaction_received","id":"` + id + `","created_at":"2026-03-02T10:43:20+03:00",` +
		`"event":{"type":"Buygoods Transaction","resource":{"id":"` + txID + `","amount":"100.0","status":"Received",` +
		`"system":"Lipa Na M-PESA","currency":"KES","reference":"OJM6Q1W84K","till_number":"000000",` +
		`"sender_phone_number":"+254999999999","origination_time":"2026-03-02T10:43:19+03:00",` +
		`"sender_last_name":"` + lastName + `","sender_first_name":"Jane"}},"note":` + note + `}`)
}

// TestWebhookBytesPostgresCannotHoldAsText: a correctly signed webhook whose
// body holds what PostgreSQL text or jsonb cannot (a \u0000 escape, a lone
// surrogate, an invalid UTF-8 byte, a number beyond numeric's range) is
// stored with its exact bytes (doc NULL) and answered 200, once, however
// often it is redelivered; one whose transaction id itself holds a NUL is
// refused as bad input (400, not the 500 "please retry" a provider retries
// forever) and nothing is stored. Before raw_payloads.body was bytea every
// one of these was a permanent 500.
func TestWebhookBytesPostgresCannotHoldAsText(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name     string
		body     []byte
		wantCode int
		wantDoc  bool // doc (jsonb) derived
	}{
		{"plain", buygoods("e-plain", "tx-plain", "Doe", `"ok"`), http.StatusOK, true},
		{"escaped NUL in an unmapped field", buygoods("e-nul", "tx-nul", "Doe", `"a\u0000b"`), http.StatusOK, false},
		{"escaped NUL in the counterparty's name", buygoods("e-nul-name", "tx-nul-name", `D\u0000oe`, `1`), http.StatusOK, false},
		{"lone high surrogate", buygoods("e-sur", "tx-sur", `Doe\ud800`, `"x"`), http.StatusOK, false},
		{"lone low surrogate", buygoods("e-lo", "tx-lo", "Doe", `"\udc00"`), http.StatusOK, false},
		{"high surrogate then a letter", buygoods("e-hl", "tx-hl", "Doe", `"\ud83dA"`), http.StatusOK, false},
		{"paired surrogates", buygoods("e-pair", "tx-pair", "Doe", `"\ud83d\ude00"`), http.StatusOK, true},
		{"escaped backslash before u0000", buygoods("e-bs", "tx-bs", "Doe", `"\\u0000"`), http.StatusOK, true},
		{"invalid UTF-8 byte", buygoods("e-ff", "tx-ff", "D\xffoe", "\"\xfe\""), http.StatusOK, false},
		{"number beyond numeric", buygoods("e-big", "tx-big", "Doe", `1e200000`), http.StatusOK, false},
		{"NUL in the transaction id", buygoods("e-txnul", `tx\u0000nul`, "Doe", `1`), http.StatusBadRequest, false},
		{"NUL in the event id", buygoods(`e\u0000id`, "tx-idnul", "Doe", `1`), http.StatusBadRequest, false},
	}
	stored := 0
	for _, tt := range tests {
		for attempt := 1; attempt <= 2; attempt++ { // a redelivery: same answer, stored once
			code, resp := b.post(t, "kopokopo", tt.body, kopokopo.ComputeSignature(apiKey, tt.body))
			if code != tt.wantCode {
				t.Errorf("%s (attempt %d): status %d %v, want %d", tt.name, attempt, code, resp, tt.wantCode)
			}
			if attempt == 2 && code == http.StatusOK && resp["status"] != "duplicate" {
				t.Errorf("%s: redelivery answered %v, want duplicate", tt.name, resp)
			}
		}
		var body []byte
		var doc sql.NullString
		err := b.store.DB().QueryRow(`SELECT body, doc::text FROM raw_payloads WHERE body = $1`, tt.body).Scan(&body, &doc)
		if tt.wantCode != http.StatusOK {
			if err != sql.ErrNoRows {
				t.Errorf("%s: refused payload was stored (err %v)", tt.name, err)
			}
			continue
		}
		stored++
		if err != nil {
			t.Errorf("%s: payload not stored byte for byte: %v", tt.name, err)
			continue
		}
		if !bytes.Equal(body, tt.body) || doc.Valid != tt.wantDoc {
			t.Errorf("%s: stored body %q doc %v; want the exact bytes, doc derived %v", tt.name, body, doc, tt.wantDoc)
		}
	}
	if p, r := b.count(t, "raw_payloads"), b.count(t, "provider_records"); p != stored || r != stored {
		t.Errorf("store holds %d payloads, %d records; want %d each", p, r, stored)
	}
	var names []string
	if err := b.store.DB().Select(&names, `SELECT counterparty FROM provider_records WHERE tx_id = 'tx-ff'`); err != nil || len(names) != 1 || strings.ContainsRune(names[0], 0) {
		t.Errorf("record of the invalid-UTF-8 webhook: %v %v", names, err)
	}
}
