package kopokopo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/mizani/reconcile/sources"
)

// SignatureHeader is the header Kopo Kopo signs webhooks and callbacks with.
const SignatureHeader = "X-KopoKopo-Signature"

// ComputeSignature returns the X-KopoKopo-Signature value for body: the
// lowercase hex HMAC-SHA256 of the raw bytes, keyed with the API key (not the
// client secret, SPEC §9.1). Simulators and tests use it to sign what they send.
func ComputeSignature(apiKey string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(apiKey))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Verifier checks Kopo Kopo webhook and callback signatures. It implements
// sources.Verifier.
type Verifier struct {
	// APIKey is the Kopo Kopo API key (env K2_API_KEY).
	APIKey string
}

var _ sources.Verifier = Verifier{}

// Verify checks the request's X-KopoKopo-Signature header against its raw
// body, in constant time; Kopo Kopo signs neither the path nor the query. A
// missing header returns an error wrapping sources.ErrNotSigned; any other
// mismatch (including a header that is not hex, or an empty APIKey) wraps
// sources.ErrBadSignature. Neither error repeats the signature or the key.
func (v Verifier) Verify(req sources.Request) error {
	got := req.Header.Get(SignatureHeader)
	if got == "" {
		return fmt.Errorf("kopokopo: no %s header: %w", SignatureHeader, sources.ErrNotSigned)
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return fmt.Errorf("kopokopo: %s is not hex: %w", SignatureHeader, sources.ErrBadSignature)
	}
	if v.APIKey == "" {
		// An empty key would accept anyone's HMAC over "": refuse instead.
		return fmt.Errorf("kopokopo: no API key to check %s with (set %s): %w", SignatureHeader, EnvAPIKey, sources.ErrBadSignature)
	}
	mac := hmac.New(sha256.New, []byte(v.APIKey))
	mac.Write(req.Body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return fmt.Errorf("kopokopo: %w", sources.ErrBadSignature)
	}
	return nil
}
