package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"
	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/fixtures"
	"github.com/mizani/reconcile/jobs"
	"github.com/mizani/reconcile/matchers"
	"github.com/mizani/reconcile/reports"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/sources/sandbox"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/csvimport"
)

func init() { register(newDemoCmd) }

// The demo's week and business zone: the fixtures cover 2026-03-02..08 in Nairobi.
const (
	demoFrom, demoTo = "2026-03-02", "2026-03-08"
	demoZone         = "Africa/Nairobi"
	// demoName is the database (local server) or schema (DATABASE_URL) the
	// demo drops and recreates, so it never touches other data.
	demoName = "mizani_demo"
)

// demoProviders are the providers the demo reconciles: those with a
// simulator to pull from. Each has its data under fixtures/<provider>/.
var demoProviders = []reconcile.Provider{reconcile.KopoKopo}

// demoOptions are the flags of `demo`.
type demoOptions struct {
	out      string
	fixtures string
}

func newDemoCmd(a *app) *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run Mizani end to end on a week of demo data with planted discrepancies",
		Long: `Runs the whole pipeline on the fixtures: migrates a store, imports the ledger
and bank statement, starts the provider simulators in-process, pulls from them
over HTTP, imports the provider payloads, reconciles 2026-03-02..08 and writes
the reports into --out. Then it checks that every discrepancy planted in the
fixtures (fixtures/planted.csv) was reported with the right kind, and no other.

The store: with DATABASE_URL (or --database-url) the demo uses its own schema,
mizani_demo, which it drops and recreates; else a database mizani_demo, dropped
and recreated, on PostgreSQL at 127.0.0.1:5432; else a throwaway PostgreSQL
container when Docker is available. So two demos give identical reports.

Exit codes: 0 the reports hold exactly the planted discrepancies, 1 they do
not, or the demo could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.demo(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "demo-out", "directory for the reports")
	f.StringVar(&o.fixtures, "fixtures", "", "directory of demo fixtures (default: the ones built in, as in fixtures/)")
	return cmd
}

func (a *app) demo(cmd *cobra.Command, o demoOptions) error {
	ctx := cmd.Context()
	w := cmd.OutOrStdout()
	fsys := fs.FS(fixtures.FS)
	if o.fixtures != "" {
		fsys = os.DirFS(o.fixtures)
	}
	explicit := cmd.Flags().Changed("database-url") || os.Getenv("DATABASE_URL") != ""
	db, err := a.demoDatabase(ctx, explicit)
	if err != nil {
		return err
	}
	defer db.close()
	fmt.Fprintf(w, "Store: %s\n", db.where)
	res, err := runDemo(ctx, demoConfig{DatabaseURL: db.url, Fixtures: fsys, Out: o.out, Logger: a.logger}, w)
	if err != nil {
		return err
	}
	if !res.ok() {
		return errors.New("the reports do not hold exactly the planted discrepancies")
	}
	return nil
}

// demoConfig configures runDemo.
type demoConfig struct {
	// DatabaseURL names an empty store, or one a previous demo filled.
	DatabaseURL string
	// Fixtures holds ledger.csv, bank.csv, planted.csv and <provider>/ data.
	Fixtures fs.FS
	// Out receives the reports.
	Out    string
	Logger *slog.Logger
}

// demoResult is how the reported discrepancies compare with the planted ones.
type demoResult struct {
	Planted int
	// Missed are planted discrepancies not reported; Unexpected are
	// reported ones not planted. Both are "kind provider ledger_ref
	// provider_ref" lines.
	Missed, Unexpected []string
}

func (r demoResult) ok() bool { return len(r.Missed) == 0 && len(r.Unexpected) == 0 }

// runDemo loads the fixtures into the store at cfg.DatabaseURL, pulls from
// the simulators over HTTP, runs the week, writes the reports into cfg.Out
// and compares them with planted.csv, printing what it does to w.
func runDemo(ctx context.Context, cfg demoConfig, w io.Writer) (demoResult, error) {
	var res demoResult
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	zone, err := time.LoadLocation(demoZone)
	if err != nil {
		return res, err
	}
	week, err := reconcile.ParseWindow(demoFrom, demoTo, zone)
	if err != nil {
		return res, err
	}
	a := &app{databaseURL: cfg.DatabaseURL, logger: log}
	st, err := a.openStore(ctx)
	if err != nil {
		return res, err
	}
	defer st.Close()

	ledger, err := demoLedger(ctx, st, cfg.Fixtures, zone)
	if err != nil {
		return res, err
	}
	bank, err := demoBank(ctx, st, cfg.Fixtures)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(w, "Loaded ledger.csv (%d entries) and bank.csv (%d lines)\n", ledger, bank)

	addr, stop, err := startDemoSandbox(cfg.Fixtures, log)
	if err != nil {
		return res, err
	}
	defer stop()
	for _, p := range demoProviders {
		pulled, err := demoPull(ctx, st, p, addr, week, log)
		if err != nil {
			return res, err
		}
		imported, records, err := demoImport(ctx, st, cfg.Fixtures, p)
		if err != nil {
			return res, err
		}
		fmt.Fprintf(w, "%s: pulled %d polling results (%d records) from the simulator at http://%s/%s; imported %d payloads (%d records) from %s/payloads.jsonl\n",
			p.DisplayName(), pulled.Payloads+pulled.Duplicates, pulled.Records, addr, p, imported, records, p)
	}

	runCfg := jobs.RunConfig{
		Window: week, Zone: zone, Providers: demoProviders, OutDir: cfg.Out,
		HeuristicProviders: matchers.DefaultHeuristicProviders, Logger: log,
	}
	run, err := jobs.Run(ctx, st, runCfg)
	if err != nil {
		return res, err
	}
	printRunSummary(w, runCfg, run)
	fmt.Fprintf(w, "Report: %s\n", filepath.Join(cfg.Out, reports.WorkbookFile))

	if res, err = checkPlanted(cfg.Fixtures, filepath.Join(cfg.Out, reports.DiscrepanciesFile)); err != nil {
		return res, err
	}
	if res.ok() {
		fmt.Fprintf(w, "Planted: all %d planted discrepancies found with the right kind, no others\n", res.Planted)
		return res, nil
	}
	fmt.Fprintf(w, "Planted: %d planted, %d not reported, %d reported but not planted\n", res.Planted, len(res.Missed), len(res.Unexpected))
	for _, m := range res.Missed {
		fmt.Fprintf(w, "  not reported: %s\n", m)
	}
	for _, u := range res.Unexpected {
		fmt.Fprintf(w, "  not planted:  %s\n", u)
	}
	return res, nil
}

// demoLedger imports ledger.csv and returns the number of rows.
func demoLedger(ctx context.Context, st *store.Store, fsys fs.FS, zone *time.Location) (int, error) {
	f, err := fsys.Open("ledger.csv")
	if err != nil {
		return 0, fmt.Errorf("demo fixtures: %w", err)
	}
	defer f.Close()
	r, err := csvimport.NewLedgerReader(f, "ledger.csv", zone)
	if err != nil {
		return 0, fmt.Errorf("demo fixtures: %w", err)
	}
	res, err := st.ImportLedger(ctx, validRows(r.Next, func(le *csvimport.LineError) error { return le }, false))
	if err != nil {
		return 0, fmt.Errorf("demo fixtures: importing the ledger: %w", err)
	}
	return res.New + res.Updated + res.Unchanged, nil
}

// demoBank imports bank.csv and returns the number of lines.
func demoBank(ctx context.Context, st *store.Store, fsys fs.FS) (int, error) {
	f, err := fsys.Open("bank.csv")
	if err != nil {
		return 0, fmt.Errorf("demo fixtures: %w", err)
	}
	defer f.Close()
	r, err := csvimport.NewBankReader(f, "bank.csv")
	if err != nil {
		return 0, fmt.Errorf("demo fixtures: %w", err)
	}
	res, err := st.ImportBank(ctx, validRows(r.Next, func(le *csvimport.LineError) error { return le }, false))
	if err != nil {
		return 0, fmt.Errorf("demo fixtures: importing the bank statement: %w", err)
	}
	return res.New + res.Existing, nil
}

// demoTill is the Kopo Kopo till of the fixtures.
const demoTill = "K555123"

// startDemoSandbox serves the simulators, with the fixtures' transactions
// only, on a free loopback port, beside /callbacks/ which acknowledges and
// drops the results the simulators post (the demo reads them from their
// Location). It returns the address and a function that stops it all.
func startDemoSandbox(fsys fs.FS, log *slog.Logger) (string, func(), error) {
	f, err := fsys.Open("kopokopo/transactions.jsonl")
	if err != nil {
		return "", nil, fmt.Errorf("demo fixtures: %w", err)
	}
	txs, err := kopokopo.LoadTransactions(f)
	f.Close()
	if err != nil {
		return "", nil, fmt.Errorf("demo fixtures: kopokopo/transactions.jsonl: %w", err)
	}
	sb := sandbox.New(sandbox.Config{Seed: 1, Logger: log, KopoKopo: kopokopo.SimConfig{
		// The documented sandbox credentials, whatever K2_* says: the demo
		// is its own client and server.
		ClientID: kopokopo.SimClientID, ClientSecret: kopokopo.SimClientSecret, APIKey: kopokopo.SimAPIKey,
		Tills: []string{demoTill}, PerHour: -1, Extra: txs,
	}})
	mux := http.NewServeMux()
	mux.Handle("/", sb)
	mux.HandleFunc("POST /callbacks/", func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sb.Close()
		return "", nil, fmt.Errorf("demo sandbox: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return ln.Addr().String(), func() {
		sb.Close() // first: it waits for callbacks in flight to the server
		srv.Close()
	}, nil
}

// demoPull pulls provider p's week from the simulator at addr over HTTP.
func demoPull(ctx context.Context, st *store.Store, p reconcile.Provider, addr string, week reconcile.Window, log *slog.Logger) (sources.PullStats, error) {
	if p != reconcile.KopoKopo {
		return sources.PullStats{}, fmt.Errorf("demo: no simulator for %s", p.DisplayName())
	}
	client, err := kopokopo.New(kopokopo.Config{
		BaseURL: "http://" + addr + "/kopokopo", ClientID: kopokopo.SimClientID, ClientSecret: kopokopo.SimClientSecret,
		CallbackURL: "http://" + addr + "/callbacks/kopokopo", RateLimit: rate.Inf, PollInterval: 20 * time.Millisecond, Logger: log,
	})
	if err != nil {
		return sources.PullStats{}, err
	}
	puller := kopokopo.Puller{Client: client}
	stats, err := sources.PullWindow(ctx, sources.PullJob{
		Provider: p, Scope: puller.Scope(), Puller: puller, Sink: st, Checkpoints: st, Workers: 4, Logger: log,
	}, week)
	if err != nil {
		return stats, fmt.Errorf("demo: pulling %s from the simulator: %w", p.DisplayName(), err)
	}
	return stats, nil
}

// demoImport imports <p>/payloads.jsonl, when the fixtures have one, as
// `reconcile import` does, and returns the payloads and records in it.
func demoImport(ctx context.Context, st *store.Store, fsys fs.FS, p reconcile.Provider) (payloads, records int, err error) {
	name := string(p) + "/payloads.jsonl"
	body, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("demo fixtures: %w", err)
	}
	parser, ok := parsers[p]
	if !ok {
		return 0, 0, fmt.Errorf("demo fixtures: %s: no parser for %s", name, p.DisplayName())
	}
	var batch []store.Parsed
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, maxImportLine)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		payload, recs, err := parser.Parse(bytes.Clone(text), reconcile.SourceImport)
		if err != nil {
			return 0, 0, fmt.Errorf("demo fixtures: %s:%d: %w", name, line, err)
		}
		batch = append(batch, store.Parsed{Payload: payload, Records: recs})
		records += len(recs)
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("demo fixtures: reading %s: %w", name, err)
	}
	if _, _, err := st.SaveBatch(ctx, batch); err != nil {
		return 0, 0, fmt.Errorf("demo: importing %s: %w", name, err)
	}
	return len(batch), records, nil
}

// checkPlanted compares the discrepancies report with planted.csv: each
// planted row must be reported once with its kind, provider and ledger
// reference as the report writes them (neutralized against formula
// injection, SPEC §11), and the same set of provider references.
func checkPlanted(fsys fs.FS, report string) (demoResult, error) {
	var res demoResult
	planted, err := fs.ReadFile(fsys, "planted.csv")
	if err != nil {
		return res, fmt.Errorf("demo fixtures: %w", err)
	}
	want, err := readKeyed(bytes.NewReader(planted), "planted.csv", true)
	if err != nil {
		return res, err
	}
	f, err := os.Open(report)
	if err != nil {
		return res, err
	}
	defer f.Close()
	got, err := readKeyed(f, report, false)
	if err != nil {
		return res, err
	}
	res.Planted = len(want)
	for _, k := range want {
		if i := slices.Index(got, k); i >= 0 {
			got = slices.Delete(got, i, i+1)
		} else {
			res.Missed = append(res.Missed, k)
		}
	}
	res.Unexpected = got
	return res, nil
}

// readKeyed reads a CSV with columns kind, provider, ledger_reference and
// provider_reference, and returns one key per row: those four, the provider
// references as a sorted set. Planted references are neutralized first,
// as the reports must have written them.
func readKeyed(r io.Reader, name string, planted bool) ([]string, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("reading %s: no header", name)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, c := range []string{"kind", "provider", "ledger_reference", "provider_reference"} {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("reading %s: no column %s", name, c)
		}
	}
	keys := make([]string, 0, len(rows)-1)
	for _, row := range rows[1:] {
		ledgerRef, refs := row[col["ledger_reference"]], row[col["provider_reference"]]
		if planted {
			ledgerRef = neutralized(ledgerRef)
		}
		set := slices.Compact(slices.Sorted(slices.Values(strings.Split(refs, ";"))))
		keys = append(keys, strings.Join([]string{row[col["kind"]], row[col["provider"]], ledgerRef, strings.Join(set, ";")}, " "))
	}
	return keys, nil
}

// neutralized is s as the reports write a text cell: with a leading quote
// when it begins with '=', '+', '-', '@', tab or CR (SPEC §11).
func neutralized(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// demoDB is the store the demo runs on.
type demoDB struct {
	url   string
	where string // for the user; never the URL, which may hold a password
	close func()
}

// demoDatabase finds the demo a store (see the command's help): an
// explicitly named database gets schema mizani_demo, else the local server
// database mizani_demo, else a Docker container.
func (a *app) demoDatabase(ctx context.Context, explicit bool) (demoDB, error) {
	if explicit {
		u, err := recreateSchema(ctx, a.databaseURL, demoName)
		if err != nil {
			return demoDB{}, fmt.Errorf("demo store: DATABASE_URL: %w", err)
		}
		return demoDB{u, "schema " + demoName + " of the database DATABASE_URL names (dropped and recreated)", func() {}}, nil
	}
	u, localErr := recreateDatabase(ctx, a.databaseURL, demoName)
	if localErr == nil {
		return demoDB{u, "database " + demoName + " on the PostgreSQL at 127.0.0.1:5432 (dropped and recreated)", func() {}}, nil
	}
	if !errors.Is(localErr, errUnreachable) {
		return demoDB{}, fmt.Errorf("demo store: preparing database %s on 127.0.0.1:5432: %w", demoName, localErr)
	}
	db, dockerErr := demoContainer()
	if dockerErr == nil {
		return db, nil
	}
	return demoDB{}, fmt.Errorf(`the demo needs PostgreSQL and found none:
  DATABASE_URL is unset;
  nothing usable answers at 127.0.0.1:5432 (%v);
  Docker is not available (%v).
Do one of these, then run the demo again:
  - start PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres (.ci/run shows how);
  - export DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DB?sslmode=disable (the demo
    uses only its own schema, %s, in that database);
  - start Docker, and the demo runs a throwaway postgres:16 container`, localErr, dockerErr, demoName)
}

// recreateSchema drops and creates schema in the database rawURL names and
// returns rawURL with search_path set to it (lib/pq sends unknown URL
// parameters as run-time parameters of every connection).
func recreateSchema(ctx context.Context, rawURL, schema string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", errors.New("want a postgres:// URL")
	}
	q := quoted(schema)
	if err := execOn(ctx, rawURL, "DROP SCHEMA IF EXISTS "+q+" CASCADE", "CREATE SCHEMA "+q); err != nil {
		return "", err
	}
	params := u.Query()
	params.Set("search_path", schema)
	u.RawQuery = params.Encode()
	return u.String(), nil
}

// recreateDatabase drops and creates database name on the server rawURL
// points at and returns the URL of the new database.
func recreateDatabase(ctx context.Context, rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	q := quoted(name)
	// WITH (FORCE) ends other sessions on the demo database, e.g. a psql
	// left open on it after the last demo.
	if err := execOn(ctx, rawURL, "DROP DATABASE IF EXISTS "+q+" WITH (FORCE)", "CREATE DATABASE "+q); err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func quoted(name string) string { return pq.QuoteIdentifier(name) }

// errUnreachable means no PostgreSQL answered within the probe timeout.
var errUnreachable = errors.New("no PostgreSQL answered")

// execOn runs statements, one after another, on the database rawURL names.
// A server that does not answer within 5 seconds is errUnreachable; once it
// has answered, the statements get two minutes (DROP DATABASE waits for a
// checkpoint, which takes a while on a busy server).
func execOn(ctx context.Context, rawURL string, statements ...string) error {
	db, err := sql.Open("postgres", rawURL)
	if err != nil {
		return err
	}
	defer db.Close()
	pingCtx, cancelPing := context.WithTimeout(ctx, 5*time.Second)
	defer cancelPing()
	if err := db.PingContext(pingCtx); err != nil {
		return fmt.Errorf("%w: %w", errUnreachable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, s := range statements {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// demoContainer starts a throwaway PostgreSQL in Docker, removed when the
// demo ends (and by Docker after ten minutes at the latest).
func demoContainer() (demoDB, error) {
	pool, err := dockertest.NewPool("")
	if err == nil {
		err = pool.Client.Ping()
	}
	if err != nil {
		return demoDB{}, err
	}
	res, err := pool.RunWithOptions(&dockertest.RunOptions{
		Repository: "postgres", Tag: "16-alpine",
		Env: []string{"POSTGRES_HOST_AUTH_METHOD=trust", "POSTGRES_DB=" + demoName},
	}, func(hc *docker.HostConfig) {
		hc.AutoRemove = true
		hc.RestartPolicy = docker.RestartPolicy{Name: "no"}
	})
	if err != nil {
		return demoDB{}, fmt.Errorf("starting a postgres container: %w", err)
	}
	_ = res.Expire(600)
	u := fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", res.GetHostPort("5432/tcp"), demoName)
	pool.MaxWait = 2 * time.Minute
	if err := pool.Retry(func() error { return execOn(context.Background(), u, "SELECT 1") }); err != nil {
		pool.Purge(res)
		return demoDB{}, fmt.Errorf("waiting for the postgres container: %w", err)
	}
	return demoDB{u, "a throwaway PostgreSQL container (removed when the demo ends)", func() { pool.Purge(res) }}, nil
}
