package kopokopo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

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

// Verify checks the X-KopoKopo-Signature header against body, the raw request
// bytes, in constant time. A missing header returns an error wrapping
// sources.ErrNotSigned; any other mismatch (including a header that is not
// hex) wraps sources.ErrBadSignature. Neither error repeats the signature.
func (v Verifier) Verify(header http.Header, body []byte) error {
	got := header.Get(SignatureHeader)
	if got == "" {
		return fmt.Errorf("kopokopo: no %s header: %w", SignatureHeader, sources.ErrNotSigned)
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return fmt.Errorf("kopokopo: %s is not hex: %w", SignatureHeader, sources.ErrBadSignature)
	}
	mac := hmac.New(sha256.New, []byte(v.APIKey))
	mac.Write(body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return fmt.Errorf("kopokopo: %w", sources.ErrBadSignature)
	}
	return nil
}
