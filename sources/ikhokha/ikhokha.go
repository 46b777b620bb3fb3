// Package ikhokha is Mizani's adapter for iKhokha iK Pay (SPEC §9.3):
// payment links paid by card or Instant EFT in South Africa, in rand.
//
// It signs requests as iKhokha's own public examples do (IK-APPID and
// IK-SIGN over the URL path plus the body), creates links, reads link
// status and payment history, verifies and parses webhooks, maps every
// payload to records (refunds as reversals of the payment they refund, the
// payment method and card origin kept so the fee schedule applies), and
// simulates the API under /ikhokha for the sandbox, the demo and tests.
package ikhokha

import (
	"github.com/shopspring/decimal"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Name is iKhokha's provider code in the ledger, the CLI and reports.
const Name reconcile.Provider = "ikhokha"

// Environment variables the adapter reads (SPEC §9.3).
const (
	EnvBaseURL     = "IK_BASE_URL"
	EnvAppID       = "IK_APPID"
	EnvAppSecret   = "IK_APPSECRET"
	EnvEntityID    = "IK_ENTITYID"
	EnvCallbackURL = "IK_CALLBACK_URL"
)

// DefaultBaseURL is the iK Pay public API, as iKhokha's public examples
// call it.
const DefaultBaseURL = "https://api.ikhokha.com/public-api/v1/api"

// Payment methods the records carry (Record.Method), as the fee schedule
// keys them.
const (
	MethodEFT               = "eft"
	MethodCard              = "card"
	MethodInternationalCard = "international_card"
)

// Provider is iKhokha's registration.
var Provider = &sources.Provider{
	Name:        Name,
	DisplayName: "iKhokha",
	Env: []sources.EnvVar{
		{Name: EnvBaseURL, Default: DefaultBaseURL, Help: "iK Pay API base URL"},
		{Name: EnvAppID, Help: "application id (IK-APPID)", Required: sources.ForPull | sources.ForWebhooks},
		{Name: EnvAppSecret, Help: "application secret (signs IK-SIGN)", Secret: true, Required: sources.ForPull | sources.ForWebhooks},
		{Name: EnvEntityID, Help: "entity id: the account of records that name none"},
		{Name: EnvCallbackURL, Help: "webhook URL as iKhokha calls it, when a proxy rewrites the path"},
	},
	Traits: sources.Traits{
		// iKhokha's published rates (seed 000, SPEC §7).
		Fees: map[string]reconcile.FeeRate{
			MethodEFT:               {Percent: decimal.RequireFromString("2")},
			MethodCard:              {Percent: decimal.RequireFromString("2.85")},
			MethodInternationalCard: {Percent: decimal.RequireFromString("3.25")},
		},
		// iKhokha sends UTC times with a Z; the zone only reads a
		// zone-less one, should it ever send one, and cuts history dates.
		DefaultZone: "Africa/Johannesburg",
	},
	Parser: func(cfg sources.Config) (sources.Parser, error) {
		zone, err := cfg.Zone()
		if err != nil {
			return nil, err
		}
		return Parser{EntityID: cfg.Get(EnvEntityID), Zone: zone}, nil
	},
	Verifier: func(cfg sources.Config) (sources.Verifier, error) {
		if err := cfg.NotConfigured(sources.ForWebhooks); err != nil {
			return nil, err
		}
		return Verifier{AppID: cfg.Get(EnvAppID), AppSecret: cfg.Get(EnvAppSecret), CallbackURL: cfg.Get(EnvCallbackURL)}, nil
	},
	History: func(cfg sources.Config, opts sources.ClientOptions) (sources.Puller, error) {
		c, p, err := clientFrom(cfg, opts)
		if err != nil {
			return nil, err
		}
		return Puller{Client: c, Parser: p}, nil
	},
	Status: func(cfg sources.Config, opts sources.ClientOptions) (sources.StatusChecker, error) {
		c, p, err := clientFrom(cfg, opts)
		if err != nil {
			return nil, err
		}
		return StatusChecker{Client: c, Parser: p}, nil
	},
	Simulator: func(opts sources.SimOptions) (sources.Simulator, error) { return NewSimulator(opts) },
}

// clientFrom builds a client and parser from the provider's configuration.
func clientFrom(cfg sources.Config, opts sources.ClientOptions) (*Client, Parser, error) {
	if err := cfg.NotConfigured(sources.ForPull); err != nil {
		return nil, Parser{}, err
	}
	zone, err := cfg.Zone()
	if err != nil {
		return nil, Parser{}, err
	}
	c, err := NewClient(ClientConfig{
		BaseURL: cfg.Get(EnvBaseURL), AppID: cfg.Get(EnvAppID), AppSecret: cfg.Get(EnvAppSecret),
		EntityID: cfg.Get(EnvEntityID), CallbackURL: cfg.Get(EnvCallbackURL), Zone: zone, Options: opts,
	})
	if err != nil {
		return nil, Parser{}, err
	}
	return c, Parser{EntityID: cfg.Get(EnvEntityID), Zone: zone}, nil
}
