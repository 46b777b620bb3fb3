package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mizani/reconcile/store/pgtest"
)

// TestDemoCommand runs `reconcile demo` as a user would, with DATABASE_URL
// naming a database: it exits 0, says every planted discrepancy was found,
// and prints how to re-run a range against the demo's store, without a
// password.
func TestDemoCommand(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	code := execute(context.Background(), []string{"demo", "--database-url", pgtest.URL(t), "--out", t.TempDir(), "--log-format", "json"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("demo exited %d:\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"planted discrepancies found with the right kind, no others", "Re-run any range of the demo data with:", "reconcile run --from 2026-03-02 --to 2026-03-08"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
