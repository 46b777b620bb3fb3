package ikhokha_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/parsefuzz"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/ikhokha"
)

const (
	fuzzAppID  = "fuzz-app-id"
	fuzzSecret = "fuzz-app-secret-0123"
	fuzzPath   = "/webhooks/ikhokha"
)

// FuzzParse feeds the parser arbitrary bodies, seeded with the vendor
// document's examples and the demo payloads: it keeps the parser contract
// (parsefuzz.CheckParse) and parses the same body the same way twice; a
// body that parses has the dedup key of its bytes, so a redelivery is a
// duplicate.
func FuzzParse(f *testing.F) {
	for _, b := range parsefuzz.Seeds(f, ikhokha.Name, "testdata/vendor") {
		f.Add(b, false)
	}
	f.Add([]byte(`[{"paylinkID":"p","status":"PAID","amount":-100}]`), true)
	f.Add([]byte(`{"event":"payment.link.paid","data":{"paylinkID":"p","status":"REFUNDED","refunds":[{"amount":"x"}]}}`), false)
	jhb, err := time.LoadLocation("Africa/Johannesburg")
	if err != nil {
		f.Fatal(err)
	}
	p := ikhokha.Parser{EntityID: "E-FUZZ", Zone: jhb}
	f.Fuzz(func(t *testing.T, body []byte, poll bool) {
		src := reconcile.SourceWebhook
		if poll {
			src = reconcile.SourcePoll
		}
		payload, recs, err := p.Parse(body, src)
		parsefuzz.CheckParse(t, ikhokha.Name, body, src, payload, recs, err)
		payload2, recs2, err2 := p.Parse(body, src)
		if !reflect.DeepEqual(payload, payload2) || !reflect.DeepEqual(recs, recs2) || (err == nil) != (err2 == nil) {
			t.Fatalf("Parse(%q) twice gave different results", body)
		}
	})
}

// FuzzVerify signs arbitrary bodies as iKhokha's example code does (Sign:
// HMAC-SHA256 of addslashes(path + body)) and checks that the verifier
// accepts them and refuses any single-byte change of the path, the body or
// IK-SIGN, never repeating the secret or the signature.
func FuzzVerify(f *testing.F) {
	for _, b := range parsefuzz.Seeds(f, ikhokha.Name, "testdata/vendor") {
		f.Add(b, uint(len(b)/2), byte(1))
	}
	f.Add([]byte(`{"a":"it's \"quoted\" \\ and \u0000"}`), uint(7), byte('\''^'x'))
	f.Add([]byte("\x00'\"\\"), uint(0), byte(0))
	v := ikhokha.Verifier{AppID: fuzzAppID, AppSecret: fuzzSecret}
	f.Fuzz(func(t *testing.T, body []byte, pos uint, xor byte) {
		h := http.Header{}
		h.Set(ikhokha.HeaderAppID, fuzzAppID)
		h.Set(ikhokha.HeaderSign, ikhokha.Sign(fuzzSecret, fuzzPath, body))
		req := sources.Request{Method: http.MethodPost, Path: fuzzPath, Header: h, Body: body}
		parsefuzz.CheckSigned(t, v, req, ikhokha.HeaderSign, []string{fuzzSecret}, parsefuzz.Identical, pos, xor)
		// The path is signed too: the same body arriving on another path
		// is refused.
		path := []byte(fuzzPath)
		path[pos%uint(len(path))] ^= max(xor, 1)
		req.Path = string(path)
		if err := v.Verify(req); err == nil {
			t.Fatalf("Verify accepted %q on path %q, signed for %s", body, path, fuzzPath)
		}
	})
}

// FuzzEscape checks the message canonicalizer, PHP's addslashes: PHP's
// stripslashes gives back the input, so two messages never escape alike
// (a signature over one is never one over the other), and the result holds
// no NUL and no unescaped quote or backslash.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", `/webhooks/ikhokha{"a":"b"}`, `it's`, `\0`, "\x00", `\\\'`, "é\x00'\"\\\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := ikhokha.Escape(s)
		if got := stripslashes(e); got != s {
			t.Fatalf("stripslashes(Escape(%q) = %q) = %q", s, e, got)
		}
		if strings.IndexByte(e, 0) >= 0 {
			t.Fatalf("Escape(%q) = %q holds a NUL", s, e)
		}
		for i := 0; i < len(e); i++ {
			switch e[i] {
			case '\\':
				i++ // the escaped character
				if i == len(e) || !strings.ContainsRune(`\"'0`, rune(e[i])) {
					t.Fatalf("Escape(%q) = %q: lone backslash at %d", s, e, i-1)
				}
			case '"', '\'':
				t.Fatalf("Escape(%q) = %q: unescaped quote at %d", s, e, i)
			}
		}
	})
}

// stripslashes is PHP's: a backslash escapes the next byte, \0 is NUL.
func stripslashes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			c = s[i]
			if c == '0' {
				c = 0
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
