package matchers

import "github.com/mizani/reconcile/settlement"

// The settlement math lives in package settlement; these names keep the
// callers of matchers compiling.

// FeeRate is what a provider charges on one payment (settlement.FeeRate).
type FeeRate = settlement.FeeRate

// FeeSchedule is settlement.FeeSchedule: fee rates by provider and method.
type FeeSchedule = settlement.FeeSchedule

// DefaultFeeSchedule is settlement.DefaultFeeSchedule: nothing is charged.
func DefaultFeeSchedule() FeeSchedule { return settlement.DefaultFeeSchedule() }

// DefaultBankLagDays is settlement.DefaultBankLagDays.
const DefaultBankLagDays = settlement.DefaultBankLagDays

// SettlementConfig is settlement.Config.
type SettlementConfig = settlement.Config

// Settlement is settlement.Settlement: the settlements report accumulator.
type Settlement = settlement.Settlement

// NewSettlement is settlement.New.
func NewSettlement(cfg SettlementConfig) (*Settlement, error) { return settlement.New(cfg) }
