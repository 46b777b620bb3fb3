package matchers

import (
	"cmp"
	"errors"
	"fmt"
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

// SettlementConfig configures a Settlement.
type SettlementConfig struct {
	// Window is the run window: rows are produced for the business days
	// inside it. Records before it only tell what the window's first
	// settlement owes — the net of the days since the settlement before it
	// — so they should reach back to that settlement (jobs reads a week);
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
	// LoadedFrom, when set, is where the records given begin (a run's
	// look-back). A settlement with no settlement before it since then may
	// pay for earlier days too: its detail says so.
	LoadedFrom time.Time
}

// Settlement accumulates the settlements report (SPEC §7) from the
// records of a run and the bank statement lines of its days. Memory grows
// with the number of provider, account, currency and day combinations and
// with the number of reversals, not with the number of records.
//
// For each provider, account, currency and business day it totals: gross
// (succeeded payments, including ones later reversed), fees (the provider's
// reported fee + VAT where given, else the fee schedule, rounded per payment;
// plus fee records), reversals (reversal records, and reversed payments no
// reversal record accounts for), payouts, and settled (settlement records).
// NetExpected = Gross − Fees − Reversals − Payouts.
//
// A settlement on day D owes the net of the days since the previous
// settlement: from that settlement's day up to the end of D−1 (T+1), or
// from the day after it up to the end of D (SameDay); a difference beyond
// Tolerance is a settlement_variance. A shortfall is reported once, on its
// day, and not carried into what later settlements owe, so the nightly
// runs of a month report what one run over the month does. Unsettled is
// what the next settlement owes at the end of the day.
//
// A provider whose settlements name no account (Kopo
// Kopo settles a whole merchant) is totalled per provider and currency, with
// Account empty, so that its settlements meet its takings. Bank credits
// attributed to a provider are compared, per currency and value date, with
// what the provider says it settled that day (three-way), for providers and
// currencies the imported statements cover.
type Settlement struct {
	cfg  SettlementConfig
	days map[dayKey]*dayTotals
	// reversedPayments are payments whose status is reversed, and
	// reversalsOf the transactions reversal records name: a reversed
	// payment counts as a reversal only if no reversal record does.
	reversedPayments map[txRef]reversedPayment
	reversalsOf      map[txRef]bool
	// wholeMerchant lists providers whose settlements name no account.
	wholeMerchant map[reconcile.Provider]bool
	bank          map[dayKey]int64
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
	transactions                             int
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

// NewSettlement validates cfg and returns an empty accumulator.
func NewSettlement(cfg SettlementConfig) (*Settlement, error) {
	if cfg.Zone == nil {
		return nil, errors.New("settlement config: Zone is required")
	}
	if !cfg.Window.From.Before(cfg.Window.To) {
		return nil, fmt.Errorf("settlement config: empty window %s", cfg.Window)
	}
	if cfg.Tolerance < 0 {
		return nil, errors.New("settlement config: Tolerance must not be negative")
	}
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
		bank:             make(map[dayKey]int64),
	}, nil
}

// businessDay is midnight, in the business zone, of the day t falls on.
func (s *Settlement) businessDay(t time.Time) time.Time {
	y, m, d := t.In(s.cfg.Zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, s.cfg.Zone)
}

func (s *Settlement) totals(k dayKey) *dayTotals {
	t := s.days[k]
	if t == nil {
		t = &dayTotals{}
		s.days[k] = t
	}
	return t
}

// AddRecord adds a record of any kind. Records from the end of the window
// on are ignored; those before it only open the balance.
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
	k := dayKey{r.Provider, r.Account, r.Amount.Currency, s.businessDay(r.OccurredAt)}
	if r.Kind == reconcile.KindSettlement {
		s.reports[r.Provider] = true
		if r.Account == "" {
			s.wholeMerchant[r.Provider] = true
		}
	}
	var amount int64
	if r.AmountKnown {
		amount = abs(r.Amount.Minor)
	}
	t := s.totals(k)
	switch r.Kind {
	case reconcile.KindPayment:
		t.transactions++
		t.gross += amount
		if r.Status == reconcile.StatusReversed {
			s.reversedPayments[txRef{r.Provider, r.TxID}] = reversedPayment{k, amount}
		}
	case reconcile.KindPayout:
		t.transactions++
		t.payouts += amount
	case reconcile.KindReversal:
		t.reversals += amount
		if r.RelatedTxID != "" {
			s.reversalsOf[txRef{r.Provider, r.RelatedTxID}] = true
		}
	case reconcile.KindFee:
		t.fees += amount
		return nil
	case reconcile.KindSettlement:
		t.settled += amount
		return nil
	}
	fee, err := s.fee(r)
	if err != nil {
		return err
	}
	t.fees += fee
	return nil
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
		return r.Fee.Minor + r.VAT.Minor, nil
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
	return pct.Minor + rate.Fixed, nil
}

// AddBankLine adds a bank statement line. Lines not attributed to a
// provider, and debits, are ignored.
func (s *Settlement) AddBankLine(b reconcile.BankLine) error {
	if b.Provider == "" || b.Amount.Minor <= 0 {
		return nil
	}
	y, m, d := b.ValueDate.UTC().Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, s.cfg.Zone)
	if day.Before(s.businessDay(s.cfg.Window.From)) || !day.Before(s.cfg.Window.To) {
		return nil
	}
	s.bank[dayKey{p: b.Provider, c: b.Amount.Currency, day: day}] += b.Amount.Minor
	return nil
}

// Result returns the report rows, sorted by provider, account, currency and
// day, and the settlement_variance discrepancies, sorted by day, provider,
// account and currency.
func (s *Settlement) Result() ([]reconcile.SettlementDay, []reconcile.Discrepancy) {
	// A provider that reports no settlements of its own (Kora) but whose
	// bank credits are imported is settled by those credits: they are
	// compared with what it owes, per provider and currency (a bank credit
	// names no account).
	bankOnly := make(map[reconcile.Provider]bool)
	for k := range s.bank {
		if !s.reports[k.p] {
			bankOnly[k.p] = true
		}
	}
	days := make(map[dayKey]dayTotals, len(s.days))
	for k, t := range s.days {
		if s.wholeMerchant[k.p] || bankOnly[k.p] {
			k.account = ""
		}
		days[k] = add(days[k], *t)
	}
	for k, amount := range s.bank {
		if bankOnly[k.p] {
			t := days[k]
			t.settled += amount
			days[k] = t
		}
	}
	for ref, rp := range s.reversedPayments {
		if !s.reversalsOf[ref] {
			k := rp.k
			if s.wholeMerchant[k.p] || bankOnly[k.p] {
				k.account = ""
			}
			t := days[k]
			t.reversals += rp.amount
			days[k] = t
		}
	}
	keys := make([]dayKey, 0, len(days))
	for k := range days {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b dayKey) int {
		return cmp.Or(cmp.Compare(a.p, b.p), cmp.Compare(a.account, b.account), cmp.Compare(a.c, b.c), a.day.Compare(b.day))
	})

	first := s.businessDay(s.cfg.Window.From)
	settled := make(map[dayKey]int64) // per provider, currency and day, for the bank
	var rows []reconcile.SettlementDay
	var discs []reconcile.Discrepancy
	// owed is what the next settlement pays: the net of the days since the
	// last settlement (T+1: from that day on; same day: after it); since is
	// the first of those days; settledBefore says the group has had one.
	var owed int64
	var since time.Time
	var settledBefore bool
	for i, k := range keys {
		if i == 0 || k.p != keys[i-1].p || k.account != keys[i-1].account || k.c != keys[i-1].c {
			owed, since, settledBefore = 0, time.Time{}, false
		}
		t := days[k]
		net := t.gross - t.fees - t.reversals - t.payouts
		var variance, paid int64
		var paidSince time.Time
		firstSettlement := false
		if s.cfg.SameDay {
			owed += net
		}
		if t.settled != 0 {
			variance, paid, paidSince, firstSettlement = t.settled-owed, owed, since, !settledBefore
			owed, since, settledBefore = 0, k.day, true
			if s.cfg.SameDay {
				since = k.day.AddDate(0, 0, 1)
			}
		}
		if !s.cfg.SameDay {
			owed += net
		}
		if since.IsZero() {
			since = k.day
		}
		if k.day.Before(first) {
			continue // the look-back and look-around margin only open what is owed
		}
		rows = append(rows, reconcile.SettlementDay{
			Provider: k.p, Account: k.account, Currency: k.c, Day: k.day,
			Transactions: t.transactions, Gross: t.gross, Fees: t.fees, Reversals: t.reversals, Payouts: t.payouts,
			NetExpected: net, Settled: t.settled, Variance: variance, Unsettled: owed,
		})
		settled[dayKey{p: k.p, c: k.c, day: k.day}] += t.settled
		if t.settled != 0 && abs(variance) > s.cfg.Tolerance {
			discs = append(discs, s.variance(k, t.settled, paid, paidSince, firstSettlement))
		}
	}
	discs = append(discs, s.bankVariances(settled)...)
	slices.SortStableFunc(discs, func(a, b reconcile.Discrepancy) int {
		return cmp.Or(a.OccurredAt.Compare(b.OccurredAt), cmp.Compare(a.Provider, b.Provider),
			cmp.Compare(a.Account, b.Account), cmp.Compare(a.Currency, b.Currency))
	})
	return rows, discs
}

func add(a, b dayTotals) dayTotals {
	return dayTotals{
		transactions: a.transactions + b.transactions,
		gross:        a.gross + b.gross, fees: a.fees + b.fees, reversals: a.reversals + b.reversals,
		payouts: a.payouts + b.payouts, settled: a.settled + b.settled,
	}
}

// variance reports a settlement that differs from what was owed for the
// days from since; first says no settlement came before it in the records
// given.
func (s *Settlement) variance(k dayKey, settled, owed int64, since time.Time, first bool) reconcile.Discrepancy {
	upTo := k.day.AddDate(0, 0, -1)
	if s.cfg.SameDay {
		upTo = k.day
	}
	period := "up to the end of " + upTo.Format(time.DateOnly)
	if !since.IsZero() && since.Before(upTo) {
		period = "for " + since.Format(time.DateOnly) + " to " + upTo.Format(time.DateOnly)
	}
	note := ""
	if first && !s.cfg.LoadedFrom.IsZero() {
		note = fmt.Sprintf(" (no earlier settlement since %s, as far back as the run looked: it may pay for earlier days too; see --settlement-look-back)",
			s.businessDay(s.cfg.LoadedFrom).Format(time.DateOnly))
	}
	account := ""
	if k.account != "" {
		account = " for account " + k.account
	}
	diff := settled - owed
	return reconcile.Discrepancy{
		Kind: reconcile.SettlementVariance, Provider: k.p, Account: k.account, Currency: k.c,
		LedgerAmount: owed, ProviderAmount: settled, ProviderAmountKnown: true, Difference: diff,
		OccurredAt: k.day,
		Detail: fmt.Sprintf("%s settled %s on %s%s; %s was owed %s — %s%s",
			k.p.DisplayName(), human(settled, k.c), k.day.Format(time.DateOnly), account,
			human(owed, k.c), period, shortOver(diff, k.c), note),
	}
}

// bankVariances compares bank credits with the settlements the provider
// reported, per provider, currency and day, for the providers and
// currencies the bank lines cover.
func (s *Settlement) bankVariances(settled map[dayKey]int64) []reconcile.Discrepancy {
	covered := make(map[dayKey]bool) // provider and currency only
	for k := range s.bank {
		covered[dayKey{p: k.p, c: k.c}] = true
	}
	seen := make(map[dayKey]bool)
	var out []reconcile.Discrepancy
	check := func(k dayKey) {
		if seen[k] || !covered[dayKey{p: k.p, c: k.c}] {
			return
		}
		seen[k] = true
		got, said := s.bank[k], settled[k]
		if abs(said-got) <= s.cfg.Tolerance {
			return
		}
		name := k.p.DisplayName()
		out = append(out, reconcile.Discrepancy{
			Kind: reconcile.SettlementVariance, Provider: k.p, Currency: k.c,
			LedgerAmount: got, ProviderAmount: said, ProviderAmountKnown: true, Difference: said - got,
			OccurredAt: k.day,
			Detail: fmt.Sprintf("%s reports settling %s on %s; the bank statement shows %s from %s that day — %s",
				name, human(said, k.c), k.day.Format(time.DateOnly), human(got, k.c), name, shortOver(got-said, k.c)),
		})
	}
	for k := range settled {
		check(k)
	}
	for k := range s.bank {
		check(k)
	}
	return out
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
