// Package settlement is the settlement math of SPEC §7: per provider,
// account, currency and business day, what was received (gross, fees,
// reversals, payouts, net expected), what each settlement owed — the net of
// the days since the previous settlement, T+1, plus any shortfall it paid
// back — what it settled, the variance (settled − owed; negative = short)
// and the running unsettled balance, a shortfall carried until paid; and the
// three-way check of settlements against bank statement credits. It is pure:
// no SQL, no HTTP, and it shares only sentence formatting with matching
// (package matchers), which it does not import.
package settlement
