package main

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/store/pgtest"
)

// lockedBuffer is a bytes.Buffer safe to read while a command writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSandbox runs `reconcile sandbox` on a free port until the test ends
// and returns its URL.
func startSandbox(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int)
	go func() {
		done <- execute(ctx, append([]string{"sandbox", "--listen", "127.0.0.1:0", "--log-format", "json"}, args...), out, errb)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("sandbox exited %d: %s", code, errb.String())
		}
	})
	re := regexp.MustCompile(`listening on (http://\S+)`)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("sandbox did not start: %s", errb.String())
	return ""
}

// TestPullFromSandbox is not parallel: it sets the K2_* environment.
func TestPullFromSandbox(t *testing.T) {
	t.Setenv(kopokopo.EnvClientID, "cli-test-id")
	t.Setenv(kopokopo.EnvClientSecret, "cli-test-secret-NEVER-PRINTED")
	t.Setenv(kopokopo.EnvAPIKey, "cli-test-api-key")
	sandboxURL := startSandbox(t, "--seed", "5", "--fault-5xx", "0.1", "--fault-malformed", "0.2")
	t.Setenv("K2_BASE_URL", sandboxURL+"/kopokopo")
	t.Setenv("K2_TILL", "000000")
	dbURL := pgtest.URL(t)
	db := sqlx.MustOpen("postgres", dbURL)
	t.Cleanup(func() { db.Close() })

	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		args = append([]string{"pull", "--provider", "kopokopo",
			"--database-url", dbURL, "--log-format", "json", "--rate", "1000"}, args...)
		code := execute(context.Background(), args, &out, &errb)
		return code, out.String(), errb.String()
	}
	records := func() (n int, total int64) {
		if err := db.QueryRow(`SELECT count(*), COALESCE(sum(amount_minor), 0) FROM provider_records`).Scan(&n, &total); err != nil {
			t.Fatal(err)
		}
		return n, total
	}

	code, out, errs := run("--from", "2026-03-01", "--to", "2026-03-02")
	if code != exitOK {
		t.Fatalf("pull exited %d: %s%s", code, out, errs)
	}
	if !strings.Contains(out, "kopokopo till:000000") || !strings.Contains(out, "2 chunks fetched, 0 skipped") {
		t.Errorf("pull output: %q", out)
	}
	n, total := records()
	if n == 0 {
		t.Fatal("pull stored no records")
	}
	if strings.Contains(out+errs, "cli-test-secret-NEVER-PRINTED") {
		t.Error("pull output reveals the client secret")
	}

	// Again: every chunk is done, nothing changes.
	code, out, errs = run("--from", "2026-03-01", "--to", "2026-03-02")
	if code != exitOK || !strings.Contains(out, "0 chunks fetched, 2 skipped") {
		t.Errorf("second pull exited %d: %s%s", code, out, errs)
	}
	if n2, total2 := records(); n2 != n || total2 != total {
		t.Errorf("second pull: %d records totalling %d, want %d totalling %d", n2, total2, n, total)
	}
	var pulls []string
	if err := db.Select(&pulls, `SELECT outcome FROM runs WHERE job = 'pull' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pulls, []string{"succeeded", "succeeded"}) {
		t.Errorf("run history of the two pulls: %q", pulls)
	}

	for _, tt := range []struct {
		name string
		till string
		args []string
		code int
	}{
		{"bad date", "000000", []string{"--from", "2026-13-01", "--to", "2026-03-02"}, exitBadInput},
		{"unknown provider", "000000", []string{"--provider", "kopokpo", "--from", "2026-03-01", "--to", "2026-03-02"}, exitBadInput},
		{"unknown till", "999", []string{"--from", "2026-03-01", "--to", "2026-03-01"}, exitFailure},
	} {
		t.Setenv("K2_TILL", tt.till)
		if code, out, errs := run(tt.args...); code != tt.code {
			t.Errorf("%s: exit %d, want %d: %s%s", tt.name, code, tt.code, out, errs)
		}
	}
	var failed int
	if err := db.Get(&failed, `SELECT count(*) FROM runs WHERE job = 'pull' AND outcome = 'failed' AND error <> ''`); err != nil {
		t.Fatal(err)
	}
	if failed != 1 {
		t.Errorf("%d failed pulls recorded with their error, want 1 (the unknown till)", failed)
	}
}
