package settlement

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/mizani/reconcile"
)

// FeeRate is what a provider charges on one payment (reconcile.FeeRate).
type FeeRate = reconcile.FeeRate

// FeeSchedule holds the fee rates by provider and payment method (the
// Record.Method a source sets: "eft", "card", "international_card", …). The
// method "" is the provider's rate for any method not listed. A provider or
// method without a rate is charged nothing.
type FeeSchedule map[reconcile.Provider]map[string]FeeRate

// DefaultFeeSchedule is the fee schedule of no configuration: nothing is
// charged. Each provider's default rates come from its registration
// (sources.Traits.Fees); jobs passes them in.
func DefaultFeeSchedule() FeeSchedule { return FeeSchedule{} }

// rate returns the schedule's rate for provider p and method m.
func (s FeeSchedule) rate(p reconcile.Provider, m string) (FeeRate, bool) {
	rates := s[p]
	if r, ok := rates[m]; ok {
		return r, true
	}
	r, ok := rates[""]
	return r, ok
}

// DefaultBankLagDays is Config.BankLagDays's default: a
// settlement's bank credit may carry a value date up to three days after
// it, so that a Friday settlement credited on Monday is on time.
const DefaultBankLagDays = 3

// Config configures a Settlement.
type Config struct {
	// Window is the run window: rows are produced for the business days
	// inside it. Records before it only tell what the window's settlements
	// owe — the net of the days since the settlement before, and any
	// shortfall still unpaid — so they should reach back past that
	// settlement (jobs reads twice the look-back, a week by default);
	// records from its end on are ignored.
	Window reconcile.Window
	// Zone is the business time zone that cuts days (required).
	Zone *time.Location
	// Fees is the fee schedule for payments whose provider reports no fee
	// (default DefaultFeeSchedule()).
	Fees FeeSchedule
	// Rounding rounds each payment's scheduled fee to minor units
	// (default reconcile.DefaultRounding).
	Rounding reconcile.RoundingRule
	// Tolerance is the largest settlement difference, in minor units, not
	// reported as settlement_variance.
	Tolerance int64
	// SameDay says a settlement on day D pays out what was owed up to the
	// end of D. By default a settlement on D pays what was owed up to the
	// end of D−1 (T+1, as Kopo Kopo, iKhokha and Kora settle).
	SameDay bool
	// PerCompany lists the providers whose settlements name no account
	// (Kopo Kopo settles the whole company, never a till): their rows are
	// per provider and currency whether or not the records read hold a
	// settlement.
	PerCompany []reconcile.Provider
	// LoadedFrom, when set, is where the records given begin: the window's
	// start less the run's settlement look-back (LookBack), or less twice
	// it (jobs reads that far, so that every settlement of the look-back
	// can be judged whole). The look-back bounds what any settlement is
	// compared with, whatever the window: one with no settlement before it
	// in the look-back owes the net of the look-back's days only, and its
	// detail says it may pay for earlier days too. So a row reads the same
	// in a daily run and in a range run. The first settlement read whose
	// look-back is not all read only opens the balance.
	LoadedFrom time.Time
	// LookBack is the settlement look-back (default: the window's start −
	// LoadedFrom; none without LoadedFrom).
	LookBack time.Duration
	// BankLagDays is how many days after a settlement its bank credit may be
	// value-dated (default DefaultBankLagDays; negative is refused). A
	// settlement with no credit by then is reported on the day the lag ends.
	BankLagDays int
}

// Settlement accumulates the settlements report (SPEC §7) from the
// records of a run and the bank statement lines around its days. Memory
// grows with the number of provider, account, currency and day
// combinations, of reversals and of settlement records and bank credits,
// not with the number of payments.
//
// For each provider, account, currency and business day it totals: gross
// (succeeded payments, including ones later reversed), fees (the provider's
// reported fee + VAT where given, none when the payer paid it on top
// (Record.FeeOnPayer), else the fee schedule, rounded per payment; plus fee
// records), reversals (reversal records, on the day they are dated: when
// the reversal happened; and reversed payments no reversal record accounts
// for, on the day the store first saw them reversed — Record.ReversedAt —
// or on their own day when they were reversed at first sight), payouts (succeeded ones: a reversed payout gave the money back), and
// settled (succeeded settlement records: a settlement reversed or failed is
// not money paid). NetExpected = Gross − Fees − Reversals − Payouts.
// Records with no currency (Pixel sends none when no ledger entry names it)
// belong to no row; the matcher reports them.
//
// Every day carries the provider's balance owed, Unsettled: the net of the
// days since its last settlement plus the shortfalls not yet paid back. A
// settlement on day D owes the net of the days since the previous
// settlement — from that settlement's day up to the end of D−1 (T+1), or
// from the day after it up to the end of D (SameDay) — and its Variance is
// settled − owed (negative = short). A shortfall is reported once, on its
// day, and carried in Unsettled until paid; a later settlement that pays
// more than its own days owe first recovers it (Recovered, RecoveredFrom),
// which is neither a variance nor an overpayment. An overpayment is carried
// the same way, as a credit the provider may keep back later. A variance
// beyond Tolerance is a settlement_variance. The look-back (LoadedFrom)
// bounds all of it, so that the nightly runs of a month report what one run
// over the month does as long as no shortfall is older than the look-back.
//
// A provider whose settlements name no account (Kopo Kopo settles a whole
// merchant) is totalled per provider and currency, with Account empty, so
// that its settlements meet its takings. A provider with no settlement
// records of its own (Kora) but imported bank credits is settled by those
// credits (T+1). For the others, the bank check (three-way): each
// settlement is matched with a bank credit from the provider value-dated
// within BankLagDays after it — exactly, or several consecutive
// settlements with one credit (a weekend credited on Monday), or one
// settlement with several credits; what is left is paired with the nearest
// credit (a difference), or reported as missing at the bank once its lag is
// over and the statements reach that day, or as a credit with no
// settlement. The bank check's variance is the bank's credit − what the
// provider said it settled, negative = short, like the provider's. It
// covers the providers and currencies the imported statements name.
//
// Every sum of amounts is checked: a sum beyond int64 is an error naming
// the provider, account, currency, day and sum — AddRecord's, for the
// day's totals, else Err's once Result has run — never a wrap.
type Settlement struct {
	cfg Config
	// err is the first overflow: once set, Result returns nothing.
	err  error
	days map[dayKey]*dayTotals
	// reversedPayments are payments whose status is reversed, and
	// reversalsOf the transactions reversal records name: a reversed
	// payment counts as a reversal only if no reversal record does, and
	// none will (Record.RelatedTxID).
	reversedPayments map[txRef]reversedPayment
	reversalsOf      map[txRef]bool
	// wholeMerchant lists providers whose settlements name no account.
	wholeMerchant map[reconcile.Provider]bool
	// paid are the succeeded settlement records, and credits the bank
	// credits, per provider and currency (Account empty), for the bank check.
	paid    map[dayKey][]bankItem
	credits map[dayKey][]bankItem
	// bankDays are the value dates of every statement line added,
	// attributed or not: how far the statements reach.
	bankDays map[time.Time]bool
	// reports lists providers with settlement records of their own; the
	// bank credits of any other (Kora reports none) are its settlements.
	reports map[reconcile.Provider]bool
}

type dayKey struct {
	p       reconcile.Provider
	account string
	c       reconcile.Currency
	day     time.Time
}

type dayTotals struct {
	transactions, settlements                int
	gross, fees, reversals, payouts, settled int64
}

type txRef struct {
	p  reconcile.Provider
	tx string
}

type reversedPayment struct {
	k      dayKey
	amount int64
}

// bankItem is one settlement or one bank credit in the bank check.
type bankItem struct {
	day    time.Time
	amount int64
	ref    string
	used   bool
}

// New validates cfg and returns an empty accumulator.
func New(cfg Config) (*Settlement, error) {
	if cfg.Zone == nil {
		return nil, errors.New("settlement config: Zone is required")
	}
	if !cfg.Window.From.Before(cfg.Window.To) {
		return nil, fmt.Errorf("settlement config: empty window %s", cfg.Window)
	}
	if cfg.Tolerance < 0 {
		return nil, errors.New("settlement config: Tolerance must not be negative")
	}
	if cfg.BankLagDays < 0 {
		return nil, errors.New("settlement config: BankLagDays must not be negative")
	}
	if !cfg.LoadedFrom.IsZero() && cfg.LoadedFrom.After(cfg.Window.From) {
		return nil, fmt.Errorf("settlement config: LoadedFrom %s is after the window's start", cfg.LoadedFrom.Format(time.RFC3339))
	}
	if cfg.LookBack < 0 || (cfg.LookBack > 0 && (cfg.LoadedFrom.IsZero() || cfg.Window.From.Add(-cfg.LookBack).Before(cfg.LoadedFrom))) {
		return nil, errors.New("settlement config: LookBack must be positive and reach no further back than LoadedFrom")
	}
	cfg.BankLagDays = cmp.Or(cfg.BankLagDays, DefaultBankLagDays)
	if cfg.Fees == nil {
		cfg.Fees = DefaultFeeSchedule()
	}
	rounding, err := reconcile.ParseRoundingRule(string(cfg.Rounding))
	if err != nil {
		return nil, fmt.Errorf("settlement config: %w", err)
	}
	cfg.Rounding = rounding
	return &Settlement{
		cfg:              cfg,
		days:             make(map[dayKey]*dayTotals),
		reversedPayments: make(map[txRef]reversedPayment),
		reversalsOf:      make(map[txRef]bool),
		wholeMerchant:    wholeMerchant(cfg.PerCompany),
		reports:          make(map[reconcile.Provider]bool),
		paid:             make(map[dayKey][]bankItem),
		credits:          make(map[dayKey][]bankItem),
		bankDays:         make(map[time.Time]bool),
	}, nil
}

// businessDay is midnight, in the business zone, of the day t falls on.
func (s *Settlement) businessDay(t time.Time) time.Time {
	y, m, d := t.In(s.cfg.Zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, s.cfg.Zone)
}

// lookBackDays is the look-back in whole business days (0: unbounded):
// the days before the window's first that it covers entirely.
func (s *Settlement) lookBackDays() int {
	if s.cfg.LoadedFrom.IsZero() {
		return 0
	}
	start := s.cfg.LoadedFrom
	if s.cfg.LookBack > 0 {
		start = s.cfg.Window.From.Add(-s.cfg.LookBack)
	}
	day := s.businessDay(start)
	if day.Before(start) {
		day = day.AddDate(0, 0, 1)
	}
	return daysBetween(day, s.businessDay(s.cfg.Window.From))
}

// daysBetween counts the calendar days from a to b, both midnights.
func daysBetween(a, b time.Time) int {
	n := 0
	for d := a; d.Before(b); d = d.AddDate(0, 0, 1) {
		n++
	}
	return n
}

func (s *Settlement) totals(k dayKey) *dayTotals {
	t := s.days[k]
	if t == nil {
		t = &dayTotals{}
		s.days[k] = t
	}
	return t
}

// Err returns the first sum that overflowed int64, in AddRecord or in
// Result; after one, Result returns no rows and no discrepancies. Check it
// after Result.
func (s *Settlement) Err() error { return s.err }

// overflow is the error of sum what of the row k beyond int64; it records
// the first in s.err.
func (s *Settlement) overflow(k dayKey, what string) error {
	account := ""
	if k.account != "" {
		account = " account " + k.account
	}
	day := ""
	if !k.day.IsZero() {
		day = " on " + k.day.Format(time.DateOnly)
	}
	return s.record(fmt.Errorf("%s %s%s%s: %s sums beyond the largest amount Mizani can hold (%d minor units)",
		k.p, k.c, account, day, what, int64(math.MaxInt64)))
}

// record keeps err in s.err if it is the first overflow, and returns it.
func (s *Settlement) record(err error) error {
	if s.err == nil {
		s.err = err
	}
	return err
}

// sum returns a+b, or records an overflow of sum what of row k and
// returns 0.
func (s *Settlement) sum(k dayKey, what string, a, b int64) int64 {
	v, ok := reconcile.AddMinor(a, b)
	if !ok {
		s.overflow(k, what)
		return 0
	}
	return v
}

// diff returns a−b, or records an overflow of what of row k and returns 0.
func (s *Settlement) diff(k dayKey, what string, a, b int64) int64 {
	v, ok := reconcile.SubMinor(a, b)
	if !ok {
		s.overflow(k, what)
		return 0
	}
	return v
}

// addTo adds v to *dst, or, when that would overflow int64, leaves it and
// returns the error naming sum what of row k.
func (s *Settlement) addTo(dst *int64, v int64, k dayKey, what string) error {
	n, ok := reconcile.AddMinor(*dst, v)
	if !ok {
		return s.overflow(k, what)
	}
	*dst = n
	return nil
}

// AddRecord adds a record of any kind. Records from the end of the window
// on are ignored; those before it only open the balance; a payment before
// LoadedFrom counts only its reversal, if it was seen reversed since
// (Store.LateReversals). It fails when the
// record's fee is in another currency or a day's total would overflow
// int64 (see Err).
func (s *Settlement) AddRecord(r reconcile.Record) error {
	if !r.OccurredAt.Before(s.cfg.Window.To) {
		return nil
	}
	moved := r.Status == reconcile.StatusSucceeded || r.Status == reconcile.StatusReversed
	if !moved || r.Amount.Currency == "" {
		// A record whose currency is not known (the provider sends none
		// and no ledger entry names it) belongs to no settlement row; the
		// matcher reports it.
		return nil
	}
	var amount int64
	if r.AmountKnown {
		amount = abs(r.Amount.Minor)
	}
	k := dayKey{r.Provider, r.Account, r.Amount.Currency, s.businessDay(r.OccurredAt)}
	if r.Kind == reconcile.KindPayment && !s.cfg.LoadedFrom.IsZero() && r.OccurredAt.Before(s.cfg.LoadedFrom) {
		// Before the look-back (Store.LateReversals): only its reversal,
		// seen within it, is this run's — as a run whose look-back reaches
		// no further back reads it.
		if !r.ReversedAt.Before(s.cfg.LoadedFrom) {
			s.reversedPayment(r, k, amount)
		}
		return nil
	}
	if r.Kind == reconcile.KindSettlement {
		s.reports[r.Provider] = true
		if r.Account == "" {
			s.wholeMerchant[r.Provider] = true
		}
	}
	t := s.totals(k)
	switch r.Kind {
	case reconcile.KindPayment:
		if err := s.addTo(&t.gross, amount, k, "the gross"); err != nil {
			return err
		}
		t.transactions++
		s.reversedPayment(r, k, amount)
	case reconcile.KindPayout:
		t.transactions++
		if r.Status != reconcile.StatusSucceeded {
			return nil // reversed: the money came back, and any fee with it
		}
		if err := s.addTo(&t.payouts, amount, k, "the payouts"); err != nil {
			return err
		}
	case reconcile.KindReversal:
		if err := s.addTo(&t.reversals, amount, k, "the reversals"); err != nil {
			return err
		}
		if r.RelatedTxID != "" {
			s.reversalsOf[txRef{r.Provider, r.RelatedTxID}] = true
		}
	case reconcile.KindFee:
		return s.addTo(&t.fees, amount, k, "the fees")
	case reconcile.KindSettlement:
		if r.Status != reconcile.StatusSucceeded {
			return nil // reversed or failed: not paid
		}
		if err := s.addTo(&t.settled, amount, k, "the settled amount"); err != nil {
			return err
		}
		t.settlements++
		pk := dayKey{p: r.Provider, c: r.Amount.Currency}
		s.paid[pk] = append(s.paid[pk], bankItem{day: k.day, amount: amount, ref: r.TxID})
		return nil
	}
	fee, err := s.fee(r)
	if err != nil {
		return err
	}
	return s.addTo(&t.fees, fee, k, "the fees")
}

// reversedPayment notes payment r, of row k, if its status is its only
// word of a reversal (no reversal record of its own, Record.RelatedTxID).
// The reversal is dated when the store first saw it (Record.ReversedAt),
// else by the payment (reversed at first sight); one seen after the window
// had not happened by its end.
func (s *Settlement) reversedPayment(r reconcile.Record, k dayKey, amount int64) {
	if r.Status != reconcile.StatusReversed || r.RelatedTxID == r.TxID {
		return
	}
	if !r.ReversedAt.IsZero() {
		if !r.ReversedAt.Before(s.cfg.Window.To) {
			return
		}
		if day := s.businessDay(r.ReversedAt); day.After(k.day) {
			k.day = day
		}
	}
	s.reversedPayments[txRef{r.Provider, r.TxID}] = reversedPayment{k, amount}
}

// fee is the fee on one payment, payout or reversal: the provider's own
// figure when it reports one (none when the payer paid it on top,
// Record.FeeOnPayer), else the schedule's (payments only).
func (s *Settlement) fee(r reconcile.Record) (int64, error) {
	if r.FeeKnown && r.FeeOnPayer {
		// The payer paid the fee on top of the amount: the merchant's net
		// is the whole amount.
		return 0, nil
	}
	if r.FeeKnown {
		if r.Fee.Currency != r.Amount.Currency || (r.VAT.Minor != 0 && r.VAT.Currency != r.Amount.Currency) {
			return 0, fmt.Errorf("%s %s %s: fee in %s, VAT in %s, amount in %s",
				r.Provider, r.Kind, r.TxID, r.Fee.Currency, r.VAT.Currency, r.Amount.Currency)
		}
		fee, ok := reconcile.AddMinor(r.Fee.Minor, r.VAT.Minor)
		if !ok {
			return 0, s.record(fmt.Errorf("%s %s %s: fee %s + VAT %s sums beyond the largest amount Mizani can hold (%d minor units)",
				r.Provider, r.Kind, r.TxID, human(r.Fee.Minor, r.Fee.Currency), human(r.VAT.Minor, r.Amount.Currency), int64(math.MaxInt64)))
		}
		return fee, nil
	}
	if r.Kind != reconcile.KindPayment || !r.AmountKnown {
		return 0, nil
	}
	rate, ok := s.cfg.Fees.rate(r.Provider, r.Method)
	if !ok {
		return 0, nil
	}
	pct, err := r.Amount.Percent(rate.Percent, s.cfg.Rounding)
	if err != nil {
		return 0, fmt.Errorf("%s payment %s: fee %s%% of %s: %w", r.Provider, r.TxID, rate.Percent, r.Amount, err)
	}
	fee, ok := reconcile.AddMinor(pct.Minor, rate.Fixed)
	if !ok {
		return 0, s.record(fmt.Errorf("%s payment %s: fee %s%% of %s + %s fixed sums beyond the largest amount Mizani can hold (%d minor units)",
			r.Provider, r.TxID, rate.Percent, r.Amount.Human(), human(rate.Fixed, r.Amount.Currency), int64(math.MaxInt64)))
	}
	return fee, nil
}

// AddBankLine adds a bank statement line. Every line tells how far the
// statements reach; only credits attributed to a provider are compared.
// Give the lines from the look-back's start to BankLagDays after the
// window (jobs does), so that each settlement's credit is seen.
func (s *Settlement) AddBankLine(b reconcile.BankLine) error {
	y, m, d := b.ValueDate.UTC().Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, s.cfg.Zone)
	s.bankDays[day] = true
	if b.Provider == "" || b.Amount.Minor <= 0 {
		return nil
	}
	k := dayKey{p: b.Provider, c: b.Amount.Currency}
	s.credits[k] = append(s.credits[k], bankItem{day: day, amount: b.Amount.Minor, ref: b.Reference})
	return nil
}

// sameGroup says a and b are of one provider, account and currency.
func sameGroup(a, b dayKey) bool { return a.p == b.p && a.account == b.account && a.c == b.c }

// dayNet is one day's net, owed to a coming settlement.
type dayNet struct {
	day time.Time
	net int64
}

// carried is a shortfall (positive) or an overpayment (negative) of the
// settlement of day, not yet made good.
type carried struct {
	day    time.Time
	amount int64
}

// Result returns the report rows, sorted by provider, account, currency and
// day, and the settlement_variance discrepancies, sorted by day, provider,
// account and currency. When a sum overflowed int64, here or in AddRecord,
// it returns nothing and Err says which.
func (s *Settlement) Result() ([]reconcile.SettlementDay, []reconcile.Discrepancy) {
	rows, discs := s.result()
	if s.err != nil {
		return nil, nil
	}
	return rows, discs
}

func (s *Settlement) result() ([]reconcile.SettlementDay, []reconcile.Discrepancy) {
	if s.err != nil {
		return nil, nil
	}
	end := s.businessDay(s.cfg.Window.To.Add(-time.Nanosecond))
	// A provider that reports no settlements of its own (Kora) but whose
	// bank credits are imported is settled by those credits: they are
	// compared with what it owes, per provider and currency (a bank credit
	// names no account).
	bankOnly := make(map[reconcile.Provider]bool)
	for k := range s.credits {
		if !s.reports[k.p] {
			bankOnly[k.p] = true
		}
	}
	days := make(map[dayKey]dayTotals, len(s.days))
	for k, t := range s.days {
		if s.wholeMerchant[k.p] || bankOnly[k.p] {
			k.account = ""
		}
		days[k] = s.merge(k, days[k], *t)
	}
	for k, items := range s.credits {
		if !bankOnly[k.p] {
			continue
		}
		for _, c := range items {
			if c.day.After(end) {
				continue
			}
			dk := dayKey{p: k.p, c: k.c, day: c.day}
			t := days[dk]
			t.settled = s.sum(dk, "the settled amount", t.settled, c.amount)
			t.settlements++
			days[dk] = t
		}
	}
	for ref, rp := range s.reversedPayments {
		if !s.reversalsOf[ref] {
			k := rp.k
			if s.wholeMerchant[k.p] || bankOnly[k.p] {
				k.account = ""
			}
			t := days[k]
			t.reversals = s.sum(k, "the reversals", t.reversals, rp.amount)
			days[k] = t
		}
	}
	keys := slices.SortedFunc(maps.Keys(days), func(a, b dayKey) int {
		return cmp.Or(cmp.Compare(a.p, b.p), cmp.Compare(a.account, b.account), cmp.Compare(a.c, b.c), a.day.Compare(b.day))
	})

	first := s.businessDay(s.cfg.Window.From)
	lookBack := s.lookBackDays()
	// judged is the first day whose settlement's look-back is all read:
	// before it, a settlement with none before it only opens the balance.
	judged := first
	if lookBack > 0 {
		judged = s.businessDay(s.cfg.LoadedFrom)
		if judged.Before(s.cfg.LoadedFrom) {
			judged = judged.AddDate(0, 0, 1) // a day read in part is not read
		}
		judged = judged.AddDate(0, 0, lookBack)
	}
	var rows []reconcile.SettlementDay
	var discs []reconcile.Discrepancy
	// open are the days whose net the next settlement owes (T+1: from the
	// last settlement's day on; same day: after it); carry the shortfalls
	// and overpayments not yet made good, oldest first, all of one sign;
	// last the day of the last settlement.
	var open []dayNet
	var carry []carried
	var last time.Time
	for i, k := range keys {
		if i == 0 || !sameGroup(k, keys[i-1]) {
			open, carry, last = nil, nil, time.Time{}
		}
		t := days[k]
		net := s.diff(k, "the net expected", s.diff(k, "the net expected", s.diff(k, "the net expected", t.gross, t.fees), t.reversals), t.payouts)
		if s.cfg.SameDay {
			open = append(open, dayNet{k.day, net})
		}
		row := reconcile.SettlementDay{
			Provider: k.p, Account: k.account, Currency: k.c, Day: k.day,
			Transactions: t.transactions, Gross: t.gross, Fees: t.fees, Reversals: t.reversals, Payouts: t.payouts,
			NetExpected: net, Settled: t.settled,
		}
		if t.settlements > 0 {
			horizon := time.Time{}
			if lookBack > 0 {
				horizon = k.day.AddDate(0, 0, -lookBack)
			}
			alone := last.IsZero() || last.Before(horizon)
			switch {
			case alone && k.day.Before(judged):
				// The first settlement read, before the window: it paid
				// for days the records may not reach, so it only opens the
				// balance.
				open, carry = nil, nil
			default:
				if alone {
					// No settlement before it in the look-back: it owes the
					// look-back's days only, whatever else was read.
					carry = nil
					for len(open) > 0 && open[0].day.Before(horizon) {
						open = open[1:]
					}
				}
				var owed int64
				for _, o := range open {
					owed = s.sum(k, "the amount owed", owed, o.net)
				}
				since := k.day
				if len(open) > 0 {
					since = open[0].day
				}
				diff := s.diff(k, "the settlement variance", t.settled, owed)
				recovered, from := recoverCarry(&carry, diff)
				// |recovered| ≤ |diff|, of one sign: no overflow.
				variance := diff - recovered
				if variance != 0 {
					carry = append(carry, carried{k.day, s.diff(k, "the shortfall carried", 0, variance)})
				}
				row.Variance, row.Recovered, row.RecoveredFrom = variance, recovered, from
				open = nil
				if !k.day.Before(first) && (variance == math.MinInt64 || abs(variance) > s.cfg.Tolerance) {
					discs = append(discs, s.variance(k, t.settled, owed, recovered, from, since, alone && lookBack > 0))
				}
			}
			last = k.day
		}
		if !s.cfg.SameDay {
			open = append(open, dayNet{k.day, net})
		}
		for _, o := range open {
			row.Unsettled = s.sum(k, "the unsettled balance", row.Unsettled, o.net)
		}
		for _, c := range carry {
			row.Unsettled = s.sum(k, "the unsettled balance", row.Unsettled, c.amount)
		}
		if k.day.Before(first) {
			continue // the look-back and look-around margin only open what is owed
		}
		rows = append(rows, row)
	}
	discs = append(discs, s.bankCheck(bankOnly)...)
	slices.SortStableFunc(discs, func(a, b reconcile.Discrepancy) int {
		return cmp.Or(a.OccurredAt.Compare(b.OccurredAt), cmp.Compare(a.Provider, b.Provider),
			cmp.Compare(a.Account, b.Account), cmp.Compare(a.Currency, b.Currency), cmp.Compare(a.Detail, b.Detail))
	})
	return rows, discs
}

// recoverCarry takes from carry, oldest first, what diff (settled − owed)
// makes good: the part of an excess that pays back earlier shortfalls, or
// of a deficit that keeps back an earlier overpayment. It returns that part
// and the day of the oldest settlement it made good.
func recoverCarry(carry *[]carried, diff int64) (int64, time.Time) {
	var recovered int64
	var from time.Time
	for len(*carry) > 0 && diff != 0 {
		c := &(*carry)[0]
		if (c.amount > 0) != (diff > 0) {
			break
		}
		take := c.amount
		if abs(diff) < abs(take) {
			take = diff
		}
		if from.IsZero() {
			from = c.day
		}
		recovered += take
		diff -= take
		c.amount -= take
		if c.amount == 0 {
			*carry = (*carry)[1:]
		}
	}
	return recovered, from
}

// merge adds the totals of a and b, of row k, recording an overflow.
func (s *Settlement) merge(k dayKey, a, b dayTotals) dayTotals {
	return dayTotals{
		transactions: a.transactions + b.transactions, settlements: a.settlements + b.settlements,
		gross: s.sum(k, "the gross", a.gross, b.gross), fees: s.sum(k, "the fees", a.fees, b.fees),
		reversals: s.sum(k, "the reversals", a.reversals, b.reversals),
		payouts:   s.sum(k, "the payouts", a.payouts, b.payouts), settled: s.sum(k, "the settled amount", a.settled, b.settled),
	}
}

// variance reports a settlement that differs from what was owed for the
// days from since, plus what it recovered of the shortfalls of the
// settlements from the day from on; alone says no settlement came before
// it in the look-back.
func (s *Settlement) variance(k dayKey, settled, owed, recovered int64, from, since time.Time, alone bool) reconcile.Discrepancy {
	upTo := k.day.AddDate(0, 0, -1)
	if s.cfg.SameDay {
		upTo = k.day
	}
	period := "up to the end of " + upTo.Format(time.DateOnly)
	if since.Before(upTo) {
		period = "for " + since.Format(time.DateOnly) + " to " + upTo.Format(time.DateOnly)
	}
	back := ""
	switch {
	case recovered > 0:
		back = fmt.Sprintf(", and %s of the shortfall of the settlement of %s was still due", human(recovered, k.c), from.Format(time.DateOnly))
	case recovered < 0:
		back = fmt.Sprintf(", less %s overpaid by the settlement of %s", human(-recovered, k.c), from.Format(time.DateOnly))
	}
	note := ""
	if alone {
		note = fmt.Sprintf(" (no earlier settlement since %s, as far back as the run looked: it may pay for earlier days too; see --settlement-look-back)",
			k.day.AddDate(0, 0, -s.lookBackDays()).Format(time.DateOnly))
	}
	account := ""
	if k.account != "" {
		account = " for account " + k.account
	}
	due := s.sum(k, "the amount due", owed, recovered)
	diff := s.diff(k, "the settlement variance", settled, due)
	return reconcile.Discrepancy{
		Kind: reconcile.SettlementVariance, Provider: k.p, Account: k.account, Currency: k.c,
		LedgerAmount: due, ProviderAmount: settled, ProviderAmountKnown: true, Difference: diff,
		OccurredAt: k.day,
		Detail: fmt.Sprintf("%s settled %s on %s%s; %s was owed %s%s — %s%s",
			k.p.DisplayName(), human(settled, k.c), k.day.Format(time.DateOnly), account,
			human(owed, k.c), period, back, shortOver(diff, k.c), note),
	}
}

// bankCheck matches each provider's settlements with its bank credits (see
// Settlement) and reports, for the window's days, what does not agree:
// variance = the bank's credit − the provider's settlement.
func (s *Settlement) bankCheck(bankOnly map[reconcile.Provider]bool) []reconcile.Discrepancy {
	first := s.businessDay(s.cfg.Window.From)
	end := s.businessDay(s.cfg.Window.To.Add(-time.Nanosecond))
	inWindow := func(d time.Time) bool { return !d.Before(first) && !d.After(end) }
	lag := s.cfg.BankLagDays
	loaded := time.Time{}
	if !s.cfg.LoadedFrom.IsZero() {
		loaded = s.businessDay(s.cfg.LoadedFrom)
	}
	var out []reconcile.Discrepancy
	keys := make([]dayKey, 0, len(s.credits))
	for k := range s.credits {
		if !bankOnly[k.p] {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b dayKey) int { return cmp.Or(cmp.Compare(a.p, b.p), cmp.Compare(a.c, b.c)) })
	for _, k := range keys {
		paid := slices.Clone(s.paid[k])
		credits := slices.Clone(s.credits[k])
		byDay := func(a, b bankItem) int {
			return cmp.Or(a.day.Compare(b.day), cmp.Compare(a.amount, b.amount), cmp.Compare(a.ref, b.ref))
		}
		slices.SortFunc(paid, byDay)
		slices.SortFunc(credits, byDay)
		// due says credit c may pay settlement p: value-dated from p's day
		// to BankLagDays after.
		due := func(p, c bankItem) bool { return !c.day.Before(p.day) && !c.day.After(p.day.AddDate(0, 0, lag)) }
		matchBank(paid, credits, due)

		name := k.p.DisplayName()
		report := func(day time.Time, said, got int64, detail string) {
			if !inWindow(day) || abs(got-said) <= s.cfg.Tolerance {
				return
			}
			out = append(out, reconcile.Discrepancy{
				Kind: reconcile.SettlementVariance, Provider: k.p, Currency: k.c,
				LedgerAmount: said, ProviderAmount: got, ProviderAmountKnown: true, Difference: got - said,
				OccurredAt: day, Detail: detail + " — " + shortOver(got-said, k.c),
			})
		}
		// What is left: a settlement and the first credit that may pay it
		// differ; a settlement with none is missing at the bank once its
		// lag is over (if the statements reach that far); a credit with
		// no settlement is extra.
		for i := range paid {
			p := &paid[i]
			if p.used {
				continue
			}
			for j := range credits {
				c := &credits[j]
				if c.used || !due(*p, *c) {
					continue
				}
				p.used, c.used = true, true
				when := "that day"
				if !c.day.Equal(p.day) {
					when = "on " + c.day.Format(time.DateOnly)
				}
				report(c.day, p.amount, c.amount, fmt.Sprintf("%s reports settling %s on %s; the bank statement shows %s from %s %s",
					name, human(p.amount, k.c), p.day.Format(time.DateOnly), human(c.amount, k.c), name, when))
				break
			}
			if p.used {
				continue
			}
			overdue := p.day.AddDate(0, 0, lag)
			if !s.statementsReach(overdue, lag) {
				continue
			}
			report(overdue, p.amount, 0, fmt.Sprintf("%s reports settling %s on %s; the bank statement shows no credit of it from %s by %s",
				name, human(p.amount, k.c), p.day.Format(time.DateOnly), name, overdue.Format(time.DateOnly)))
		}
		for _, c := range credits {
			if c.used || (!loaded.IsZero() && c.day.AddDate(0, 0, -lag).Before(loaded)) {
				continue
			}
			report(c.day, 0, c.amount, fmt.Sprintf("The bank statement shows %s from %s on %s; %s reports no settlement of it from %s to %s",
				human(c.amount, k.c), name, c.day.Format(time.DateOnly), name,
				c.day.AddDate(0, 0, -lag).Format(time.DateOnly), c.day.Format(time.DateOnly)))
		}
	}
	return out
}

// statementsReach says a statement line is value-dated from day to lag
// days after it: the statements imported cover day, so a credit missing by
// then is missing, not merely not imported yet. The bound keeps the
// answer the same in a daily run and in a range run.
func (s *Settlement) statementsReach(day time.Time, lag int) bool {
	for d := range lag + 1 {
		if s.bankDays[day.AddDate(0, 0, d)] {
			return true
		}
	}
	return false
}

// matchBank marks the settlements and credits (both sorted by day) that
// agree to the cent: first one settlement with one credit, then consecutive
// settlements with one credit (a weekend credited together), then one
// settlement with consecutive credits (paid to the bank in parts), then, per
// value date, the day's settlements with the day's credits.
func matchBank(paid, credits []bankItem, due func(p, c bankItem) bool) {
	for i := range paid {
		for j := range credits {
			if !credits[j].used && credits[j].amount == paid[i].amount && due(paid[i], credits[j]) {
				paid[i].used, credits[j].used = true, true
				break
			}
		}
	}
	// runs returns, among the unused items of xs that fit(x), the first
	// run of two or more consecutive ones summing to want.
	runs := func(xs []bankItem, fit func(bankItem) bool, want int64) []int {
		var idx []int
		for i := range xs {
			if !xs[i].used && fit(xs[i]) {
				idx = append(idx, i)
			}
		}
		for a := range idx {
			var sum int64
			for b := a; b < len(idx); b++ {
				var ok bool
				if sum, ok = reconcile.AddMinor(sum, xs[idx[b]].amount); !ok {
					break // beyond int64, so beyond want
				}
				if sum == want && b > a {
					return idx[a : b+1]
				}
				if sum > want {
					break
				}
			}
		}
		return nil
	}
	for j := range credits {
		if credits[j].used {
			continue
		}
		c := credits[j]
		if run := runs(paid, func(p bankItem) bool { return due(p, c) }, c.amount); run != nil {
			for _, i := range run {
				paid[i].used = true
			}
			credits[j].used = true
		}
	}
	for i := range paid {
		if paid[i].used {
			continue
		}
		p := paid[i]
		if run := runs(credits, func(c bankItem) bool { return due(p, c) }, p.amount); run != nil {
			for _, j := range run {
				credits[j].used = true
			}
			paid[i].used = true
		}
	}
	// sums totals the unused items by day; a day whose sum overflows
	// int64 is left out (-1), so matches nothing.
	sums := func(xs []bankItem) map[time.Time]int64 {
		m := make(map[time.Time]int64)
		for _, x := range xs {
			if !x.used && m[x.day] >= 0 {
				v, ok := reconcile.AddMinor(m[x.day], x.amount)
				if !ok {
					v = -1
				}
				m[x.day] = v
			}
		}
		return m
	}
	ps, cs := sums(paid), sums(credits)
	for day, sum := range ps {
		if sum < 0 || cs[day] != sum {
			continue
		}
		for i := range paid {
			if paid[i].day.Equal(day) {
				paid[i].used = true
			}
		}
		for j := range credits {
			if credits[j].day.Equal(day) {
				credits[j].used = true
			}
		}
	}
}

// shortOver is "500.00 short" or "500.00 over".
func shortOver(diff int64, c reconcile.Currency) string {
	if diff < 0 {
		return number(-diff, c) + " short"
	}
	return number(diff, c) + " over"
}

func wholeMerchant(ps []reconcile.Provider) map[reconcile.Provider]bool {
	m := make(map[reconcile.Provider]bool, len(ps))
	for _, p := range ps {
		m[p] = true
	}
	return m
}
