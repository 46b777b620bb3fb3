package kora

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/mizani/reconcile/sources"
)

const testKey = "sk_test_2uyDg6s1bW8ekaXa0BxQ1Wm4Gv6nPnKc"

// webhookBodies are bodies whose data holds what JSON.stringify and Go's
// encoder print differently: nested objects, integer-like keys, repeated
// keys, escapes JSON.stringify does not make (\u00e9, \/, \u003c), characters
// Go's encoder escapes and JSON.stringify does not (<, >, &, U+2028,
// U+2029), astral characters written as surrogate pairs, a lone surrogate,
// control characters, and numbers whose text JavaScript reprints
// (10.50 → 10.5, 1E3 → 1000, -0 → 0, 1e-7, 1e21, 12345678901234567890).
var webhookBodies = []string{
	`{"event":"charge.success","data":{"reference":"KPY-CA-1","payment_reference":"ORD-1","currency":"NGN","amount":10000,"fee":140,"vat":10.5,"status":"success","transaction_date":"2026-03-02 10:00:00"}}`,
	"{\n  \"event\": \"charge.success\",\n  \"data\": {\n    \"reference\": \"KPY-CA-2\",\n    \"amount\": 10.50,\n    \"fee\": 0.10,\n    \"vat\": 1E3,\n    \"currency\": \"NGN\",\n    \"status\": \"success\",\n    \"customer\": {\"name\": \"Ad\\u00e9 <O&B> \\/ Ltd\", \"email\": \"a@b.ng\", \"tags\": [1, 2.0, {\"x\": null}]},\n    \"metadata\": {\"b\": 1, \"10\": \"ten\", \"a\": 2, \"2\": \"two\", \"01\": \"not an index\"}\n  }\n}",
	`{"event":"transfer.failed","data":{"reference":"PO-1","amount":-0,"fee":1e-7,"big":1e21,"huge":12345678901234567890,"currency":"KES","status":"failed","narration":"Line\u2028sep\u2029par <script>&amp;</script> \u00e9\u0000\u001f\t\"q\" \\ 😀 \ud83d\ude00 \udc00 lone","dup":1,"dup":2}}`,
	`{"data":{"unicode":"Ünïcödé — 中文 — عربى","n":[0.1,0.30000000000000004,100,1.5e300,5e-324]},"event":"charge.failed"}`,
	`{"event":"charge.success","data":{}}`,
}

// nodeSign runs testdata/sign.js over bodies. Node must be installed: the
// test fails, never skips, without it.
func nodeSign(t *testing.T, key string, bodies []string) []struct{ Signature, Data, Sent string } {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required to check signatures against Kora's own JavaScript: %v", err)
	}
	var in bytes.Buffer
	for _, b := range bodies {
		line, _ := json.Marshal(map[string]string{"key": key, "body": b})
		in.Write(line)
		in.WriteByte('\n')
	}
	cmd := exec.Command(node, "testdata/sign.js")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/sign.js: %v\n%s", err, stderr.String())
	}
	var res []struct{ Signature, Data, Sent string }
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r struct{ Signature, Data, Sent string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("node output %q: %v", sc.Text(), err)
		}
		res = append(res, r)
	}
	if len(res) != len(bodies) {
		t.Fatalf("node signed %d bodies, want %d", len(res), len(bodies))
	}
	return res
}

func signed(body, sig string) sources.Request {
	h := http.Header{}
	if sig != "" {
		h.Set(SignatureHeader, sig)
	}
	return sources.Request{Method: http.MethodPost, Path: "/webhooks/kora", Header: h, Body: []byte(body)}
}

// TestVerifyAgainstNode: signatures Kora's documented JavaScript computes
// are accepted, on the body as written and on the body as a Node server
// sends it; any change to data is refused.
func TestVerifyAgainstNode(t *testing.T) {
	node := nodeSign(t, testKey, webhookBodies)
	v := Verifier{SecretKey: testKey}
	for i, body := range webhookBodies {
		n := node[i]
		if got, err := Stringify(mustData(t, body)); err != nil || string(got) != n.Data {
			t.Errorf("body %d: Stringify\n got %s (%v)\nwant %s (JSON.stringify)", i, got, err, n.Data)
		}
		for _, b := range []string{body, n.Sent} {
			if err := v.Verify(signed(b, n.Signature)); err != nil {
				t.Errorf("body %d (%.40q…): Node-signed webhook refused: %v", i, b, err)
			}
		}
		// The simulator's signature (compacted raw data) of Node's body is
		// Node's own.
		if got := Sign(testKey, mustCompact(t, mustData(t, n.Sent))); got != n.Signature {
			t.Errorf("body %d: Sign over the compacted data of Node's body = %s, Node says %s", i, got, n.Signature)
		}
	}
	// Tampering: each body with one character of data changed.
	tampered := []string{
		strings.Replace(webhookBodies[0], `"amount":10000`, `"amount":10001`, 1),
		strings.Replace(webhookBodies[1], `10.50`, `10.51`, 1),
		strings.Replace(webhookBodies[2], `PO-1`, `PO-2`, 1),
		strings.Replace(webhookBodies[3], `中文`, `中`, 1),
		`{"event":"charge.success","data":{"a":1}}`,
	}
	for i, body := range tampered {
		if body == webhookBodies[i] {
			t.Fatalf("tampered body %d is unchanged", i)
		}
		if err := v.Verify(signed(body, node[i].Signature)); !errors.Is(err, sources.ErrBadSignature) {
			t.Errorf("tampered body %d: Verify = %v, want ErrBadSignature", i, err)
		}
	}
}

func mustData(t *testing.T, body string) []byte {
	t.Helper()
	d, err := DataMember([]byte(body))
	if err != nil {
		t.Fatalf("DataMember: %v", err)
	}
	return d
}

func mustCompact(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestVerifyRefusals(t *testing.T) {
	body := webhookBodies[0]
	good := Sign(testKey, mustCompact(t, mustData(t, body)))
	v := Verifier{SecretKey: testKey}
	if err := v.Verify(signed(body, good)); err != nil {
		t.Fatalf("good signature refused: %v", err)
	}
	if err := v.Verify(signed(body, strings.ToUpper(good))); err != nil {
		t.Errorf("upper-case hex refused: %v", err)
	}
	// Signing the whole body, or a re-marshalled map of data, is not Kora's way.
	var m map[string]any
	_ = json.Unmarshal(mustData(t, webhookBodies[2]), &m)
	remarshalled, _ := json.Marshal(m)
	tests := []struct {
		name string
		req  sources.Request
		want error
	}{
		{"no header", signed(body, ""), sources.ErrNotSigned},
		{"not hex", signed(body, "zz"+good[2:]), sources.ErrBadSignature},
		{"wrong key", signed(body, Sign(testKey+"x", mustCompact(t, mustData(t, body)))), sources.ErrBadSignature},
		{"signed over the whole body", signed(body, Sign(testKey, []byte(body))), sources.ErrBadSignature},
		{"signed over a re-marshalled map", signed(webhookBodies[2], Sign(testKey, remarshalled)), sources.ErrBadSignature},
		{"no data member", signed(`{"event":"charge.success"}`, good), sources.ErrBadSignature},
		{"not JSON", signed(`nope`, good), sources.ErrBadSignature},
		{"trailing bytes", signed(body+"{}", good), sources.ErrBadSignature},
		{"truncated", signed(body[:len(body)-1], good), sources.ErrBadSignature},
	}
	for _, tt := range tests {
		err := v.Verify(tt.req)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
		if err != nil && (strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), good)) {
			t.Errorf("%s: error %q repeats the key or the signature", tt.name, err)
		}
	}
	if err := (Verifier{}).Verify(signed(body, good)); !errors.Is(err, sources.ErrBadSignature) {
		t.Errorf("no key configured: Verify = %v, want ErrBadSignature", err)
	}
}

func TestJSNumber(t *testing.T) {
	tests := map[string]string{
		"10.50": "10.5", "10": "10", "1E3": "1000", "-0": "0", "0.0": "0", "1e-7": "1e-7", "0.000001": "0.000001",
		"1e21": "1e+21", "123e18": "123000000000000000000", "12345678901234567890": "12345678901234567000",
		"0.1": "0.1", "-2.50e1": "-25", "1.5e300": "1.5e+300", "5e-324": "5e-324", "1e400": "null", "100.00": "100",
		"0.30000000000000004": "0.30000000000000004", "1.23e-5": "0.0000123",
	}
	for in, want := range tests {
		if got := jsNumber(in); got != want {
			t.Errorf("jsNumber(%s) = %s, want %s", in, got, want)
		}
	}
}
