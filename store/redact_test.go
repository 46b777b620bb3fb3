package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, url, msg, want string
	}{
		{"url", "postgres://u:s3cret@h:5432/db", `parse "postgres://u:s3cret@h:5432/db": bad`, `parse "postgres://u:xxxxx@h:5432/db": bad`},
		{"unparseable url", "postgres://u:s3cret@h:notaport/db", `parse "postgres://u:s3cret@h:notaport/db": invalid port`, `parse "postgres://u:xxxxx@h:notaport/db": invalid port`},
		{"query parameter", "postgres://h/db?sslmode=disable&password=s3cret", `bad "postgres://h/db?sslmode=disable&password=s3cret"`, `bad "postgres://h/db?sslmode=disable&password=xxxxx"`},
		{"key value", "host=h user=u password=s3cret dbname=db", `missing "=" after "password=s3cret"`, `missing "=" after "password=xxxxx"`},
		{"no password", "postgres://u@h/db", `dial tcp: refused`, `dial tcp: refused`},
		{"password not in message", "postgres://u:s3cret@h/db", `dial tcp: refused`, `dial tcp: refused`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := errors.New(tt.msg)
			err := redact(base, tt.url)
			if err.Error() != tt.want {
				t.Errorf("redact = %q, want %q", err, tt.want)
			}
			if !errors.Is(err, base) {
				t.Error("the redacted error does not wrap the original")
			}
		})
	}
}

func TestOpenHidesPassword(t *testing.T) {
	_, err := Open(context.Background(), "postgres://postgres:s3cret@127.0.0.1:notaport/db")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Open error %v: want an error without the password", err)
	}
}
