// Package kora is Mizani's Kora (Korapay) adapter: voucher charges, charge
// verification, the pay-ins history, signed webhooks, payload mapping and a
// simulator (SPEC §9.4, vendor document 001).
//
// Sources, besides document 001 (voucher charges and their error table):
//   - Kora's webhook guide (developers.korapay.com/docs/webhooks): events
//     charge.success, charge.failed, transfer.success, transfer.failed; the
//     x-korapay-signature header is the hex HMAC-SHA256 of
//     JSON.stringify(req.body.data) keyed with the secret key.
//   - Kora's pay-ins history guide (developers.korapay.com/docs/pay-ins-history-api):
//     GET /merchant/api/v1/pay-ins with currency, date_from, date_to
//     (YYYY-MM-DD-HH-MM-SS), limit (default 10), starting_after / ending_before
//     taking the response's pointer; rows carry amount, amount_paid,
//     amount_expected and fee as major-unit strings ("5000.00") and a
//     zone-less date_created.
//   - The Kora Public APIs Postman collection: every secret-key endpoint is
//     authorized with "Authorization: Bearer sk_…".
package kora

import (
	"errors"
	"slices"
	"strings"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Name is Kora's provider code in the ledger, the CLI and reports.
const Name reconcile.Provider = "kora"

// Environment variables (SPEC §9.4).
const (
	EnvBaseURL    = "KORA_BASE_URL"
	EnvSecretKey  = "KORA_SECRET_KEY"
	EnvCurrencies = "KORA_CURRENCIES"
	EnvTZ         = "KORA_TZ"
)

// DefaultBaseURL is Kora's merchant API root.
const DefaultBaseURL = "https://api.korapay.com/merchant/api/v1"

// DefaultZone is the zone of Kora's zone-less times (date_created,
// transaction_date) when KORA_TZ is unset: Kora is a Lagos company and its
// dashboard shows West Africa Time.
const DefaultZone = "Africa/Lagos"

// SandboxSecretKey is the secret key the simulator accepts unless
// KORA_SECRET_KEY says otherwise; it has the shape of Kora's test keys
// (sk_test_…).
const SandboxSecretKey = "sk_test_mizani0sandbox0kora0secret0key"

// Provider is Kora's registration.
var Provider = &sources.Provider{
	Name:        Name,
	DisplayName: "Kora",
	Env: []sources.EnvVar{
		{Name: EnvBaseURL, Default: DefaultBaseURL, Help: "Kora merchant API root"},
		{Name: EnvSecretKey, Help: "Kora secret key (sk_live_… or sk_test_…): API bearer and webhook signing key",
			Secret: true, Required: sources.ForPull | sources.ForWebhooks},
		{Name: EnvCurrencies, Default: "NGN", Help: "comma-separated currencies whose pay-ins are pulled (one listing each)"},
		{Name: EnvTZ, Default: DefaultZone, Help: "time zone of Kora's zone-less times"},
	},
	Traits: sources.Traits{
		// Kora reports fee and vat on every charge: no default schedule.
		ZoneEnv:     EnvTZ,
		DefaultZone: DefaultZone,
	},
	Parser: func(cfg sources.Config) (sources.Parser, error) {
		zone, err := cfg.Zone()
		if err != nil {
			return nil, err
		}
		return Parser{Zone: zone}, nil
	},
	Verifier: func(cfg sources.Config) (sources.Verifier, error) {
		if err := cfg.NotConfigured(sources.ForWebhooks); err != nil {
			return nil, err
		}
		return Verifier{SecretKey: cfg.Get(EnvSecretKey)}, nil
	},
	History: func(cfg sources.Config, opts sources.ClientOptions) (sources.Puller, error) {
		c, err := NewClient(cfg, opts)
		if err != nil {
			return nil, err
		}
		cur, err := currencies(cfg.Get(EnvCurrencies))
		if err != nil {
			return nil, err
		}
		return &Puller{Client: c, Currencies: cur}, nil
	},
	Status: func(cfg sources.Config, opts sources.ClientOptions) (sources.StatusChecker, error) {
		c, err := NewClient(cfg, opts)
		if err != nil {
			return nil, err
		}
		return &StatusChecker{Client: c}, nil
	},
	Simulator: func(opts sources.SimOptions) (sources.Simulator, error) {
		return NewSimulator(opts)
	},
}

// currencies reads KORA_CURRENCIES: "NGN", "NGN,KES, ZAR".
func currencies(s string) ([]reconcile.Currency, error) {
	var out []reconcile.Currency
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		c, err := reconcile.ParseCurrency(part)
		if err != nil {
			return nil, errors.New("kora: " + EnvCurrencies + ": " + err.Error())
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("kora: " + EnvCurrencies + " names no currency")
	}
	return out, nil
}

// compile-time checks of the interfaces the registration promises.
var (
	_ sources.Parser        = Parser{}
	_ sources.Verifier      = Verifier{}
	_ sources.Puller        = (*Puller)(nil)
	_ sources.StatusChecker = (*StatusChecker)(nil)
)
