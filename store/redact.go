package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// redacted replaces a secret in a redacted connection string.
const redacted = "xxxxx"

// RedactDSN returns the connection string dsn with every password replaced
// by "xxxxx", for logs and error messages. It works on the structure of the
// string, never on the password's text, and never fails: dsn may be the very
// string that failed to parse.
//
// For a URL (scheme://…) the password is everything between the first ':'
// of the user information and the last '@' that can end it (a password with
// an unescaped '/', '#', '?' or '@' is hidden whole), and the values of the
// password query parameters. For a "key=value" string it is the value of
// every password key, quoted or not; from a point the string can no longer
// be read, the rest is cut ("…").
func RedactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i > 0 && isScheme(dsn[:i]) {
		return redactURL(dsn[:i+3], dsn[i+3:])
	}
	return redactKV(dsn)
}

// isScheme reports whether s is a URL scheme (RFC 3986 §3.1).
func isScheme(s string) bool {
	for i, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// userinfoEnd is the index in rest (a URL after "scheme://") of the '@'
// that ends its user information, or -1 when it has none. A conforming URL
// has it in the authority, before the first '/', '?' or '#'; otherwise the
// last '@' of all is taken, so that an unescaped '/', '#', '?' or '@' in a
// password is counted as part of it.
func userinfoEnd(rest string) int {
	auth := rest
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		auth = rest[:j]
	}
	if at := strings.LastIndex(auth, "@"); at >= 0 {
		return at
	}
	return strings.LastIndex(rest, "@")
}

func redactURL(scheme, rest string) string {
	var b strings.Builder
	b.WriteString(scheme)
	if at := userinfoEnd(rest); at >= 0 {
		user, _, hasPassword := strings.Cut(rest[:at], ":")
		if hasPassword {
			if strings.ContainsAny(user, "/?#") {
				user = redacted // the '@' was not the user information's after all: hide it all
			}
			b.WriteString(user + ":" + redacted)
		} else {
			b.WriteString(user)
		}
		b.WriteByte('@')
		rest = rest[at+1:]
	}
	q := strings.IndexByte(rest, '?')
	if q < 0 {
		b.WriteString(rest)
		return b.String()
	}
	b.WriteString(rest[:q+1])
	query, fragment, hasFragment := strings.Cut(rest[q+1:], "#")
	params := strings.Split(query, "&")
	for i, p := range params {
		if k, _, ok := strings.Cut(p, "="); ok && isPasswordKey(k) {
			params[i] = k + "=" + redacted
		}
	}
	b.WriteString(strings.Join(params, "&"))
	if hasFragment {
		b.WriteString("#" + fragment)
	}
	return b.String()
}

// isPasswordKey reports whether the connection parameter k holds a secret
// (k as written in a URL query, percent-escapes and all).
func isPasswordKey(k string) bool {
	if u, err := url.QueryUnescape(k); err == nil {
		k = u
	}
	k = strings.ToLower(strings.TrimSpace(k))
	return strings.Contains(k, "password")
}

// kvToken is one "key=value" pair of a connection string: value is
// s[start:end] as written (quotes and escapes included).
type kvToken struct {
	key        string
	start, end int
}

// errKV is why a "key=value" string cannot be read. It never quotes the
// string: the part at fault may be a password.
var errKV = errors.New(`not a valid "key=value" connection string`)

// scanKV reads s with the grammar lib/pq (and libpq) use: key = value
// pairs separated by white space, values unquoted (a backslash escapes the
// next character) or single-quoted. It returns the pairs read and, if the
// string is malformed, where reading stopped and why.
func scanKV(s string) (tokens []kvToken, stop int, reason string) {
	// byteAt maps rune positions back to s, for the spans.
	var rs []rune
	var byteAt []int
	for at, r := range s {
		rs, byteAt = append(rs, r), append(byteAt, at)
	}
	byteAt = append(byteAt, len(s))
	i := 0
	skip := func() {
		for i < len(rs) && unicode.IsSpace(rs[i]) {
			i++
		}
	}
	for {
		skip()
		if i == len(rs) {
			return tokens, -1, ""
		}
		keyStart := i
		for i < len(rs) && !unicode.IsSpace(rs[i]) && rs[i] != '=' {
			i++
		}
		key := string(rs[keyStart:i])
		skip()
		if i == len(rs) || rs[i] != '=' {
			return tokens, byteAt[keyStart], `a word without "=" (quote a value that holds spaces: key='a value')`
		}
		i++
		skip()
		start := i
		if i < len(rs) && rs[i] == '\'' {
			for i++; ; i++ {
				if i == len(rs) {
					tokens = append(tokens, kvToken{key, byteAt[start], len(s)})
					return tokens, byteAt[start], "a quoted value without its closing quote"
				}
				if rs[i] == '\\' {
					i++
					continue
				}
				if rs[i] == '\'' {
					i++
					break
				}
			}
		} else {
			for i < len(rs) && !unicode.IsSpace(rs[i]) {
				if rs[i] == '\\' {
					if i+1 == len(rs) {
						tokens = append(tokens, kvToken{key, byteAt[start], len(s)})
						return tokens, byteAt[start], "a backslash at the end"
					}
					i++
				}
				i++
			}
		}
		tokens = append(tokens, kvToken{key, byteAt[start], byteAt[i]})
	}
}

func redactKV(s string) string {
	tokens, stop, _ := scanKV(s)
	var b strings.Builder
	last := 0
	for _, t := range tokens {
		if stop >= 0 && t.start >= stop {
			break
		}
		if isPasswordKey(t.key) {
			b.WriteString(s[last:t.start] + redacted)
			last = t.end
		}
	}
	if stop >= 0 {
		if last < stop {
			b.WriteString(s[last:stop])
		}
		b.WriteString("…")
		return b.String()
	}
	b.WriteString(s[last:])
	return b.String()
}

// checkDSN validates dsn before the driver sees it, with errors that name
// what is wrong without quoting what may be a password: the driver's own
// errors quote the string, or the piece of it they could not read (for an
// unescaped '/' in a password, its first letters as a "port").
func checkDSN(dsn string) error {
	scheme, rest, isURL := strings.Cut(dsn, "://")
	if !isURL || !isScheme(scheme) {
		if _, stop, reason := scanKV(dsn); stop >= 0 {
			return fmt.Errorf("database connection string %q: %w: %s", RedactDSN(dsn), errKV, reason)
		}
		return nil
	}
	if scheme != "postgres" && scheme != "postgresql" {
		return fmt.Errorf("database URL %q: scheme %q: want postgres:// or postgresql://", RedactDSN(dsn), scheme)
	}
	const encode = "a user name or password must be percent-encoded: / as %2F, # as %23, ? as %3F, @ as %40, : as %3A, % as %25"
	auth := rest
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		auth = rest[:j]
	}
	at := userinfoEnd(rest)
	conforming := at < 0 || strings.Contains(auth, "@")
	if conforming && at >= 0 {
		if _, err := url.PathUnescape(rest[:at]); err != nil {
			return fmt.Errorf("database URL %q: a bad %%-escape in the user name or password: %s", RedactDSN(dsn), encode)
		}
	}
	if !conforming && strings.Contains(auth, ":") && !strings.Contains(rest[len(auth):at], "=") {
		// "postgres://u:12/34@h/db" parses, as host u, port 12 and a path:
		// the driver would dial the password's first digits. An '@' in a
		// parameter ("?sslcert=/a@b") is left to the parser.
		return fmt.Errorf("database URL %q: an '@' after the host: %s", RedactDSN(dsn), encode)
	}
	if _, err := url.Parse(dsn); err != nil {
		var ue *url.Error
		if !conforming || !errors.As(err, &ue) {
			// The parser read part of the password as the host or port.
			return fmt.Errorf("database URL %q is not a valid URL: %s", RedactDSN(dsn), encode)
		}
		return fmt.Errorf("database URL %q is not a valid URL: %v", RedactDSN(dsn), ue.Err)
	}
	return nil
}

// dbError is a database error whose text is safe to print: the connection
// string in it, if any, redacted.
type dbError struct {
	msg string
	err error
}

func (e *dbError) Error() string { return e.msg }
func (e *dbError) Unwrap() error { return e.err }

// redact makes err, from opening or connecting to dsn, safe to print: the
// connection string, whole or as the driver rewrote it, is replaced by its
// redacted form. If err's text still holds it, the original error is not
// kept (it would print it); otherwise err is wrapped so callers can still
// test it with errors.Is and errors.As.
func redact(err error, dsn string) error {
	msg := err.Error()
	if dsn == "" || !strings.Contains(msg, dsn) {
		return err
	}
	return &dbError{msg: strings.ReplaceAll(msg, dsn, RedactDSN(dsn))}
}
