package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/mizani/reconcile/store/pgtest"
)

func TestTmpImportProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.jsonl")
	writeKopoKopoLines(t, path, 40000)
	dbURL := pgtest.URL(t)
	var out, errb bytes.Buffer
	if code := execute(context.Background(), []string{"import", "--provider", "kopokopo", "--file", path, "--database-url", dbURL}, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
}
