// Command webhookload (a Kopo Kopo tool: it signs as Kopo Kopo does) drives a Mizani webhook receiver with unique, correctly
// signed Kopo Kopo webhooks from a process of its own, on loopback only, and
// reports what it measured: durable webhooks per second, latency
// percentiles, status counts, and whether the store holds exactly the
// webhooks answered 200 — none lost, none doubled.
//
// With -serve it starts `reconcile serve` itself (the binary given, against
// -database-url, on a free loopback port), drives it at each concurrency of
// -c in turn and stops it with SIGTERM:
//
//	go run ./sources/kopokopo/webhookload -serve bin/reconcile -c 4,16,64 -n 20000
//
// Without -serve it drives -url, a receiver already running. Every run is
// bounded: -n webhooks or -duration, whichever comes first.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver

	"github.com/mizani/reconcile/sources/kopokopo"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "webhookload:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	url         string
	serve       string
	databaseURL string
	apiKey      string
	levels      []int
	n           int
	duration    time.Duration
	warmup      int
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("webhookload", flag.ContinueOnError)
	var o options
	var levels string
	fs.StringVar(&o.url, "url", "", "webhook URL of a running receiver, e.g. http://127.0.0.1:8080/webhooks/kopokopo (loopback only)")
	fs.StringVar(&o.serve, "serve", "", "path of a reconcile binary to start as `reconcile serve` instead of -url")
	fs.StringVar(&o.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "store the receiver writes to, checked after each run (env DATABASE_URL)")
	fs.StringVar(&o.apiKey, "api-key", "webhookload-key", "Kopo Kopo API key signing the webhooks (K2_API_KEY of the receiver)")
	fs.StringVar(&levels, "c", "16", "concurrencies to run, comma-separated")
	fs.IntVar(&o.n, "n", 20000, "webhooks per run (at most)")
	fs.DurationVar(&o.duration, "duration", time.Minute, "longest run")
	fs.IntVar(&o.warmup, "warmup", 500, "webhooks sent before each run, not measured")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, f := range strings.Split(levels, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 || c > 4096 {
			return fmt.Errorf("-c %q: want concurrencies 1..4096", levels)
		}
		o.levels = append(o.levels, c)
	}
	if o.n < 1 || o.n > 10_000_000 {
		return errors.New("-n: want 1..10000000")
	}
	if o.databaseURL == "" {
		return errors.New("-database-url (or DATABASE_URL) is required: the run checks the store")
	}
	db, err := sql.Open("postgres", o.databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	servePID := 0
	if o.serve != "" {
		stop, u, pid, err := startServe(o)
		if err != nil {
			return err
		}
		defer stop()
		o.url, servePID = u, pid
	}
	if err := loopbackOnly(o.url); err != nil {
		return err
	}
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	fmt.Fprintf(out, "%-5s %8s %10s %8s %8s %8s %8s  %s\n", "conc", "sent", "durable/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
		"statuses; store check; CPU µs a webhook: driver / serve / postgres (all backends)")
	for _, c := range o.levels {
		prefix := fmt.Sprintf("%s-c%d", runID, c)
		if o.warmup > 0 {
			drive(o, c, fmt.Sprintf("%s-warm%d", runID, c), o.warmup, o.duration)
		}
		cpu0 := cpuNow(servePID)
		res := drive(o, c, prefix, o.n, o.duration)
		cpu := cpuNow(servePID).minus(cpu0)
		stored, err := countStored(db, prefix)
		check := "store holds every 200, nothing else"
		if err != nil {
			check = "store check failed: " + err.Error()
		} else if stored != res.codes[http.StatusOK] {
			check = fmt.Sprintf("MISMATCH: store holds %d, answered 200: %d", stored, res.codes[http.StatusOK])
		}
		per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(res.sent, 1)) }
		fmt.Fprintf(out, "%-5d %8d %10.0f %8.1f %8.1f %8.1f %8.1f  %s; %s; %.0f / %.0f / %.0f\n", c, res.sent,
			float64(res.codes[http.StatusOK])/res.elapsed.Seconds(), ms(res.pct(50)), ms(res.pct(90)), ms(res.pct(99)), ms(res.pct(100)),
			res.statuses(), check, per(cpu.self), per(cpu.serve), per(cpu.postgres))
		if err == nil && stored != res.codes[http.StatusOK] {
			return errors.New("the store does not hold exactly the webhooks answered 200")
		}
		if res.dups > 0 {
			return fmt.Errorf("%d unique webhooks were answered duplicate", res.dups)
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// loopbackOnly refuses a URL that does not name a loopback address.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("-url %q: not a URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url %q: only loopback addresses are driven", raw)
	}
	return nil
}

// result is one run's outcome.
type result struct {
	sent      int
	dups      int
	elapsed   time.Duration
	latencies []time.Duration // of every answered request
	codes     map[int]int
	errors    int
	noRetry   int // 503s without Retry-After
}

func (r result) pct(p int) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := min(len(r.latencies)-1, (len(r.latencies)*p)/100)
	return r.latencies[i]
}

func (r result) statuses() string {
	var parts []string
	for _, c := range slices.Sorted(func(yield func(int) bool) {
		for c := range r.codes {
			if !yield(c) {
				return
			}
		}
	}) {
		parts = append(parts, fmt.Sprintf("%d×%d", r.codes[c], c))
	}
	if r.errors > 0 {
		parts = append(parts, fmt.Sprintf("%d transport errors", r.errors))
	}
	if r.noRetry > 0 {
		parts = append(parts, fmt.Sprintf("%d 503 without Retry-After", r.noRetry))
	}
	return strings.Join(parts, " ")
}

// drive sends n unique webhooks (ids prefix-0…) at concurrency c, stopping
// early after d.
func drive(o options, c int, prefix string, n int, d time.Duration) result {
	var (
		next     atomic.Int64
		mu       sync.Mutex
		res      = result{codes: map[int]int{}}
		wg       sync.WaitGroup
		deadline = time.Now().Add(d)
	)
	u, _ := url.Parse(o.url)
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			codes := map[int]int{}
			var errs, dups, noRetry, sent int
			cl := &conn{host: u.Host, path: u.RequestURI()}
			defer cl.close()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || time.Now().After(deadline) {
					break
				}
				body := kopoKopoWebhook(prefix, i)
				t0 := time.Now()
				code, retryAfter, answer, err := cl.post(body, kopokopo.ComputeSignature(o.apiKey, body))
				sent++
				if err != nil {
					errs++
					continue
				}
				lat = append(lat, time.Since(t0))
				codes[code]++
				if code == http.StatusOK && bytes.Contains(answer, []byte("duplicate")) {
					dups++
				}
				if code == http.StatusServiceUnavailable && retryAfter == "" {
					noRetry++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, lat...)
			for k, v := range codes {
				res.codes[k] += v
			}
			res.errors += errs
			res.dups += dups
			res.noRetry += noRetry
			res.sent += sent
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}

// conn is one keep-alive HTTP/1.1 connection, as a provider's delivery
// worker holds: a request written in one go, the response read with
// net/http's own parser. It costs the driver a fraction of what
// http.Client does, leaving the CPU to the receiver it measures.
type conn struct {
	host, path string
	c          net.Conn
	r          *bufio.Reader
	buf        []byte
}

// post sends one webhook and returns the status, Retry-After and body of
// the answer. After an error the connection is dropped; the next post dials
// again.
func (c *conn) post(body []byte, sig string) (code int, retryAfter string, answer []byte, err error) {
	if c.c == nil {
		if c.c, err = net.DialTimeout("tcp", c.host, 5*time.Second); err != nil {
			return 0, "", nil, err
		}
		c.r = bufio.NewReaderSize(c.c, 4096)
	}
	c.buf = append(c.buf[:0], "POST "+c.path+" HTTP/1.1\r\nHost: "+c.host+
		"\r\nContent-Type: application/json\r\n"+kopokopo.SignatureHeader+": "+sig+"\r\nContent-Length: "...)
	c.buf = strconv.AppendInt(c.buf, int64(len(body)), 10)
	c.buf = append(c.buf, "\r\n\r\n"...)
	c.buf = append(c.buf, body...)
	c.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err = c.c.Write(c.buf); err != nil {
		c.close()
		return 0, "", nil, err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.close()
		return 0, "", nil, err
	}
	answer, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		c.close()
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), answer, err
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

// kopoKopoWebhook is the i-th unique buygoods webhook of a run, about 900 bytes as
// Kopo Kopo sends them.
func kopoKopoWebhook(prefix string, i int64) []byte {
	id := fmt.Sprintf("%s-%d", prefix, i)
	at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.FixedZone("EAT", 3*3600)).Add(time.Duration(i) * time.Second).Format(time.RFC3339)
	return fmt.Appendf(nil, `{"topic":"buygoods_transaction_received","id":"%s","created_at":"%s",`+
		`"event":{"type":"Buygoods Transaction","resource":{"id":"tx-%s","amount":"%d.%02d",`+
		`"status":"Received","system":"Lipa Na M-PESA","currency":"KES","reference":"R%s","till_number":"000000",`+
		`"sender_phone_number":"+254999999999","hashed_sender_phone":"cbc504704d2c654f8bf08de98945980b77567d8c611d355ca3aef480c960ad9c",`+
		`"origination_time":"%s","sender_last_name":"Doe","sender_first_name":"Jane","sender_middle_name":null}},`+
		`"_links":{"self":"https://sandbox.kopokopo.com/webhook_events/%s",`+
		`"resource":"https://sandbox.kopokopo.com/financial_transaction/tx-%s"}}`,
		id, at, id, 10+i%5000, i%100, id, at, id, id)
}

// countStored counts the run's payloads in the store.
func countStored(db *sql.DB, prefix string) (int, error) {
	var n int
	err := db.QueryRow(`SELECT count(*) FROM raw_payloads WHERE provider = 'kopokopo' AND dedup_key LIKE $1`,
		"buygoods_transaction_received:"+prefix+"-%").Scan(&n)
	return n, err
}

// startServe starts `reconcile serve` on a free loopback port against the
// store and waits until it answers /healthz. stop sends SIGTERM and waits.
func startServe(o options) (stop func(), webhookURL string, pid int, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logFile, err := os.CreateTemp("", "webhookload-serve-*.log")
	if err != nil {
		return nil, "", 0, err
	}
	cmd := exec.Command(o.serve, "serve", "--listen", addr, "--database-url", o.databaseURL, "--log-format", "json")
	cmd.Env = append(os.Environ(), kopokopo.EnvAPIKey+"="+o.apiKey)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, "", 0, err
	}
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		fmt.Fprintf(os.Stderr, "webhookload: serve stopped; its log: %s\n", logFile.Name())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop, "http://" + addr + "/webhooks/kopokopo", cmd.Process.Pid, nil
			}
		}
		select {
		case <-ctx.Done():
			stop()
			return nil, "", 0, fmt.Errorf("reconcile serve did not answer /healthz on %s within 30 s", addr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// cpuTimes is CPU time (user + system) used so far by this process, the
// serve process and every postgres process of the host.
type cpuTimes struct{ self, serve, postgres time.Duration }

func (a cpuTimes) minus(b cpuTimes) cpuTimes {
	return cpuTimes{a.self - b.self, a.serve - b.serve, a.postgres - b.postgres}
}

// cpuNow reads cpuTimes from /proc (zero where it cannot: not Linux).
func cpuNow(servePID int) cpuTimes {
	var t cpuTimes
	t.self = procCPU(os.Getpid())
	if servePID > 0 {
		t.serve = procCPU(servePID)
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			t.postgres += procCPU(pid)
		}
	}
	return t
}

// procCPU is the user + system time of process pid, from /proc/pid/stat
// (in clock ticks of 10 ms, as Linux reports them to user space).
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields follow it.
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
