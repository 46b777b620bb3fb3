package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mizani/reconcile/store/pgtest"
)

// storeCLI runs the command line against a private, migrated schema.
type storeCLI struct {
	t   testing.TB
	url string
	db  *sqlx.DB
	dir string
}

func newStoreCLI(t testing.TB) *storeCLI {
	url := pgtest.URL(t)
	db := sqlx.MustOpen("postgres", url)
	t.Cleanup(func() { db.Close() })
	return &storeCLI{t: t, url: url, db: db, dir: t.TempDir()}
}

func (c *storeCLI) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = execute(context.Background(), append(args, "--database-url", c.url, "--log-format", "text"), &out, &errb)
	return code, out.String(), errb.String()
}

func (c *storeCLI) write(name, content string) string {
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return path
}

func (c *storeCLI) count(q string, args ...any) int {
	var n int
	if err := c.db.Get(&n, q, args...); err != nil {
		c.t.Fatal(err)
	}
	return n
}

const ledgerHeader = "reference,provider,direction,amount,currency,status,occurred_at,account\n"

func TestLedgerImportFixtureIdempotent(t *testing.T) {
	t.Parallel()
	c := newStoreCLI(t)
	// Pixel's fixture ledger: several currencies, zero-exponent ones too.
	fixture := filepath.Join("..", "..", "fixtures", "pixel", "ledger.csv")
	n := dataLines(t, fixture)
	code, out, errs := c.run("ledger", "import", "--file", fixture)
	if code != exitOK || !strings.Contains(out, fmt.Sprintf("imported %d new, updated 0, unchanged 0", n)) {
		t.Fatalf("first import: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	var before time.Time
	c.db.Get(&before, "SELECT max(updated_at) FROM ledger_entries")
	code, out, _ = c.run("ledger", "import", "--file", fixture)
	if code != exitOK || !strings.Contains(out, fmt.Sprintf("imported 0 new, updated 0, unchanged %d", n)) {
		t.Fatalf("re-import: exit %d, %s", code, out)
	}
	var after time.Time
	c.db.Get(&after, "SELECT max(updated_at) FROM ledger_entries")
	if !after.Equal(before) || c.count("SELECT count(*) FROM ledger_entries") != n {
		t.Fatalf("re-import touched rows: updated_at %v → %v", before, after)
	}
	if n := c.count("SELECT count(DISTINCT currency) FROM ledger_entries"); n < 2 {
		t.Fatalf("fixture has %d currencies", n)
	}
}

func TestLedgerImportChangedRowUpdates(t *testing.T) {
	t.Parallel()
	c := newStoreCLI(t)
	v1 := c.write("v1.csv", ledgerHeader+
		"ORDER-1,ikhokha,in,199.99,ZAR,pending,2026-03-02 10:00:00,ENT1\n"+
		"ORDER-2,ikhokha,in,50.00,ZAR,paid,2026-03-02 11:00:00,ENT1\n")
	v2 := c.write("v2.csv", ledgerHeader+
		"ORDER-1,ikhokha,in,199.99,ZAR,paid,2026-03-02 10:00:00,ENT1\n"+
		"ORDER-2,ikhokha,in,50.00,ZAR,paid,2026-03-02 11:00:00,ENT1\n"+
		"ORDER-3,ikhokha,out,50.00,ZAR,refunded,2026-03-02T12:00:00+02:00,ENT1\n")
	if code, out, errs := c.run("ledger", "import", "--file", v1); code != exitOK {
		t.Fatalf("v1: exit %d %s %s", code, out, errs)
	}
	code, out, errs := c.run("ledger", "import", "--file", v2)
	if code != exitOK || !strings.Contains(out, "imported 1 new, updated 1, unchanged 1") {
		t.Fatalf("v2: exit %d\n%s%s", code, out, errs)
	}
	if n := c.count(`SELECT count(*) FROM ledger_entries WHERE reference = 'ORDER-1' AND status = 'paid' AND updated_at > imported_at`); n != 1 {
		t.Fatal("ORDER-1 not updated to paid")
	}
	if n := c.count(`SELECT count(*) FROM ledger_entries WHERE reference = 'ORDER-1'
		AND occurred_at = '2026-03-02T07:00:00Z' AND amount_minor = 19999`); n != 1 {
		t.Fatal("ORDER-1 time or amount wrong (business zone Africa/Nairobi)")
	}
}

func TestLedgerImportAtomic(t *testing.T) {
	t.Parallel()
	c := newStoreCLI(t)
	bad := c.write("bad.csv", ledgerHeader+
		"R1,kora,in,100.00,NGN,paid,2026-03-02 10:00:00,\n"+
		"R2,kora,in,100.001,NGN,paid,2026-03-02 10:00:00,\n"+
		"R3,kora,in,100.00,NGN,paid,2026-03-02 10:00:00,\n"+
		"R4,kora,in,100.00,NGN,maybe,2026-03-02 10:00:00,\n")
	code, out, errs := c.run("ledger", "import", "--file", bad)
	if code != exitBadInput {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitBadInput, out, errs)
	}
	for _, want := range []string{bad + `:3: amount "100.001" NGN`, bad + `:5: unknown status "maybe"`, "2 invalid row(s), nothing imported"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if n := c.count("SELECT count(*) FROM ledger_entries"); n != 0 {
		t.Fatalf("%d rows imported from a bad file, want 0", n)
	}

	// --skip-invalid imports the rest and writes the rejects.
	rejects := filepath.Join(c.dir, "rej.csv")
	code, out, errs = c.run("ledger", "import", "--file", bad, "--skip-invalid", "--rejects", rejects)
	if code != exitOK || !strings.Contains(out, "imported 2 new") || !strings.Contains(out, "skipped 2 invalid row(s), written to "+rejects) {
		t.Fatalf("--skip-invalid: exit %d\n%s%s", code, out, errs)
	}
	got, _ := os.ReadFile(rejects)
	want := "line,reason," + strings.TrimSpace(ledgerHeader) + "\n" +
		`3,"amount ""100.001"" NGN: more precision than the currency's 2 decimal places",R2,kora,in,100.001,NGN,paid,2026-03-02 10:00:00,` + "\n" +
		`5,"unknown status ""maybe"" (want paid, pending, failed, cancelled or refunded)",R4,kora,in,100.00,NGN,maybe,2026-03-02 10:00:00,` + "\n"
	if string(got) != want {
		t.Fatalf("rejects file:\n%s\nwant:\n%s", got, want)
	}
	// The default rejects file sits beside the input.
	if code, _, _ := c.run("ledger", "import", "--file", bad, "--skip-invalid"); code != exitOK {
		t.Fatal("default rejects path")
	}
	if _, err := os.Stat(bad + ".rejects.csv"); err != nil {
		t.Fatal(err)
	}
}

func TestLedgerImportUsage(t *testing.T) {
	t.Parallel()
	c := newStoreCLI(t)
	ok := c.write("ok.csv", ledgerHeader)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file flag", []string{"ledger", "import"}, `required flag(s) "file" not set`},
		{"missing file", []string{"ledger", "import", "--file", filepath.Join(c.dir, "nope.csv")}, "no such file"},
		{"bad header", []string{"ledger", "import", "--file", c.write("h.csv", "reference,amount\n")}, "h.csv:1: missing required column(s) provider, currency, status, occurred_at"},
		{"bad zone", []string{"ledger", "import", "--file", ok, "--tz", "Mars/Olympus"}, `business time zone "Mars/Olympus" (--tz or RECONCILE_TZ): unknown`},
		{"rejects without skip-invalid", []string{"ledger", "import", "--file", ok, "--rejects", filepath.Join(c.dir, "r.csv")}, "--rejects goes with --skip-invalid"},
		{"rejects over the input", []string{"ledger", "import", "--file", ok, "--skip-invalid", "--rejects", ok}, "is the file being imported"},
		{"unknown sub-command", []string{"ledger", "frob"}, `unknown command "frob" for "reconcile ledger"`},
		{"unknown bank sub-command", []string{"bank", "frob"}, `unknown command "frob" for "reconcile bank"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := c.run(tt.args...)
			if code != exitBadInput || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, errs, tt.want)
			}
		})
	}
	if got, err := os.ReadFile(ok); err != nil || string(got) != ledgerHeader {
		t.Errorf("the input file was changed: %q, %v", got, err)
	}
}

func TestGlobalFlags(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://postgres:s3cret@127.0.0.1:notaport/db")
	tests := []struct {
		name     string
		args     []string
		code     int
		want     string
		inStdout bool
	}{
		{"help hides the password", []string{"ledger", "import", "--help"}, exitOK, "--database-url", true},
		{"connection error hides the password", []string{"migrate", "status"}, exitFailure, "opening database", false},
		{"bad log format", []string{"migrate", "status", "--log-format", "xml"}, exitBadInput, `log format "xml"`, false},
		{"bare group shows its help", []string{"ledger"}, exitOK, "import", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := execute(context.Background(), tt.args, &out, &errb)
			got := errb.String()
			if tt.inStdout {
				got = out.String()
			}
			if code != tt.code || !strings.Contains(got, tt.want) {
				t.Fatalf("exit %d\nstdout %s\nstderr %s\nwant exit %d and %q", code, out.String(), errb.String(), tt.code, tt.want)
			}
			if strings.Contains(out.String()+errb.String(), "s3cret") {
				t.Fatalf("the password is shown:\n%s%s", out.String(), errb.String())
			}
		})
	}
}

// BenchmarkLedgerImport1M imports a generated file of 1,000,000 valid rows
// through the CLI, reporting rows/s and the peak Go heap in use.
func BenchmarkLedgerImport1M(b *testing.B) {
	const rows = 1_000_000
	c := newStoreCLI(b)
	path := filepath.Join(c.dir, "ledger1m.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	buf.WriteString("reference,provider,direction,amount,currency,status,occurred_at,account,provider_reference,customer_phone,description\n")
	providers := []string{"kopokopo", "pixel", "ikhokha", "kora"}
	currencies := []string{"KES", "XOF", "ZAR", "NGN"}
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		amount := fmt.Sprintf("%d.%02d", 10+i%9000, i%100)
		if i%4 == 1 {
			amount = fmt.Sprint(100 + i%9000)
		}
		fmt.Fprintf(&buf, "REF-%08d,%s,in,%s,%s,paid,%s,ACC%d,PR%08d,+2547%08d,order %d\n", i, providers[i%4], amount,
			currencies[i%4], base.Add(time.Duration(i)*600*time.Millisecond).Format(time.RFC3339), i%7, i, i, i)
		if buf.Len() > 1<<20 {
			f.Write(buf.Bytes())
			buf.Reset()
		}
	}
	f.Write(buf.Bytes())
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	runtime.GC()

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := c.db.Exec("TRUNCATE ledger_entries"); err != nil {
			b.Fatal(err)
		}
		code, out, errs := c.run("ledger", "import", "--file", path)
		if code != exitOK || !strings.Contains(out, fmt.Sprintf("imported %d new", rows)) {
			b.Fatalf("exit %d\n%s%s", code, out, errs)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	<-sampled
	b.ReportMetric(float64(rows*b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
}
