package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mizani/reconcile/reports"
	"github.com/mizani/reconcile/store/pgtest"
)

// The fault suite of the command line (issue 12, item 9): the real binary,
// killed with SIGKILL or cut off from PostgreSQL mid-way, must leave nothing
// half written, and running it again must give what an uninterrupted run
// gives.

var (
	faultBinOnce sync.Once
	faultBin     string
	faultBinErr  error
	faultBinDir  string
)

// reconcileBinary builds cmd/reconcile once per test process and returns
// its path.
func reconcileBinary(t *testing.T) string {
	t.Helper()
	faultBinOnce.Do(func() {
		faultBinDir, faultBinErr = os.MkdirTemp("", "reconcile-faults-")
		if faultBinErr != nil {
			return
		}
		faultBin = filepath.Join(faultBinDir, "reconcile")
		out, err := exec.Command("go", "build", "-o", faultBin, ".").CombinedOutput()
		if err != nil {
			faultBinErr = errors.New(err.Error() + "\n" + string(out))
		}
	})
	if faultBinErr != nil {
		t.Fatalf("building reconcile: %v", faultBinErr)
	}
	return faultBin
}

// TestMain removes the binary reconcileBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if faultBinDir != "" {
		os.RemoveAll(faultBinDir)
	}
	os.Exit(code)
}

// withAppName gives every connection of dbURL an application_name, by which
// pg_stat_activity tells this test's backends from every other test's.
func withAppName(t *testing.T, dbURL string) (string, string) {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := "faults_" + hex.EncodeToString(b[:])
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String(), name
}

// seedBench loads jobs/testdata/bench_seed.sql with n rows a side.
func seedBench(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	seed, err := os.ReadFile(filepath.Join("..", "..", "jobs", "testdata", "bench_seed.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(strings.ReplaceAll(string(seed), "{{N}}", strconv.Itoa(n))); err != nil {
		t.Fatalf("seeding: %v", err)
	}
}

// TestRunKilledThenRerun: `reconcile run` killed with SIGKILL while it
// writes the reports leaves its work directory behind and no report in
// --out; the next run removes the leftovers and writes CSVs byte-identical
// to those of a run that was never interrupted, and leaves nothing in
// TMPDIR either (excelize's temporary files live in the work directory).
func TestRunKilledThenRerun(t *testing.T) {
	t.Parallel()
	bin := reconcileBinary(t)
	dbURL := pgtest.URL(t)
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 25_000
	seedBench(t, db, n)

	tmp := t.TempDir()
	runCmd := func(out string) *exec.Cmd {
		cmd := exec.Command(bin, "run", "--from", "2026-03-01", "--to", "2026-03-30", "--provider", "kopokopo",
			"--heuristic", "kopokopo", "--format", "csv,xlsx", "--out", out, "--database-url", dbURL, "--log-format", "json")
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		return cmd
	}
	control := t.TempDir()
	start := time.Now()
	if out, err := runCmd(control).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	took := time.Since(start)
	t.Logf("uninterrupted run of %d × %d rows: %s", n, n, took.Round(time.Millisecond))

	out := t.TempDir()
	// Kill once the work directory exists and the run has been writing
	// for a while; the run must still be going, or the kill proves nothing.
	var killedAt time.Duration
	for _, delay := range []time.Duration{took / 3, took / 6, 50 * time.Millisecond} {
		cmd := runCmd(out)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		begun := time.Now()
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		work := waitFor(t, 30*time.Second, func() bool { return len(workDirs(t, out)) > 0 })
		if !work {
			cmd.Process.Kill()
			<-waited
			t.Fatalf("the run never created its work directory in --out:\n%s", stderr.String())
		}
		time.Sleep(delay)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			<-waited
			continue // it finished first: try earlier
		}
		err := <-waited
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
			killedAt = time.Since(begun)
			break
		}
		// It finished before the signal: clean --out and try earlier.
		os.RemoveAll(out)
		os.MkdirAll(out, 0o755)
	}
	if killedAt == 0 {
		t.Fatal("every run finished before it could be killed")
	}
	left := workDirs(t, out)
	if len(left) == 0 {
		t.Fatal("the killed run left no work directory: it was not killed mid-run")
	}
	for _, name := range (reports.FormatCSV | reports.FormatXLSX).Files() {
		if _, err := os.Stat(filepath.Join(out, name)); err == nil {
			t.Errorf("the killed run published %s", name)
		}
	}
	t.Logf("killed after %s, leaving %q", killedAt.Round(time.Millisecond), left)

	if msg, err := runCmd(out).CombinedOutput(); err != nil {
		t.Fatalf("re-run after the kill: %v\n%s", err, msg)
	}
	for _, name := range reports.FormatCSV.Files() {
		want, err := os.ReadFile(filepath.Join(control, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatalf("the re-run wrote no %s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s after kill and re-run (%d bytes) differs from the uninterrupted run's (%d bytes)", name, len(got), len(want))
		}
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := (reports.FormatCSV | reports.FormatXLSX).Files()
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("--out holds %q after the re-run, want exactly %q", names, want)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("TMPDIR holds %d leftovers after the runs, e.g. %s", len(left), left[0].Name())
	}
}

// workDirs lists the run work directories (.reports.*.tmp) in dir.
func workDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".reports.") {
			out = append(out, e.Name())
		}
	}
	return out
}

// waitFor polls cond every 2 ms until it holds or d has passed.
func waitFor(t *testing.T, d time.Duration, cond func() bool) bool {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestImportBackendTerminated: `reconcile import` of a file of Kopo Kopo
// webhooks loses its PostgreSQL backend mid-transaction (a failover, a
// restart, an operator's pg_terminate_backend). It must exit 1 with an
// error saying so, store nothing (the import is one transaction), and
// importing the file again must store every payload once.
func TestImportBackendTerminated(t *testing.T) {
	t.Parallel()
	bin := reconcileBinary(t)
	dbURL, app := withAppName(t, pgtest.URL(t))
	admin, err := sql.Open("postgres", pgtest.URL(t)) // another schema: its own backends
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	check, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	const n = 8_000
	file := filepath.Join(t.TempDir(), "payloads.jsonl")
	writeKopoKopoLines(t, file, n)

	cmd := exec.Command(bin, "import", "--provider", "kopokopo", "--file", file, "--database-url", dbURL, "--log-format", "json")
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	// Terminate the import's backend once it is staging payloads: a
	// backend of this test's application name inside a transaction that
	// has written (backend_xid is set by the first write), past creating
	// its staging tables.
	ctx := context.Background()
	var terminated int
	inTx := waitFor(t, 30*time.Second, func() bool {
		err := admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1 AND backend_xid IS NOT NULL AND query NOT LIKE '%CREATE TEMP TABLE%'`, app).Scan(&terminated)
		if err != nil {
			t.Fatal(err)
		}
		return terminated > 0
	})
	termAt := time.Since(began)
	err = <-waited
	if !inTx {
		t.Fatalf("never saw the import's transaction (import: %v):\n%s", err, output.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailure {
		t.Fatalf("import whose backend was terminated: %v, want exit %d\n%s", err, exitFailure, output.String())
	}
	if msg := output.String(); !strings.Contains(msg, "terminat") && !strings.Contains(msg, "connection") && !strings.Contains(msg, "bad connection") {
		t.Errorf("the error does not say the database connection was lost:\n%s", msg)
	}
	t.Logf("terminated %d backend(s) after %s; the import said: %s", terminated, termAt.Round(time.Millisecond), lastLine(output.String()))
	if strings.Contains(output.String(), "panic") {
		t.Errorf("the import panicked:\n%s", output.String())
	}
	counts := func() (payloads, records int) {
		t.Helper()
		if err := check.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM raw_payloads), (SELECT count(*) FROM provider_records)`).Scan(&payloads, &records); err != nil {
			t.Fatal(err)
		}
		return payloads, records
	}
	if p, r := counts(); p != 0 || r != 0 {
		t.Fatalf("the failed import left %d payloads and %d records, want none: half written", p, r)
	}
	again := time.Now()
	if msg, err := exec.Command(bin, "import", "--provider", "kopokopo", "--file", file, "--database-url", dbURL, "--log-format", "json").CombinedOutput(); err != nil {
		t.Fatalf("import again: %v\n%s", err, msg)
	}
	t.Logf("imported %d payloads again in %s", n, time.Since(again).Round(time.Millisecond))
	if p, r := counts(); p != n || r != n {
		t.Errorf("after importing again: %d payloads and %d records, want %d of each", p, r, n)
	}
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
