package kora_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/parsefuzz"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/kora"
)

const fuzzKey = "sk_test_fuzz0secret0key"

// FuzzParse feeds the parser arbitrary bodies, seeded with the vendor
// document's examples and the demo payloads: it keeps the parser contract
// (parsefuzz.CheckParse) and parses the same body the same way twice.
func FuzzParse(f *testing.F) {
	for _, b := range parsefuzz.Seeds(f, kora.Name, "testdata") {
		f.Add(b, false)
	}
	f.Add([]byte(`{"event":"charge.success","data":{"reference":"K","amount":"-1","currency":"NGN","status":"success"}}`), false)
	f.Add([]byte(`{"status":true,"data":{"has_more":false,"data":[{"reference":"K","amount":1e400,"fee":-0.1}]}}`), true)
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	lagos, err := time.LoadLocation(kora.DefaultZone)
	if err != nil {
		f.Fatal(err)
	}
	p := kora.Parser{Zone: lagos, Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, body []byte, poll bool) {
		src := reconcile.SourceWebhook
		if poll {
			src = reconcile.SourcePoll
		}
		payload, recs, err := p.Parse(body, src)
		parsefuzz.CheckParse(t, kora.Name, body, src, payload, recs, err)
		payload2, recs2, err2 := p.Parse(body, src)
		if !reflect.DeepEqual(payload, payload2) || !reflect.DeepEqual(recs, recs2) || (err == nil) != (err2 == nil) {
			t.Fatalf("Parse(%q) twice gave different results", body)
		}
	})
}

// FuzzVerify signs the data member of arbitrary webhook bodies as Kora does
// (the HMAC-SHA256 of data as Node's JSON.stringify wrote it, its bytes in
// the body; or, node set, as a relay that parsed the body again prints it)
// and checks that the verifier accepts them and refuses any single-byte
// change of the body that changes the data member's value, or of the
// signature; and that the records of a body it accepts are those of the
// signed part alone (with the envelope members Kora does not sign).
func FuzzVerify(f *testing.F) {
	for _, b := range parsefuzz.Seeds(f, kora.Name, "testdata") {
		f.Add(b, false, uint(len(b)/2), byte(1))
	}
	f.Add([]byte(`{"event":"charge.success","data":{"2":1,"1":"\u00e9\/","a":10.50,"a":1e2}}`), true, uint(40), byte(2))
	f.Add([]byte(`{"event":"charge.success","data":{"reference":"K","amount":1,"currency":"NGN","status":"success","transaction_date":"2026-03-02 10:00:00"},"DATA":{"reference":"K","amount":9,"currency":"NGN","status":"success","transaction_date":"2026-03-02 10:00:00"}}`), false, uint(0), byte(0))
	v := kora.Verifier{SecretKey: fuzzKey}
	parser := kora.Parser{Now: func() time.Time { return time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC) }}
	f.Fuzz(func(t *testing.T, body []byte, node bool, pos uint, xor byte) {
		data, err := kora.DataMember(body)
		if err != nil {
			return // no webhook to sign
		}
		signed := compact(t, data)
		if node {
			if signed, err = kora.Stringify(data); err != nil {
				t.Fatalf("Stringify(%q) of a data member: %v", data, err)
			}
		}
		h := http.Header{}
		h.Set(kora.SignatureHeader, kora.Sign(fuzzKey, signed))
		req := sources.Request{Method: http.MethodPost, Path: "/webhooks/kora", Header: h, Body: body}
		parsefuzz.CheckSigned(t, v, req, kora.SignatureHeader, []string{fuzzKey}, parsefuzz.SameJSON(func(b []byte) ([]byte, error) { return kora.DataMember(b) }), pos, xor)
		// What the records say comes from the signed data (and the
		// envelope's own members, which Kora does not sign): any other
		// member changes nothing.
		_, recs, err := parser.Parse(body, reconcile.SourceWebhook)
		if err != nil {
			return
		}
		reduced := signedPart(t, body)
		_, want, err := parser.Parse(reduced, reconcile.SourceWebhook)
		if err != nil || !reflect.DeepEqual(recs, want) {
			t.Fatalf("Parse(%q) = %+v, but of its signed part %q = %+v, %v", body, recs, reduced, want, err)
		}
	})
}

// TestParseReadsTheSignedData: the records of a webhook come from the data
// member its signature covers, never from an unsigned member that
// encoding/json would also read as data ("DATA", "Data"). Before the fix a
// correctly signed charge.success of 100 NGN with a "DATA" member of 999999
// NGN appended passed Verify and was recorded as 999999 NGN (found while
// writing FuzzVerify's signed-part property; its seed corpus holds such a
// body, so the property fails at once should the bug come back).
func TestParseReadsTheSignedData(t *testing.T) {
	t.Parallel()
	const signed = `{"reference":"KPY-1","payment_reference":"ORD-1","amount":100,"currency":"NGN","status":"success","transaction_date":"2026-03-02 10:00:00"}`
	const forged = `{"reference":"KPY-1","payment_reference":"ORD-1","amount":999999,"currency":"NGN","status":"success","transaction_date":"2026-03-02 10:00:00"}`
	tests := []struct{ name, body string }{
		{"DATA after data", `{"event":"charge.success","data":` + signed + `,"DATA":` + forged + `}`},
		{"Data before data", `{"event":"charge.success","Data":` + forged + `,"data":` + signed + `}`},
		{"dAtA in a charge response", `{"status":true,"message":"ok","data":` + signed + `,"dAtA":` + forged + `}`},
	}
	v := kora.Verifier{SecretKey: fuzzKey}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(kora.SignatureHeader, kora.Sign(fuzzKey, []byte(signed)))
			if err := v.Verify(sources.Request{Method: http.MethodPost, Header: h, Body: []byte(tt.body)}); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			_, recs, err := kora.Parser{}.Parse([]byte(tt.body), reconcile.SourceWebhook)
			if err != nil || len(recs) != 1 {
				t.Fatalf("Parse = %+v, %v; want one record", recs, err)
			}
			if want := (reconcile.Money{Minor: 10000, Currency: "NGN"}); recs[0].Amount != want {
				t.Errorf("amount %s, want the signed %s", recs[0].Amount.Human(), want.Human())
			}
		})
	}
	// With no member named exactly data there is nothing signed to read.
	_, recs, err := kora.Parser{}.Parse([]byte(`{"event":"charge.success","DATA":`+forged+`}`), reconcile.SourceWebhook)
	if !errors.Is(err, sources.ErrMalformed) || len(recs) != 0 {
		t.Errorf("only DATA: %+v, %v; want malformed", recs, err)
	}
}

// FuzzDataMember checks the data extraction the signature covers: in an
// event built around any JSON value, DataMember returns that value's bytes
// exactly (the last one when data is repeated), and after the event is
// compacted or indented, the value compacted the same.
func FuzzDataMember(f *testing.F) {
	for _, s := range []string{`{"amount":10.50,"a":"\u003c/b\u003e"}`, `[1, 2 ,{"x":null}]`, `"\ud800"`, `1e400`, ` {"data":{"data":1}} `, "\"\xff\""} {
		f.Add([]byte(s), "charge.success", false)
	}
	f.Fuzz(func(t *testing.T, data []byte, event string, repeat bool) {
		if !json.Valid(data) {
			return
		}
		data = bytes.Trim(data, " \t\r\n")
		ev := strconv.Quote(event)
		if !json.Valid([]byte(ev)) {
			return // Go quoting that JSON does not read (\x escapes)
		}
		body := []byte(`{"event":` + ev + `,"data":` + string(data) + `}`)
		if repeat {
			body = []byte(`{"data":{"first":true}, "event":` + ev + `,"data":` + string(data) + `}`)
		}
		got, err := kora.DataMember(body)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("DataMember(%q) = %q, %v; want %q", body, got, err, data)
		}
		want := compact(t, data)
		var c, ind bytes.Buffer
		if err := json.Compact(&c, body); err != nil {
			t.Fatal(err)
		}
		if err := json.Indent(&ind, body, "", "  "); err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]byte{c.Bytes(), ind.Bytes()} {
			got, err := kora.DataMember(b)
			if err != nil || !bytes.Equal(compact(t, got), want) {
				t.Fatalf("DataMember(%q) = %q, %v; want %q compacted", b, got, err, data)
			}
		}
	})
}

// FuzzStringify checks the JSON.stringify serializer: it accepts exactly
// valid JSON, prints valid JSON holding the same value, and printing its own
// output again changes nothing.
func FuzzStringify(f *testing.F) {
	for _, s := range []string{`{"2":1,"1":2,"b":3,"a":4,"b":5}`, `[10.50,1E2,-0,1e21,0.0000001,1e400]`, `"\u00e9\/\ud800\u2028<>&"`, "\"\xff\"", `{"a":[]}`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := kora.Stringify(raw)
		if (err == nil) != json.Valid(raw) {
			t.Fatalf("Stringify(%q): error %v, but json.Valid says %v", raw, err, json.Valid(raw))
		}
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Stringify(%q) = %q, not JSON", raw, out)
		}
		again, err := kora.Stringify(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("Stringify(%q) = %q, but Stringify of that = %q, %v", raw, out, again, err)
		}
		var a, b any
		if json.Unmarshal(raw, &a) != nil {
			return // a number beyond a double: JavaScript prints null
		}
		if err := json.Unmarshal(out, &b); err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("Stringify(%q) = %q: value %v, want %v", raw, out, b, a)
		}
	})
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		t.Fatalf("compacting %q: %v", b, err)
	}
	return c.Bytes()
}

// signedPart returns body, a JSON object, with only its members named
// exactly "data" and the envelope members Kora does not sign (event,
// status, message, has_more, pointer, in any case, as encoding/json reads
// them), in their order.
func signedPart(t *testing.T, body []byte) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(body))
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	out := []byte{'{'}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		key := tok.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		keep := key == "data"
		for _, k := range []string{"event", "status", "message", "has_more", "pointer"} {
			keep = keep || strings.EqualFold(key, k)
		}
		if !keep {
			continue
		}
		k, _ := json.Marshal(key)
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(out, k...), ':'), v...)
	}
	return append(out, '}')
}
