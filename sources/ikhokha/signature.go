package ikhokha

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/mizani/reconcile/sources"
)

// Header names iKhokha signs requests and webhooks with. The vendor
// document writes them "IK-AppID" and "ik-sign"; HTTP header names are
// case-insensitive, and the public examples send IK-APPID and IK-SIGN.
const (
	HeaderAppID = "IK-APPID"
	HeaderSign  = "IK-SIGN"
)

// Escape is PHP's addslashes as iKhokha's public examples apply it to the
// message they sign: a backslash before \, " and ', and NUL written as \0.
// (iKhokha's Node, Go and PHP examples escape '; its C# and Dart examples do
// not: see escapeNoQuote.)
func Escape(s string) string { return escape(s, true) }

// escapeNoQuote is the escaping of iKhokha's C# and Dart examples, which
// leave ' alone.
func escapeNoQuote(s string) string { return escape(s, false) }

func escape(s string, quote bool) string {
	if !strings.ContainsAny(s, "\\\"'\x00") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '"' || (c == '\'' && quote):
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Sign returns IK-SIGN for a request to path with body, as iKhokha's own
// public examples compute it (github.com/ikhokha/ik-pay-api-examples:
// nodejs/pay-api-app/backend/paylink.js and golang/main.go): lowercase hex
// HMAC-SHA256, keyed with the trimmed application secret, of
// Escape(path + body). path is the URL path exactly as sent — the base
// URL's own path included (/public-api/v1/api/payment against the real
// API, /ikhokha/payment against the sandbox) — without the query string;
// body is the exact bytes sent, empty for a GET.
func Sign(secret, path string, body []byte) string {
	return mac(secret, Escape(path+string(body)))
}

func mac(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(strings.TrimSpace(secret)))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// Verifier checks the IK-APPID and IK-SIGN headers of an iKhokha webhook.
//
// It accepts the signature over the callback path plus the raw body, the
// form of iKhokha's public examples, where the path is the one the request
// arrived on or, behind a proxy that rewrites paths, that of CallbackURL;
// and the HMAC of the raw body alone, as the vendor document describes it.
// Each is accepted with the escaping of the Node, Go and PHP examples and
// with that of the C# and Dart ones (' not escaped). IK-APPID must be
// AppID. Every comparison is constant-time, and every candidate is computed
// whatever the outcome, so the time taken says nothing about which one
// came close.
type Verifier struct {
	AppID     string
	AppSecret string
	// CallbackURL, when set, is the webhook URL as iKhokha calls it
	// (IK_CALLBACK_URL); its path is tried besides the path received.
	CallbackURL string
}

// Verify checks req's signature.
func (v Verifier) Verify(req sources.Request) error {
	sig := strings.ToLower(strings.TrimSpace(req.Header.Get(HeaderSign)))
	appID := strings.TrimSpace(req.Header.Get(HeaderAppID))
	if sig == "" {
		return fmt.Errorf("ikhokha: %w: no %s header", sources.ErrNotSigned, HeaderSign)
	}
	if strings.TrimSpace(v.AppSecret) == "" || v.AppID == "" {
		return fmt.Errorf("ikhokha: %w: the application id and secret are not configured (%s, %s)", sources.ErrBadSignature, EnvAppID, EnvAppSecret)
	}
	okApp := subtle.ConstantTimeCompare([]byte(appID), []byte(strings.TrimSpace(v.AppID))) == 1
	body := string(req.Body)
	var msgs []string
	for _, p := range v.paths(req.Path) {
		msgs = append(msgs, Escape(p+body), escapeNoQuote(p+body))
	}
	// The vendor document: the HMAC of the raw body (and, as the examples
	// escape whatever they sign, of the escaped body).
	msgs = append(msgs, body, Escape(body), escapeNoQuote(body))
	match := 0
	for _, m := range msgs {
		match |= subtle.ConstantTimeCompare([]byte(mac(v.AppSecret, m)), []byte(sig))
	}
	switch {
	case appID == "":
		return fmt.Errorf("ikhokha: %w: no %s header", sources.ErrNotSigned, HeaderAppID)
	case !okApp:
		return fmt.Errorf("ikhokha: %w: %s is not this application's", sources.ErrBadSignature, HeaderAppID)
	case match != 1:
		return fmt.Errorf("ikhokha: %w: %s matches neither the callback path and body nor the body", sources.ErrBadSignature, HeaderSign)
	}
	return nil
}

// paths are the callback paths a signature may cover: the one received
// (escaped as on the wire, and decoded, should a server have decoded it),
// and that of CallbackURL.
func (v Verifier) paths(received string) []string {
	var out []string
	add := func(p string) {
		if p == "" {
			return
		}
		for _, q := range out {
			if q == p {
				return
			}
		}
		out = append(out, p)
	}
	if i := strings.IndexByte(received, '?'); i >= 0 {
		received = received[:i]
	}
	add(received)
	if u, err := url.PathUnescape(received); err == nil {
		add(u)
	}
	if v.CallbackURL != "" {
		if u, err := url.Parse(v.CallbackURL); err == nil {
			add(u.EscapedPath())
		}
	}
	return out
}
