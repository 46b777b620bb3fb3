package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/matchers"
	"github.com/mizani/reconcile/reports"
	"github.com/mizani/reconcile/store"
)

// RunJob is the job name reconciliation runs are recorded under.
const RunJob = "run"

// DefaultSettlementLookBack is RunConfig.SettlementLookBack's default: a
// week, so that a provider settling weekly, or on weekdays only, is seen.
const DefaultSettlementLookBack = 7 * 24 * time.Hour

// LeastSettlementLookBack, as RunConfig.SettlementLookBack, asks for the
// least look-back: the settlement report reads back no further than the
// matcher does (the look-around, or --stale-after if longer). The CLI's
// --settlement-look-back 0 means it.
const LeastSettlementLookBack time.Duration = -1

// ErrLocked is returned when another process is already running the same job
// over the same window.
var ErrLocked = errors.New("the same job is already running for this window")

// RunConfig configures one reconciliation run.
type RunConfig struct {
	// Window is the reporting window [From, To) (required).
	Window reconcile.Window
	// Zone is the business time zone: report timestamps and settlement days
	// (default Africa/Nairobi).
	Zone *time.Location
	// Providers limits the run to these providers. Empty means every
	// provider that has a source: those in Configured, and those with
	// provider records in the window read; a provider with ledger entries
	// but neither is skipped, and the reports say so.
	Providers []reconcile.Provider
	// Configured are the providers whose pulls are configured (credentials
	// set): reconciled even when the store holds no record of theirs, so a
	// provider that sent nothing shows its ledger as missing.
	Configured []reconcile.Provider
	// Skipped are the providers a run over every provider left out for want
	// of a source (set by the run; each also has a warning).
	Skipped []reconcile.Provider
	// PerCompany lists the providers whose settlements name no account
	// (see matchers.SettlementConfig).
	PerCompany []reconcile.Provider
	// OutDir receives the reports (required); it is created if missing.
	OutDir string
	// Formats selects CSV, XLSX or both (default both).
	Formats reports.Format
	// Grace is the look-around on both sides of the window (zero means the
	// default, 24h; the command line refuses zero). The run reads both sides
	// over the matcher's ReadWindow: 2×Grace + 2×Tolerance either side.
	Grace time.Duration
	// SettlementLookBack is how far before the window the settlement report
	// reads records (zero: DefaultSettlementLookBack, 7 days;
	// LeastSettlementLookBack: the least; never less than Grace or
	// StaleAfter), to find the last settlement before the window: what the
	// window's first settlement owes is the net of the days since then. The
	// run records, and the reports print, the look-back used.
	SettlementLookBack time.Duration
	// BankLagDays is how many days after a settlement its bank credit may
	// be value-dated (see matchers.SettlementConfig; default
	// matchers.DefaultBankLagDays).
	BankLagDays int
	// HeuristicProviders, Tolerance and StaleAfter configure the matcher
	// (see matchers.Config); a zero Tolerance or StaleAfter means the
	// matcher's default, and the run records the value it used.
	HeuristicProviders []reconcile.Provider
	Tolerance          time.Duration
	StaleAfter         time.Duration
	// AsOf is the instant the data is judged at: how long a pending record
	// has been pending, and the "as of" the reports print. Default: the end
	// of the window, so re-running a past window gives the same reports
	// whenever it is run.
	AsOf time.Time
	// Fees, Rounding, SettlementTolerance and SameDaySettlement configure
	// the settlement report (see matchers.SettlementConfig).
	Fees                matchers.FeeSchedule
	Rounding            reconcile.RoundingRule
	SettlementTolerance int64
	SameDaySettlement   bool
	// XLSXMaxMatches caps match rows in report.xlsx (default 100,000).
	XLSXMaxMatches int
	// Warnings are printed on the Summary sheet and recorded with the run:
	// what the reader must know about the data, e.g. a provider whose pull
	// failed.
	Warnings []string
	// Logger receives progress; nil discards.
	Logger *slog.Logger
	// Progress, when set, is called about twice a second with how far the
	// run has read, for a terminal display.
	Progress func(Progress)

	// beforePublish, when set (tests), is called just before the reports
	// are moved into place.
	beforePublish func()
}

// Progress is how far a run has read its two streams.
type Progress struct {
	Ledger, Records int64
}

// RunResult is what a run found.
type RunResult struct {
	RunID       int64
	Stats       matchers.Stats
	Summary     []reconcile.SummaryLine
	Settlements []reconcile.SettlementDay
	// ByKind counts the discrepancies of each kind.
	ByKind map[reconcile.DiscrepancyKind]int
	// OutDir is the directory the reports were written to.
	OutDir string
	// Files are the reports written, in OutDir.
	Files []string
	// Warnings are RunConfig.Warnings, as the reports print them.
	Warnings []string
	// Skipped are the providers left out for want of a source.
	Skipped []reconcile.Provider
}

// Discrepancies is the total number of discrepancies found.
func (r RunResult) Discrepancies() int {
	n := 0
	for _, c := range r.ByKind {
		n += c
	}
	return n
}

func (c *RunConfig) validate() error {
	if !c.Window.From.Before(c.Window.To) {
		return errors.New("run: the window is empty")
	}
	if c.OutDir == "" {
		return errors.New("run: no output directory")
	}
	if c.Zone == nil {
		zone, err := time.LoadLocation("Africa/Nairobi")
		if err != nil {
			return fmt.Errorf("run: loading the default business zone: %w", err)
		}
		c.Zone = zone
	}
	c.Formats = cmp.Or(c.Formats, reports.FormatCSV|reports.FormatXLSX)
	c.Grace = cmp.Or(c.Grace, matchers.DefaultGrace)
	c.Tolerance = cmp.Or(c.Tolerance, matchers.DefaultTolerance)
	c.StaleAfter = cmp.Or(c.StaleAfter, matchers.DefaultStaleAfter)
	if c.SettlementLookBack == LeastSettlementLookBack {
		c.SettlementLookBack = c.readBack()
	}
	if c.SettlementLookBack < 0 {
		return fmt.Errorf("run: settlement look-back %s is negative", c.SettlementLookBack)
	}
	if c.BankLagDays < 0 {
		return fmt.Errorf("run: bank lag %d days is negative", c.BankLagDays)
	}
	c.BankLagDays = cmp.Or(c.BankLagDays, matchers.DefaultBankLagDays)
	c.SettlementLookBack = max(cmp.Or(c.SettlementLookBack, DefaultSettlementLookBack), c.readBack())
	if c.AsOf.IsZero() {
		c.AsOf = c.Window.To
	}
	if c.Fees == nil {
		c.Fees = matchers.DefaultFeeSchedule()
	}
	c.Rounding = cmp.Or(c.Rounding, reconcile.DefaultRounding)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// settlementFrom is where the settlement report reads from: twice the
// look-back before the window, so that each settlement of the look-back is
// judged on the days before it too (matchers.SettlementConfig.LoadedFrom).
func (c *RunConfig) settlementFrom() time.Time {
	return c.Window.From.Add(-2 * c.SettlementLookBack)
}

// readBack is how far before the window both sides are read: the matcher's
// read window (matchers.Config.ReadWindow), or further when --stale-after is
// longer, so that an item which becomes stale inside the window is seen.
func (c *RunConfig) readBack() time.Duration {
	return max(c.Window.From.Sub(c.matcherConfig().ReadWindow().From), c.StaleAfter)
}

// matcherConfig is the matcher's configuration of the run.
func (c *RunConfig) matcherConfig() matchers.Config {
	return matchers.Config{
		Window: c.Window, Grace: c.Grace, HeuristicProviders: c.HeuristicProviders,
		Tolerance: c.Tolerance, StaleAfter: c.StaleAfter, Now: c.AsOf,
	}
}

// lockKey names the advisory lock of a run over the same window and
// providers. Runs that do the same work share it: the providers are sorted
// and deduplicated, and naming every provider is the same as naming none.
func (c *RunConfig) lockKey() string {
	names := make([]string, len(c.Providers))
	for i, p := range c.Providers {
		names[i] = string(p)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	known := reconcile.Providers()
	if len(names) == len(known) && !slices.ContainsFunc(known, func(p reconcile.Provider) bool {
		_, found := slices.BinarySearch(names, string(p))
		return !found
	}) {
		names = nil
	}
	return RunJob + ":" + c.Window.String() + ":" + strings.Join(names, ",")
}

// Run reconciles the ledger against provider records over cfg.Window and
// writes the reports into cfg.OutDir. It holds an advisory lock on the window
// (ErrLocked if another process holds it) and records itself in the run
// history. The same store content and configuration always produce the same
// reports, byte for byte for the CSV files.
func Run(ctx context.Context, st *store.Store, cfg RunConfig) (RunResult, error) {
	if err := cfg.validate(); err != nil {
		return RunResult{}, err
	}
	lock := cfg.lockKey()
	held, ok, err := st.AcquireLock(ctx, lock)
	if err != nil {
		return RunResult{}, fmt.Errorf("run: taking the run lock: %w", err)
	}
	if !ok {
		return RunResult{}, ErrLocked
	}
	defer held.Release() // on early returns; released below, with its error, otherwise
	if len(cfg.Providers) == 0 {
		if err := cfg.selectProviders(ctx, st); err != nil {
			return RunResult{}, err
		}
	}

	// Everything that shapes the reports, so that the run can be repeated.
	params := map[string]any{
		"providers": cfg.Providers, "grace": cfg.Grace.String(), "as_of": cfg.AsOf,
		"zone": cfg.Zone.String(), "out": cfg.OutDir, "formats": cfg.Formats.Files(),
		"heuristic_providers": cfg.HeuristicProviders, "tolerance": cfg.Tolerance.String(),
		"stale_after": cfg.StaleAfter.String(), "fees": cfg.Fees, "rounding": cfg.Rounding,
		"settlement_tolerance": cfg.SettlementTolerance, "same_day_settlement": cfg.SameDaySettlement,
		"settlement_look_back": cfg.SettlementLookBack.String(), "bank_lag_days": cfg.BankLagDays,
		"xlsx_max_matches": cfg.XLSXMaxMatches, "warnings": cfg.Warnings,
	}
	runID, err := st.StartRun(ctx, RunJob, lock, cfg.Window, params)
	if err != nil {
		return RunResult{}, fmt.Errorf("run: recording the run: %w", err)
	}
	// The lock is lost if its connection drops: PostgreSQL releases it and
	// a second run of the window can start. The guard stops this run then;
	// the check before publishing catches a loss since its last look.
	guarded, stopGuard := held.Guard(ctx, lockCheckInterval)
	res, err := run(guarded, st, cfg, held)
	stopGuard()
	if cause := context.Cause(guarded); err != nil && errors.Is(cause, store.ErrLockLost) {
		err = lockLost(cause)
	}
	if rerr := held.Release(); rerr != nil && err == nil {
		err = fmt.Errorf("run: lost the run lock after publishing the reports; another run of the same window may have started: %w", rerr)
	}
	res.RunID = runID
	outcome := store.OutcomeSucceeded
	if err != nil {
		outcome = store.OutcomeFailed
	}
	counts := map[string]any{"stats": res.Stats, "discrepancies": res.ByKind}
	// Record the outcome even when ctx was cancelled mid-run.
	if ferr := st.FinishRun(context.WithoutCancel(ctx), runID, outcome, counts, err); ferr != nil && err == nil {
		err = fmt.Errorf("run: recording the outcome: %w", ferr)
	}
	return res, err
}

// lockCheckInterval is how often a run checks that it still holds its lock.
const lockCheckInterval = 2 * time.Second

// lockLost is the error of a run that lost its lock (store.ErrLockLost).
func lockLost(err error) error {
	return fmt.Errorf("run: lost the run lock, so another run of the same window may have started; "+
		"this run stopped without publishing its reports: %w", err)
}

func run(ctx context.Context, st *store.Store, cfg RunConfig, held *store.Lock) (RunResult, error) {
	log := cfg.Logger
	res := RunResult{ByKind: make(map[reconcile.DiscrepancyKind]int)}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return res, fmt.Errorf("run: creating %s: %w", cfg.OutDir, err)
	}
	settle, err := matchers.NewSettlement(matchers.SettlementConfig{
		Window: cfg.Window, Zone: cfg.Zone, Fees: cfg.Fees, Rounding: cfg.Rounding,
		Tolerance: cfg.SettlementTolerance, SameDay: cfg.SameDaySettlement, PerCompany: cfg.PerCompany,
		LoadedFrom: cfg.settlementFrom(), LookBack: cfg.SettlementLookBack, BankLagDays: cfg.BankLagDays,
	})
	if err != nil {
		return res, fmt.Errorf("run: %w", err)
	}
	// The bank check pairs the look-back's settlements with their credits,
	// which may come up to the bank lag after them, and looks that far
	// past a credit for the statements' reach.
	bank, err := st.BankLines(ctx, reconcile.Window{From: cfg.settlementFrom(),
		To: cfg.Window.To.Add(time.Duration(2*cfg.BankLagDays+1) * 24 * time.Hour)})
	if err != nil {
		return res, fmt.Errorf("run: reading bank lines: %w", err)
	}
	for _, b := range bank {
		if len(cfg.Providers) > 0 && !slices.Contains(cfg.Providers, b.Provider) {
			continue
		}
		if err := settle.AddBankLine(b); err != nil {
			return res, fmt.Errorf("run: bank line %d: %w", b.ID, err)
		}
	}

	dir, err := reports.Create(cfg.OutDir, cfg.Formats, reports.Options{
		Location: cfg.Zone, Rounding: cfg.Rounding, XLSXMaxMatches: cfg.XLSXMaxMatches,
		Window: cfg.Window, AsOf: cfg.AsOf,
		Facts: runFacts(cfg),
	})
	if err != nil {
		return res, fmt.Errorf("run: %w", err)
	}
	defer dir.Close()

	summary := matchers.NewSummary(cfg.Window)
	counter := &kindCounter{byKind: res.ByKind}
	out := matchers.Tee(reportOutput{dir}, summary, counter)

	// Before the look-around, the settlement report alone reads back to the
	// last settlement.
	if from := cfg.settlementFrom(); from.Before(cfg.Window.From.Add(-cfg.readBack())) {
		back := store.Filter{Providers: cfg.Providers, Window: reconcile.Window{
			From: from, To: cfg.Window.From.Add(-cfg.readBack())}}
		for r, err := range st.Records(ctx, back) {
			if err != nil {
				return res, fmt.Errorf("run: reading the settlement look-back: %w", err)
			}
			if err := settle.AddRecord(r); err != nil {
				return res, fmt.Errorf("run: settlement of %s %s %s: %w", r.Provider, r.Kind, r.TxID, err)
			}
		}
	}
	// A payment before the look-back that was first seen reversed since
	// counts its reversal, on the day it was seen.
	late := store.Filter{Providers: cfg.Providers, Window: reconcile.Window{From: cfg.settlementFrom(), To: cfg.Window.To}}
	for r, err := range st.LateReversals(ctx, late) {
		if err != nil {
			return res, fmt.Errorf("run: reading late reversals: %w", err)
		}
		if err := settle.AddRecord(r); err != nil {
			return res, fmt.Errorf("run: settlement of %s %s %s: %w", r.Provider, r.Kind, r.TxID, err)
		}
	}
	mcfg := cfg.matcherConfig()
	// A reversal of a payment before the window read is judged against
	// the payment as stored, so that every run judges it alike.
	mcfg.Payment = st.PaymentByTxID
	read := mcfg.ReadWindow()
	read.From = cfg.Window.From.Add(-cfg.readBack())
	filter := store.Filter{Window: read, Providers: cfg.Providers}
	meter := newMeter(cfg.Progress, log)
	ledger := count(prefetch(ctx, st.LedgerEntries(ctx, filter)), &meter.ledger, meter.tick)
	settleRecord := func(r reconcile.Record) error {
		if err := settle.AddRecord(r); err != nil {
			return fmt.Errorf("settlement of %s %s %s: %w", r.Provider, r.Kind, r.TxID, err)
		}
		return nil
	}
	// The settlement report takes each record on the reading goroutine,
	// beside the matcher; its result is read once Match has returned, after
	// prefetch has waited for that goroutine to end.
	records := count(prefetch(ctx, matchers.Tap(st.Records(ctx, filter), settleRecord)), &meter.records, meter.tick)

	start := time.Now()
	log.Info("matching", "window", cfg.Window.String(), "providers", cfg.Providers, "out", cfg.OutDir)
	res.Stats, err = matchers.Match(ctx, mcfg, ledger, records, out)
	if err != nil {
		return res, fmt.Errorf("run: matching: %w", err)
	}
	days, variances := settle.Result()
	if err := settle.Err(); err != nil {
		return res, fmt.Errorf("run: settlement: %w", err)
	}
	for _, d := range variances {
		if err := out.Discrepancy(d); err != nil {
			return res, fmt.Errorf("run: writing a settlement discrepancy: %w", err)
		}
	}
	res.Stats.Discrepancies += len(variances)
	log.Info("matched", "ledger", res.Stats.Ledger, "records", res.Stats.Records, "matches", res.Stats.Matches,
		"discrepancies", res.Stats.Discrepancies, "settlement_variances", len(variances),
		"elapsed", time.Since(start).Round(time.Millisecond).String())
	res.Settlements, res.Summary = days, summary.Lines()
	if cfg.beforePublish != nil {
		cfg.beforePublish()
	}
	// Publish only under the lock: without it, another run of the window
	// may be writing the same directory.
	if err := held.Check(ctx); err != nil {
		if errors.Is(err, store.ErrLockLost) {
			return res, lockLost(err)
		}
		return res, fmt.Errorf("run: checking the run lock: %w", err)
	}
	if err := dir.Finish(res.Summary, res.Settlements); err != nil {
		return res, fmt.Errorf("run: writing reports: %w", err)
	}
	res.OutDir, res.Files, res.Warnings, res.Skipped = cfg.OutDir, cfg.Formats.Files(), cfg.Warnings, cfg.Skipped
	return res, nil
}

// reportOutput feeds a run's matches and discrepancies to its reports.
type reportOutput struct{ dir *reports.Dir }

func (r reportOutput) Match(m reconcile.Match) error             { return r.dir.WriteMatch(m) }
func (r reportOutput) Discrepancy(d reconcile.Discrepancy) error { return r.dir.WriteDiscrepancy(d) }

// kindCounter counts discrepancies by kind.
type kindCounter struct {
	byKind map[reconcile.DiscrepancyKind]int
}

func (k *kindCounter) Match(reconcile.Match) error { return nil }
func (k *kindCounter) Discrepancy(d reconcile.Discrepancy) error {
	k.byKind[d.Kind]++
	return nil
}

// runFacts are the lines a run adds to the Summary sheet: its warnings
// first, then its settings and how to read the totals.
func runFacts(cfg RunConfig) []reports.Fact {
	var facts []reports.Fact
	for _, w := range cfg.Warnings {
		facts = append(facts, reports.Fact{Label: "WARNING", Value: w})
	}
	return append(facts,
		reports.Fact{Label: "Look-around (grace)", Value: cfg.Grace.String()},
		reports.Fact{Label: "Settlement tolerance (minor units)", Value: fmt.Sprint(cfg.SettlementTolerance)},
		reports.Fact{Label: "Settlement look-back", Value: cfg.SettlementLookBack.String()},
		reports.Fact{Label: "Bank credit lag (days after a settlement)", Value: fmt.Sprint(cfg.BankLagDays)},
		reports.Fact{Label: "Totals", Value: "net for the merchant: money in counts positive, payouts and reversals negative"},
		reports.Fact{Label: "Counts", Value: "ledger and provider counts cover every item of the window, failed and pending ones too; totals only what says money moved"},
	)
}

// noProvider is a provider name no source can have: a run whose window holds
// nothing with a source filters on it and so reads nothing.
const noProvider reconcile.Provider = "(none)"

// selectProviders picks the providers a run over every provider
// reconciles: those configured and those with provider records in the
// window read. A provider with ledger entries but no source would only
// produce false "missing at provider" rows: it is skipped, with a warning
// that says how to force it.
func (c *RunConfig) selectProviders(ctx context.Context, st *store.Store) error {
	read := c.Window.Grow(c.readBack())
	present, err := st.Presence(ctx, read)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	var chosen []reconcile.Provider
	for p, n := range present.Records {
		if n > 0 {
			chosen = append(chosen, p)
		}
	}
	for _, p := range c.Configured {
		if !slices.Contains(chosen, p) {
			chosen = append(chosen, p)
		}
	}
	var skipped []reconcile.Provider
	for p, n := range present.Ledger {
		if n > 0 && !slices.Contains(chosen, p) {
			skipped = append(skipped, p)
		}
	}
	byOrder := func(a, b reconcile.Provider) int {
		return cmp.Or(cmp.Compare(reconcile.ProviderOrder(a), reconcile.ProviderOrder(b)), strings.Compare(string(a), string(b)))
	}
	slices.SortFunc(chosen, byOrder)
	slices.SortFunc(skipped, byOrder)
	last := c.Window.To.Add(-time.Nanosecond).In(c.Zone)
	span := c.Window.From.In(c.Zone).Format(time.DateOnly) + " to " + last.Format(time.DateOnly)
	for _, p := range skipped {
		c.Warnings = append(c.Warnings, fmt.Sprintf(
			"%s: no provider records for %s (%d ledger entries) and no pull configured, not reconciled; --provider %s to force",
			p.DisplayName(), span, present.Ledger[p], p))
	}
	c.Skipped = skipped
	if len(chosen) == 0 {
		chosen = []reconcile.Provider{noProvider}
	}
	c.Providers = chosen
	return nil
}
