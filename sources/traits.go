package sources

import "github.com/mizani/reconcile"

// TraitSet is what the registered providers' traits say a run should be
// configured with, as plain configuration for jobs and matchers.
type TraitSet struct {
	// Heuristic are the providers whose leftovers go through the heuristic pass.
	Heuristic []reconcile.Provider
	// PerCompany are the providers whose settlements name no account.
	PerCompany []reconcile.Provider
	// Fees is the default fee schedule, by provider and payment method.
	Fees map[reconcile.Provider]map[string]reconcile.FeeRate
}

// RegisteredTraits collects the traits of every registered provider.
func RegisteredTraits() TraitSet {
	ts := TraitSet{Fees: map[reconcile.Provider]map[string]reconcile.FeeRate{}}
	for _, p := range Registered() {
		t := p.Traits
		if t.Heuristic {
			ts.Heuristic = append(ts.Heuristic, p.Name)
		}
		if t.SettlesPerCompany {
			ts.PerCompany = append(ts.PerCompany, p.Name)
		}
		if len(t.Fees) > 0 {
			rates := make(map[string]reconcile.FeeRate, len(t.Fees))
			for m, r := range t.Fees {
				rates[m] = r
			}
			ts.Fees[p.Name] = rates
		}
	}
	return ts
}
