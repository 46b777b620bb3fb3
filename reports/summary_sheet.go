package reports

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mizani/reconcile"
	"github.com/xuri/excelize/v2"
)

// The Summary sheet has seven columns: labels in A, then counts, currencies
// and amounts. Its tables share them, so that the sheet prints one page wide.
const summaryCols = 7

// EmptyNotice is what the reports say of a run whose window holds no
// ledger entry and no provider record: most often a wrong store or window,
// never a clean day.
const EmptyNotice = "Nothing to reconcile: this window holds no ledger entries and no provider records. " +
	"Check the dates, the --provider filter, and that DATABASE_URL names the store the data was loaded into " +
	"(the demo writes into a schema of its own)."

// IsEmpty reports whether a run's summary saw nothing at all: no ledger
// entry, no provider record and no settlement in its window.
func IsEmpty(summary []reconcile.SummaryLine, settlements []reconcile.SettlementDay) bool {
	for _, l := range summary {
		if l.LedgerCount > 0 || l.ProviderCount > 0 || l.MatchedCount > 0 || l.DiscrepancyCount > 0 {
			return false
		}
	}
	return len(settlements) == 0
}

// statementDefinitions explain the statement, on the sheet and in README.
var statementDefinitions = []string{
	"Ledger total: the ledger entries of the window that say paid — money in positive, payouts negative; a refunded entry nets to nothing, as do the provider's payment and its reversal.",
	"Provider total: the provider records of this report — those joined to a ledger entry of the window, and those of the window that joined none — that succeeded or were reversed, with an amount reported; reversals and payouts negative. A matched record counts at the amount it matched.",
	"Difference (Discrepancies sheet) = the provider amount counted in the provider total − the ledger amount counted in the ledger total: a duplicate shows its extra money, a reversal the amount reversed, a missing side its full amount, a pending or failed side nothing. So ledger total + Σ difference = provider total, and nothing is unexplained.",
	"A currency mismatch has its difference in the ledger currency (the ledger amount leaves that line) and its provider amount joins the line of the provider's currency. Settlement variances are a bridge of their own (owed → settled, above), not part of this one.",
}

// summaryRows collects the Summary sheet's rows: the cells to write, and
// the widths they need.
type summaryRows struct {
	x      *XLSX
	s      *sheet
	widths [summaryCols]float64
}

// fit widens column i for text v.
func (r *summaryRows) fit(i int, v string) {
	if i < summaryCols {
		r.widths[i] = max(r.widths[i], float64(utf8.RuneCountInString(v))+2)
	}
}

// writeSummary writes the Summary sheet: the title and window, the
// reconciliation statement (ledger total → provider total, kind by kind),
// the settlement bridge (owed → settled), the totals with their chart, how to
// read them, and the run's parameters in words.
func (x *XLSX) writeSummary(lines []reconcile.SummaryLine, settlements []reconcile.SettlementDay) error {
	lines = sortedSummary(lines)
	if err := x.printSetup(SummarySheet); err != nil {
		return err
	}
	sw, err := x.f.NewStreamWriter(SummarySheet)
	if err != nil {
		return err
	}
	cols := make([]column, summaryCols)
	r := &summaryRows{x: x, s: &sheet{name: SummarySheet, sw: sw, cols: cols}}
	r.widths = [summaryCols]float64{30, 12, 16, 16, 16, 16, 16}
	// Widths first: a stream writer takes them before any row.
	r.measure(lines, settlements)
	for i := range cols {
		cols[i].width = r.widths[i]
		if err := sw.SetColWidth(i+1, i+1, r.widths[i]); err != nil {
			return err
		}
	}
	if err := r.heading(lines, settlements); err != nil {
		return err
	}
	if err := r.statement(lines); err != nil {
		return err
	}
	if err := r.settlementBridge(settlements); err != nil {
		return err
	}
	totalsHeader, err := r.totals(lines)
	if err != nil {
		return err
	}
	if err := r.definitions(); err != nil {
		return err
	}
	if err := r.about(); err != nil {
		return err
	}
	if err := x.addCharts(lines, totalsHeader, r.s.row+2); err != nil {
		return err
	}
	if err := x.pageLayout(SummarySheet, 0); err != nil {
		return err
	}
	return sw.Flush()
}

// measure sizes the columns for the labels and amounts the sheet will hold.
func (r *summaryRows) measure(lines []reconcile.SummaryLine, settlements []reconcile.SettlementDay) {
	for _, l := range lines {
		r.fit(0, l.Provider.DisplayName()+" · "+string(l.Currency))
		r.fit(0, "  "+matchedLabel(l))
		for _, v := range []int64{l.LedgerTotal, l.ProviderTotal, l.MatchedTotal, l.DiscrepancyTotal} {
			for i := 2; i < summaryCols; i++ {
				r.fit(i, accounting(v, l.Currency))
			}
		}
		for _, k := range bridgeKinds() {
			if l.Bridge[reconcile.KindIndex(k)].Count > 0 {
				r.fit(0, "  "+k.Title())
			}
		}
	}
	for _, s := range settlements {
		r.fit(0, s.Provider.DisplayName()+" · "+s.Account)
		for i := 2; i < summaryCols; i++ {
			r.fit(i, accounting(s.Unsettled, s.Currency))
			r.fit(i, accounting(s.Settled, s.Currency))
		}
	}
	for _, label := range []string{"  Ledger total: paid entries", "  Provider total: records that moved money", "Window from"} {
		r.fit(0, label)
	}
	for _, f := range r.x.o.Facts {
		if f.Label != "WARNING" && utf8.RuneCountInString(f.Label) < 40 {
			r.fit(0, f.Label)
		}
	}
	r.widths[0] = min(r.widths[0], 48)
	r.widths[1] = max(r.widths[1], 17) // dates of the About lines
}

// accounting is an amount as its accounting format shows it, for sizing.
func accounting(minor int64, c reconcile.Currency) string {
	exp, err := c.Exponent()
	if err != nil {
		return ""
	}
	s := reconcile.Money{Minor: minor, Currency: c}.Human()
	if minor < 0 {
		s = "(" + strings.TrimPrefix(s, "-")
		s = strings.Replace(s, " ", ") ", 1)
	}
	if exp == 0 {
		s += " "
	}
	return s + "  "
}

func (r *summaryRows) row(vals ...any) error { return r.x.setRow(r.s, vals) }

func (r *summaryRows) styled(role string, v any) (excelize.Cell, error) {
	id, err := r.x.style(styleKey{role: role})
	return excelize.Cell{StyleID: id, Value: v}, err
}

func (r *summaryRows) heading(lines []reconcile.SummaryLine, settlements []reconcile.SettlementDay) error {
	t, err := r.styled("title", "Mizani reconciliation report")
	if err != nil {
		return err
	}
	if err := r.row(t); err != nil {
		return err
	}
	if err := r.x.paragraphWidth(r.s, "", windowWords(r.x.o), summaryCols, r.sheetWidth()); err != nil {
		return err
	}
	var notices []string
	if IsEmpty(lines, settlements) && r.x.discrepancies == 0 && r.x.matches == 0 {
		notices = append(notices, EmptyNotice)
	}
	for _, f := range r.x.o.Facts {
		if f.Label == "WARNING" {
			notices = append(notices, "Warning: "+f.Value)
		}
	}
	for _, n := range notices {
		if err := r.x.paragraphStyled(r.s, "", n, summaryCols, r.sheetWidth(), "warning"); err != nil {
			return err
		}
	}
	r.s.row++
	return nil
}

// sheetWidth is the width of the sheet's columns, in characters (not money).
func (r *summaryRows) sheetWidth() float64 {
	var w float64
	for _, v := range r.widths {
		w += v
	}
	return w
}

func (r *summaryRows) header(titles ...string) error {
	hs, err := r.x.style(styleKey{role: "header"})
	if err != nil {
		return err
	}
	vals := make([]any, len(titles))
	lines := 1
	for i, t := range titles {
		vals[i] = excelize.Cell{StyleID: hs, Value: t}
		lines = max(lines, wrappedLines(t, r.widths[i], 1.15))
	}
	return r.x.setRow(r.s, vals, excelize.RowOpts{Height: lineHeight * float64(lines)})
}

// amountCellOf is an amount of c as the workbook writes it.
func (r *summaryRows) amountCellOf(minor int64, c reconcile.Currency, role string) (any, error) {
	a, err := amount(minor, c)
	if err != nil {
		return nil, fmt.Errorf("currency: %w", err)
	}
	return r.x.value(a, false, role)
}

// statement writes the reconciliation statement, one block per provider
// and currency: the ledger total, the matched items (the same on both
// sides), each kind of discrepancy with its count and Σ difference, the
// provider total and what is left unexplained (0.00).
func (r *summaryRows) statement(lines []reconcile.SummaryLine) error {
	b, err := r.styled("bold", "Reconciliation statement: ledger total → provider total")
	if err != nil {
		return err
	}
	if err := r.row(b); err != nil {
		return err
	}
	if err := r.header("Provider · currency", "Count", "Amount"); err != nil {
		return err
	}
	if len(lines) == 0 {
		n, err := r.styled("text", "No ledger entries or provider records in this window.")
		if err != nil {
			return err
		}
		if err := r.row(n); err != nil {
			return err
		}
	}
	for _, l := range lines {
		step := func(label string, n int, minor int64, role string) error {
			labelRole, amtRole := "text", "amount"
			if role == "total" {
				labelRole, amtRole = "total", "totalAmount"
			}
			lc, err := r.styled(labelRole, "  "+label)
			if err != nil {
				return err
			}
			var cnt any
			if n >= 0 {
				if cnt, err = r.x.value(count(n), false, ""); err != nil {
					return err
				}
			}
			amt, err := r.amountCellOf(minor, l.Currency, amtRole)
			if err != nil {
				return err
			}
			return r.row(lc, cnt, amt)
		}
		head, err := r.styled("bold", l.Provider.DisplayName()+" · "+string(l.Currency))
		if err != nil {
			return err
		}
		if err := r.row(head); err != nil {
			return err
		}
		if err := step("Ledger total: paid entries", l.LedgerPaid, l.LedgerTotal, ""); err != nil {
			return err
		}
		if err := step(matchedLabel(l), l.MatchedCount, 0, ""); err != nil {
			return err
		}
		for _, k := range bridgeKinds() {
			if s := l.Bridge[reconcile.KindIndex(k)]; s.Count > 0 {
				if err := step(k.Title(), s.Count, s.Amount, ""); err != nil {
					return err
				}
			}
		}
		if err := step("Provider total: records that moved money", l.ProviderMoved, l.ProviderTotal, "total"); err != nil {
			return err
		}
		if err := step("Unexplained", -1, l.Unexplained(), "total"); err != nil {
			return err
		}
		r.s.row++ // a blank line between blocks
	}
	if len(lines) == 0 {
		r.s.row++
	}
	return nil
}

// matchedLabel is the statement's matched line: "Matched: the same on both
// sides (978,433.22 KES)".
func matchedLabel(l reconcile.SummaryLine) string {
	return "Matched: the same on both sides (" + reconcile.Money{Minor: l.MatchedTotal, Currency: l.Currency}.Human() + ")"
}

// settlementTotal is one row of the settlement bridge.
type settlementTotal struct {
	p                              reconcile.Provider
	account                        string
	c                              reconcile.Currency
	owed, settled, variance, unset int64
	days                           int
}

// settlementBridge writes the second bridge: per provider, account and
// currency, what the window's settlements owed, what they settled, the
// variance (settled − owed; negative = short) and what is still unsettled at
// the end of the window.
func (r *summaryRows) settlementBridge(days []reconcile.SettlementDay) error {
	b, err := r.styled("bold", "Settlements: owed → settled")
	if err != nil {
		return err
	}
	if err := r.row(b); err != nil {
		return err
	}
	if len(days) == 0 {
		n, err := r.styled("text", "No settlement activity in this window.")
		if err != nil {
			return err
		}
		if err := r.row(n); err != nil {
			return err
		}
		r.s.row++
		return nil
	}
	if err := r.header("Provider · account", "Currency", "Owed", "Settled", "Variance (settled − owed)", "Unsettled at the end"); err != nil {
		return err
	}
	var totals []settlementTotal
	for _, d := range sortedSettlements(days) {
		n := len(totals)
		if n == 0 || totals[n-1].p != d.Provider || totals[n-1].account != d.Account || totals[n-1].c != d.Currency {
			totals = append(totals, settlementTotal{p: d.Provider, account: d.Account, c: d.Currency})
			n++
		}
		t := &totals[n-1]
		t.owed += owed(d)
		t.settled += d.Settled
		t.variance += d.Variance
		t.unset = d.Unsettled
		t.days++
	}
	for _, t := range totals {
		label := t.p.DisplayName()
		if t.account != "" {
			label += " · " + t.account
		}
		lc, err := r.styled("text", label)
		if err != nil {
			return err
		}
		cur, err := r.styled("text", string(t.c))
		if err != nil {
			return err
		}
		vals := []any{lc, cur}
		for _, v := range []int64{t.owed, t.settled, t.variance, t.unset} {
			a, err := r.amountCellOf(v, t.c, "")
			if err != nil {
				return err
			}
			vals = append(vals, a)
		}
		if err := r.row(vals...); err != nil {
			return err
		}
	}
	r.s.row++
	return nil
}

// totals writes summary.csv's totals in words, which the charts plot, and
// returns the row of its header.
func (r *summaryRows) totals(lines []reconcile.SummaryLine) (int, error) {
	b, err := r.styled("bold", "Totals per provider and currency (summary.csv)")
	if err != nil {
		return 0, err
	}
	if err := r.row(b); err != nil {
		return 0, err
	}
	if err := r.header("Provider", "Currency", "Ledger total", "Matched total", "Σ difference", "Provider total", "Unexplained"); err != nil {
		return 0, err
	}
	headerRow := r.s.row
	for _, l := range lines {
		p, err := r.styled("text", l.Provider.DisplayName())
		if err != nil {
			return 0, err
		}
		c, err := r.styled("text", string(l.Currency))
		if err != nil {
			return 0, err
		}
		vals := []any{p, c}
		for _, v := range []int64{l.LedgerTotal, l.MatchedTotal, l.DiscrepancyTotal, l.ProviderTotal, l.Unexplained()} {
			a, err := r.amountCellOf(v, l.Currency, "")
			if err != nil {
				return 0, err
			}
			vals = append(vals, a)
		}
		if err := r.row(vals...); err != nil {
			return 0, err
		}
	}
	r.s.row++
	return headerRow, nil
}

// definitions writes how to read the statement.
func (r *summaryRows) definitions() error {
	b, err := r.styled("bold", "How to read this statement")
	if err != nil {
		return err
	}
	if err := r.row(b); err != nil {
		return err
	}
	for _, d := range statementDefinitions {
		if err := r.x.paragraphWidth(r.s, "", d, summaryCols, r.sheetWidth()); err != nil {
			return err
		}
	}
	r.s.row++
	return nil
}

// about writes the run's parameters in words.
func (r *summaryRows) about() error {
	o := r.x.o
	b, err := r.styled("bold", "About this run")
	if err != nil {
		return err
	}
	if err := r.row(b); err != nil {
		return err
	}
	rest := r.sheetWidth() - r.widths[0]
	label := func(s string) (excelize.Cell, error) { return r.styled("bold", s) }
	when := func(name string, t time.Time) error {
		l, err := label(name)
		if err != nil {
			return err
		}
		v, err := r.x.value(instant(t, o), false, "")
		if err != nil {
			return err
		}
		return r.row(l, v)
	}
	if err := when("Window from", o.Window.From); err != nil {
		return err
	}
	if err := when("Window to (not included)", o.Window.To); err != nil {
		return err
	}
	if err := r.x.paragraphWidth(r.s, "Business time zone", o.location().String()+" (every date and time in this workbook)", summaryCols, rest); err != nil {
		return err
	}
	if err := when("Data as of", o.AsOf); err != nil {
		return err
	}
	if err := r.x.paragraphWidth(r.s, "Fee rounding", roundingWords(o.rounding()), summaryCols, rest); err != nil {
		return err
	}
	for _, f := range o.Facts {
		if f.Label == "WARNING" {
			continue
		}
		v := factWords(f.Value)
		if v == "0" && strings.Contains(strings.ToLower(f.Label), "tolerance") {
			v = "none: every variance is reported"
		}
		if err := r.x.paragraphWidth(r.s, f.Label, v, summaryCols, rest); err != nil {
			return err
		}
	}
	matches := strconv.Itoa(r.x.matches)
	if shown := o.maxMatches(); r.x.matches > shown {
		matches += fmt.Sprintf("; the Matches sheet shows the first %d, matches.csv has them all", shown)
	}
	if err := r.x.paragraphWidth(r.s, "Matches", matches, summaryCols, rest); err != nil {
		return err
	}
	var kinds []string
	for _, k := range reconcile.DiscrepancyKinds {
		if n := r.x.byKind[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", strings.ToLower(k.Title()), n))
		}
	}
	disc := strconv.Itoa(r.x.discrepancies)
	if len(kinds) > 0 {
		disc += ": " + strings.Join(kinds, ", ")
	}
	return r.x.paragraphWidth(r.s, "Discrepancies", disc, summaryCols, rest)
}

// windowWords is the window in words: "2 March 2026 to 8 March 2026, both
// days included (Africa/Nairobi)" for whole days, else its instants.
func windowWords(o Options) string {
	loc := o.location()
	from, to := o.Window.From.In(loc), o.Window.To.In(loc)
	if from.IsZero() || to.IsZero() || o.Window.From.IsZero() {
		return "Business time zone " + loc.String()
	}
	midnight := func(t time.Time) bool {
		return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
	}
	if midnight(from) && midnight(to) {
		last := to.AddDate(0, 0, -1)
		if last.Equal(from) {
			return fmt.Sprintf("%s, the whole day, in %s", from.Format("2 January 2006"), loc)
		}
		return fmt.Sprintf("%s to %s, both days included, in %s", from.Format("2 January 2006"), last.Format("2 January 2006"), loc)
	}
	return fmt.Sprintf("From %s to %s (not included), in %s", from.Format("2 January 2006 15:04"), to.Format("2 January 2006 15:04"), loc)
}

// roundingWords is a rounding rule in words.
func roundingWords(r reconcile.RoundingRule) string {
	switch r {
	case reconcile.RoundHalfEven:
		return "half to even (banker's rounding), to the currency's minor unit"
	case reconcile.RoundHalfUp:
		return "half up, to the currency's minor unit"
	case reconcile.RoundDown:
		return "down (towards zero), to the currency's minor unit"
	case reconcile.RoundUp:
		return "up (away from zero), to the currency's minor unit"
	}
	return string(r)
}

// factWords puts a run fact in words: a Go duration ("24h0m0s") becomes
// "24 hours"; anything else is left as it is.
func factWords(v string) string {
	if strings.ContainsAny(v, "hms") && !strings.ContainsAny(v, " ") {
		if d, err := time.ParseDuration(v); err == nil {
			return Duration(d)
		}
	}
	return v
}

// Duration is d in words, as the reports write run parameters: "24 hours",
// "30 minutes", "1 day and 6 hours", "90 seconds".
func Duration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d == 0:
		return "none"
	case d%time.Hour == 0 && d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
		if h == 0 {
			return plural(m, "minute")
		}
		return plural(h, "hour") + " and " + plural(m, "minute")
	case d%time.Second == 0:
		return plural(int64(d/time.Second), "second")
	}
	return d.String()
}

// addCharts adds a clustered column chart per currency of the matched total
// against the Σ difference per provider, below the sheet's text (amounts of
// different currencies do not share an axis). The totals table is sorted by
// currency, so each currency's rows are contiguous.
func (x *XLSX) addCharts(lines []reconcile.SummaryLine, headerRow, atRow int) error {
	const (
		matchedCol    = "D" // Matched total
		differenceCol = "E" // Σ difference
	)
	ref := func(col string, from, to int) string {
		return fmt.Sprintf("%s!$%s$%d:$%s$%d", SummarySheet, col, from, col, to)
	}
	vary := false
	n := 0
	for start := 0; start < len(lines); {
		end := start
		for end < len(lines) && lines[end].Currency == lines[start].Currency {
			end++
		}
		from, to := headerRow+1+start, headerRow+end
		chart := &excelize.Chart{
			Type: excelize.Col,
			Series: []excelize.ChartSeries{
				{Name: fmt.Sprintf("%s!$%s$%d", SummarySheet, matchedCol, headerRow), Categories: ref("A", from, to), Values: ref(matchedCol, from, to)},
				{Name: fmt.Sprintf("%s!$%s$%d", SummarySheet, differenceCol, headerRow), Categories: ref("A", from, to), Values: ref(differenceCol, from, to)},
			},
			Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Matched total and Σ difference, " + string(lines[start].Currency)}}},
			Legend:     excelize.ChartLegend{Position: "bottom"},
			VaryColors: &vary,
		}
		// Two charts a row, below the text, so that the sheet stays one page
		// wide in print.
		at := "A" + strconv.Itoa(atRow)
		if n%2 == 1 {
			at = "D" + strconv.Itoa(atRow)
		}
		chart.Dimension = excelize.ChartDimension{Width: 400, Height: 240}
		if err := x.f.AddChart(SummarySheet, at, chart); err != nil {
			return fmt.Errorf("chart %s: %w", lines[start].Currency, err)
		}
		if n%2 == 1 {
			atRow += 17
		}
		n++
		start = end
	}
	return nil
}
