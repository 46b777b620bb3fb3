package kopokopo

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/mizani/reconcile/sources"
)

func TestComputeSignature(t *testing.T) {
	t.Parallel()
	// RFC 4231 test case 2: HMAC-SHA256 with key "Jefe".
	got := ComputeSignature("Jefe", []byte("what do ya want for nothing?"))
	const want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Errorf("ComputeSignature = %s, want %s", got, want)
	}
}

func TestVerifier(t *testing.T) {
	t.Parallel()
	const apiKey = "sandbox-api-key"
	body, err := os.ReadFile("testdata/vendor/webhook_buygoods_transaction_received.json")
	if err != nil {
		t.Fatal(err)
	}
	good := ComputeSignature(apiKey, body)
	tampered := []byte(strings.Replace(string(body), `"100.0"`, `"900.0"`, 1))
	tests := []struct {
		name    string
		key     string
		sig     string // "" means no header
		body    []byte
		wantErr error
	}{
		{name: "vendor example signed", key: apiKey, sig: good, body: body},
		{name: "upper-case hex", key: apiKey, sig: strings.ToUpper(good), body: body},
		{name: "tampered body", key: apiKey, sig: good, body: tampered, wantErr: sources.ErrBadSignature},
		{name: "wrong key", key: "client-secret", sig: good, body: body, wantErr: sources.ErrBadSignature},
		{name: "not hex", key: apiKey, sig: "a5d74a17a55554edc4e9999c59e460c61aa7f81z", body: body, wantErr: sources.ErrBadSignature},
		{name: "truncated", key: apiKey, sig: good[:40], body: body, wantErr: sources.ErrBadSignature},
		{name: "missing header", key: apiKey, body: body, wantErr: sources.ErrNotSigned},
		{name: "no key configured", key: "", sig: ComputeSignature("", body), body: body, wantErr: sources.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.sig != "" {
				h.Set("x-kopokopo-signature", tt.sig) // header names are case-insensitive
			}
			req := sources.Request{Method: http.MethodPost, Path: "/webhooks/kopokopo", Header: h, Body: tt.body}
			err := Verifier{APIKey: tt.key}.Verify(req)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
			if err != nil && tt.sig != "" && strings.Contains(err.Error(), tt.sig) {
				t.Errorf("error %q repeats the signature", err)
			}
			if err != nil && tt.key != "" && strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q repeats the key", err)
			}
		})
	}
}
