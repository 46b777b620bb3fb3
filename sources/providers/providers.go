// Package providers registers every provider adapter Mizani ships. Adding a
// provider is its package under sources/ and one line in the list below;
// nothing in cmd/, jobs/, matchers/ or reports/ names a provider. Import this
// package (for its side effect) wherever providers must be known.
package providers

import (
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/ikhokha"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/sources/kora"
	"github.com/mizani/reconcile/sources/pixel"
)

// All lists every provider in report order.
var All = []*sources.Provider{
	kopokopo.Provider,
	pixel.Provider,
	ikhokha.Provider,
	kora.Provider,
}

func init() {
	for _, p := range All {
		sources.Register(p)
	}
}
