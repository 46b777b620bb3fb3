package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/mizani/reconcile/store/pgtest"
)

// compact returns a vendor example as one line, as a provider would send it.
func compact(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "sources", "kopokopo", "testdata", "vendor", name))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestImport(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	db := sqlx.MustOpen("postgres", dbURL)
	t.Cleanup(func() { db.Close() })
	count := func(table string) int {
		var n int
		if err := db.Get(&n, "SELECT count(*) FROM "+table); err != nil {
			t.Fatal(err)
		}
		return n
	}
	dir := t.TempDir()
	write := func(name string, lines ...string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := execute(context.Background(), append(args, "--database-url", dbURL, "--log-format", "json"), &out, &errb)
		return code, out.String(), errb.String()
	}

	good := write("good.jsonl",
		compact(t, "webhook_buygoods_transaction_received.json"),
		"",
		compact(t, "polling_result.json"),
		compact(t, "webhook_customer_created.json"),
		compact(t, "settlement_transfer_result.json"),
		compact(t, "webhook_buygoods_transaction_received_2.json"), // same event id: a duplicate
	)
	bad := write("bad.jsonl",
		compact(t, "payment_result.json"),
		`{"topic": "buygoods_transaction_received", "id": `,
		compact(t, "incoming_payment_result_success.json"),
		`{"topic": "m2m_transaction_received", "id": "e", "event": {"resource": {"id": "x", "amount": "1.001", "origination_time": "2020-10-29T08:37:31+03:00"}}}`,
	)

	steps := []struct {
		name              string
		args              []string
		wantCode          int
		wantOut, wantErr  []string
		payloads, records int
	}{
		{name: "bad lines: nothing stored", args: []string{"import", "--provider", "kopokopo", "--file", bad}, wantCode: 2,
			wantErr: []string{bad + ":2: kopokopo: malformed payload: body", bad + ":4: kopokopo: malformed payload: event.resource.amount"}},
		{name: "unknown provider", args: []string{"import", "--provider", "mpesa", "--file", good}, wantCode: 2,
			wantErr: []string{`unknown provider "mpesa"`}},
		{name: "missing file", args: []string{"import", "--provider", "kopokopo", "--file", filepath.Join(dir, "nope")}, wantCode: 2},
		{name: "good file", args: []string{"import", "--provider", "kopokopo", "--file", good}, wantCode: 0,
			wantOut: []string{"4 payload(s) imported, 1 already stored; 7 record(s) parsed"}, payloads: 4, records: 6},
		{name: "again: idempotent", args: []string{"import", "--provider", "kopokopo", "--file", good}, wantCode: 0,
			wantOut: []string{"0 payload(s) imported, 5 already stored"}, payloads: 4, records: 6},
	}
	for _, s := range steps {
		code, out, errOut := run(s.args...)
		if code != s.wantCode {
			t.Errorf("%s: exit %d, want %d (stderr %s)", s.name, code, s.wantCode, errOut)
		}
		for _, w := range s.wantOut {
			if !strings.Contains(out, w) {
				t.Errorf("%s: stdout %q lacks %q", s.name, out, w)
			}
		}
		for _, w := range s.wantErr {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr %q lacks %q", s.name, errOut, w)
			}
		}
		if p, r := count("raw_payloads"), count("provider_records"); p != s.payloads || r != s.records {
			t.Errorf("%s: store holds %d payloads, %d records; want %d, %d", s.name, p, r, s.payloads, s.records)
		}
	}
	var sources []string
	if err := db.Select(&sources, "SELECT DISTINCT source FROM raw_payloads UNION SELECT DISTINCT source FROM provider_records"); err != nil {
		t.Fatal(err)
	}
	if len(sources) != 1 || sources[0] != "import" {
		t.Errorf("sources = %v, want only import", sources)
	}
}
