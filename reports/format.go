package reports

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mizani/reconcile"
)

// DefaultXLSXMaxMatches is how many match rows report.xlsx holds when
// Options.XLSXMaxMatches is zero (SPEC §11, --xlsx-max-matches).
const DefaultXLSXMaxMatches = 100_000

// Options carries the run facts every report prints. Nothing in this package
// reads the clock: AsOf is passed in so that output is deterministic.
type Options struct {
	// Location is the business time zone timestamps are written in; nil
	// means UTC.
	Location *time.Location
	// Rounding is the rounding rule the run used for fees; "" means
	// reconcile.DefaultRounding. It is printed on the Summary sheet.
	Rounding reconcile.RoundingRule
	// XLSXMaxMatches caps the match rows in report.xlsx; 0 means
	// DefaultXLSXMaxMatches. The full list is always in matches.csv.
	XLSXMaxMatches int
	// Window is the run's reporting window [From, To).
	Window reconcile.Window
	// AsOf is the instant the data is judged at (a run's --as-of, by default
	// the end of its window), printed as "Data as of". It is not the wall
	// clock, so that re-running a window reproduces its reports.
	AsOf time.Time
	// Facts are further run facts printed on the Summary sheet after the
	// standard ones, in order: grace period, settlement tolerance, run id…
	Facts []Fact
}

// Fact is one labelled run fact on the Summary sheet.
type Fact struct {
	Label string
	Value string
}

func (o Options) location() *time.Location { return cmp.Or(o.Location, time.UTC) }

func (o Options) rounding() reconcile.RoundingRule {
	return cmp.Or(o.Rounding, reconcile.DefaultRounding)
}

func (o Options) maxMatches() int { return cmp.Or(o.XLSXMaxMatches, DefaultXLSXMaxMatches) }

// timestamp renders t in RFC 3339 in the business zone; the zero time (not
// known) is empty.
func (o Options) timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(o.location()).Format(time.RFC3339)
}

// neutralize defuses formula injection: a text cell beginning with '=', '+',
// '-', '@', tab or CR gets a leading single quote, so a spreadsheet shows it as
// text instead of evaluating it.
func neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// maskPhones masks every phone number in free text down to its country code
// and last four digits: "+254712349999" → "+254*****9999", "0712349999" →
// "0*****9999". A phone number is a run of 10 to 15 digits, optionally after
// '+', that is not part of a longer word; amounts ("1,500.00") and references
// with letters are left alone, and so are refs: the references the row
// names in columns of their own (a 12-digit Pixel transaction id is no
// phone number).
func maskPhones(s string, refs ...string) string {
	var b []byte // nil until the first phone number is found
	last := 0
	for i := 0; i < len(s); {
		start := i
		if s[i] == '+' {
			i++
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		n := j - i
		if n < 10 || n > 15 || (start > 0 && isWordByte(s[start-1])) || continuesWord(s, j) || slices.Contains(refs, s[start:j]) {
			// Not a phone number: skip the digits (or one byte) and go on.
			i = max(j, start+1)
			continue
		}
		digits := s[i:j]
		keep := 1 // a local number keeps its trunk prefix only
		if start < i || digits[0] != '0' {
			keep = countryCodeLen(digits)
		}
		b = append(b, s[last:i]...)
		b = append(b, digits[:keep]...)
		b = append(b, strings.Repeat("*", n-keep-4)...)
		b = append(b, digits[n-4:]...)
		last, i = j, j
	}
	if b == nil {
		return s
	}
	return string(append(b, s[last:]...))
}

// continuesWord reports whether s[j:] continues the word before it; a '.'
// ending a sentence does not, a decimal point does.
func continuesWord(s string, j int) bool {
	if j >= len(s) {
		return false
	}
	if s[j] == '.' {
		return j+1 < len(s) && isDigit(s[j+1])
	}
	return isWordByte(s[j])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordByte(c byte) bool {
	return isDigit(c) || c == '_' || c == '-' || c == '.' || c == '/' ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// countryCodeLen returns the length of the ITU country calling code digits
// starts with: 1 for +1 and +7, 2 for the two-digit codes (+20 Egypt, +27
// South Africa, most of Europe and Asia), 3 for the rest (+254 Kenya, +234
// Nigeria, +256 Uganda…).
func countryCodeLen(digits string) int {
	switch digits[0] {
	case '1', '7':
		return 1
	}
	if strings.Contains(" 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 ", " "+digits[:2]+" ") {
		return 2
	}
	return 3
}

// cellKind says how a report cell is written.
type cellKind uint8

const (
	textCell   cellKind = iota // neutralized text
	amountCell                 // minor units of a currency; a number
	countCell                  // a whole number
	timeCell                   // an instant: RFC 3339 text in CSV, a date-time cell in XLSX
	dayCell                    // a business day: YYYY-MM-DD in CSV, a date cell in XLSX
)

// cell is one report value before it is written as CSV text or an XLSX
// cell. Rows are built once and rendered by both writers, so the two formats
// cannot drift apart.
type cell struct {
	kind  cellKind
	text  string    // textCell
	t     time.Time // timeCell: already in the business zone; zero is empty
	n     int64     // amountCell: minor units; countCell: the count
	cur   reconcile.Currency
	exp   int32
	blank bool // an amount that is not known: empty in CSV, empty cell in XLSX
}

func text(s string) cell { return cell{kind: textCell, text: s} }

func count(n int) cell { return cell{kind: countCell, n: int64(n)} }

// amount returns an amount cell of minor units in currency c.
func amount(minor int64, c reconcile.Currency) (cell, error) {
	exp, err := exponent(c)
	if err != nil {
		return cell{}, err
	}
	return cell{kind: amountCell, n: minor, cur: c, exp: exp}, nil
}

// exponent is c's exponent. No currency at all (a provider that reported
// none, whose amounts then count nothing) writes whole numbers; an unknown
// one is an error.
func exponent(c reconcile.Currency) (int32, error) {
	if c == "" {
		return 0, nil
	}
	return c.Exponent()
}

func blankAmount() cell { return cell{kind: amountCell, blank: true} }

// instant returns a time cell of t in the business zone of o.
func instant(t time.Time, o Options) cell {
	if t.IsZero() {
		return cell{kind: timeCell}
	}
	return cell{kind: timeCell, t: t.In(o.location())}
}

// textValue is the text of a text or time cell, as o.timestamp writes a time.
func (c cell) textValue() string {
	if c.kind == timeCell || c.kind == dayCell {
		return string(c.appendTime(nil))
	}
	return c.text
}

func (c cell) appendTime(b []byte) []byte {
	if c.t.IsZero() {
		return b
	}
	if c.kind == dayCell {
		return c.t.AppendFormat(b, time.DateOnly)
	}
	return c.t.AppendFormat(b, time.RFC3339)
}

// day returns a day cell of t, midnight of a business day in the business
// zone already; zero is empty.
func day(t time.Time) cell { return cell{kind: dayCell, t: t} }

// appendCSV appends c as a CSV field: amounts per SPEC §3, text
// neutralized and quoted as encoding/csv quotes it.
func (c cell) appendCSV(b []byte) []byte {
	switch c.kind {
	case amountCell:
		if c.blank {
			return b
		}
		return appendMinor(b, c.n, c.exp)
	case countCell:
		return strconv.AppendInt(b, c.n, 10)
	case timeCell, dayCell:
		return c.appendTime(b) // digits, '-', ':', 'T', '+' and 'Z' need no quotes
	}
	return appendCSVField(b, neutralize(c.text))
}

// formatMinor is reconcile.FormatMinor without fmt: the same text ("1500.00",
// "1100", "-0.05"), several times faster, for the millions of amounts in a
// large run. TestFormatMinor holds the two to the same output.
func formatMinor(minor int64, exp int32) string {
	var buf [48]byte
	return string(appendMinor(buf[:0], minor, exp))
}

// appendMinor appends the text formatMinor returns to b.
func appendMinor(b []byte, minor int64, exp int32) []byte {
	var buf [32]byte
	u := uint64(minor)
	if minor < 0 {
		u = -u // also right for math.MinInt64
	}
	digits := strconv.AppendUint(buf[:0], u, 10)
	if minor < 0 {
		b = append(b, '-')
	}
	if exp <= 0 {
		return append(b, digits...)
	}
	e := int(exp)
	if len(digits) <= e {
		b = append(b, '0', '.')
		for range e - len(digits) {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	cut := len(digits) - e
	b = append(b, digits[:cut]...)
	b = append(b, '.')
	return append(b, digits[cut:]...)
}

// column is one report column: its exact CSV header, its heading in words
// in the workbook ("{zone}" stands for the business time zone), its XLSX
// width in characters, and whether its cells wrap (long references and
// sentences wrap rather than being cut off).
type column struct {
	name  string
	title string
	width float64
	wrap  bool
}

// The widths of the Discrepancies and Matches columns are the most their
// text takes before it wraps; the sheets fit them to their first rows
// (fitWidths).
var discrepancyColumns = []column{
	{"kind", "Kind", 16, true}, {"provider", "Provider", 12, true}, {"direction", "Direction", 9, false},
	{"account", "Account", 16, true}, {"ledger_reference", "Ledger reference", 16, true},
	{"provider_reference", "Provider reference", 16, true}, {"provider_transaction_id", "Provider transaction ID", 20, true},
	{"currency", "Currency", 9, false}, {"provider_currency", "Provider currency", 9, true},
	{"ledger_amount", "Ledger amount", 17, false}, {"provider_amount", "Provider amount", 17, false},
	{"difference", "Difference", 17, false},
	{"ledger_status", "Ledger status", 11, true}, {"provider_status", "Provider status", 11, true},
	{"occurred_at", "Occurred at ({zone})", 17, true}, {"detail", "Detail", 48, true},
}

var matchColumns = []column{
	{"provider", "Provider", 12, true}, {"direction", "Direction", 9, false}, {"account", "Account", 16, true},
	{"ledger_reference", "Ledger reference", 18, true}, {"provider_reference", "Provider reference", 18, true},
	{"provider_transaction_id", "Provider transaction ID", 24, true}, {"currency", "Currency", 9, false},
	{"amount", "Amount", 17, false}, {"fee", "Fee", 15, false}, {"net", "Net", 17, false},
	{"ledger_occurred_at", "Ledger time ({zone})", 17, true}, {"provider_occurred_at", "Provider time ({zone})", 17, true},
}

// matchStatusColumn is the workbook's last Matches column: what the match
// adds to matched_total (not in matches.csv, whose columns SPEC §11 fixes).
var matchStatusColumn = column{"status", "Status (Paid: in matched total)", 22, true}

// bridgeKinds are the discrepancy kinds of the first bridge, ledger total →
// provider total: all but settlement_variance, which is the second.
func bridgeKinds() []reconcile.DiscrepancyKind {
	out := make([]reconcile.DiscrepancyKind, 0, len(reconcile.DiscrepancyKinds))
	for _, k := range reconcile.DiscrepancyKinds {
		if k != reconcile.SettlementVariance {
			out = append(out, k)
		}
	}
	return out
}

// summaryColumns are summary.csv's: SPEC §11's ten, then the bridge's — per
// kind its count and the sum of its differences, what is left unexplained,
// and the settlement variances (the second bridge).
var summaryColumns = func() []column {
	cols := []column{
		{"provider", "Provider", 14, false}, {"currency", "Currency", 9, false},
		{"ledger_count", "Ledger entries", 13, false}, {"ledger_total", "Ledger total", 18, false},
		{"provider_count", "Provider records", 15, false}, {"provider_total", "Provider total", 18, false},
		{"matched_count", "Matched", 14, false}, {"matched_total", "Matched total", 18, false},
		{"discrepancy_count", "Discrepancies", 18, false}, {"discrepancy_total", "Σ difference", 18, false},
		{"ledger_paid_count", "Ledger entries counted", 13, false}, {"provider_moved_count", "Provider records counted", 13, false},
	}
	for _, k := range bridgeKinds() {
		cols = append(cols, column{string(k) + "_count", k.Title(), 10, false}, column{string(k) + "_difference", k.Title(), 18, false})
	}
	return append(cols, column{"unexplained", "Unexplained", 14, false},
		column{"settlement_variance_count", "Settlement variances", 10, false},
		column{"settlement_variance_total", "Settlement variance", 18, false})
}()

var settlementColumns = []column{
	{"provider", "Provider", 12, true}, {"account", "Account", 12, true}, {"currency", "Currency", 9, false},
	{"business_day", "Business day ({zone})", 17, true}, {"transactions", "Transactions", 12, false},
	{"gross", "Gross", 18, false}, {"fees", "Fees", 16, false}, {"reversals", "Reversals", 16, false},
	{"payouts", "Payouts", 16, false}, {"net_expected", "Net expected", 18, false}, {"owed", "Owed", 18, false},
	{"settled", "Settled", 18, false}, {"variance", "Variance (settled − owed)", 18, true}, {"unsettled", "Unsettled", 18, false},
}

func header(cols []column) []string {
	h := make([]string, len(cols))
	for i, c := range cols {
		h[i] = c.name
	}
	return h
}

// rowNames renders the coded values of a row: CSV keeps the codes, the
// workbook shows words.
type rowNames struct {
	provider func(reconcile.Provider) string
	kind     func(reconcile.DiscrepancyKind) string
	words    bool
}

// codes are the CSV files' names; words the workbook's.
var (
	codes = rowNames{
		provider: func(p reconcile.Provider) string { return string(p) },
		kind:     func(k reconcile.DiscrepancyKind) string { return string(k) },
	}
	words = rowNames{
		provider: func(p reconcile.Provider) string { return p.DisplayName() },
		kind:     reconcile.DiscrepancyKind.Title,
		words:    true,
	}
)

// discrepancyRow appends the cells of d to row (SPEC §11 column order).
// The ledger amount and the difference are in d.Currency, the provider
// amount in d.ProviderCurrency; the difference is always shown (it is 0.00
// when the discrepancy moves no money in either total, e.g. a pending side).
func discrepancyRow(row []cell, d reconcile.Discrepancy, o Options, n rowNames) ([]cell, error) {
	var ledgerRef, ledgerStatus string
	if d.Ledger != nil {
		ledgerRef, ledgerStatus = d.Ledger.Reference, string(d.Ledger.Status)
	}
	var providerStatus string
	if len(d.Records) > 0 {
		providerStatus = string(d.Records[0].Status)
	}
	pcur := cmp.Or(d.ProviderCurrency, d.Currency)
	// The ledger side is known when there is a ledger entry, and for a
	// settlement variance, whose "ledger" side is what was owed.
	ledgerKnown := d.Ledger != nil || d.Kind == reconcile.SettlementVariance
	ledgerAmt, providerAmt := blankAmount(), blankAmount()
	diff, err := amount(d.Difference, d.Currency)
	if err != nil {
		return nil, fmt.Errorf("currency: %w", err)
	}
	if ledgerKnown {
		ledgerAmt, _ = amount(d.LedgerAmount, d.Currency)
	}
	if d.ProviderAmountKnown {
		if providerAmt, err = amount(d.ProviderAmount, pcur); err != nil {
			return nil, fmt.Errorf("provider currency: %w", err)
		}
	}
	direction := string(d.Direction)
	if n.words {
		direction = directionWord(d.Direction)
	}
	return append(row,
		text(n.kind(d.Kind)), text(n.provider(d.Provider)), text(direction), text(d.Account),
		text(ledgerRef), text(joinRecords(d.Records, func(r reconcile.Record) string { return r.ProviderRef })),
		text(joinRecords(d.Records, func(r reconcile.Record) string { return r.TxID })),
		text(string(d.Currency)), text(string(pcur)), ledgerAmt, providerAmt, diff,
		text(ledgerStatus), text(providerStatus), instant(d.OccurredAt, o),
		text(maskPhones(d.Detail, discrepancyRefs(d, ledgerRef)...)),
	), nil
}

// discrepancyRefs are the references a discrepancy row shows in columns
// of its own: its ledger reference and its records' transaction, provider
// and merchant references.
func discrepancyRefs(d reconcile.Discrepancy, ledgerRef string) []string {
	refs := []string{ledgerRef}
	for _, r := range d.Records {
		refs = append(refs, r.TxID, r.ProviderRef, r.MerchantRef)
	}
	return slices.DeleteFunc(refs, func(r string) bool { return r == "" })
}

// directionWord is a direction as the workbook writes it.
func directionWord(d reconcile.Direction) string {
	switch d {
	case reconcile.In:
		return "In"
	case reconcile.Out:
		return "Out"
	}
	return string(d)
}

// matchRow appends the cells of m to row. The amount is the ledger amount;
// fee is the sum of the fees and VAT the providers reported (blank when none
// did), and net = amount − fee (blank with it).
func matchRow(row []cell, m reconcile.Match, o Options, n rowNames) ([]cell, error) {
	l := m.Ledger
	cur := l.Amount.Currency
	amt, err := amount(l.Amount.Minor, cur)
	if err != nil {
		return nil, fmt.Errorf("currency: %w", err)
	}
	fee, net := blankAmount(), blankAmount()
	total := reconcile.Money{Currency: cur}
	feeKnown := false
	for i, r := range m.Records {
		if !r.FeeKnown {
			continue
		}
		feeKnown = true
		for _, f := range []reconcile.Money{r.Fee, r.VAT} {
			if f.Minor == 0 {
				continue
			}
			if total, err = total.Add(f); err != nil {
				return nil, fmt.Errorf("fee of record %d (%s): %w", i, r.TxID, err)
			}
		}
	}
	if feeKnown {
		n, err := l.Amount.Sub(total)
		if err != nil {
			return nil, fmt.Errorf("net: %w", err)
		}
		fee, net = amountOf(total.Minor, amt), amountOf(n.Minor, amt)
	}
	account := l.Account
	var providerAt time.Time
	if len(m.Records) > 0 {
		account = cmp.Or(account, m.Records[0].Account)
		providerAt = m.Records[0].OccurredAt
	}
	direction := string(l.Direction)
	if n.words {
		direction = directionWord(l.Direction)
	}
	return append(row,
		text(n.provider(l.Provider)), text(direction), text(account), text(l.Reference),
		text(joinRecords(m.Records, func(r reconcile.Record) string { return r.ProviderRef })),
		text(joinRecords(m.Records, func(r reconcile.Record) string { return r.TxID })),
		text(string(cur)), amt, fee, net, instant(l.OccurredAt, o), instant(providerAt, o),
	), nil
}

// amountOf returns minor units in the currency of like.
func amountOf(minor int64, like cell) cell {
	like.n = minor
	return like
}

// summaryRow appends the cells of s to row: summary.csv's columns.
func summaryRow(row []cell, s reconcile.SummaryLine, n rowNames) ([]cell, error) {
	amts, err := amounts(s.Currency, s.LedgerTotal, s.ProviderTotal, s.MatchedTotal, s.DiscrepancyTotal)
	if err != nil {
		return nil, err
	}
	row = append(row,
		text(n.provider(s.Provider)), text(string(s.Currency)),
		count(s.LedgerCount), amts[0], count(s.ProviderCount), amts[1],
		count(s.MatchedCount), amts[2], count(s.DiscrepancyCount), amts[3],
		count(s.LedgerPaid), count(s.ProviderMoved),
	)
	for _, k := range bridgeKinds() {
		step := s.Bridge[reconcile.KindIndex(k)]
		row = append(row, count(step.Count), amountOf(step.Amount, amts[0]))
	}
	sv := s.Bridge[reconcile.KindIndex(reconcile.SettlementVariance)]
	return append(row, amountOf(s.Unexplained(), amts[0]), count(sv.Count), amountOf(sv.Amount, amts[0])), nil
}

// owed is what a settlement day's settlement should have paid: settled −
// variance, since variance = settled − owed (zero on a day without one).
func owed(s reconcile.SettlementDay) int64 { return s.Settled - s.Variance }

// settlementRow appends the cells of s to row.
func settlementRow(row []cell, s reconcile.SettlementDay, n rowNames) ([]cell, error) {
	amts, err := amounts(s.Currency, s.Gross, s.Fees, s.Reversals, s.Payouts, s.NetExpected, owed(s), s.Settled, s.Variance, s.Unsettled)
	if err != nil {
		return nil, err
	}
	var d cell
	if s.Day.IsZero() {
		d = cell{kind: dayCell}
	} else {
		d = day(s.Day) // midnight in the business zone already
	}
	row = append(row, text(n.provider(s.Provider)), text(s.Account), text(string(s.Currency)), d, count(s.Transactions))
	return append(row, amts...), nil
}

func amounts(c reconcile.Currency, minors ...int64) ([]cell, error) {
	exp, err := exponent(c)
	if err != nil {
		return nil, fmt.Errorf("currency: %w", err)
	}
	out := make([]cell, len(minors))
	for i, m := range minors {
		out[i] = cell{kind: amountCell, n: m, cur: c, exp: exp}
	}
	return out, nil
}

// joinRecords joins field of every record with ";", skipping empty values
// and values already listed: several records are instalments, the
// candidates of an ambiguous match, or a payment and its reversal, which
// carry the same transaction id and M-PESA code.
func joinRecords(rs []reconcile.Record, field func(reconcile.Record) string) string {
	switch len(rs) {
	case 0:
		return ""
	case 1:
		return field(rs[0])
	}
	seen := make([]string, 0, len(rs))
	for _, r := range rs {
		if v := field(r); v != "" && !slices.Contains(seen, v) {
			seen = append(seen, v)
		}
	}
	return strings.Join(seen, ";")
}

// providerOrder is a provider's position in reconcile.Providers(); unknown
// providers sort after the known ones, by name.
func providerOrder(p reconcile.Provider) int { return reconcile.ProviderOrder(p) }

func compareProviders(a, b reconcile.Provider) int {
	return cmp.Or(cmp.Compare(providerOrder(a), providerOrder(b)), strings.Compare(string(a), string(b)))
}
