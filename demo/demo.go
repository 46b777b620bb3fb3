// Package demo runs Mizani end to end on the bundled fixtures: it loads
// every registered provider's share of fixtures/ into a store, serves the
// provider simulators, pulls from them over HTTP, imports the payloads,
// reconciles the demo week and checks the reports against the planted
// discrepancies. `reconcile demo` is this package behind a flag parser.
//
// Each provider owns fixtures/<name>/ (see package fixtures): ledger.csv,
// planted.csv, and optionally bank.csv, simulator.jsonl (its simulator's
// transactions) and payloads.jsonl (payloads imported as delivered). Adding
// a provider's demo data is adding that folder: nothing here names one.
package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/jobs"
	"github.com/mizani/reconcile/matchers"
	"github.com/mizani/reconcile/reports"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/sandbox"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/csvimport"
)

// The demo's week and business zone: the fixtures cover 2026-03-02..08 in Nairobi.
const (
	From, To = "2026-03-02", "2026-03-08"
	Zone     = "Africa/Nairobi"
)

// Config configures Run.
type Config struct {
	// Store is an empty store, or one a previous demo filled.
	Store *store.Store
	// Fixtures holds one folder per provider (see the package doc).
	Fixtures fs.FS
	// Out receives the reports.
	Out string
	// Progress receives what the demo does, for a person (nil: discard).
	Progress io.Writer
	// Logger receives structured logs (nil: discard).
	Logger *slog.Logger
}

// Result is how the reported discrepancies compare with the planted ones.
type Result struct {
	// Providers are those whose fixtures the demo loaded.
	Providers []reconcile.Provider
	// Run is the reconciliation run.
	Run    jobs.RunResult
	RunCfg jobs.RunConfig
	// Planted is the number of planted discrepancies.
	Planted int
	// Missed are planted discrepancies not reported; Unexpected are
	// reported ones not planted. Both are "kind provider ledger_ref
	// provider_ref" lines.
	Missed, Unexpected []string
}

// OK reports whether the reports hold exactly the planted discrepancies.
func (r Result) OK() bool { return len(r.Missed) == 0 && len(r.Unexpected) == 0 }

// Run loads the fixtures, pulls from the simulators over HTTP, runs the
// week, writes the reports into cfg.Out and compares them with the planted
// discrepancies.
func Run(ctx context.Context, cfg Config) (Result, error) {
	var res Result
	w := cfg.Progress
	if w == nil {
		w = io.Discard
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	zone, err := time.LoadLocation(Zone)
	if err != nil {
		return res, err
	}
	week, err := reconcile.ParseWindow(From, To, zone)
	if err != nil {
		return res, err
	}
	st := cfg.Store
	var regs []*sources.Provider
	simOpts := map[reconcile.Provider]sources.SimOptions{}
	for _, reg := range sources.Registered() {
		dir := string(reg.Name)
		if _, err := fs.Stat(cfg.Fixtures, dir+"/ledger.csv"); err != nil {
			continue
		}
		regs = append(regs, reg)
		res.Providers = append(res.Providers, reg.Name)
		o := sources.SimOptions{Seed: 1, Quiet: true, Logger: log}
		if body, err := fs.ReadFile(cfg.Fixtures, dir+"/simulator.jsonl"); err == nil {
			o.Fixtures = body
		} else if !errors.Is(err, fs.ErrNotExist) {
			return res, fmt.Errorf("demo fixtures: %w", err)
		}
		simOpts[reg.Name] = o
	}
	if len(regs) == 0 {
		return res, errors.New("demo fixtures: no provider folder with a ledger.csv")
	}
	for _, reg := range regs {
		dir := string(reg.Name)
		ledger, err := importLedger(ctx, st, cfg.Fixtures, dir+"/ledger.csv", zone)
		if err != nil {
			return res, err
		}
		bank, err := importBank(ctx, st, cfg.Fixtures, dir+"/bank.csv")
		if err != nil {
			return res, err
		}
		fmt.Fprintf(w, "%s: loaded %s/ledger.csv (%d entries)", reg.DisplayName, dir, ledger)
		if bank > 0 {
			fmt.Fprintf(w, " and %s/bank.csv (%d lines)", dir, bank)
		}
		fmt.Fprintln(w)
	}

	sb, root, stop, err := startSandbox(regs, simOpts, log)
	if err != nil {
		return res, err
	}
	defer stop()
	env := sb.ClientEnv(root)
	for _, reg := range regs {
		pcfg := clientConfig(reg, env[reg.Name], root)
		if err := pull(ctx, st, reg, pcfg, week, root, w, log); err != nil {
			return res, err
		}
		imported, records, err := importPayloads(ctx, st, cfg.Fixtures, reg, pcfg)
		if err != nil {
			return res, err
		}
		if imported > 0 {
			fmt.Fprintf(w, "%s: imported %d payloads (%d records) from %s/payloads.jsonl\n", reg.DisplayName, imported, records, reg.Name)
		}
	}

	ts := sources.RegisteredTraits()
	runCfg := jobs.RunConfig{
		Window: week, Zone: zone, Providers: res.Providers, OutDir: cfg.Out,
		HeuristicProviders: ts.Heuristic, PerCompany: ts.PerCompany, Fees: matchers.FeeSchedule(ts.Fees), Logger: log,
	}
	run, err := jobs.Run(ctx, st, runCfg)
	if err != nil {
		return res, err
	}
	res.Run, res.RunCfg = run, runCfg
	fmt.Fprintf(w, "Report: %s\n", filepath.Join(cfg.Out, reports.WorkbookFile))

	planted, err := plantedRows(cfg.Fixtures, regs)
	if err != nil {
		return res, err
	}
	found, err := compare(planted, filepath.Join(cfg.Out, reports.DiscrepanciesFile))
	if err != nil {
		return res, err
	}
	found.Providers, found.Run, found.RunCfg = res.Providers, res.Run, res.RunCfg
	return found, nil
}

// clientConfig is reg's configuration for talking to its simulator: what the
// simulator says a client sets (base URL, credentials), and for any
// *_CALLBACK_URL variable the simulator did not set, the sandbox's callback
// sink. Nothing is read from the environment: the demo is its own client
// and server.
func clientConfig(reg *sources.Provider, env map[string]string, root string) sources.Config {
	cfg := reg.ConfigFrom(func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
	for _, v := range reg.Env {
		if strings.HasSuffix(v.Name, "CALLBACK_URL") && !cfg.IsSet(v.Name) {
			cfg = cfg.With(v.Name, root+"/callbacks/"+string(reg.Name))
		}
	}
	return cfg
}

// pull fetches reg's week (and look-around) from its simulator: its history
// where it has one, then status checks of what is still open.
func pull(ctx context.Context, st *store.Store, reg *sources.Provider, cfg sources.Config, week reconcile.Window, root string,
	w io.Writer, log *slog.Logger) error {
	if reg.History == nil && reg.Status == nil {
		return nil
	}
	pp, err := jobs.NewProviderPull(reg, cfg, sources.ClientOptions{RateLimit: rate.Inf, Logger: log}, 24*time.Hour, 8)
	if err != nil {
		return fmt.Errorf("demo: %s clients: %w", reg.DisplayName, err)
	}
	rep, err := jobs.PullProvider(ctx, st, pp, week.Grow(matchers.DefaultGrace))
	if err != nil {
		return fmt.Errorf("demo: pulling %s from the simulator: %w", reg.DisplayName, err)
	}
	fmt.Fprintf(w, "%s: pulled from the simulator at %s/%s:", reg.DisplayName, root, reg.Name)
	if pp.History != nil {
		fmt.Fprintf(w, " history %d payloads (%d records)", rep.History.Payloads+rep.History.Duplicates, rep.History.Records)
	}
	if pp.Status != nil {
		fmt.Fprintf(w, " status of %d references (%d known, %d records)", rep.Status.Asked, rep.Status.Found, rep.Status.Records)
	}
	fmt.Fprintln(w)
	return nil
}

// startSandbox serves the simulators of regs on a free loopback port, beside
// /callbacks/ which acknowledges and drops what the simulators post (the
// demo reads results from the API). It returns the sandbox, its root URL and
// a function that stops it all.
func startSandbox(regs []*sources.Provider, opts map[reconcile.Provider]sources.SimOptions, log *slog.Logger) (*sandbox.Server, string, func(), error) {
	names := make([]reconcile.Provider, len(regs))
	for i, r := range regs {
		names[i] = r.Name
	}
	// The demo runs with the simulators' own documented credentials,
	// whatever the environment says.
	for name, o := range opts {
		reg, _ := sources.Lookup(name)
		o.Env = map[string]string{}
		for _, v := range reg.Env {
			o.Env[v.Name] = ""
		}
		opts[name] = o
	}
	sb, err := sandbox.New(sandbox.Config{Seed: 1, Logger: log, Options: opts, Providers: names})
	if err != nil {
		return nil, "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", sb)
	mux.HandleFunc("POST /callbacks/", func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sb.Close()
		return nil, "", nil, fmt.Errorf("demo sandbox: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return sb, "http://" + ln.Addr().String(), func() {
		sb.Close() // first: it waits for callbacks in flight to the server
		srv.Close()
	}, nil
}

// importLedger imports a ledger CSV, every row valid, and returns the rows.
func importLedger(ctx context.Context, st *store.Store, fsys fs.FS, name string, zone *time.Location) (int, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return 0, fmt.Errorf("demo fixtures: %w", err)
	}
	defer f.Close()
	r, err := csvimport.NewLedgerReader(f, name, zone)
	if err != nil {
		return 0, fmt.Errorf("demo fixtures: %w", err)
	}
	res, err := st.ImportLedger(ctx, allRows(r.Next))
	if err != nil {
		return 0, fmt.Errorf("demo fixtures: importing %s: %w", name, err)
	}
	return res.New + res.Updated + res.Unchanged, nil
}

// importBank imports a bank statement CSV when the fixtures have one.
func importBank(ctx context.Context, st *store.Store, fsys fs.FS, name string) (int, error) {
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("demo fixtures: %w", err)
	}
	defer f.Close()
	r, err := csvimport.NewBankReader(f, name)
	if err != nil {
		return 0, fmt.Errorf("demo fixtures: %w", err)
	}
	res, err := st.ImportBank(ctx, allRows(r.Next))
	if err != nil {
		return 0, fmt.Errorf("demo fixtures: importing %s: %w", name, err)
	}
	return res.New + res.Existing, nil
}

// allRows yields the rows next reads until io.EOF; any bad row is an error.
func allRows[T any](next func() (T, error)) func(func(T, error) bool) {
	return func(yield func(T, error) bool) {
		for {
			v, err := next()
			if err == io.EOF {
				return
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// importPayloads imports <name>/payloads.jsonl, when the fixtures have one,
// as `reconcile import` does, and returns the payloads and records in it.
func importPayloads(ctx context.Context, st *store.Store, fsys fs.FS, reg *sources.Provider, cfg sources.Config) (payloads, records int, err error) {
	name := string(reg.Name) + "/payloads.jsonl"
	body, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("demo fixtures: %w", err)
	}
	parser, err := reg.Parser(cfg)
	if err != nil {
		return 0, 0, fmt.Errorf("demo: %s parser: %w", reg.DisplayName, err)
	}
	stats, err := jobs.ImportPayloads(ctx, st, name, bytes.NewReader(body), parser)
	if err != nil {
		return 0, 0, fmt.Errorf("demo fixtures: %w", err)
	}
	return stats.Saved + stats.Duplicates, stats.Records, nil
}

// plantedRows concatenates the providers' planted.csv files (header once).
func plantedRows(fsys fs.FS, regs []*sources.Provider) ([]byte, error) {
	var out bytes.Buffer
	for i, reg := range regs {
		body, err := fs.ReadFile(fsys, string(reg.Name)+"/planted.csv")
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("demo fixtures: %w", err)
		}
		if i > 0 || out.Len() > 0 {
			if _, rest, ok := bytes.Cut(body, []byte("\n")); ok {
				body = rest
			}
		}
		out.Write(body)
		if len(body) > 0 && body[len(body)-1] != '\n' {
			out.WriteByte('\n')
		}
	}
	return out.Bytes(), nil
}

// compare compares the discrepancies report with the planted rows: each
// planted row must be reported once with its kind, provider and ledger
// reference as the report writes them (neutralized against formula
// injection, SPEC §11), and the same set of provider references.
func compare(planted []byte, report string) (Result, error) {
	var res Result
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
