// Package parsefuzz holds the properties every provider's parser and webhook
// verifier must keep whatever the bytes they are given, for the fuzz targets
// of the provider packages and of sources/webhook to assert alike.
//
// A fuzz target feeds a parser arbitrary bodies and hands the outcome to
// CheckParse; it signs arbitrary bodies with the provider's own signer and
// hands the request to CheckSigned, which also checks that every single-byte
// change of what was signed is refused.
package parsefuzz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/fixtures"
	"github.com/mizani/reconcile/sources"
)

// kinds are the record kinds of SPEC §4.
var kinds = []reconcile.Kind{reconcile.KindPayment, reconcile.KindPayout, reconcile.KindReversal, reconcile.KindSettlement, reconcile.KindFee}

// CheckParse asserts what a parser of provider promises for any body parsed
// from src (sources.Parser):
//   - an error wraps sources.ErrMalformed and comes with no records;
//   - otherwise the payload is body as given, of provider and src, with a
//     kind and a dedup key;
//   - every record is the provider's, from src, of a known kind and status,
//     with a transaction id; its amounts, when known, are never negative
//     and in a known currency; its time is set and in UTC.
func CheckParse(t testing.TB, provider reconcile.Provider, body []byte, src reconcile.Source, p reconcile.RawPayload, recs []reconcile.Record, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, sources.ErrMalformed) {
			t.Fatalf("Parse(%q): error %q does not wrap ErrMalformed", body, err)
		}
		if len(recs) != 0 {
			t.Fatalf("Parse(%q): %d records together with error %q", body, len(recs), err)
		}
		if !strings.HasPrefix(err.Error(), string(provider)+": ") {
			t.Fatalf("Parse(%q): error %q does not name the provider", body, err)
		}
		return
	}
	if p.Provider != provider || p.Source != src || !bytes.Equal(p.Body, body) {
		t.Fatalf("Parse(%q): payload %s/%s with body %q, want %s/%s with the body as given", body, p.Provider, p.Source, p.Body, provider, src)
	}
	if p.Kind == "" || p.DedupKey == "" {
		t.Fatalf("Parse(%q): payload kind %q, dedup key %q: want both", body, p.Kind, p.DedupKey)
	}
	for i, r := range recs {
		CheckRecord(t, provider, src, r, func() string { return fmt.Sprintf("Parse(%q): record %d %+v", body, i, r) })
	}
}

// CheckRecord asserts the properties of one record (see CheckParse); what
// names it in a failure.
func CheckRecord(t testing.TB, provider reconcile.Provider, src reconcile.Source, r reconcile.Record, what func() string) {
	t.Helper()
	switch {
	case r.Provider != provider || r.Source != src:
		t.Fatalf("%s: provider %q, source %q; want %q, %q", what(), r.Provider, r.Source, provider, src)
	case !slices.Contains(kinds, r.Kind):
		t.Fatalf("%s: unknown kind %q", what(), r.Kind)
	case r.Status.Precedence() < 0:
		t.Fatalf("%s: unknown status %q", what(), r.Status)
	case r.TxID == "":
		t.Fatalf("%s: no transaction id", what())
	case r.OccurredAt.IsZero() || r.OccurredAt.Location() != time.UTC:
		t.Fatalf("%s: occurred at %v, want a time in UTC", what(), r.OccurredAt)
	case r.AmountKnown && (r.Amount.Minor < 0 || !r.Amount.Currency.Valid()):
		t.Fatalf("%s: amount %+v: want a non-negative amount in a known currency", what(), r.Amount)
	case r.AmountKnown && r.AmountSent != "":
		t.Fatalf("%s: amount known (%+v) and also sent as text %q", what(), r.Amount, r.AmountSent)
	case r.FeeKnown && (r.Fee.Minor < 0 || r.VAT.Minor < 0 || !r.Fee.Currency.Valid() || (r.VAT.Minor != 0 && !r.VAT.Currency.Valid())):
		t.Fatalf("%s: fee %+v, VAT %+v: want non-negative amounts in a known currency", what(), r.Fee, r.VAT)
	case r.AmountKnown && r.FeeKnown && r.Fee.Currency != r.Amount.Currency:
		t.Fatalf("%s: fee in %s, amount in %s", what(), r.Fee.Currency, r.Amount.Currency)
	}
}

// Same says whether a changed body still means what the signed one did,
// in so far as the verifier is concerned.
type Same func(signed, changed []byte) bool

// Identical is Same for a verifier that signs the body's bytes: any change
// is a change.
func Identical(signed, changed []byte) bool { return bytes.Equal(signed, changed) }

// SameJSON is Same for a verifier that signs a JSON value rather than its
// text (Pixel's fields, Kora's data member): part picks the signed value out
// of a body; a changed body means the same when its part decodes to the same
// value (Go's reading of it: the parser reads it so).
func SameJSON(part func(body []byte) ([]byte, error)) Same {
	return func(signed, changed []byte) bool {
		a, err1 := part(signed)
		b, err2 := part(changed)
		if err1 != nil || err2 != nil {
			return false
		}
		var va, vb any
		if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
			return false
		}
		ja, _ := json.Marshal(va)
		jb, _ := json.Marshal(vb)
		return bytes.Equal(ja, jb)
	}
}

// CheckSigned asserts that v accepts req, signed by the provider's own
// signer, and refuses it once one byte of its body is changed (at pos, by
// xor with a non-zero value) unless same says the change keeps what was
// signed; when header names the signature header, also once one hex digit of
// that header is changed. A refusal wraps sources.ErrBadSignature or
// sources.ErrNotSigned and repeats none of secrets nor the signature.
func CheckSigned(t testing.TB, v sources.Verifier, req sources.Request, header string, secrets []string, same Same, pos uint, xor byte) {
	t.Helper()
	if err := v.Verify(req); err != nil {
		t.Fatalf("Verify of %q as signed: %v", req.Body, err)
	}
	if len(req.Body) > 0 {
		changed := clone(req)
		i := int(pos % uint(len(req.Body)))
		changed.Body[i] ^= max(xor, 1)
		err := v.Verify(changed)
		if err == nil && !same(req.Body, changed.Body) {
			t.Fatalf("Verify accepted %q, byte %d of the body signed as %q changed", changed.Body, i, req.Body)
		}
		checkRefusal(t, err, req, header, secrets)
	}
	if header == "" {
		return
	}
	sig := req.Header.Get(header)
	if sig == "" {
		t.Fatalf("no %s header on the signed request", header)
	}
	changed := clone(req)
	i := int(pos % uint(len(sig)))
	b := []byte(sig)
	b[i] = "123456789abcdef0"[strings.IndexByte("0123456789abcdef", lower(b[i]))&15]
	changed.Header.Set(header, string(b))
	err := v.Verify(changed)
	if err == nil {
		t.Fatalf("Verify accepted %q with %s digit %d changed", req.Body, header, i)
	}
	checkRefusal(t, err, req, header, secrets)
}

func checkRefusal(t testing.TB, err error, req sources.Request, header string, secrets []string) {
	t.Helper()
	if err == nil {
		return
	}
	if !errors.Is(err, sources.ErrBadSignature) && !errors.Is(err, sources.ErrNotSigned) {
		t.Fatalf("refusal %q wraps neither ErrBadSignature nor ErrNotSigned", err)
	}
	msg := err.Error()
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(msg, s) {
			t.Fatalf("refusal %q repeats a secret", msg)
		}
	}
	if header != "" {
		if sig := req.Header.Get(header); len(sig) >= 8 && strings.Contains(strings.ToLower(msg), strings.ToLower(sig)) {
			t.Fatalf("refusal %q repeats the signature", msg)
		}
	}
}

func clone(r sources.Request) sources.Request {
	r.Body = bytes.Clone(r.Body)
	r.Header = r.Header.Clone()
	return r
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Seeds returns the seed corpus of provider's parser: every file of dir (the
// package's testdata/vendor, the vendor documents' examples) and every line
// of the provider's demo payloads (fixtures/<provider>/payloads.jsonl).
func Seeds(t testing.TB, provider reconcile.Provider, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vendor examples in %s (%v)", dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	b, err := fs.ReadFile(fixtures.FS, string(provider)+"/payloads.jsonl")
	if err != nil {
		t.Fatalf("demo payloads of %s: %v", provider, err)
	}
	for line := range bytes.Lines(b) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			out = append(out, bytes.Clone(line))
		}
	}
	return out
}
