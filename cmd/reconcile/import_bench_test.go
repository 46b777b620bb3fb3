package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mizani/reconcile/store/pgtest"
)

// writeKopoKopoLines writes n distinct Kopo Kopo buygoods webhooks, one per
// line (about 470 bytes each: the vendor's example without its _links, as
// the 88 MB file of 200,000 in issue 12), to path.
func writeKopoKopoLines(tb testing.TB, path string, n int) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.FixedZone("EAT", 3*3600))
	for i := range n {
		at := t0.Add(time.Duration(i) * 3 * time.Second).Format(time.RFC3339)
		fmt.Fprintf(w, `{"topic":"buygoods_transaction_received","id":"2133dbfb-24b9-40fc-%012d","created_at":"%s",`+
			`"event":{"type":"Buygoods Transaction","resource":{"id":"458712f-gr76y-24b9-40fc-%012d","amount":"%d.%02d",`+
			`"status":"Received","system":"Lipa Na M-PESA","currency":"KES","reference":"OJM%07d","till_number":"000000",`+
			`"sender_phone_number":"+254999999999","hashed_sender_phone":"cbc504704d2c654f8bf08de98945980b77567d8c611d355ca3aef480c960ad9c",`+
			`"origination_time":"%s","sender_last_name":"Doe","sender_first_name":"Jane","sender_middle_name":null}}}`+"\n",
			i, at, i, 10+i%5000, i%100, i, at)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	return st.Size()
}

// BenchmarkImport measures `reconcile import` of N distinct Kopo Kopo
// webhooks (N from IMPORT_BENCH_N, default 100000 and 200000), run as its
// own process, against the yardstick of psql \copy of the same lines into a
// jsonb column, in the same run: seconds, payloads/s, the ratio, and the
// import's peak RSS (getrusage of the child).
func BenchmarkImport(b *testing.B) {
	sizes := []int{100000, 200000}
	if s := os.Getenv("IMPORT_BENCH_N"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	bin := filepath.Join(b.TempDir(), "reconcile")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("building reconcile: %v\n%s", err, out)
	}
	for _, n := range sizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "payloads.jsonl")
			size := writeKopoKopoLines(b, path, n)
			for range b.N {
				dbURL := pgtest.URL(b)
				base := psqlCopy(b, dbURL, path)
				start := time.Now()
				cmd := exec.Command(bin, "import", "--provider", "kopokopo", "--file", path, "--database-url", dbURL, "--log-format", "json")
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Run(); err != nil {
					b.Fatalf("import: %v\n%s", err, out.String())
				}
				took := time.Since(start)
				rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
				db := sqlx.MustOpen("postgres", dbURL)
				var stored int
				if err := db.Get(&stored, "SELECT count(*) FROM raw_payloads"); err != nil || stored != n {
					b.Fatalf("stored %d payloads (%v), want %d", stored, err, n)
				}
				db.Close()
				b.ReportMetric(took.Seconds(), "import-s")
				b.ReportMetric(base.Seconds(), "psql-copy-s")
				b.ReportMetric(float64(n)/took.Seconds(), "payloads/s")
				b.ReportMetric(took.Seconds()/base.Seconds(), "x-copy")
				b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
				b.Logf("N=%d (%.1f MB): import %.2f s (%.0f payloads/s, peak RSS %.0f MB), psql \\copy into jsonb %.2f s: %.2f×",
					n, float64(size)/1e6, took.Seconds(), float64(n)/took.Seconds(), float64(rss)/1024, base.Seconds(), took.Seconds()/base.Seconds())
			}
		})
	}
}

// psqlCopy loads the lines of path into a jsonb column with psql \copy (CSV
// with quote and delimiter bytes no JSON line holds, so every line is one
// value, verbatim) and returns how long that took.
func psqlCopy(b *testing.B, dbURL, path string) time.Duration {
	b.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	psql := func(cmds ...string) {
		args := []string{"--no-psqlrc", "-q", "-v", "ON_ERROR_STOP=1", "-d", u.String()}
		for _, c := range cmds {
			args = append(args, "-c", c)
		}
		cmd := exec.Command("psql", args...)
		cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+schema)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("psql: %v: %s", err, out)
		}
	}
	psql("CREATE TABLE copy_baseline (doc jsonb NOT NULL)")
	start := time.Now()
	psql(`\copy copy_baseline (doc) FROM '` + path + `' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')`)
	return time.Since(start)
}
