package kopokopo_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/parsefuzz"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/kopokopo"
)

const fuzzKey = "fuzz-api-key-0123"

// FuzzParse feeds the parser arbitrary bodies, seeded with the vendor
// document's examples and the demo payloads: it keeps the parser contract
// (parsefuzz.CheckParse: errors wrap ErrMalformed and carry no records,
// amounts are non-negative in a known currency, times UTC) and parses the
// same body the same way twice.
func FuzzParse(f *testing.F) {
	for _, b := range parsefuzz.Seeds(f, kopokopo.Name, "testdata/vendor") {
		f.Add(b, false)
	}
	f.Add([]byte(`{"topic":"buygoods_transaction_received","id":"x","event":{"resource":{"amount":"-1.0"}}}`), true)
	f.Add([]byte(`{"data":{"id":"1","type":"incoming_payment","attributes":{"status":"Success","event":null}}}`), false)
	nairobi, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		f.Fatal(err)
	}
	p := kopokopo.Parser{Zone: nairobi}
	f.Fuzz(func(t *testing.T, body []byte, poll bool) {
		src := reconcile.SourceWebhook
		if poll {
			src = reconcile.SourcePoll
		}
		payload, recs, err := p.Parse(body, src)
		parsefuzz.CheckParse(t, kopokopo.Name, body, src, payload, recs, err)
		payload2, recs2, err2 := p.Parse(body, src)
		if !reflect.DeepEqual(payload, payload2) || !reflect.DeepEqual(recs, recs2) || (err == nil) != (err2 == nil) {
			t.Fatalf("Parse(%q) twice gave different results", body)
		}
	})
}

// FuzzVerify signs arbitrary bodies as Kopo Kopo does (ComputeSignature:
// HMAC-SHA256 of the raw body under the API key) and checks that the
// verifier accepts them and refuses any single-byte change of the body or
// of the signature, without repeating the key or the signature.
func FuzzVerify(f *testing.F) {
	for _, b := range parsefuzz.Seeds(f, kopokopo.Name, "testdata/vendor") {
		f.Add(b, uint(len(b)/2), byte(1))
	}
	f.Add([]byte{}, uint(0), byte(0))
	v := kopokopo.Verifier{APIKey: fuzzKey}
	f.Fuzz(func(t *testing.T, body []byte, pos uint, xor byte) {
		h := http.Header{}
		h.Set(kopokopo.SignatureHeader, kopokopo.ComputeSignature(fuzzKey, body))
		req := sources.Request{Method: http.MethodPost, Path: "/webhooks/kopokopo", Header: h, Body: body}
		parsefuzz.CheckSigned(t, v, req, kopokopo.SignatureHeader, []string{fuzzKey}, parsefuzz.Identical, pos, xor)
	})
}
