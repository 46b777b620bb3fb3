package jobs

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/reports"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

var (
	//go:embed testdata/bench_seed.sql
	benchSeedSQL string
	//go:embed testdata/bench_baseline.sql
	benchBaselineSQL string
)

// BenchmarkRun measures a whole reconciliation run — read both sides from
// PostgreSQL, match, write every report — over N ledger entries × N records
// with 1% planted discrepancies, against the SQL yardstick of SPEC §13 on the
// same data in the same process: psql running one FULL OUTER JOIN and one
// join with COPY ... TO STDOUT. It reports seconds, rows/s and peak RSS for
// each, and the ratios run/baseline.
func BenchmarkRun(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) { benchmarkRun(b, n) })
	}
}

func benchmarkRun(b *testing.B, n int) {
	if _, err := exec.LookPath("psql"); err != nil {
		b.Fatalf("the baseline needs psql on PATH: %v", err)
	}
	dbURL := pgtest.URL(b)
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	seedStart := time.Now()
	if _, err := st.DB().ExecContext(ctx, strings.ReplaceAll(benchSeedSQL, "{{N}}", strconv.Itoa(n))); err != nil {
		b.Fatalf("seeding: %v", err)
	}
	b.Logf("seeded %d × %d rows in %s", n, n, time.Since(seedStart).Round(time.Millisecond))

	nairobi, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		b.Fatal(err)
	}
	w, err := reconcile.ParseWindow("2026-03-01", "2026-03-30", nairobi)
	if err != nil {
		b.Fatal(err)
	}
	cfg := RunConfig{
		Window: w, Zone: nairobi, HeuristicProviders: []reconcile.Provider{testprov.KopoKopo},
	}
	wantDiscrepancies := 4 * n / 400

	b.ResetTimer()
	for range b.N {
		baseline, baseRSS := measure(b, func() { runBaseline(b, dbURL) })

		cfg.Formats, cfg.OutDir = reports.FormatCSV, b.TempDir()
		var res RunResult
		csvTime, csvRSS := measure(b, func() { res = mustRun(b, st, cfg) })
		if got := res.Discrepancies(); got != wantDiscrepancies {
			b.Fatalf("CSV run found %d discrepancies, want the %d planted", got, wantDiscrepancies)
		}

		cfg.Formats, cfg.OutDir = reports.FormatCSV|reports.FormatXLSX, b.TempDir()
		xlsxTime, xlsxRSS := measure(b, func() { res = mustRun(b, st, cfg) })

		rows := float64(2 * n)
		b.ReportMetric(baseline.Seconds(), "baseline-s")
		b.ReportMetric(csvTime.Seconds(), "csv-run-s")
		b.ReportMetric(xlsxTime.Seconds(), "xlsx-run-s")
		b.ReportMetric(csvTime.Seconds()/baseline.Seconds(), "csv/baseline")
		b.ReportMetric(xlsxTime.Seconds()/baseline.Seconds(), "xlsx/baseline")
		b.ReportMetric(rows/csvTime.Seconds(), "csv-rows/s")
		b.ReportMetric(float64(csvRSS)/(1<<20), "csv-peak-rss-MB")
		b.ReportMetric(float64(xlsxRSS)/(1<<20), "xlsx-peak-rss-MB")
		b.Logf("baseline %s (peak RSS %d MB in this process); CSV run %s, peak RSS %d MB; CSV+XLSX run %s, peak RSS %d MB; %d matches, %d discrepancies",
			baseline.Round(time.Millisecond), baseRSS>>20, csvTime.Round(time.Millisecond), csvRSS>>20,
			xlsxTime.Round(time.Millisecond), xlsxRSS>>20, res.Stats.Matches, res.Discrepancies())
	}
}

func mustRun(b *testing.B, st *store.Store, cfg RunConfig) RunResult {
	res, err := Run(context.Background(), st, cfg)
	if err != nil {
		b.Fatalf("run: %v", err)
	}
	return res
}

// runBaseline runs bench_baseline.sql through psql, output to a file, on the
// schema dbURL's search_path names.
func runBaseline(b *testing.B, dbURL string) {
	u, err := url.Parse(dbURL)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	out, err := os.Create(b.TempDir() + "/baseline.csv")
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command("psql", "--no-psqlrc", "-q", "-v", "ON_ERROR_STOP=1", "-d", u.String())
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+schema)
	cmd.Stdin = strings.NewReader(benchBaselineSQL)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("baseline: %v: %s", err, stderr.String())
	}
}

// measure times f and samples this process's resident memory while it runs.
func measure(b *testing.B, f func()) (time.Duration, int64) {
	var (
		peak int64
		wg   sync.WaitGroup
		stop = make(chan struct{})
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, rss(b))
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	f()
	d := time.Since(start)
	close(stop)
	wg.Wait()
	return d, peak
}

// rss reads VmRSS from /proc/self/status, in bytes.
func rss(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if kb, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			v, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return v << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
