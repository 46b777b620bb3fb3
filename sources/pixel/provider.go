package pixel

import (
	"github.com/mizani/reconcile/sources"
)

// Environment variables (SPEC §9.2).
const (
	EnvBaseURL    = "PIXEL_BASE_URL"
	EnvPublicID   = "PIXEL_PUBLIC_ID"
	EnvMerchantID = "PIXEL_MERCHANT_ID"
	EnvSecretKey  = "PIXEL_SECRET_KEY"
	EnvTZ         = "PIXEL_TZ"
	EnvCurrency   = "PIXEL_CURRENCY"
)

// Provider is Pixel's registration. Pixel reports no fees and no
// settlements: settlement rows use the configured fee schedule (none by
// default) and bank credits where imported. It has no history endpoint
// (History is nil): pulls are status checks.
var Provider = &sources.Provider{
	Name:        Name,
	DisplayName: "Pixel",
	Env: []sources.EnvVar{
		// The vendor documents print no API host (only the payment page's,
		// hpp.pixel-innov.com): the base URL comes with the credentials.
		{Name: EnvBaseURL, Help: "Pixel API base URL, as given with the credentials", Required: sources.ForPull},
		{Name: EnvPublicID, Help: "merchant public ID (the path segment before the method)", Required: sources.ForPull},
		{Name: EnvMerchantID, Help: "merchant_id sent in every request", Required: sources.ForPull},
		{Name: EnvSecretKey, Help: "secret key signing requests and callbacks (HMAC-SHA512)", Secret: true,
			Required: sources.ForPull | sources.ForWebhooks},
		{Name: EnvTZ, Default: "UTC", Help: "time zone of service_date_time, which carries none"},
		{Name: EnvCurrency, Help: "currency of every Pixel amount; unset: the currency of the matching ledger entry"},
	},
	Traits: sources.Traits{ZoneEnv: EnvTZ, DefaultZone: "UTC"},
	Parser: func(cfg sources.Config) (sources.Parser, error) {
		return NewParser(cfg)
	},
	Verifier: func(cfg sources.Config) (sources.Verifier, error) {
		if err := cfg.NotConfigured(sources.ForWebhooks); err != nil {
			return nil, err
		}
		return NewVerifier(cfg.Get(EnvSecretKey))
	},
	Status: func(cfg sources.Config, opts sources.ClientOptions) (sources.StatusChecker, error) {
		return NewStatusChecker(cfg, opts)
	},
	Simulator: func(opts sources.SimOptions) (sources.Simulator, error) {
		return NewSimulator(opts)
	},
}
