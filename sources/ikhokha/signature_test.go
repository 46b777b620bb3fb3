package ikhokha_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/ikhokha"
)

func TestEscape(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"/public-api/v1/api/payment", "/public-api/v1/api/payment"},
		{`{"a":"b"}`, `{\"a\":\"b\"}`},
		{`back\slash`, `back\\slash`},
		{"it's", `it\'s`},
		{"nul\x00byte", `nul\0byte`},
		{`\"'` + "\x00", `\\\"\'\0`},
	}
	for _, tt := range tests {
		if got := ikhokha.Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// hmacHex is the signature computed independently of the package.
func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestSign(t *testing.T) {
	t.Parallel()
	body := []byte(`{"amount":19999,"description":"Bob's order"}`)
	tests := []struct {
		name, secret, path string
		body               []byte
		want               string
	}{
		{"post, real API path", "s3cret", "/public-api/v1/api/payment", body,
			hmacHex("s3cret", `/public-api/v1/api/payment{\"amount\":19999,\"description\":\"Bob\'s order\"}`)},
		{"post, sandbox prefix", "s3cret", "/ikhokha/payment", body,
			hmacHex("s3cret", `/ikhokha/payment{\"amount\":19999,\"description\":\"Bob\'s order\"}`)},
		{"get, no body", "s3cret", "/ikhokha/getStatus/PL1", nil, hmacHex("s3cret", "/ikhokha/getStatus/PL1")},
		{"secret trimmed", "  s3cret\n", "/ikhokha/payments/history", nil, hmacHex("s3cret", "/ikhokha/payments/history")},
	}
	for _, tt := range tests {
		got := ikhokha.Sign(tt.secret, tt.path, tt.body)
		if got != tt.want {
			t.Errorf("%s: Sign = %s, want %s", tt.name, got, tt.want)
		}
		if got != strings.ToLower(got) || len(got) != 64 {
			t.Errorf("%s: %q is not lowercase hex SHA-256", tt.name, got)
		}
	}
}

func TestVerifier(t *testing.T) {
	t.Parallel()
	const appID, secret = "APP-1", "webhook-secret-123"
	body := []byte(`{"event":"paymentLink.paid","timestamp":"2025-02-23T15:45:00Z","data":{"paylinkID":"l1","description":"O'Brien"}}`)
	path := "/webhooks/ikhokha"
	hdr := func(id, sig string) http.Header {
		h := http.Header{}
		if id != "" {
			h.Set("IK-AppID", id) // the vendor document's spelling
		}
		if sig != "" {
			h.Set("ik-sign", sig)
		}
		return h
	}
	noQuote := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\x00", `\0`) // C# and Dart: ' left alone
	v := ikhokha.Verifier{AppID: appID, AppSecret: secret}
	behindProxy := ikhokha.Verifier{AppID: appID, AppSecret: secret, CallbackURL: "https://shop.example/hooks/ik?x=1"}
	tests := []struct {
		name string
		v    ikhokha.Verifier
		req  sources.Request
		want error
	}{
		{"path and body (public examples)", v, sources.Request{Path: path, Header: hdr(appID, ikhokha.Sign(secret, path, body)), Body: body}, nil},
		{"uppercase hex", v, sources.Request{Path: path, Header: hdr(appID, strings.ToUpper(ikhokha.Sign(secret, path, body))), Body: body}, nil},
		{"body alone (vendor document)", v, sources.Request{Path: path, Header: hdr(appID, hmacHex(secret, string(body))), Body: body}, nil},
		{"path and body, ' not escaped (C#, Dart)", v, sources.Request{Path: path, Header: hdr(appID, hmacHex(secret, noQuote.Replace(path+string(body)))), Body: body}, nil},
		{"callback URL path behind a rewriting proxy", behindProxy, sources.Request{Path: "/webhooks/ikhokha", Header: hdr(appID, ikhokha.Sign(secret, "/hooks/ik", body)), Body: body}, nil},
		{"proxy path without IK_CALLBACK_URL", v, sources.Request{Path: path, Header: hdr(appID, ikhokha.Sign(secret, "/hooks/ik", body)), Body: body}, sources.ErrBadSignature},
		{"tampered body", v, sources.Request{Path: path, Header: hdr(appID, ikhokha.Sign(secret, path, body)), Body: []byte(strings.Replace(string(body), "l1", "l2", 1))}, sources.ErrBadSignature},
		{"wrong key", v, sources.Request{Path: path, Header: hdr(appID, ikhokha.Sign(secret+"x", path, body)), Body: body}, sources.ErrBadSignature},
		{"other application", v, sources.Request{Path: path, Header: hdr("APP-2", ikhokha.Sign(secret, path, body)), Body: body}, sources.ErrBadSignature},
		{"no IK-APPID", v, sources.Request{Path: path, Header: hdr("", ikhokha.Sign(secret, path, body)), Body: body}, sources.ErrNotSigned},
		{"no IK-SIGN", v, sources.Request{Path: path, Header: hdr(appID, ""), Body: body}, sources.ErrNotSigned},
		{"not configured", ikhokha.Verifier{}, sources.Request{Path: path, Header: hdr(appID, ikhokha.Sign(secret, path, body)), Body: body}, sources.ErrBadSignature},
	}
	for _, tt := range tests {
		err := tt.v.Verify(tt.req)
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
		if err != nil {
			sig := tt.req.Header.Get(ikhokha.HeaderSign)
			if strings.Contains(err.Error(), secret) || (sig != "" && strings.Contains(err.Error(), sig)) {
				t.Errorf("%s: error %q reveals the secret or the signature", tt.name, err)
			}
		}
	}
}
