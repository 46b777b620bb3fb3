// Package testprov registers the four providers' names for tests of packages
// that must not depend on the adapters (matchers, reports, store, jobs): the
// domain package knows a provider only once it is registered. Importing it
// registers kopokopo, pixel, ikhokha and kora, in report order, with their
// display names; the adapters registering the same names later change nothing.
package testprov

import "github.com/mizani/reconcile"

// The providers' codes, as the ledger CSV and reports write them.
const (
	KopoKopo reconcile.Provider = "kopokopo"
	Pixel    reconcile.Provider = "pixel"
	IKhokha  reconcile.Provider = "ikhokha"
	Kora     reconcile.Provider = "kora"
)

// All lists them in report order.
var All = []reconcile.Provider{KopoKopo, Pixel, IKhokha, Kora}

func init() {
	reconcile.RegisterProvider(KopoKopo, "Kopo Kopo")
	reconcile.RegisterProvider(Pixel, "Pixel")
	reconcile.RegisterProvider(IKhokha, "iKhokha")
	reconcile.RegisterProvider(Kora, "Kora")
}
