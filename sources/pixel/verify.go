package pixel

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mizani/reconcile/sources"
)

// Verifier checks a Pixel callback's own "signature" field: the lowercase
// hex HMAC-SHA512, under PIXEL_SECRET_KEY, of the body's other fields in
// the order sent (Canonicalize). Both the intended form and the vendor
// sample's literal one (nested objects contribute nothing) are accepted,
// each compared in constant time. It implements sources.Verifier.
type Verifier struct {
	key string
}

// NewVerifier returns a verifier for key (PIXEL_SECRET_KEY).
func NewVerifier(key string) (*Verifier, error) {
	if key == "" {
		return nil, fmt.Errorf("pixel: %s is required to verify callbacks", EnvSecretKey)
	}
	return &Verifier{key: key}, nil
}

// Verify checks req.Body. A body without a signature field (or with an
// empty one) is sources.ErrNotSigned; one whose signature matches neither
// form, or that cannot be read as the JSON object Pixel signs, is
// sources.ErrBadSignature. The error never repeats the signature.
func (v *Verifier) Verify(req sources.Request) error {
	sig, err := signatureOf(req.Body)
	if err != nil {
		return fmt.Errorf("pixel: %w: %v", sources.ErrBadSignature, err)
	}
	if sig == "" {
		return fmt.Errorf("pixel: %w: the body has no signature field", sources.ErrNotSigned)
	}
	c, err := Canonicalize(req.Body)
	if err != nil {
		return fmt.Errorf("pixel: %w: %v", sources.ErrBadSignature, err)
	}
	if !Matches(v.key, c, sig) {
		return fmt.Errorf("pixel: %w", sources.ErrBadSignature)
	}
	return nil
}

// signatureOf returns the top-level "signature" field of body ("" when
// absent or null).
func signatureOf(body []byte) (string, error) {
	var top struct {
		Signature json.RawMessage `json:"signature"`
	}
	if err := sources.DecodeObject(body, &top); err != nil {
		return "", errors.New("the body is not a JSON object")
	}
	if sources.IsNull(top.Signature) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(top.Signature, &s); err != nil {
		return "", errors.New("the signature field is not a string")
	}
	return strings.TrimSpace(s), nil
}
