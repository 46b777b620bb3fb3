package store

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// A payload is stored as the exact bytes received (raw_payloads.body is
// bytea), whatever they hold. Its JSON copy (doc, jsonb) and the records
// parsed from it are text, which PostgreSQL refuses to hold a NUL character
// or invalid UTF-8 in, and jsonb further refuses a \u0000 escape, a lone
// surrogate escape and a number beyond numeric's range. What the doc cannot
// hold leaves it NULL; what a record cannot hold is bad input, refused with
// an error wrapping sources.ErrMalformed (a webhook answers 400, an import
// names the line), never a store failure to retry forever.

// jsonbSafe reports whether body, as text, is a value PostgreSQL's jsonb
// input can take as far as its characters go: valid UTF-8, no NUL byte, no
// \u0000 escape, every surrogate escape paired. (A number beyond numeric's
// range is found only by PostgreSQL; see isDataError.)
func jsonbSafe(body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case 0:
			return false
		case '\\':
			// Outside strings a backslash is no JSON at all; the parser
			// refused the body already. Inside, it starts an escape.
			if i+1 >= len(body) {
				return false
			}
			if body[i+1] != 'u' {
				i++ // \" \\ \/ \b \f \n \r \t: skip the escaped byte
				continue
			}
			r, ok := hex4(body, i+2)
			switch {
			case !ok, r == 0, r >= 0xDC00 && r <= 0xDFFF:
				return false
			case r >= 0xD800 && r <= 0xDBFF:
				// A high surrogate must be followed by a low one.
				if i+7 >= len(body) || body[i+6] != '\\' || body[i+7] != 'u' {
					return false
				}
				lo, ok := hex4(body, i+8)
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return false
				}
				i += 11
			default:
				i += 5
			}
		}
	}
	return true
}

// hex4 reads the four hex digits at body[at:].
func hex4(body []byte, at int) (rune, bool) {
	if at+4 > len(body) {
		return 0, false
	}
	var r rune
	for _, c := range body[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// checkStorable returns an error wrapping sources.ErrMalformed, naming the
// field, when a text field of payload or of one of its records holds what a
// PostgreSQL text column cannot: a NUL character or invalid UTF-8.
func checkStorable(payload reconcile.RawPayload, records []reconcile.Record) error {
	fields := [...]string{"payload provider", "payload kind", "payload dedup key"}
	for i, v := range [...]string{string(payload.Provider), payload.Kind, payload.DedupKey} {
		if err := textError(v); err != nil {
			return sources.Malformed(payload.Provider, fields[i], err)
		}
	}
	names := [...]string{"provider", "kind", "transaction id", "merchant reference", "provider reference",
		"related transaction id", "account", "currency", "amount", "status", "provider status", "counterparty",
		"method", "source"}
	for i := range records {
		r := &records[i]
		for j, v := range [...]string{string(r.Provider), string(r.Kind), r.TxID, r.MerchantRef, r.ProviderRef,
			r.RelatedTxID, r.Account, string(r.Currency()), r.AmountSent, string(r.Status), r.ProviderStatus,
			r.Counterparty, r.Method, string(r.Source)} {
			if err := textError(v); err != nil {
				return sources.Malformed(payload.Provider, fmt.Sprintf("record %d %s", i+1, names[j]), err)
			}
		}
	}
	return nil
}

// textError says why a text column cannot hold v, or returns nil.
func textError(v string) error {
	if strings.IndexByte(v, 0) >= 0 {
		return errors.New("holds a NUL character (\\u0000), which cannot be stored as text")
	}
	if !utf8.ValidString(v) {
		return errors.New("is not valid UTF-8")
	}
	return nil
}

// isDataError reports whether err is PostgreSQL refusing a value itself
// (SQLSTATE class 22, data exception, or 54001, statement too complex: a
// document nested too deep), which no retry will change.
func isDataError(err error) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		return false
	}
	return pqErr.Code.Class() == "22" || pqErr.Code == "54001"
}

// isUniqueViolation reports whether err is PostgreSQL refusing a row whose
// key another row holds (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505"
}

// unstorable wraps a data error PostgreSQL raised on a payload's records as
// bad input.
func unstorable(payload reconcile.RawPayload, err error) error {
	return fmt.Errorf("%s: %w: %s %s: PostgreSQL cannot store it: %v", payload.Provider, sources.ErrMalformed,
		payload.Kind, payload.DedupKey, err)
}

// bodyOf returns the payload's body, never nil (body is NOT NULL).
func bodyOf(p *reconcile.RawPayload) []byte {
	if p.Body == nil {
		return []byte{}
	}
	return p.Body
}

// receivedText is the payload's receipt time as text for PostgreSQL, now
// if unset.
func receivedText(p *reconcile.RawPayload, now time.Time) string {
	return cmp.Or(p.ReceivedAt, now).UTC().Format(time.RFC3339Nano)
}
