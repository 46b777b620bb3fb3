package main

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite README.md's provider table from the registrations")

const (
	tableBegin = "<!-- providers:begin (reconcile providers --markdown) -->\n"
	tableEnd   = "<!-- providers:end -->"
)

// TestREADMEProviderTable: README.md's provider configuration table is the
// one the registrations give, so adding a provider updates the docs
// (go test ./cmd/reconcile -run TestREADMEProviderTable -update-readme).
func TestREADMEProviderTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i, j := strings.Index(text, tableBegin), strings.Index(text, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q … %q section", strings.TrimSpace(tableBegin), tableEnd)
	}
	want := providerTable()
	got := text[i+len(tableBegin) : j]
	if got == want {
		return
	}
	if *updateREADME {
		if err := os.WriteFile("../../README.md", []byte(text[:i+len(tableBegin)]+want+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's provider table is stale; run go test ./cmd/reconcile -run TestREADMEProviderTable -update-readme\ngot:\n%s\nwant:\n%s", got, want)
}
