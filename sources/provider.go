package sources

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/mizani/reconcile"
)

// Provider is one provider adapter's registration: everything the commands,
// the jobs and the sandbox need to know about it. A provider package exports
// one Provider value; sources/providers lists them all. Constructors that a
// provider cannot offer are left nil (Pixel has no history endpoint, so
// History is nil).
type Provider struct {
	// Name is the provider's code in the ledger CSV, the CLI and reports
	// ("kopokopo"); DisplayName is how a finance team writes it ("Kopo Kopo").
	Name        reconcile.Provider
	DisplayName string
	// Env lists the environment variables the provider reads (SPEC §9).
	Env []EnvVar
	// Traits are the facts the matchers and settlement need as plain
	// configuration.
	Traits Traits

	// Parser returns the parser of the provider's payloads (webhooks,
	// callbacks, API responses, import lines). Required.
	Parser func(cfg Config) (Parser, error)
	// Verifier returns the webhook verifier; nil when the provider sends no
	// webhooks or callbacks.
	Verifier func(cfg Config) (Verifier, error)
	// History returns a puller of the provider's history for a window; nil
	// when the provider has no history endpoint.
	History func(cfg Config, opts ClientOptions) (Puller, error)
	// Status returns a checker that asks the provider for the status of one
	// reference; nil when the provider has no status query.
	Status func(cfg Config, opts ClientOptions) (StatusChecker, error)
	// Simulator returns the provider's simulator (SPEC §8). Required.
	Simulator func(opts SimOptions) (Simulator, error)
}

// Purpose says what a variable is needed for.
type Purpose uint8

// Purposes of environment variables. A variable may serve several.
const (
	// ForPull: history pulls and status checks.
	ForPull Purpose = 1 << iota
	// ForWebhooks: verifying webhooks and callbacks in serve.
	ForWebhooks
)

// EnvVar is one environment variable a provider reads.
type EnvVar struct {
	// Name is the variable, e.g. "K2_CLIENT_ID".
	Name string
	// Default is used when the variable is unset or empty.
	Default string
	// Help says in a few words what it is.
	Help string
	// Secret variables are never printed, logged or put in an error.
	Secret bool
	// Required lists the purposes that cannot work without it.
	Required Purpose
}

// Traits are what the rest of Mizani needs to know of a provider, given to
// the matchers and settlement as plain configuration.
type Traits struct {
	// SettlesPerCompany: the provider's settlements name no account (Kopo
	// Kopo settles the whole company, never a till).
	SettlesPerCompany bool
	// Heuristic: leftovers are paired by amount, phone and time (Kopo Kopo
	// till payments carry no merchant reference).
	Heuristic bool
	// Fees is the default fee schedule by payment method (Record.Method; ""
	// for any other method). Empty: the provider reports its fees or
	// charges none unless configured.
	Fees map[string]reconcile.FeeRate
	// ZoneEnv names the variable holding the zone of the provider's
	// zone-less times (PIXEL_TZ); DefaultZone is used when it is unset.
	ZoneEnv     string
	DefaultZone string
}

// Config is a provider's configuration: the values of its environment
// variables, defaults applied.
type Config struct {
	provider *Provider
	values   map[string]string
}

// ConfigFromEnv reads p's variables from the process environment.
func (p *Provider) ConfigFromEnv() Config { return p.ConfigFrom(os.LookupEnv) }

// ConfigFrom reads p's variables through lookup (os.LookupEnv, or a map in tests).
func (p *Provider) ConfigFrom(lookup func(string) (string, bool)) Config {
	c := Config{provider: p, values: map[string]string{}}
	for _, v := range p.Env {
		if s, ok := lookup(v.Name); ok && strings.TrimSpace(s) != "" {
			c.values[v.Name] = s
		}
	}
	return c
}

// With returns a copy of c with name set to value (a flag overriding the
// environment, or the sandbox's own credentials in the demo).
func (c Config) With(name, value string) Config {
	out := Config{provider: c.provider, values: make(map[string]string, len(c.values)+1)}
	for k, v := range c.values {
		out.values[k] = v
	}
	out.values[name] = value
	return out
}

// Get returns the value of the variable name, or its default.
func (c Config) Get(name string) string {
	if v, ok := c.values[name]; ok {
		return v
	}
	if c.provider != nil {
		for _, v := range c.provider.Env {
			if v.Name == name {
				return v.Default
			}
		}
	}
	return ""
}

// IsSet reports whether name was set (not defaulted).
func (c Config) IsSet(name string) bool {
	_, ok := c.values[name]
	return ok
}

// Missing lists the variables required for purpose that are not set.
func (c Config) Missing(purpose Purpose) []string {
	if c.provider == nil {
		return nil
	}
	var out []string
	for _, v := range c.provider.Env {
		if v.Required&purpose != 0 && v.Default == "" && !c.IsSet(v.Name) {
			out = append(out, v.Name)
		}
	}
	return out
}

// Zone returns the zone of the provider's zone-less times: the variable
// Traits.ZoneEnv names, else Traits.DefaultZone, else UTC.
func (c Config) Zone() (*time.Location, error) {
	if c.provider == nil {
		return time.UTC, nil
	}
	t := c.provider.Traits
	name := t.DefaultZone
	if t.ZoneEnv != "" {
		if v := c.Get(t.ZoneEnv); v != "" {
			name = v
		}
	}
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%s: time zone %q (%s): %w", c.provider.Name, name, t.ZoneEnv, err)
	}
	return loc, nil
}

// Redact replaces in s the value of every secret variable of c with "***",
// so an error or log line can never carry one.
func (c Config) Redact(s string) string {
	if c.provider == nil {
		return s
	}
	for _, v := range c.provider.Env {
		if val := c.values[v.Name]; v.Secret && len(val) >= 4 {
			s = strings.ReplaceAll(s, val, "***")
		}
	}
	return s
}

// NotConfigured says which variables purpose needs: "Kopo Kopo is not
// configured for webhooks: set K2_API_KEY".
func (c Config) NotConfigured(purpose Purpose) error {
	missing := c.Missing(purpose)
	if len(missing) == 0 {
		return nil
	}
	what := "pulls"
	if purpose == ForWebhooks {
		what = "webhooks"
	}
	return fmt.Errorf("%s is not configured for %s: set %s", c.provider.DisplayName, what, strings.Join(missing, ", "))
}

// ClientOptions are the settings of an API client that come from the
// command line rather than the provider's environment.
type ClientOptions struct {
	// RateLimit is the most requests per second (0: the provider's default);
	// Burst how many may go at once (0: 1).
	RateLimit rate.Limit
	Burst     int
	// HTTPClient sends the requests (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Logger receives retries and token refreshes (nil: discard).
	Logger *slog.Logger
	// Retry overrides the retry policy (zero: the defaults of RetryPolicy).
	Retry RetryPolicy
}

// StatusRef is one reference whose provider status is asked: a ledger entry
// with no final provider record, or a record still pending.
type StatusRef struct {
	// MerchantRef is the merchant's reference (order_id, reference,
	// externalTransactionID); ProviderRef the provider-side id where known
	// (paylinkID, transaction_ref). At least one is set.
	MerchantRef string
	ProviderRef string
	Direction   reconcile.Direction
	Account     string
	// Currency is the ledger's currency, when the reference comes from the
	// ledger.
	Currency reconcile.Currency
	// At is the ledger entry's or the record's time.
	At time.Time
}

// String names the reference in logs and errors.
func (r StatusRef) String() string {
	switch {
	case r.MerchantRef != "" && r.ProviderRef != "":
		return r.MerchantRef + " (" + r.ProviderRef + ")"
	case r.MerchantRef != "":
		return r.MerchantRef
	}
	return r.ProviderRef
}

// StatusChecker asks the provider for the current status of one reference.
type StatusChecker interface {
	// Check asks about ref and saves every response verbatim, with the
	// records parsed from it, through sink. A reference the provider does
	// not know is no error: Check returns found false and saves nothing
	// (unless the provider's "not found" answer is itself a payload).
	// Check retries transient failures itself.
	Check(ctx context.Context, ref StatusRef, sink Sink) (CheckResult, error)
}

// CheckResult is what one status check did.
type CheckResult struct {
	// Found: the provider knows the reference.
	Found bool
	// Final: the status the provider gave is final (not pending).
	Final bool
	// Payloads newly stored, Duplicates already stored, Records parsed.
	Payloads, Duplicates, Records int
}

// Request is a webhook or callback as received, for verification.
type Request struct {
	Method string
	// Path is the URL path exactly as received (r.URL.EscapedPath()), before
	// any prefix is stripped; Query the raw query string.
	Path   string
	Query  string
	Header http.Header
	// Body is the raw body, byte for byte.
	Body []byte
}

var (
	registryMu sync.RWMutex
	registry   []*Provider
)

// Register adds p to the providers every command knows. It panics if p's
// name is taken or required parts are missing: registration happens once, at
// init, from sources/providers.
func Register(p *Provider) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if p.Name == "" || p.DisplayName == "" || p.Parser == nil || p.Simulator == nil {
		panic(fmt.Sprintf("sources.Register: provider %q lacks a name, display name, parser or simulator", p.Name))
	}
	if slices.ContainsFunc(registry, func(q *Provider) bool { return q.Name == p.Name }) {
		panic(fmt.Sprintf("sources.Register: provider %q registered twice", p.Name))
	}
	registry = append(registry, p)
	reconcile.RegisterProvider(p.Name, p.DisplayName)
}

// Registered returns every registered provider in registration order.
func Registered() []*Provider {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return slices.Clone(registry)
}

// Lookup returns the provider named name.
func Lookup(name reconcile.Provider) (*Provider, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	for _, p := range registry {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Unregister removes the provider named name (tests that register a fake
// provider clean up with it).
func Unregister(name reconcile.Provider) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry = slices.DeleteFunc(registry, func(q *Provider) bool { return q.Name == name })
	reconcile.UnregisterProvider(name)
}
