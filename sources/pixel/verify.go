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
// the order sent (Canonicalize). The intended form is accepted, and for
// callbacks the vendor sample's literal one (nested objects contribute
// nothing) too, each compared in constant time. It implements
// sources.Verifier.
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
	intended, literal := MatchForms(v.key, c, sig)
	switch {
	case intended:
		return nil
	case literal && isCallback(req.Body):
		// The literal form signs no nested value. A callback's records
		// come from its top-level fields alone, so it is accepted; a
		// status-response shape is not, since its result.code decides
		// whether it carries a record, and that would go unsigned.
		return nil
	}
	return fmt.Errorf("pixel: %w", sources.ErrBadSignature)
}

// isCallback reports whether body is a callback (it carries the
// operation_type only callbacks have).
func isCallback(body []byte) bool {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return false
	}
	op, ok := top["operation_type"]
	return ok && !sources.IsNull(op)
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
