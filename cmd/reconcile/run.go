package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/jobs"
	"github.com/mizani/reconcile/matchers"
	"github.com/mizani/reconcile/reports"
)

func init() { register(newRunCmd) }

// runOptions are the flags of `run`.
type runOptions struct {
	from, to, tz, asOf  string
	providers           []string
	out                 string
	formats             []string
	failOnDiscrepancy   bool
	grace, tolerance    time.Duration
	staleAfter          time.Duration
	settlementLookBack  time.Duration
	bankLagDays         int
	heuristics          []string
	rounding            string
	settlementTolerance int64
	sameDay             bool
	xlsxMaxMatches      int
	fees                []string
}

func newRunCmd(a *app) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run --from D --to D",
		Short: "Match the ledger against provider records and write the reports",
		Long: `Matches ledger entries against provider records over a window and writes
discrepancies.csv, matches.csv, summary.csv, settlements.csv and report.xlsx
into --out. Dates are whole days in --tz, both included: --from 2026-03-01
--to 2026-03-31 is all of March. RFC 3339 instants mean [from, to).

Items up to --grace outside the window are used as candidates, so a payment
made at 23:59 and confirmed at 00:01 is not reported missing. Pending records
are judged as of the end of the window (or --as-of), so re-running a past
window gives the same reports, byte for byte.

Exit codes: 0 success (discrepancies are data), 1 operational failure,
2 bad usage or input, 3 discrepancies found with --fail-on-discrepancy.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.run(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "first day (YYYY-MM-DD) or RFC 3339 instant (required)")
	f.StringVar(&o.to, "to", "", "last day, included, or RFC 3339 instant, excluded (required)")
	f.StringVar(&o.asOf, "as-of", "", "judge pending records as of this RFC 3339 instant (default: end of the window)")
	f.StringVar(&o.out, "out", envOr("RECONCILE_OUT", "reports"), "directory for the reports (env RECONCILE_OUT)")
	f.BoolVar(&o.failOnDiscrepancy, "fail-on-discrepancy", false, "exit 3 when any discrepancy is found")
	o.addTuningFlags(f)
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("to")
	return cmd
}

// addTuningFlags adds the flags that shape a run, shared by run and nightly.
func (o *runOptions) addTuningFlags(f *pflag.FlagSet) {
	f.StringVar(&o.tz, "tz", envOr("RECONCILE_TZ", "Africa/Nairobi"), "business time zone (env RECONCILE_TZ)")
	f.StringSliceVar(&o.providers, "provider", nil, "only these providers (repeat or comma-separate; default all)")
	f.StringSliceVar(&o.formats, "format", []string{"csv", "xlsx"}, "report formats: csv, xlsx")
	f.DurationVar(&o.grace, "grace", matchers.DefaultGrace, "look-around on both sides of the window")
	f.StringSliceVar(&o.heuristics, "heuristic", heuristicDefault(), "providers whose unmatched items are paired by amount, phone and time")
	f.DurationVar(&o.tolerance, "tolerance", matchers.DefaultTolerance, "time tolerance of heuristic matches")
	f.DurationVar(&o.staleAfter, "stale-after", matchers.DefaultStaleAfter, "a record pending longer than this is reported")
	f.StringVar(&o.rounding, "rounding", envOr("RECONCILE_ROUNDING", string(reconcile.DefaultRounding)), "fee rounding rule: half-even, half-up, down, up (env RECONCILE_ROUNDING)")
	f.Int64Var(&o.settlementTolerance, "settlement-tolerance", 0, "largest settlement variance not reported, in minor units")
	f.BoolVar(&o.sameDay, "same-day-settlement", false, "a settlement on day D pays what was owed up to the end of D (default: up to D-1)")
	f.DurationVar(&o.settlementLookBack, "settlement-look-back", jobs.DefaultSettlementLookBack, "how far before the window to look for the last settlement and unpaid shortfalls (at least the longest gap between settlements; 0: the least, the look-around)")
	f.IntVar(&o.bankLagDays, "bank-lag-days", matchers.DefaultBankLagDays, "how many days after a settlement its bank credit may be value-dated")
	f.IntVar(&o.xlsxMaxMatches, "xlsx-max-matches", reports.DefaultXLSXMaxMatches, "most match rows in report.xlsx (all are in matches.csv)")
	f.StringArrayVar(&o.fees, "fee", nil, `fee schedule entry "provider[:method]=PERCENT[+FIXED]", e.g. "`+feeExample()+`" (replaces the defaults)`)
}

// config turns the flags into a run configuration, or a bad-input error.
func (o runOptions) config() (jobs.RunConfig, error) {
	cfg, err := o.tuning()
	if err != nil {
		return cfg, err
	}
	if cfg.Window, err = reconcile.ParseWindow(o.from, o.to, cfg.Zone); err != nil {
		return cfg, err
	}
	if o.asOf != "" {
		if cfg.AsOf, err = time.Parse(time.RFC3339, o.asOf); err != nil {
			return cfg, fmt.Errorf("--as-of %q: want an RFC 3339 instant", o.asOf)
		}
	}
	cfg.OutDir = o.out
	return cfg, nil
}

// tuning turns the shared tuning flags into a run configuration without a
// window or output directory.
func (o runOptions) tuning() (jobs.RunConfig, error) {
	var cfg jobs.RunConfig
	zone, err := loadZone(o.tz)
	if err != nil {
		return cfg, err
	}
	providers, err := parseProviders(o.providers, "--provider")
	if err != nil {
		return cfg, err
	}
	heuristics, err := parseProviders(o.heuristics, "--heuristic")
	if err != nil {
		return cfg, err
	}
	var formats reports.Format
	for _, f := range o.formats {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "csv":
			formats |= reports.FormatCSV
		case "xlsx":
			formats |= reports.FormatXLSX
		default:
			return cfg, fmt.Errorf("--format %q: want csv, xlsx or both", f)
		}
	}
	rounding, err := reconcile.ParseRoundingRule(o.rounding)
	if err != nil {
		return cfg, fmt.Errorf("--rounding (or RECONCILE_ROUNDING): %w", err)
	}
	if o.grace < 0 || o.tolerance < 0 || o.staleAfter <= 0 || o.settlementTolerance < 0 || o.xlsxMaxMatches < 0 || o.settlementLookBack < 0 {
		return cfg, errors.New("--grace, --tolerance, --stale-after, --settlement-tolerance, --settlement-look-back and --xlsx-max-matches must not be negative")
	}
	if o.bankLagDays < 1 {
		return cfg, errors.New("--bank-lag-days must be at least 1: a credit value-dated the day after its settlement is on time")
	}
	lookBack := o.settlementLookBack
	if lookBack == 0 {
		// Zero is the least look-back, never the default: the run records
		// the one it used.
		lookBack = jobs.LeastSettlementLookBack
	}
	// Zero is not "the default": a zero grace or tolerance would join only
	// items of the very same instant, so it is refused rather than
	// silently replaced (the defaults are the flags' own).
	if o.grace == 0 || o.tolerance == 0 {
		return cfg, fmt.Errorf("--grace %s and --tolerance %s must be positive (defaults %s and %s)",
			o.grace, o.tolerance, matchers.DefaultGrace, matchers.DefaultTolerance)
	}
	if o.tolerance > o.grace {
		return cfg, fmt.Errorf("--tolerance %s must not exceed --grace %s", o.tolerance, o.grace)
	}
	var fees matchers.FeeSchedule
	if len(o.fees) > 0 {
		if fees, err = parseFees(o.fees); err != nil {
			return cfg, fmt.Errorf("--fee: %w", err)
		}
	}
	cfg = jobs.RunConfig{
		Zone: zone, Providers: providers, Formats: formats,
		Grace: o.grace, HeuristicProviders: heuristics, Tolerance: o.tolerance, StaleAfter: o.staleAfter,
		Fees: fees, Rounding: rounding, SettlementTolerance: o.settlementTolerance,
		SameDaySettlement: o.sameDay, XLSXMaxMatches: o.xlsxMaxMatches, SettlementLookBack: lookBack,
		BankLagDays: o.bankLagDays,
	}
	providerTraits(&cfg, true, len(o.fees) > 0)
	cfg.Configured = configuredProviders()
	return cfg, nil
}

func parseProviders(names []string, flag string) ([]reconcile.Provider, error) {
	var out []reconcile.Provider
	for _, n := range names {
		reg, err := lookupProvider(n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		out = append(out, reg.Name)
	}
	return out, nil
}

func (a *app) run(cmd *cobra.Command, o runOptions) error {
	cfg, err := o.config()
	if err != nil {
		return badInput(err)
	}
	ctx := cmd.Context()
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()

	progress := newProgress(a.stderr)
	progress.describe(cfg)
	cfg.Logger, cfg.Progress = progress.logger(a.logger), progress.update
	res, err := jobs.Run(ctx, st, cfg)
	progress.done()
	if err != nil {
		return err
	}
	warnIfEmpty(a.stderr, res)
	printRunSummary(cmd.OutOrStdout(), cfg, res)
	if o.failOnDiscrepancy && res.Discrepancies() > 0 {
		return &exitError{code: exitDiscrepancy, err: fmt.Errorf("%d discrepancies", res.Discrepancies())}
	}
	return nil
}

// printRunSummary writes the short summary a person reads after a run, in
// words and business-zone dates: the window, what was read and found, each
// kind of discrepancy, and per provider and currency the statement's
// closing line (ledger total + differences = provider total).
func printRunSummary(w io.Writer, cfg jobs.RunConfig, res jobs.RunResult) {
	fmt.Fprintf(w, "Run %d: %s\n", res.RunID, windowWords(cfg.Window, cfg.Zone))
	if runIsEmpty(res) {
		fmt.Fprintf(w, "  %s\n", reports.EmptyNotice)
	}
	fmt.Fprintf(w, "  %s ledger %s and %s provider %s: %s matched, %s %s, %s needing no report here (failed, cancelled, not yet stale, or reported with another day)\n",
		thousands(res.Stats.Ledger), plural(res.Stats.Ledger, "entry", "entries"),
		thousands(res.Stats.Records), plural(res.Stats.Records, "record", "records"),
		thousands(res.Stats.Matches), thousands(res.Discrepancies()), plural(res.Discrepancies(), "discrepancy", "discrepancies"),
		thousands(res.Stats.Quiet))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range reconcile.DiscrepancyKinds {
		if n := res.ByKind[k]; n > 0 {
			fmt.Fprintf(tw, "    %s\t%s\n", k.Title(), thousands(n))
		}
	}
	tw.Flush()
	for _, l := range res.Summary {
		if l.LedgerCount == 0 && l.ProviderCount == 0 && l.LedgerTotal == 0 && l.ProviderTotal == 0 && l.DiscrepancyTotal == 0 {
			continue // settlement variances only
		}
		money := func(minor int64) string { return reconcile.Money{Minor: minor, Currency: l.Currency}.Human() }
		fmt.Fprintf(tw, "  %s, %s:\tledger %s\t+ differences %s\t= provider %s\t(unexplained %s)\n",
			l.Provider.DisplayName(), l.Currency, money(l.LedgerTotal), money(l.DiscrepancyTotal), money(l.ProviderTotal),
			strings.TrimSuffix(money(l.Unexplained()), " "+string(l.Currency)))
	}
	tw.Flush()
	fmt.Fprintf(w, "Reports in %s: %s\n", cfg.OutDir, strings.Join(res.Files, ", "))
	for _, warning := range res.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", warning)
	}
}

// runIsEmpty reports whether a run read nothing at all in its window.
func runIsEmpty(res jobs.RunResult) bool {
	return res.Stats.Ledger == 0 && res.Stats.Records == 0 && res.Stats.Skipped == 0 && reports.IsEmpty(res.Summary, res.Settlements)
}

// warnIfEmpty says on w (stderr) that a run's window held nothing, so that
// an empty report is never silent.
func warnIfEmpty(w io.Writer, res jobs.RunResult) {
	if runIsEmpty(res) {
		fmt.Fprintf(w, "WARNING: %s\n", reports.EmptyNotice)
	}
}

// windowWords is a run window in words: "2 March 2026 to 8 March 2026
// (Africa/Nairobi)" for whole days, else its instants in the zone.
func windowWords(w reconcile.Window, zone *time.Location) string {
	from, to := w.From.In(zone), w.To.In(zone)
	midnight := func(t time.Time) bool {
		return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
	}
	if midnight(from) && midnight(to) {
		last := to.AddDate(0, 0, -1)
		if last.Equal(from) {
			return fmt.Sprintf("%s (%s)", from.Format("Monday 2 January 2006"), zone)
		}
		return fmt.Sprintf("%s to %s (%s)", from.Format("2 January 2006"), last.Format("2 January 2006"), zone)
	}
	return fmt.Sprintf("%s to %s, not included (%s)", from.Format("2 January 2006 15:04"), to.Format("2 January 2006 15:04"), zone)
}

// thousands is n with thousands separators: "1,234,567".
func thousands[N int | int64](n N) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// progress shows how far a run has read, on a terminal only; logs carry the
// structured progress otherwise. On a terminal, log lines pass through it
// (logger) so that they never interleave with its line: it clears its line,
// the log line is written, and it draws its line again below.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	on      bool
	printed bool
	what    string // "Reconciling 2 March 2026 to 8 March 2026 (Africa/Nairobi)"
	last    jobs.Progress
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, on: isTerminal(w) && os.Getenv("TERM") != "dumb", what: "Reconciling"}
}

// describe names the run's window in the progress line.
func (p *progress) describe(cfg jobs.RunConfig) {
	p.what = "Reconciling " + windowWords(cfg.Window, cfg.Zone)
}

func (p *progress) update(pr jobs.Progress) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = pr
	p.draw()
}

// draw writes the progress line; p.mu is held.
func (p *progress) draw() {
	fmt.Fprintf(p.w, "\r\033[K%s: read %s ledger %s and %s provider %s…", p.what,
		thousands(p.last.Ledger), plural(int(p.last.Ledger), "entry", "entries"),
		thousands(p.last.Records), plural(int(p.last.Records), "record", "records"))
	p.printed = true
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.printed {
		fmt.Fprint(p.w, "\r\033[K")
		p.printed = false
	}
	p.on = false
}

// logger returns l writing through p on a terminal, so that a log line
// clears the progress line first and the progress line is drawn again after
// it; elsewhere l itself (JSON logs stay as they are).
func (p *progress) logger(l *slog.Logger) *slog.Logger {
	if !p.on || l == nil {
		return l
	}
	return slog.New(progressHandler{h: l.Handler(), p: p})
}

// progressHandler is a slog.Handler that keeps log lines off the progress
// line.
type progressHandler struct {
	h slog.Handler
	p *progress
}

func (h progressHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h progressHandler) Handle(ctx context.Context, r slog.Record) error {
	p := h.p
	p.mu.Lock()
	defer p.mu.Unlock()
	redraw := p.printed
	if redraw {
		fmt.Fprint(p.w, "\r\033[K")
		p.printed = false
	}
	err := h.h.Handle(ctx, r)
	if redraw && p.on {
		p.draw()
	}
	return err
}

func (h progressHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return progressHandler{h: h.h.WithAttrs(as), p: h.p}
}

func (h progressHandler) WithGroup(name string) slog.Handler {
	return progressHandler{h: h.h.WithGroup(name), p: h.p}
}

// parseFees reads --fee entries "provider[:method]=PERCENT[+FIXED]": PERCENT
// is a decimal percentage, FIXED a whole number of minor units per payment.
func parseFees(entries []string) (matchers.FeeSchedule, error) {
	fees := matchers.FeeSchedule{}
	for _, e := range entries {
		key, value, ok := strings.Cut(e, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want provider[:method]=PERCENT[+FIXED]", e)
		}
		name, method, _ := strings.Cut(key, ":")
		p, err := reconcile.ParseProvider(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", e, err)
		}
		pct, fixed, _ := strings.Cut(strings.TrimSuffix(strings.TrimSpace(value), "%"), "+")
		var rate matchers.FeeRate
		if rate.Percent, err = decimal.NewFromString(strings.TrimSuffix(strings.TrimSpace(pct), "%")); err != nil || rate.Percent.IsNegative() {
			return nil, fmt.Errorf("%q: percent %q is not a non-negative decimal", e, pct)
		}
		if fixed != "" {
			if rate.Fixed, err = strconv.ParseInt(strings.TrimSpace(fixed), 10, 64); err != nil || rate.Fixed < 0 {
				return nil, fmt.Errorf("%q: fixed fee %q is not a whole number of minor units", e, fixed)
			}
		}
		if fees[p] == nil {
			fees[p] = map[string]matchers.FeeRate{}
		}
		fees[p][strings.TrimSpace(method)] = rate
	}
	return fees, nil
}
