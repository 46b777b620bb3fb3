package pixel_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/parsefuzz"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/pixel"
)

const fuzzKey = "fuzz-secret-key-0123"

// FuzzParse feeds the parser arbitrary bodies, seeded with the vendor
// documents' examples and the demo payloads, with and without a configured
// currency, as callbacks and as status responses about payouts: it keeps the
// parser contract (parsefuzz.CheckParse) and parses the same body the same
// way twice. An amount is known only with a configured currency; without
// one the amount is kept as sent.
func FuzzParse(f *testing.F) {
	for _, b := range parsefuzz.Seeds(f, pixel.Name, "testdata/vendor") {
		f.Add(b, uint8(0))
		f.Add(b, uint8(3))
	}
	f.Add([]byte(`{"operation_type":17,"order_id":"o","status":2,"amount":"-1"}`), uint8(1))
	f.Add([]byte(`{"operation_type":"16","order_id":1,"status":"2","amount":1e400,"service_date_time":"2026-02-30 25:00:00"}`), uint8(2))
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	nairobi, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		f.Fatal(err)
	}
	parsers := []*pixel.Parser{
		{Zone: nairobi, Merchant: "m1", Now: func() time.Time { return now }},
		{Zone: time.UTC, Currency: "XOF", Merchant: "m1", Now: func() time.Time { return now }},
	}
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		p := parsers[mode&1]
		src := reconcile.SourceWebhook
		parse := func() (reconcile.RawPayload, []reconcile.Record, error) { return p.Parse(body, src) }
		if mode&2 != 0 {
			src = reconcile.SourceStatus
			parse = func() (reconcile.RawPayload, []reconcile.Record, error) {
				return p.ParseStatus(body, src, reconcile.KindPayout)
			}
		}
		payload, recs, err := parse()
		parsefuzz.CheckParse(t, pixel.Name, body, src, payload, recs, err)
		for _, r := range recs {
			if r.AmountKnown && p.Currency == "" {
				t.Fatalf("Parse(%q): amount %+v known without a currency configured", body, r.Amount)
			}
			if r.AmountKnown && r.Amount.Currency != p.Currency {
				t.Fatalf("Parse(%q): amount in %s, configured %s", body, r.Amount.Currency, p.Currency)
			}
		}
		payload2, recs2, err2 := parse()
		if !reflect.DeepEqual(payload, payload2) || !reflect.DeepEqual(recs, recs2) || (err == nil) != (err2 == nil) {
			t.Fatalf("Parse(%q) twice gave different results", body)
		}
	})
}

// FuzzVerify signs arbitrary JSON objects as Pixel does (Signed: the
// HMAC-SHA512 of the canonical form, appended as the signature field) and
// checks that the verifier accepts them and refuses any single-byte change
// that changes the fields signed (a change of insignificant whitespace, or
// of the case of the signature's hex digits, means the same and may pass).
func FuzzVerify(f *testing.F) {
	for _, b := range parsefuzz.Seeds(f, pixel.Name, "testdata/vendor") {
		f.Add(b, uint(len(b)/3), byte(1))
	}
	f.Add([]byte(`{"a":"1","b":{"c":[1,2,{"d":null}]},"e":1.50}`), uint(30), byte(0x20))
	v, err := pixel.NewVerifier(fuzzKey)
	if err != nil {
		f.Fatal(err)
	}
	same := parsefuzz.SameJSON(func(body []byte) ([]byte, error) {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			return nil, err
		}
		delete(fields, pixel.SignatureField)
		return json.Marshal(fields)
	})
	f.Fuzz(func(t *testing.T, body []byte, pos uint, xor byte) {
		// The vendor examples carry placeholder signatures: drop them.
		body = withoutSignature(body)
		if body == nil {
			return
		}
		if _, err := pixel.Canonicalize(body); err != nil {
			return // not a JSON object Pixel could sign
		}
		signed, err := pixel.Signed(fuzzKey, body)
		if err != nil {
			t.Fatalf("Signed(%q): %v", body, err)
		}
		req := sources.Request{Method: http.MethodPost, Path: "/webhooks/pixel", Header: http.Header{}, Body: signed}
		parsefuzz.CheckSigned(t, v, req, "", []string{fuzzKey}, same, pos, xor)
	})
}

// withoutSignature returns body without a top-level signature field, or
// nil when body carries "signature" anywhere else too.
func withoutSignature(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"signature"`)) {
		return body
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil
	}
	if _, ok := fields[pixel.SignatureField]; !ok {
		return nil
	}
	delete(fields, pixel.SignatureField)
	out, err := json.Marshal(fields)
	if err != nil || bytes.Contains(out, []byte(`"signature"`)) {
		return nil
	}
	return out
}
