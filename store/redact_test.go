package store

import (
	"context"
	"strings"
	"testing"
)

func TestRedactDSN(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{"url", "postgres://u:s3cret@h:5432/db", "postgres://u:xxxxx@h:5432/db"},
		{"url, one-letter password", "postgres://postgres:a@localhost/database", "postgres://postgres:xxxxx@localhost/database"},
		{"url, password with /", "postgres://u:ab/cd@h:5432/db", "postgres://u:xxxxx@h:5432/db"},
		{"url, password with #", "postgres://u:ab#cd@h/db", "postgres://u:xxxxx@h/db"},
		{"url, password with ?", "postgres://u:ab?cd@h/db?sslmode=disable", "postgres://u:xxxxx@h/db?sslmode=disable"},
		{"url, password with @", "postgres://u:ab@cd@h/db", "postgres://u:xxxxx@h/db"},
		{"url, password with :", "postgres://u:ab:cd@h/db", "postgres://u:xxxxx@h/db"},
		{"url, password with %", "postgres://u:ab%cd@h/db", "postgres://u:xxxxx@h/db"},
		{"url, percent-encoded password", "postgresql://u:a%2Fb%40c@h/db", "postgresql://u:xxxxx@h/db"},
		{"url, empty password", "postgres://u:@h/db", "postgres://u:xxxxx@h/db"},
		{"url, no password", "postgres://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=disable"},
		{"url, no user information", "postgres://h:5432/db", "postgres://h:5432/db"},
		{"url, @ in a parameter", "postgres://h/db?application_name=a@b", "postgres://h/db?application_name=a@b"},
		{"url, password parameter", "postgres://h/db?sslmode=disable&password=s3cret&user=u", "postgres://h/db?sslmode=disable&password=xxxxx&user=u"},
		{"url, both", "postgres://u:p@h/db?password=q#frag", "postgres://u:xxxxx@h/db?password=xxxxx#frag"},
		{"url, unparseable", "postgres://u:s3cret@h:notaport/db", "postgres://u:xxxxx@h:notaport/db"},
		{"other scheme", "mysql://u:ab/cd@h/db", "mysql://u:xxxxx@h/db"},
		{"key value", "host=h user=u password=s3cret dbname=db", "host=h user=u password=xxxxx dbname=db"},
		{"key value, one-letter password", "host=localhost password=a dbname=database", "host=localhost password=xxxxx dbname=database"},
		{"key value, quoted", `host=h password='a b\' c=d' dbname=db`, "host=h password=xxxxx dbname=db"},
		{"key value, spaces around =", "host=h password = s3cret", "host=h password = xxxxx"},
		{"key value, escaped space", `password=a\ b host=h`, "password=xxxxx host=h"},
		{"key value, unquoted space", "host=h password=my secret dbname=db", "host=h password=xxxxx …"},
		{"key value, unterminated quote", "host=h password='my secret", "host=h password=…"},
		{"key value, trailing backslash", `host=h password=abc\`, "host=h password=…"},
		{"key value, no password", "host=h dbname=db", "host=h dbname=db"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactDSN(tt.dsn); got != tt.want {
				t.Errorf("RedactDSN(%q) = %q, want %q", tt.dsn, got, tt.want)
			}
		})
	}
}

// TestOpenHidesPassword: whatever is wrong with the connection string,
// Open's error holds no part of the password. The password's halves are
// letters found nowhere else, so any piece of it shows.
func TestOpenHidesPassword(t *testing.T) {
	tests := []struct {
		name, dsn string
		secrets   []string
		mention   string // the error says what is wrong
	}{
		{"bad port", "postgres://postgres:Zq9Wv@127.0.0.1:notaport/db", []string{"Zq9Wv"}, "invalid port"},
		{"unescaped /", "postgres://postgres:Zq/Wv@127.0.0.1:1/db", []string{"Zq", "Wv"}, "%2F"},
		{"unescaped #", "postgres://postgres:Zq#Wv@127.0.0.1:1/db", []string{"Zq", "Wv"}, "%23"},
		{"unescaped ?", "postgres://postgres:Zq?Wv@127.0.0.1:1/db", []string{"Zq", "Wv"}, "%3F"},
		{"bad escape", "postgres://postgres:Zq%Wv@127.0.0.1:1/db", []string{"Zq", "Wv"}, "%25"},
		{"digits then unescaped /", "postgres://localhost:58/69@127.0.0.1:1/db?connect_timeout=2", []string{"58", "69"}, "%2F"},
		{"digits then unescaped #", "postgres://localhost:58#69@127.0.0.1:1/db?connect_timeout=2", []string{"58", "69"}, "%23"},
		{"unescaped @, unreachable", "postgres://postgres:Zq@Wv@127.0.0.1:1/db?connect_timeout=2", []string{"Zq", "Wv"}, "connecting to database"},
		{"unescaped :, unreachable", "postgres://postgres:Zq:Wv@127.0.0.1:1/db?connect_timeout=2", []string{"Zq", "Wv"}, "connecting to database"},
		{"other scheme", "mysql://u:Zq/Wv@h/db", []string{"Zq", "Wv"}, "scheme"},
		{"key value, unquoted space", "host=127.0.0.1 password=Zq Wv", []string{"Zq", "Wv"}, "quote"},
		{"key value, unterminated quote", "host=127.0.0.1 password='Zq Wv", []string{"Zq", "Wv"}, "closing quote"},
		{"key value, unreachable", "host=127.0.0.1 port=1 password=Zq9Wv connect_timeout=2", []string{"Zq9Wv"}, "connecting to database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(context.Background(), tt.dsn)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q holds %q, part of the password", err, s)
				}
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

// TestOpenErrorIndependentOfPassword: a one-letter password is not "blanked
// out" of the message wherever its letter appears; the message is the same
// whatever the password.
func TestOpenErrorIndependentOfPassword(t *testing.T) {
	msg := func(password string) string {
		_, err := Open(context.Background(), "postgres://postgres:"+password+"@127.0.0.1:1/database?connect_timeout=2")
		if err == nil {
			t.Fatal("Open of an unreachable database succeeded")
		}
		return err.Error()
	}
	a, e := msg("a"), msg("e")
	if a != e {
		t.Errorf("errors differ with the password:\n%s\n%s", a, e)
	}
	if strings.Contains(a, "xxxxx") || !strings.Contains(a, "connecting to database") {
		t.Errorf("error %q: want the driver's message untouched", a)
	}
}

// TestOpenAtInParameter: an '@' in a query parameter is not taken for the
// end of a password: the URL is valid, and opens.
func TestOpenAtInParameter(t *testing.T) {
	if err := checkDSN("postgres://h:5432/db?sslmode=disable&application_name=ops@mizani"); err != nil {
		t.Errorf("checkDSN: %v", err)
	}
}
