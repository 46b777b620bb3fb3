package sources_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

type nopSim struct{ http.Handler }

func (nopSim) ClientEnv(string) map[string]string { return nil }
func (nopSim) Close() error                       { return nil }

func testProvider(name reconcile.Provider) *sources.Provider {
	return &sources.Provider{
		Name: name, DisplayName: "Test Pay",
		Env: []sources.EnvVar{
			{Name: "TP_BASE_URL", Default: "https://api.example"},
			{Name: "TP_ID", Required: sources.ForPull},
			{Name: "TP_SECRET", Secret: true, Required: sources.ForPull | sources.ForWebhooks},
			{Name: "TP_TZ"},
		},
		Traits:    sources.Traits{ZoneEnv: "TP_TZ", DefaultZone: "Africa/Lagos", Heuristic: true, SettlesPerCompany: true},
		Parser:    func(sources.Config) (sources.Parser, error) { return nil, nil },
		Simulator: func(sources.SimOptions) (sources.Simulator, error) { return nopSim{http.NotFoundHandler()}, nil },
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	p := testProvider("tp-config")
	env := map[string]string{"TP_ID": "id-1", "TP_SECRET": "s3cr3t-value", "TP_TZ": "  "}
	cfg := p.ConfigFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if cfg.Get("TP_BASE_URL") != "https://api.example" || cfg.Get("TP_ID") != "id-1" || cfg.IsSet("TP_TZ") {
		t.Errorf("Get/IsSet: base %q id %q tz set %v", cfg.Get("TP_BASE_URL"), cfg.Get("TP_ID"), cfg.IsSet("TP_TZ"))
	}
	if m := cfg.Missing(sources.ForPull); len(m) != 0 {
		t.Errorf("Missing(ForPull) = %v", m)
	}
	zone, err := cfg.Zone()
	if err != nil || zone.String() != "Africa/Lagos" {
		t.Errorf("Zone = %v, %v; want the default zone", zone, err)
	}
	if got := cfg.Redact("token s3cr3t-value refused"); got != "token *** refused" {
		t.Errorf("Redact = %q", got)
	}
	empty := p.ConfigFrom(func(string) (string, bool) { return "", false })
	err = empty.NotConfigured(sources.ForWebhooks)
	if err == nil || err.Error() != "Test Pay is not configured for webhooks: set TP_SECRET" {
		t.Errorf("NotConfigured(ForWebhooks) = %v", err)
	}
	if m := empty.Missing(sources.ForPull); strings.Join(m, ",") != "TP_ID,TP_SECRET" {
		t.Errorf("Missing(ForPull) = %v", m)
	}
	with := empty.With("TP_TZ", "UTC")
	if z, err := with.Zone(); err != nil || z != time.UTC || empty.IsSet("TP_TZ") {
		t.Errorf("With: zone %v %v; original changed: %v", z, err, empty.IsSet("TP_TZ"))
	}
	if _, err := empty.With("TP_TZ", "Mars/Olympus").Zone(); err == nil || !strings.Contains(err.Error(), "TP_TZ") {
		t.Errorf("a bad zone: %v, want an error naming TP_TZ", err)
	}
}

// TestRegister: registration makes the provider known to the domain
// package, twice is refused, and Unregister forgets it.
func TestRegister(t *testing.T) {
	p := testProvider("tp-register")
	sources.Register(p)
	defer sources.Unregister(p.Name)
	if got, ok := sources.Lookup("tp-register"); !ok || got != p {
		t.Fatal("Lookup does not find the registered provider")
	}
	if q, err := reconcile.ParseProvider("tp-register"); err != nil || q.DisplayName() != "Test Pay" {
		t.Errorf("ParseProvider = %v, %v; display %q", q, err, q.DisplayName())
	}
	ts := sources.RegisteredTraits()
	if !slices.Contains(ts.Heuristic, p.Name) || !slices.Contains(ts.PerCompany, p.Name) {
		t.Errorf("RegisteredTraits = %+v", ts)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("registering the same name twice did not panic")
			}
		}()
		sources.Register(testProvider("tp-register"))
	}()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("registering a provider without a parser did not panic")
			}
		}()
		sources.Register(&sources.Provider{Name: "tp-incomplete", DisplayName: "X"})
	}()
	sources.Unregister(p.Name)
	if _, err := reconcile.ParseProvider("tp-register"); err == nil {
		t.Error("an unregistered provider still parses")
	}
}
