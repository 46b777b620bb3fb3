package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Provider names a payment provider. The values are the exact strings used in
// the ledger CSV, the CLI and reports ("kopokopo"). The providers Mizani
// knows are those registered (sources.Register does it for every adapter in
// sources/providers); the domain types name none of them.
type Provider string

var (
	providersMu sync.RWMutex
	providers   []Provider
	displays    = map[Provider]string{}
)

// RegisterProvider makes p a known provider with its display name. Adapters
// call it through sources.Register; registering a name again only updates
// its display name.
func RegisterProvider(p Provider, display string) {
	providersMu.Lock()
	defer providersMu.Unlock()
	if !slices.Contains(providers, p) {
		providers = append(providers, p)
	}
	displays[p] = display
}

// UnregisterProvider forgets p (tests registering a fake provider).
func UnregisterProvider(p Provider) {
	providersMu.Lock()
	defer providersMu.Unlock()
	providers = slices.DeleteFunc(providers, func(q Provider) bool { return q == p })
	delete(displays, p)
}

// Providers lists every known provider in registration (report) order.
func Providers() []Provider {
	providersMu.RLock()
	defer providersMu.RUnlock()
	return slices.Clone(providers)
}

// ProviderOrder is p's position in Providers; an unknown provider sorts last.
func ProviderOrder(p Provider) int {
	providersMu.RLock()
	defer providersMu.RUnlock()
	if i := slices.Index(providers, p); i >= 0 {
		return i
	}
	return len(providers)
}

// ParseProvider validates s against the known providers.
func ParseProvider(s string) (Provider, error) {
	providersMu.RLock()
	defer providersMu.RUnlock()
	for _, p := range providers {
		if string(p) == s {
			return p, nil
		}
	}
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = string(p)
	}
	return "", fmt.Errorf("unknown provider %q (want %s)", s, orList(names))
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return "a registered provider"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// DisplayName is the provider's name as a finance team writes it ("Kopo Kopo").
func (p Provider) DisplayName() string {
	providersMu.RLock()
	defer providersMu.RUnlock()
	if d, ok := displays[p]; ok {
		return d
	}
	return string(p)
}
