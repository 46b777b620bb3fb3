package kora

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/mizani/reconcile/sources"
)

// SignatureHeader is the header Kora signs webhooks with.
const SignatureHeader = "x-korapay-signature"

// Sign returns the x-korapay-signature of data, the bytes of a webhook's data
// member exactly as sent: the lowercase hex HMAC-SHA256 keyed with the secret
// key. The simulator and tests sign with it.
func Sign(secretKey string, data []byte) string {
	mac := hmac.New(sha256.New, []byte(secretKey))
	mac.Write(data)
	return hex.EncodeToString(mac.Sum(nil))
}

// Verifier checks Kora webhook signatures. It implements sources.Verifier.
//
// Kora signs JSON.stringify(body.data) with the secret key (webhook guide:
// crypto.createHmac('sha256', secretKey).update(JSON.stringify(req.body.data))).
// Kora's servers are Node: the body they send is JSON.stringify of the whole
// event, so the bytes of its data member, compacted, are what was signed.
// The data member is taken from the body by a token-level scan, never by
// decoding into a map and marshalling it again (which would reorder keys and
// re-escape <, >, &, U+2028 the way Go does and JavaScript does not).
//
// Verify accepts a signature over either of two serializations of data:
//  1. the raw bytes of data, compacted (json.Compact keeps key order,
//     escapes and number text exactly as sent);
//  2. data as JSON.stringify prints it after JSON.parse: numbers as JavaScript
//     prints a double ("10.50" → 10.5, "1e2" → 100), strings with only the
//     escapes JSON.stringify makes ("\u00e9" → é, "\/" → /, lone surrogates
//     as \udxxx), integer-like keys first in ascending order and a repeated
//     key's last value at its first place, as a JavaScript object holds them.
//
// The second covers a signer that parsed the event and signed it again (a
// relay, or Kora's documented verification code run as the signer), where
// the raw text and JSON.stringify's output differ. Both comparisons are
// constant time.
type Verifier struct {
	// SecretKey is Kora's secret key (KORA_SECRET_KEY).
	SecretKey string
}

// Verify implements sources.Verifier.
func (v Verifier) Verify(req sources.Request) error {
	got := strings.TrimSpace(req.Header.Get(SignatureHeader))
	if got == "" {
		return fmt.Errorf("kora: no %s header: %w", SignatureHeader, sources.ErrNotSigned)
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return fmt.Errorf("kora: %s is not hex: %w", SignatureHeader, sources.ErrBadSignature)
	}
	if v.SecretKey == "" {
		return fmt.Errorf("kora: no secret key configured (%s): %w", EnvSecretKey, sources.ErrBadSignature)
	}
	raw, err := DataMember(req.Body)
	if err != nil {
		return fmt.Errorf("kora: %v: %w", err, sources.ErrBadSignature)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return fmt.Errorf("kora: data is not JSON: %w", sources.ErrBadSignature)
	}
	ok := hmac.Equal(sig, mac(v.SecretKey, compact.Bytes()))
	js, err := Stringify(raw)
	if err == nil {
		ok = hmac.Equal(sig, mac(v.SecretKey, js)) || ok
	}
	if !ok {
		return fmt.Errorf("kora: %w", sources.ErrBadSignature)
	}
	return nil
}

func mac(key string, b []byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(b)
	return m.Sum(nil)
}

// DataMember returns the raw bytes of the data member of the JSON object
// body, exactly as they appear in it, by scanning the top-level object's
// tokens. When data appears more than once the last wins, as in JSON.parse.
func DataMember(body []byte) (json.RawMessage, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil {
		return nil, errors.New("body is not JSON")
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return nil, errors.New("body is not a JSON object")
	}
	var data json.RawMessage
	found := false
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, errors.New("body is not valid JSON")
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, errors.New("body is not valid JSON")
		}
		if key == "data" {
			data, found = v, true
		}
	}
	if _, err := d.Token(); err != nil {
		return nil, errors.New("body is not valid JSON")
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	if !found {
		return nil, errors.New("body has no data member")
	}
	return data, nil
}

// Stringify returns raw, one JSON value, as JavaScript's
// JSON.stringify(JSON.parse(raw)) prints it (see Verifier).
func Stringify(raw []byte) ([]byte, error) {
	if !json.Valid(raw) {
		return nil, errors.New("not valid JSON")
	}
	s := &jsScanner{b: raw}
	var out bytes.Buffer
	if err := s.value(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// jsScanner re-serializes valid JSON as JSON.stringify does.
type jsScanner struct {
	b []byte
	i int
}

func (s *jsScanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *jsScanner) value(out *bytes.Buffer) error {
	s.ws()
	if s.i >= len(s.b) {
		return io.ErrUnexpectedEOF
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(out)
	case c == '[':
		s.i++
		out.WriteByte('[')
		s.ws()
		if s.b[s.i] == ']' {
			s.i++
			out.WriteByte(']')
			return nil
		}
		for n := 0; ; n++ {
			if n > 0 {
				out.WriteByte(',')
			}
			if err := s.value(out); err != nil {
				return err
			}
			s.ws()
			if s.b[s.i] == ']' {
				s.i++
				out.WriteByte(']')
				return nil
			}
			s.i++ // ','
		}
	case c == '"':
		str, err := s.str()
		if err != nil {
			return err
		}
		out.Write(str.js)
		return nil
	case c == 't':
		s.i += 4
		out.WriteString("true")
	case c == 'f':
		s.i += 5
		out.WriteString("false")
	case c == 'n':
		s.i += 4
		out.WriteString("null")
	default:
		start := s.i
		for s.i < len(s.b) && strings.IndexByte("+-0123456789.eE", s.b[s.i]) >= 0 {
			s.i++
		}
		out.WriteString(jsNumber(string(s.b[start:s.i])))
	}
	return nil
}

// member is one key of a JavaScript object and its printed value.
type member struct {
	key   string // the key's value, for identity
	js    []byte // the key as JSON.stringify prints it
	value []byte
}

// object prints an object with its keys in the order a JavaScript object
// keeps them: array-index keys ("0", "7", "42") first in ascending numeric
// order, then the others in insertion order; a repeated key keeps its first
// place and takes its last value.
func (s *jsScanner) object(out *bytes.Buffer) error {
	s.i++ // '{'
	var members []member
	at := map[string]int{}
	s.ws()
	if s.b[s.i] == '}' {
		s.i++
		out.WriteString("{}")
		return nil
	}
	for {
		s.ws()
		k, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		s.i++ // ':'
		var v bytes.Buffer
		if err := s.value(&v); err != nil {
			return err
		}
		if j, ok := at[k.value]; ok {
			members[j].value = v.Bytes()
		} else {
			at[k.value] = len(members)
			members = append(members, member{key: k.value, js: k.js, value: v.Bytes()})
		}
		s.ws()
		if s.b[s.i] == '}' {
			s.i++
			break
		}
		s.i++ // ','
	}
	var index, named []member
	for _, m := range members {
		if _, ok := arrayIndex(m.key); ok {
			index = append(index, m)
		} else {
			named = append(named, m)
		}
	}
	// Insertion sort by numeric value: objects are small.
	for i := 1; i < len(index); i++ {
		for j := i; j > 0; j-- {
			a, _ := arrayIndex(index[j-1].key)
			b, _ := arrayIndex(index[j].key)
			if a <= b {
				break
			}
			index[j-1], index[j] = index[j], index[j-1]
		}
	}
	out.WriteByte('{')
	for n, m := range append(index, named...) {
		if n > 0 {
			out.WriteByte(',')
		}
		out.Write(m.js)
		out.WriteByte(':')
		out.Write(m.value)
	}
	out.WriteByte('}')
	return nil
}

// arrayIndex reports whether k is a canonical array index (0 … 2³²−2),
// which JavaScript objects order before other keys.
func arrayIndex(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	if err != nil || n > math.MaxUint32-1 {
		return 0, false
	}
	return n, true
}

// jsString is a string token: its value (lone surrogates as U+FFFD, for
// key identity only) and how JSON.stringify prints it.
type jsString struct {
	value string
	js    []byte
}

// str reads the string token at s.i.
func (s *jsScanner) str() (jsString, error) {
	if s.b[s.i] != '"' {
		return jsString{}, errors.New("want a string")
	}
	s.i++
	// units are the UTF-16 code units of the string, as JavaScript holds it.
	var units []uint16
	for s.b[s.i] != '"' {
		c := s.b[s.i]
		if c != '\\' {
			r, size := utf8.DecodeRune(s.b[s.i:])
			s.i += size
			units = utf16.AppendRune(units, r)
			continue
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case 'b':
			units = append(units, '\b')
		case 'f':
			units = append(units, '\f')
		case 'n':
			units = append(units, '\n')
		case 'r':
			units = append(units, '\r')
		case 't':
			units = append(units, '\t')
		case 'u':
			n, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 16)
			if err != nil {
				return jsString{}, err
			}
			s.i += 4
			units = append(units, uint16(n))
		default: // " \ /
			units = append(units, uint16(e))
		}
	}
	s.i++
	var js bytes.Buffer
	js.WriteByte('"')
	for i := 0; i < len(units); i++ {
		u := units[i]
		switch {
		case u == '"':
			js.WriteString(`\"`)
		case u == '\\':
			js.WriteString(`\\`)
		case u == '\b':
			js.WriteString(`\b`)
		case u == '\f':
			js.WriteString(`\f`)
		case u == '\n':
			js.WriteString(`\n`)
		case u == '\r':
			js.WriteString(`\r`)
		case u == '\t':
			js.WriteString(`\t`)
		case u < 0x20:
			fmt.Fprintf(&js, `\u%04x`, u)
		case utf16.IsSurrogate(rune(u)):
			if u < 0xdc00 && i+1 < len(units) && units[i+1] >= 0xdc00 && units[i+1] <= 0xdfff {
				js.WriteRune(utf16.DecodeRune(rune(u), rune(units[i+1])))
				i++
				continue
			}
			fmt.Fprintf(&js, `\u%04x`, u) // a lone surrogate (well-formed JSON.stringify)
		default:
			js.WriteRune(rune(u))
		}
	}
	js.WriteByte('"')
	return jsString{value: string(utf16.Decode(units)), js: js.Bytes()}, nil
}

// jsNumber prints the JSON number text n as JavaScript prints the double it
// parses to (Number.prototype.toString, ECMA-262 §6.1.6.1.20):
// "10.50" → "10.5", "1E2" → "100", "-0" → "0", 1e21 → "1e+21",
// 0.0000001 → "1e-7"; a number too large for a double is null.
func jsNumber(n string) string {
	f, err := strconv.ParseFloat(n, 64)
	if err != nil || math.IsInf(f, 0) {
		return "null"
	}
	if f == 0 {
		return "0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// The shortest digits that round-trip, and the exponent: f = 0.d1d2… × 10^e.
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(expText)
	k, pos := len(digits), x+1 // pos: where the decimal point goes
	switch {
	case k <= pos && pos <= 21:
		return sign + digits + strings.Repeat("0", pos-k)
	case 0 < pos && pos <= 21:
		return sign + digits[:pos] + "." + digits[pos:]
	case -6 < pos && pos <= 0:
		return sign + "0." + strings.Repeat("0", -pos) + digits
	}
	exp := pos - 1
	es := "+" + strconv.Itoa(exp)
	if exp < 0 {
		es = strconv.Itoa(exp)
	}
	if k == 1 {
		return sign + digits + "e" + es
	}
	return sign + digits[:1] + "." + digits[1:] + "e" + es
}
