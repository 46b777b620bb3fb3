package pixel

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDepth is the vendor sample's recursion limit: calculateSignature throws
// "Recursion level exceeded" at level 16 (documents 002 and 003).
const maxDepth = 16

// SignatureField is the body field carrying the signature. It is skipped at
// every level, as the vendor's `$key !== 'signature'` does.
const SignatureField = "signature"

// Canonical is the string a Pixel signature covers, in both forms a Pixel
// server may compute.
type Canonical struct {
	// Intended walks nested objects with the prefix "key." (SPEC §9.2):
	// {"extra":{"otp":"5647"}} contributes "extra.otp5647". Mizani signs
	// its requests with this form.
	Intended string
	// Literal is what the vendor's PHP sample actually computes: its
	// recursive call returns $StringForSignature (capital S), an undefined
	// variable, so nested objects and arrays contribute nothing. Callbacks
	// signed that way are accepted too.
	Literal string
}

// node is one JSON value as PHP's json_decode($body, true) sees it: a leaf
// already stringified as PHP's string conversion does, or an array (object
// or list) of members in the order sent.
type node struct {
	leaf    string
	isArray bool
	members []member
}

type member struct {
	key string
	val *node
}

// Canonicalize reads body, a JSON object, with a token decoder — never
// through a Go map, so the order sent is kept — and returns the strings its
// signature covers. Leaves are stringified as PHP does: strings as they are,
// integers as digits, floats as PHP's (string) cast prints them ("11.1",
// "1.0E+25"), true as "1", false and null as "". A key repeated in one
// object keeps its first position and its last value, as a PHP array
// assignment does. Bodies that PHP could not decode (invalid JSON or UTF-8,
// not an object, nesting deeper than the vendor's limit) are errors.
func Canonicalize(body []byte) (Canonical, error) {
	if !utf8.Valid(body) {
		return Canonical{}, errors.New("body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return Canonical{}, fmt.Errorf("reading body: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return Canonical{}, errors.New("body is not a JSON object")
	}
	root, err := readArray(dec, '}', 1)
	if err != nil {
		return Canonical{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return Canonical{}, errors.New("trailing data after the JSON object")
	}
	var intended, literal strings.Builder
	if err := walk(&intended, root, "", 0); err != nil {
		return Canonical{}, err
	}
	for _, m := range root.members {
		if !m.val.isArray && m.key != SignatureField {
			literal.WriteString(m.key)
			literal.WriteString(m.val.leaf)
		}
	}
	return Canonical{Intended: intended.String(), Literal: literal.String()}, nil
}

// readArray reads the members of an object (end '}') or a list (end ']')
// whose opening delimiter was just read, at nesting depth depth.
func readArray(dec *json.Decoder, end json.Delim, depth int) (*node, error) {
	n := &node{isArray: true}
	index := map[string]int{}
	for i := 0; ; i++ {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("reading body: %w", err)
		}
		if d, ok := tok.(json.Delim); ok && d == end {
			return n, nil
		}
		key := strconv.Itoa(i)
		if end == '}' {
			k, ok := tok.(string)
			if !ok {
				return nil, errors.New("reading body: object key is not a string")
			}
			key = k
			if tok, err = dec.Token(); err != nil {
				return nil, fmt.Errorf("reading body: %w", err)
			}
		}
		val, err := readValue(dec, tok, depth)
		if err != nil {
			return nil, err
		}
		if j, seen := index[key]; seen {
			n.members[j].val = val
			continue
		}
		index[key] = len(n.members)
		n.members = append(n.members, member{key: key, val: val})
	}
}

// readValue reads the value starting with tok.
func readValue(dec *json.Decoder, tok json.Token, depth int) (*node, error) {
	switch v := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, fmt.Errorf("nesting deeper than %d levels", maxDepth)
		}
		switch v {
		case '{':
			return readArray(dec, '}', depth+1)
		case '[':
			return readArray(dec, ']', depth+1)
		}
		return nil, fmt.Errorf("reading body: unexpected %q", v)
	case string:
		return &node{leaf: v}, nil
	case json.Number:
		s, err := phpNumber(string(v))
		if err != nil {
			return nil, err
		}
		return &node{leaf: s}, nil
	case bool:
		if v {
			return &node{leaf: "1"}, nil
		}
		return &node{}, nil
	case nil:
		return &node{}, nil
	}
	return nil, fmt.Errorf("reading body: unexpected token %v", tok)
}

// walk appends the intended canonical form of an array at recursion level
// level under prefix.
func walk(b *strings.Builder, n *node, prefix string, level int) error {
	if level >= maxDepth {
		return errors.New("recursion level exceeded")
	}
	for _, m := range n.members {
		switch {
		case m.val.isArray:
			if err := walk(b, m.val, prefix+m.key+".", level+1); err != nil {
				return err
			}
		case m.key != SignatureField:
			b.WriteString(prefix)
			b.WriteString(m.key)
			b.WriteString(m.val.leaf)
		}
	}
	return nil
}

// phpNumber stringifies a JSON number as PHP does after json_decode: an
// integer that fits a PHP int (int64) prints as its digits; any other
// number is a float, printed as PHP's (string) cast prints one (%.14G, with
// ".0" added to a bare exponent mantissa: 1.0E+25).
func phpNumber(lit string) (string, error) {
	if !strings.ContainsAny(lit, ".eE") {
		if i, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return strconv.FormatInt(i, 10), nil
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return "", fmt.Errorf("number %q: %w", lit, err)
	}
	return phpFloat(f), nil
}

// phpFloat is PHP's (string) of a float with precision 14: "%.14G", the
// exponent written E+N / E-N with at least one mantissa decimal.
func phpFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "INF"
	case math.IsInf(f, -1):
		return "-INF"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	const prec = 14
	e := strconv.FormatFloat(f, 'e', prec-1, 64) // d.ddddddddddddde±XX
	mant, expPart, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expPart)
	if exp < -4 || exp >= prec {
		mant = strings.TrimRight(mant, "0")
		if strings.HasSuffix(mant, ".") {
			mant += "0"
		}
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return mant + "E" + sign + strconv.Itoa(exp)
	}
	s := strconv.FormatFloat(f, 'f', prec-1-exp, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// Sign returns the lowercase hex HMAC-SHA512 of canonical under key.
func Sign(key, canonical string) string {
	mac := hmac.New(sha512.New, []byte(key))
	mac.Write([]byte(canonical))
	return hex.EncodeToString(mac.Sum(nil))
}

// SignBody returns the signature Mizani sends for body: that of its intended
// canonical form (the "signature" field, if any, left out).
func SignBody(key string, body []byte) (string, error) {
	c, err := Canonicalize(body)
	if err != nil {
		return "", err
	}
	return Sign(key, c.Intended), nil
}

// Signed returns body — a JSON object — with a "signature" field appended
// (replacing none: body must not carry one), signed in the intended form.
func Signed(key string, body []byte) ([]byte, error) {
	sig, err := SignBody(key, body)
	if err != nil {
		return nil, err
	}
	t := bytes.TrimRight(body, " \t\r\n")
	if len(t) == 0 || t[len(t)-1] != '}' {
		return nil, errors.New("body is not a JSON object")
	}
	out := make([]byte, 0, len(t)+len(sig)+16)
	out = append(out, t[:len(t)-1]...)
	if !bytes.Equal(bytes.TrimSpace(t[:len(t)-1]), []byte("{")) {
		out = append(out, ',')
	}
	out = append(out, `"signature":"`...)
	out = append(out, sig...)
	out = append(out, `"}`...)
	return out, nil
}

// Matches reports, in constant time, whether sig is the signature of c in
// either form under key.
func Matches(key string, c Canonical, sig string) bool {
	intended, literal := MatchForms(key, c, sig)
	return intended || literal
}

// MatchForms reports, each in constant time, whether sig is the signature
// of c in the intended form and in the vendor sample's literal form.
func MatchForms(key string, c Canonical, sig string) (intended, literal bool) {
	got := []byte(strings.ToLower(sig))
	intended = hmac.Equal(got, []byte(Sign(key, c.Intended)))
	literal = hmac.Equal(got, []byte(Sign(key, c.Literal)))
	return intended, literal
}
