package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/store/pgtest"
)

// TestWebhooksBackendTerminated: `reconcile serve`, run as its own process,
// takes signed Kopo Kopo webhooks from eight concurrent senders while its
// PostgreSQL backends are terminated again and again. Every webhook answered
// 200 must be stored exactly once; every other answer must be one a provider
// retries (5xx) and must have stored nothing; and the refused ones, sent
// again once the database is left alone (as the provider retries), are all
// stored, so that the store ends with every webhook exactly once.
func TestWebhooksBackendTerminated(t *testing.T) {
	t.Parallel()
	bin := reconcileBinary(t)
	base := pgtest.URL(t)
	dbURL, app := withAppName(t, base)
	check, err := sql.Open("postgres", base) // same schema, other application name
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()

	const key = "faults-webhook-key"
	const n, terminations = 800, 60
	file := filepath.Join(t.TempDir(), "webhooks.jsonl")
	writeKopoKopoLines(t, file, n)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	var bodies [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		bodies = append(bodies, append([]byte(nil), sc.Bytes()...))
	}
	f.Close()
	if len(bodies) != n {
		t.Fatalf("%d webhooks written, want %d", len(bodies), n)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--listen", addr, "--database-url", dbURL, "--log-format", "json")
	cmd.Env = append(os.Environ(), kopokopo.EnvAPIKey+"="+key)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	client := &http.Client{Timeout: 10 * time.Second}
	if !waitFor(t, 20*time.Second, func() bool {
		resp, err := client.Get("http://" + addr + "/livez")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}) {
		t.Fatalf("serve never came up:\n%s", logs.String())
	}
	post := func(body []byte) (int, error) {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/kopokopo", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(kopokopo.SignatureHeader, kopokopo.ComputeSignature(key, body))
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	// The terminator: every 25 ms, end every backend serve holds, until
	// the senders are done or it has done so terminations times.
	var terminated atomic.Int64
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for range terminations {
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
			var k int64
			if err := check.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&k); err != nil {
				t.Error(err)
				return
			}
			terminated.Add(k)
		}
	}()
	codes := make([]int, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				code, err := post(bodies[i])
				if err != nil {
					code = -1 // no answer: the sender cannot know, and retries
				}
				codes[i] = code
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(stop)
	<-stopped

	byCode := map[int]int{}
	for _, c := range codes {
		byCode[c]++
	}
	t.Logf("%d webhooks in %s with %d backends terminated: answers %v", n, took.Round(time.Millisecond), terminated.Load(), byCode)
	if terminated.Load() == 0 {
		t.Fatal("no backend was terminated: the test proves nothing")
	}
	if byCode[http.StatusOK] == 0 {
		t.Fatal("no webhook was stored under the faults")
	}

	// Stored, by webhook: each dedup key is topic:id.
	storedOnce := func() map[string]int {
		rows, err := check.Query(`SELECT dedup_key, count(*) FROM raw_payloads GROUP BY dedup_key`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var k string
			var c int
			if err := rows.Scan(&k, &c); err != nil {
				t.Fatal(err)
			}
			out[k] = c
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	dedup := func(i int) string { return fmt.Sprintf("buygoods_transaction_received:2133dbfb-24b9-40fc-%012d", i) }
	got := storedOnce()
	var lost, phantom, refused []string
	var retry []int
	for i, c := range codes {
		switch {
		case c == http.StatusOK && got[dedup(i)] != 1:
			lost = append(lost, fmt.Sprintf("#%d stored %d times", i, got[dedup(i)]))
		case c != http.StatusOK && got[dedup(i)] != 0 && c != -1:
			phantom = append(phantom, fmt.Sprintf("#%d answered %d", i, c))
		}
		if c != http.StatusOK {
			if c >= 400 && c < 500 {
				refused = append(refused, fmt.Sprintf("#%d answered %d", i, c))
			}
			retry = append(retry, i)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d webhooks answered 200 are not stored exactly once, e.g. %s", len(lost), lost[0])
	}
	if len(phantom) > 0 {
		t.Errorf("%d webhooks answered with an error were stored anyway, e.g. %s", len(phantom), phantom[0])
	}
	if len(refused) > 0 {
		t.Errorf("%d valid, signed webhooks were refused with a 4xx the provider will not retry, e.g. %s", len(refused), refused[0])
	}
	// The provider retries what was not answered 200; the database is left
	// alone now.
	for _, i := range retry {
		if code, err := post(bodies[i]); err != nil || code != http.StatusOK {
			t.Fatalf("webhook #%d sent again: %d, %v; want 200", i, code, err)
		}
	}
	got = storedOnce()
	var counts []int
	for _, c := range got {
		counts = append(counts, c)
	}
	sort.Ints(counts)
	if len(got) != n || counts[0] != 1 || counts[len(counts)-1] != 1 {
		t.Errorf("after the retries: %d distinct webhooks stored (want %d), each between %d and %d times (want once)", len(got), n, counts[0], counts[len(counts)-1])
	}
	var records int
	if err := check.QueryRow(`SELECT count(*) FROM provider_records`).Scan(&records); err != nil {
		t.Fatal(err)
	}
	if records != n {
		t.Errorf("%d records after the retries, want %d", records, n)
	}
	if strings.Contains(logs.String(), "panic") {
		t.Errorf("serve panicked:\n%s", logs.String())
	}
}
