package parsefuzz

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// recorder is a testing.TB that records the first failure instead of
// failing the test, so that the checks themselves can be tested.
type recorder struct {
	testing.TB
	failure string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failure runs check against a recorder and returns what it failed with.
func failure(t *testing.T, check func(tb testing.TB)) string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r.failure
}

const testProvider reconcile.Provider = "fuzzprov"

func good() reconcile.Record {
	return reconcile.Record{Provider: testProvider, Kind: reconcile.KindPayment, TxID: "T1", Status: reconcile.StatusSucceeded,
		Source: reconcile.SourceWebhook, OccurredAt: time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC),
		Amount: reconcile.Money{Minor: 100, Currency: "KES"}, AmountKnown: true}
}

// TestCheckParse: each broken promise of a parser is caught, and a parse
// that keeps them passes.
func TestCheckParse(t *testing.T) {
	t.Parallel()
	body := []byte(`{}`)
	payload := reconcile.RawPayload{Provider: testProvider, Source: reconcile.SourceWebhook, Body: body, Kind: "k", DedupKey: "d"}
	malformed := sources.Malformed(testProvider, "x", sources.ErrMissing)
	nairobi := time.FixedZone("EAT", 3*3600)
	tests := []struct {
		name    string
		payload reconcile.RawPayload
		recs    []reconcile.Record
		err     error
		caught  bool
	}{
		{"good", payload, []reconcile.Record{good()}, nil, false},
		{"malformed, no records", payload, nil, malformed, false},
		{"error not ErrMalformed", payload, nil, errors.New("fuzzprov: boom"), true},
		{"records with an error", payload, []reconcile.Record{good()}, malformed, true},
		{"error not naming the provider", payload, nil, fmt.Errorf("x: %w", sources.ErrMalformed), true},
		{"body changed", with(payload, func(p *reconcile.RawPayload) { p.Body = []byte(`{ }`) }), nil, nil, true},
		{"no dedup key", with(payload, func(p *reconcile.RawPayload) { p.DedupKey = "" }), nil, nil, true},
		{"negative amount", payload, []reconcile.Record{with(good(), func(r *reconcile.Record) { r.Amount.Minor = -1 })}, nil, true},
		{"unknown currency", payload, []reconcile.Record{with(good(), func(r *reconcile.Record) { r.Amount.Currency = "XXX" })}, nil, true},
		{"time not UTC", payload, []reconcile.Record{with(good(), func(r *reconcile.Record) { r.OccurredAt = r.OccurredAt.In(nairobi) })}, nil, true},
		{"no time", payload, []reconcile.Record{with(good(), func(r *reconcile.Record) { r.OccurredAt = time.Time{} })}, nil, true},
		{"no tx id", payload, []reconcile.Record{with(good(), func(r *reconcile.Record) { r.TxID = "" })}, nil, true},
		{"unknown status", payload, []reconcile.Record{with(good(), func(r *reconcile.Record) { r.Status = "done" })}, nil, true},
		{"negative fee", payload, []reconcile.Record{with(good(), func(r *reconcile.Record) {
			r.Fee, r.FeeKnown = reconcile.Money{Minor: -5, Currency: "KES"}, true
		})}, nil, true},
		{"unknown amount kept as text", payload, []reconcile.Record{with(good(), func(r *reconcile.Record) {
			r.Amount, r.AmountKnown, r.AmountSent = reconcile.Money{}, false, "1.00"
		})}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := failure(t, func(tb testing.TB) {
				CheckParse(tb, testProvider, body, reconcile.SourceWebhook, tt.payload, tt.recs, tt.err)
			})
			if (got != "") != tt.caught {
				t.Errorf("failure %q, want caught %v", got, tt.caught)
			}
		})
	}
}

// hmacVerifier checks an HMAC-SHA256 header over the body, or over all but
// its last byte when sloppy; leaky repeats the signature in its errors.
type hmacVerifier struct{ sloppy, leaky bool }

func (v hmacVerifier) Verify(r sources.Request) error {
	b := r.Body
	if v.sloppy && len(b) > 0 {
		b = b[:len(b)-1]
	}
	got := r.Header.Get("X-Sig")
	if got != sign(b) {
		if v.leaky {
			return fmt.Errorf("%w: got %s", sources.ErrBadSignature, got)
		}
		return sources.ErrBadSignature
	}
	return nil
}

func sign(b []byte) string {
	m := hmac.New(sha256.New, []byte("k3y-fuzz"))
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// TestCheckSigned: a verifier that lets a changed byte through, or that
// repeats the signature, is caught; a correct one passes.
func TestCheckSigned(t *testing.T) {
	t.Parallel()
	body := []byte(`{"amount":"10.00"}`)
	tests := []struct {
		name   string
		v      sources.Verifier
		pos    uint
		caught bool
	}{
		{"correct", hmacVerifier{}, 3, false},
		{"correct, last byte", hmacVerifier{}, uint(len(body) - 1), false},
		{"ignores the last byte", hmacVerifier{sloppy: true}, uint(len(body) - 1), true},
		{"repeats the signature", hmacVerifier{leaky: true}, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("X-Sig", sign(body))
			if tt.v.(hmacVerifier).sloppy {
				h.Set("X-Sig", sign(body[:len(body)-1]))
			}
			req := sources.Request{Method: http.MethodPost, Header: h, Body: body}
			got := failure(t, func(tb testing.TB) {
				CheckSigned(tb, tt.v, req, "X-Sig", []string{"k3y-fuzz"}, Identical, tt.pos, 1)
			})
			if (got != "") != tt.caught {
				t.Errorf("failure %q, want caught %v", got, tt.caught)
			}
		})
	}
}

func with[T any](v T, f func(*T)) T {
	f(&v)
	return v
}
