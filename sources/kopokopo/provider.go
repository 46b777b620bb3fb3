package kopokopo

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Name is Kopo Kopo's provider code in the ledger CSV, the CLI and reports.
const Name reconcile.Provider = "kopokopo"

// Provider registers the Kopo Kopo adapter (SPEC §9.1): its K2_* variables,
// its traits, and constructors for its parser, webhook verifier, polling
// history puller and simulator. Kopo Kopo has no per-reference status query
// Mizani uses, so Status is nil.
var Provider = &sources.Provider{
	Name:        Name,
	DisplayName: "Kopo Kopo",
	Env: []sources.EnvVar{
		{Name: EnvBaseURL, Default: DefaultBaseURL, Help: "Kopo Kopo API root"},
		{Name: EnvClientID, Help: "OAuth application client id", Required: sources.ForPull},
		{Name: EnvClientSecret, Help: "OAuth application client secret", Secret: true, Required: sources.ForPull},
		{Name: EnvAPIKey, Help: "API key that signs webhooks and callbacks (X-KopoKopo-Signature)", Secret: true, Required: sources.ForWebhooks},
		{Name: EnvAPIVersion, Default: "v1", Help: "API version of the resource paths, v1 or v2"},
		{Name: EnvCallbackURL, Help: "callback URL sent with polling requests (default " + DefaultCallbackURL + ")"},
		{Name: EnvTill, Help: "till to poll; empty polls the whole company"},
	},
	Traits: sources.Traits{
		// Settlements pay the whole company to its bank account, never a till.
		SettlesPerCompany: true,
		// Till payments carry no merchant reference.
		Heuristic: true,
		// Times carry +03:00; the zone only reads a time that lacks one.
		DefaultZone: "Africa/Nairobi",
	},
	Parser:    newParser,
	Verifier:  newVerifier,
	History:   newHistory,
	Simulator: newSimulator,
}

// newParser is Provider.Parser: a Parser reading zone-less times in the
// configured zone.
func newParser(cfg sources.Config) (sources.Parser, error) {
	zone, err := cfg.Zone()
	if err != nil {
		return nil, err
	}
	return Parser{Zone: zone}, nil
}

// newVerifier is Provider.Verifier: K2_API_KEY is required.
func newVerifier(cfg sources.Config) (sources.Verifier, error) {
	if err := cfg.NotConfigured(sources.ForWebhooks); err != nil {
		return nil, err
	}
	return Verifier{APIKey: cfg.Get(EnvAPIKey)}, nil
}

// newHistory is Provider.History: the polling Puller of K2_TILL, or of the
// whole company when it is empty. Its Scope() names it in checkpoints.
func newHistory(cfg sources.Config, opts sources.ClientOptions) (sources.Puller, error) {
	if err := cfg.NotConfigured(sources.ForPull); err != nil {
		return nil, err
	}
	client, err := New(clientConfig(cfg, opts))
	if err != nil {
		// New names variables, never their values; redact all the same.
		return nil, errors.New(cfg.Redact(err.Error()))
	}
	zone, err := cfg.Zone()
	if err != nil {
		return nil, err
	}
	return Puller{Client: client, Till: cfg.Get(EnvTill), Parser: Parser{Zone: zone}}, nil
}

// clientConfig builds a client Config from the provider's configuration
// (K2_BASE_URL, K2_CLIENT_ID, K2_CLIENT_SECRET, K2_API_VERSION,
// K2_CALLBACK_URL) and the command line's client options (rate limit,
// burst, HTTP client, logger, retry policy).
func clientConfig(cfg sources.Config, opts sources.ClientOptions) Config {
	return Config{
		BaseURL:      cfg.Get(EnvBaseURL),
		ClientID:     cfg.Get(EnvClientID),
		ClientSecret: cfg.Get(EnvClientSecret),
		APIVersion:   cfg.Get(EnvAPIVersion),
		CallbackURL:  cfg.Get(EnvCallbackURL),
		HTTPClient:   opts.HTTPClient,
		RateLimit:    opts.RateLimit,
		Burst:        opts.Burst,
		Retry:        opts.Retry,
		Logger:       opts.Logger,
	}
}

// newSimulator is Provider.Simulator: SimOptions mapped onto SimConfig.
// Fixtures are Transaction lines as LoadTransactions reads them; Quiet
// serves those alone.
func newSimulator(opts sources.SimOptions) (sources.Simulator, error) {
	cfg := SimConfig{
		Seed:          opts.Seed,
		ClientID:      opts.Getenv(EnvClientID),
		ClientSecret:  opts.Getenv(EnvClientSecret),
		APIKey:        opts.Getenv(EnvAPIKey),
		WebhookURL:    opts.WebhookURL,
		CallbackDelay: opts.CallbackDelay,
		Faults:        opts.Faults,
		Logger:        opts.Logger,
	}
	if opts.Quiet {
		cfg.PerHour = -1
	}
	if len(bytes.TrimSpace(opts.Fixtures)) > 0 {
		txs, err := LoadTransactions(bytes.NewReader(opts.Fixtures))
		if err != nil {
			return nil, fmt.Errorf("kopokopo simulator fixtures: %w", err)
		}
		cfg.Extra = txs
		// The company's tills are those the fixtures name (with none,
		// the simulator's own), so a company poll serves every fixture.
		if opts.Quiet {
			for _, t := range txs {
				if t.TillNumber != "" && !slices.Contains(cfg.Tills, t.TillNumber) {
					cfg.Tills = append(cfg.Tills, t.TillNumber)
				}
			}
		}
	}
	return NewSimulator(cfg), nil
}
