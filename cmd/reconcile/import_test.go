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

// TestImportPayloadShapes: import refuses, atomically and with FILE:LINE,
// every line that is not a Kopo Kopo webhook envelope or API result (and a
// negative amount), keeps an unknown topic raw, and skips a leading UTF-8
// byte-order mark.
func TestImportPayloadShapes(t *testing.T) {
	t.Parallel()
	buygoods := compact(t, "webhook_buygoods_transaction_received.json")
	negative := strings.Replace(buygoods, `"100.0"`, `"-5.0"`, 1)
	tests := []struct {
		name              string
		lines             []string
		bom               bool
		wantCode          int
		wantOut, wantErr  []string
		payloads, records int
	}{
		{name: "any object", lines: []string{buygoods, `{"foo":1}`}, wantCode: 2,
			wantErr: []string{":2: kopokopo: malformed payload: body: neither a webhook event", "1 bad line(s), nothing imported"}},
		{name: "token response", lines: []string{compact(t, "token_response.json"), buygoods}, wantCode: 2,
			wantErr: []string{":1: kopokopo: malformed payload: body: an OAuth token response"}},
		{name: "polling request", lines: []string{compact(t, "polling_request.json")}, wantCode: 2,
			wantErr: []string{":1: kopokopo: malformed payload: body: a request Mizani sends"}},
		{name: "envelope without topic", lines: []string{`{"id":"x","event":{}}`}, wantCode: 2,
			wantErr: []string{":1: kopokopo: malformed payload: body"}},
		{name: "another provider's body", lines: []string{`{"status":false,"message":"Error description here","data":null}`}, wantCode: 2,
			wantErr: []string{":1: kopokopo: malformed payload: body"}},
		{name: "negative amount", lines: []string{negative}, wantCode: 2,
			wantErr: []string{`:1: kopokopo: malformed payload: event.resource.amount: negative amount "-5.0"`}},
		{name: "unknown topic stored raw", lines: []string{`{"topic":"till_closed","id":"e-1","event":{"type":"Till Closed","resource":{}}}`, buygoods},
			wantOut: []string{"2 payload(s) imported, 0 already stored; 1 record(s) parsed"}, payloads: 2, records: 1},
		{name: "byte-order mark", bom: true, lines: []string{buygoods, compact(t, "webhook_m2m_transaction_received.json")},
			wantOut: []string{"2 payload(s) imported, 0 already stored; 2 record(s) parsed"}, payloads: 2, records: 2},
		{name: "byte-order mark before a blank first line", bom: true, lines: []string{"", buygoods},
			wantOut: []string{"1 payload(s) imported"}, payloads: 1, records: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dbURL := pgtest.URL(t)
			content := strings.Join(tt.lines, "\n") + "\n"
			if tt.bom {
				content = "\ufeff" + content
			}
			path := filepath.Join(t.TempDir(), "payloads.jsonl")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			code := execute(context.Background(), []string{"import", "--provider", "kopokopo", "--file", path,
				"--database-url", dbURL, "--log-format", "json"}, &out, &errb)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %s)", code, tt.wantCode, errb.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout %q lacks %q", out.String(), w)
				}
			}
			for _, w := range tt.wantErr {
				if strings.HasPrefix(w, ":") { // a FILE:LINE: reason line
					w = path + w
				}
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr %q lacks %q", errb.String(), w)
				}
			}
			if strings.Contains(errb.String(), "JCGQXLrlfuOqdUYdTcLz3rBiCZQDRvdWIUPkw") {
				t.Errorf("stderr reveals the access token: %s", errb.String())
			}
			db := sqlx.MustOpen("postgres", dbURL)
			defer db.Close()
			var p, r int
			if err := db.Get(&p, "SELECT count(*) FROM raw_payloads"); err != nil {
				t.Fatal(err)
			}
			if err := db.Get(&r, "SELECT count(*) FROM provider_records"); err != nil {
				t.Fatal(err)
			}
			if p != tt.payloads || r != tt.records {
				t.Errorf("store holds %d payloads, %d records; want %d, %d", p, r, tt.payloads, tt.records)
			}
		})
	}
}

// TestImportBytesPostgresCannotHoldAsText: lines holding what PostgreSQL
// text or jsonb cannot (a \u0000 escape, a lone surrogate, an invalid UTF-8
// byte, a number beyond numeric's range) are imported with their exact
// bytes (doc NULL); a line whose transaction id holds a NUL is bad input,
// named FILE:LINE, exit 2, nothing stored. Before raw_payloads.body was
// bytea such a file exited 1 with a bare PostgreSQL error and no line.
func TestImportBytesPostgresCannotHoldAsText(t *testing.T) {
	t.Parallel()
	line := func(id, lastName, note string) string {
		return `{"topic":"buygoods_transaction_received","id":"e-` + id + `","created_at":"2026-03-02T10:43:20+03:00",` +
			`"event":{"type":"Buygoods Transaction","resource":{"id":"tx-` + id + `","amount":"100.0","status":"Received",` +
			`"system":"Lipa Na M-PESA","currency":"KES","reference":"R` + id + `","till_number":"000000",` +
			`"sender_phone_number":"+254999999999","origination_time":"2026-03-02T10:43:19+03:00",` +
			`"sender_last_name":"` + lastName + `","sender_first_name":"Jane"}},"note":` + note + `}`
	}
	odd := []string{
		line("nul", "Doe", `"a\u0000b"`),
		line("sur", `Doe\ud800`, `1`),
		line("ff", "D\xffoe", "\"\xfe\""),
		line("big", "Doe", `1e200000`),
		line("plain", "Doe", `"ok"`),
	}
	dir := t.TempDir()
	run := func(dbURL string, lines ...string) (int, string, string) {
		path := filepath.Join(dir, "payloads.jsonl")
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := execute(context.Background(), []string{"import", "--provider", "kopokopo", "--file", path,
			"--database-url", dbURL, "--log-format", "json"}, &out, &errb)
		return code, out.String(), errb.String()
	}

	dbURL := pgtest.URL(t)
	db := sqlx.MustOpen("postgres", dbURL)
	t.Cleanup(func() { db.Close() })
	if code, out, errOut := run(dbURL, odd...); code != 0 || !strings.Contains(out, "5 payload(s) imported") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 5 imported", code, out, errOut)
	}
	for i, l := range odd {
		var docNull bool
		if err := db.Get(&docNull, `SELECT doc IS NULL FROM raw_payloads WHERE body = $1`, []byte(l)); err != nil {
			t.Errorf("line %d not stored byte for byte: %v", i+1, err)
		} else if wantNull := i < 4; docNull != wantNull {
			t.Errorf("line %d: doc NULL %v, want %v", i+1, docNull, wantNull)
		}
	}
	if code, out, _ := run(dbURL, odd...); code != 0 || !strings.Contains(out, "0 payload(s) imported, 5 already stored") {
		t.Errorf("re-import: exit %d, %q; want all already stored", code, out)
	}

	fresh := pgtest.URL(t)
	code, _, errOut := run(fresh, line("a", "Doe", "1"), line(`x\u0000y`, "Doe", "1"), line("b", "Doe", "1"), `{"topic":`)
	if code != 2 || !strings.Contains(errOut, "payloads.jsonl:2: kopokopo: malformed payload: payload dedup key: holds a NUL") ||
		!strings.Contains(errOut, "payloads.jsonl:4: kopokopo: malformed payload: body") || !strings.Contains(errOut, "2 bad line(s)") {
		t.Errorf("NUL in a transaction id: exit %d, stderr %q; want exit 2 naming lines 2 and 4", code, errOut)
	}
	fdb := sqlx.MustOpen("postgres", fresh)
	defer fdb.Close()
	var n int
	if err := fdb.Get(&n, "SELECT count(*) FROM raw_payloads"); err != nil || n != 0 {
		t.Errorf("after a refused file the store holds %d payloads (%v), want 0", n, err)
	}
}
