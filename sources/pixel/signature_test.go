package pixel

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mizani/reconcile/sources"
)

// docKey is the secret key of the documents' signature examples.
const docKey = SandboxSecretKey

// TestRedirectExample reproduces document 002's payment-page example: its
// printed signature 9826c5e8… is that of the parameters of its printed
// result query, in that order (country NGA, currency NGN, provider_id 5000,
// no customer_id or amount), not of the PHP array printed above it (SPEC
// §9.2). The same parameters as a JSON object canonicalize to the same
// string, whichever way provider_id is written.
func TestRedirectExample(t *testing.T) {
	t.Parallel()
	const want = "9826c5e89ff6386e7bbb5263a4fbd41ed35eb2fc7c58650be487db14f066b0a650b1980762575ad296b0cbac1745f6a5faeb64cacd2756ccff95b52ba08259d7"
	const query = "merchant_id=fffed61be9780b97c5e4c65e4e07bb6b&order_id=order_3444298767545&country=NGA&currency=NGN&provider_id=5000&operation=c2b&type=bank_transfer&callback_url=https://my.callback.url"
	var fields []Field
	var flat strings.Builder
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		fields = append(fields, Field{k, v})
		flat.WriteString(k + v)
	}
	if got := Sign(docKey, flat.String()); got != want {
		t.Fatalf("signature of the result query = %s, want %s", got, want)
	}
	for name, provider := range map[string]any{"string provider_id": "5000", "integer provider_id": 5000} {
		fields[4].Value = provider
		body, err := EncodeFields(fields)
		if err != nil {
			t.Fatal(err)
		}
		got, err := SignBody(docKey, body)
		if err != nil || got != want {
			t.Errorf("%s: SignBody(%s) = %s, %v; want %s", name, body, got, err, want)
		}
	}
	// The array printed above the result differs (customer_id, amount,
	// provider_id 5026): its signature is not the printed one.
	arrayBody := `{"merchant_id":"fffed61be9780b97c5e4c65e4e07bb6b","order_id":"order_3444298767545","customer_id":"0000000000","country":"NGA","amount":101,"currency":"NGN","provider_id":5026,"operation":"c2b","type":"bank_transfer","callback_url":"https://my.callback.url"}`
	if got, _ := SignBody(docKey, []byte(arrayBody)); got == want {
		t.Errorf("the printed PHP array signs to the printed signature too; SPEC §9.2 says it does not")
	}
}

// TestCanonicalize pins both canonical forms: the order sent, `key.`
// prefixes for nested objects (intended) or nothing for them (the vendor
// sample's literal behaviour), signature skipped at every level, PHP's
// stringification of leaves.
func TestCanonicalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body        string
		intended, literal string
		err               string
	}{
		{"order sent, not sorted", `{"z":"1","a":"2","m":"3"}`, "z1a2m3", "z1a2m3", ""},
		{"signature skipped", `{"a":"1","signature":"abc","b":"2"}`, "a1b2", "a1b2", ""},
		{"nested object", `{"a":"1","extra":{"otp":"5647","name":"N S"},"b":2}`, "a1extra.otp5647extra.nameN Sb2", "a1b2", ""},
		{"deeply nested", `{"x":{"y":{"z":"v"}}}`, "x.y.zv", "", ""},
		{"nested signature skipped", `{"x":{"signature":"s","k":"v"}}`, "x.kv", "", ""},
		{"list", `{"banks":[{"code":"000001","name":"OK"}],"result":{"code":0}}`, "banks.0.code000001banks.0.nameOKresult.code0", "", ""},
		{"empty object and list", `{"a":{},"b":[],"c":"x"}`, "cx", "cx", ""},
		{"true false null", `{"t":true,"f":false,"n":null}`, "t1fn", "t1fn", ""},
		{"integers", `{"a":100,"b":-5,"c":0,"d":-0,"e":9223372036854775807}`, "a100b-5c0d0e9223372036854775807", "a100b-5c0d0e9223372036854775807", ""},
		{"floats as PHP prints them", `{"a":11.1,"b":100.00,"c":1e25,"d":0.00001,"e":-0.0,"f":0.30000000000000004,"g":1E2}`,
			"a11.1b100c1.0E+25d1.0E-5e-0f0.3g100", "a11.1b100c1.0E+25d1.0E-5e-0f0.3g100", ""},
		{"integer beyond PHP int", `{"a":9223372036854775808}`, "a9.2233720368548E+18", "a9.2233720368548E+18", ""},
		{"strings kept byte for byte", `{"a":"100.00","b":"É\u00e9\n","c":""}`, "a100.00bÉé\nc", "a100.00bÉé\nc", ""},
		{"repeated key: first place, last value", `{"a":"1","b":"2","a":"3"}`, "a3b2", "a3b2", ""},
		{"whitespace ignored", " {\n \"a\" : \"1\" ,\t\"b\":[ 1 , 2 ] }\n", "a1b.01b.12", "a1", ""},
		{"signature as object is walked", `{"signature":{"k":"v"}}`, "signature.kv", "", ""},
		{"not an object", `["a"]`, "", "", "not a JSON object"},
		{"trailing data", `{"a":1}{"b":2}`, "", "", "trailing data"},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", "", "", "UTF-8"},
		{"truncated", `{"a":"1"`, "", "", "reading body"},
		{"too deep", `{"a":` + strings.Repeat(`{"a":`, 16) + `1` + strings.Repeat(`}`, 17), "", "", "deeper than 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Canonicalize([]byte(tt.body))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Canonicalize = %+v, %v; want error containing %q", c, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Intended != tt.intended || c.Literal != tt.literal {
				t.Errorf("Canonicalize = intended %q literal %q; want %q and %q", c.Intended, c.Literal, tt.intended, tt.literal)
			}
		})
	}
	// Sixteen levels is the vendor's limit: fifteen nested objects are fine.
	ok := `{"a":` + strings.Repeat(`{"a":`, 14) + `1` + strings.Repeat(`}`, 15)
	if _, err := Canonicalize([]byte(ok)); err != nil {
		t.Errorf("15 nested levels refused: %v", err)
	}
}

// TestVerifier accepts a callback signed in either form and refuses any
// other, without repeating the signature.
func TestVerifier(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(docKey)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := []byte(`{"merchant_id":"m","operation_type":17,"amount":100,"order_id":"O1","status":2,"result":{"code":0,"message":"OK"}}`)
	c, err := Canonicalize(unsigned)
	if err != nil {
		t.Fatal(err)
	}
	with := func(sig string) []byte {
		return append(bytes.TrimSuffix(unsigned, []byte("}")), []byte(`,"signature":"`+sig+`"}`)...)
	}
	intended, literal := Sign(docKey, c.Intended), Sign(docKey, c.Literal)
	if intended == literal {
		t.Fatal("the two forms should differ for a body with a nested result")
	}
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"intended form", with(intended), nil},
		{"literal form", with(literal), nil},
		{"upper-case hex", with(strings.ToUpper(intended)), nil},
		{"signature first", []byte(`{"signature":"` + intended + `",` + string(unsigned[1:])), nil},
		{"wrong key", with(Sign("other", c.Intended)), sources.ErrBadSignature},
		{"tampered amount", bytes.Replace(with(intended), []byte(`"amount":100`), []byte(`"amount":1000`), 1), sources.ErrBadSignature},
		{"tampered nested value", bytes.Replace(with(intended), []byte(`"message":"OK"`), []byte(`"message":"KO"`), 1), sources.ErrBadSignature},
		{"no signature", unsigned, sources.ErrNotSigned},
		{"empty signature", with(""), sources.ErrNotSigned},
		{"not JSON", []byte("amount=100"), sources.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := v.Verify(sources.Request{Method: "POST", Path: "/webhooks/pixel", Body: tt.body})
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), intended) || strings.Contains(err.Error(), docKey)) {
				t.Errorf("error repeats the signature or key: %v", err)
			}
		})
	}
	// A nested value tampered in a literal-form callback is not covered by
	// that form: it is accepted, as the vendor's own code would.
	tampered := bytes.Replace(with(literal), []byte(`"message":"OK"`), []byte(`"message":"KO"`), 1)
	if err := v.Verify(sources.Request{Body: tampered}); err != nil {
		t.Errorf("literal form with a nested change: %v (the literal form does not cover nested values)", err)
	}
	if _, err := NewVerifier(""); err == nil {
		t.Error("NewVerifier accepted an empty key")
	}
}

// TestSigned appends a signature that verifies, to objects empty or not.
func TestSigned(t *testing.T) {
	t.Parallel()
	v, _ := NewVerifier("k")
	for _, body := range []string{`{}`, `{ }`, `{"a":"1"}`, "{\"a\":{\"b\":[1,2]}}\n"} {
		signed, err := Signed("k", []byte(body))
		if err != nil {
			t.Fatalf("Signed(%s): %v", body, err)
		}
		if !json.Valid(signed) {
			t.Fatalf("Signed(%s) = %s, not JSON", body, signed)
		}
		if err := v.Verify(sources.Request{Body: signed}); err != nil {
			t.Errorf("Signed(%s) = %s does not verify: %v", body, signed, err)
		}
	}
	if _, err := Signed("k", []byte(`[1]`)); err == nil {
		t.Error("Signed accepted a list")
	}
}

// FuzzCanonicalize checks the canonicalizer on arbitrary bodies: it never
// panics; a body it reads canonicalizes the same compacted or indented
// (whitespace is not signed); the literal form is the intended one when
// nothing is nested; and a body signed with Signed verifies.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{
		`{"a":"1"}`, `{"merchant_id":"m","extra":{"otp":"5647"},"amount":"100.00"}`, `{"a":1.5e300,"b":-0,"c":[true,false,null]}`,
		`{"signature":"x","a":{"signature":"y"}}`, `{"a":"\u00e9\ud83d\ude00"}`, `{"a":1,"a":2}`, `{}`, `[1]`, `{"a":`,
	} {
		f.Add([]byte(s))
	}
	if b, err := readVendor("callback.json"); err == nil {
		f.Add(b)
	}
	v, _ := NewVerifier("fuzz-key")
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := Canonicalize(body)
		if err != nil {
			return
		}
		var compact, indented bytes.Buffer
		if err := json.Compact(&compact, body); err != nil {
			t.Fatalf("Canonicalize read %q, which is not JSON", body)
		}
		if err := json.Indent(&indented, body, " ", "\t"); err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]byte{compact.Bytes(), indented.Bytes()} {
			c2, err := Canonicalize(b)
			if err != nil || c2 != c {
				t.Fatalf("Canonicalize(%q) = %+v, %v; the same body reformatted gave %+v", b, c2, err, c)
			}
		}
		var top map[string]json.RawMessage
		if json.Unmarshal(body, &top) == nil && !anyNested(top) && c.Intended != c.Literal {
			t.Fatalf("flat body %q: intended %q, literal %q", body, c.Intended, c.Literal)
		}
		if bytes.Contains(body, []byte(`"signature"`)) {
			return // Signed appends a second signature field
		}
		signed, err := Signed("fuzz-key", body)
		if err != nil {
			t.Fatalf("Signed(%q): %v", body, err)
		}
		if err := v.Verify(sources.Request{Body: signed}); err != nil {
			t.Fatalf("Signed(%q) = %q does not verify: %v", body, signed, err)
		}
	})
}

func anyNested(top map[string]json.RawMessage) bool {
	for _, v := range top {
		t := bytes.TrimSpace(v)
		if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			return true
		}
	}
	return false
}
