package pixel

import (
	"errors"
	"strings"
	"testing"

	"github.com/mizani/reconcile/sources"
)

// TestLiteralFormOnlyForCallbacks: the vendor sample's literal form signs
// no nested value. A callback signed that way is accepted (its records come
// from top-level fields), but a status-response shape is not: its nested
// result.code decides whether it carries a record, so with the literal form
// anyone could flip it under a valid signature.
func TestLiteralFormOnlyForCallbacks(t *testing.T) {
	t.Parallel()
	const key = "literal-test-key"
	literallySigned := func(t *testing.T, body string) []byte {
		t.Helper()
		c, err := Canonicalize([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		sig := Sign(key, c.Literal)
		return []byte(strings.TrimSuffix(body, "}") + `,"signature":"` + sig + `"}`)
	}
	v, err := NewVerifier(key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body string
		want error
	}{
		{"callback", `{"merchant_id":"m1","operation_type":17,"amount":100,"order_id":"O1","transaction_id":"T1","status":2,"result":{"code":0,"message":"OK"}}`, nil},
		{"status response", `{"order_id":"O1","transaction_id":"T1","status":2,"result":{"code":0,"message":"OK"}}`, sources.ErrBadSignature},
		{"status response with its code flipped", `{"order_id":"O1","transaction_id":"T1","status":2,"result":{"code":10201,"message":"x"}}`, sources.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Verify(sources.Request{Body: literallySigned(t, tt.body)})
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	// The intended form of the same status response is accepted.
	signed, err := Signed(key, []byte(tests[1].body))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(sources.Request{Body: signed}); err != nil {
		t.Errorf("a status response in the intended form: %v", err)
	}
}
