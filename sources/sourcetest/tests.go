package sourcetest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

func testRegistration(t *testing.T, h Harness) {
	p := h.Provider
	if p.Name == "" || p.DisplayName == "" || p.Parser == nil || p.Simulator == nil {
		t.Fatalf("registration lacks a name, display name, parser or simulator: %+v", p)
	}
	env := func(name string) (sources.EnvVar, bool) {
		i := slices.IndexFunc(p.Env, func(v sources.EnvVar) bool { return v.Name == name })
		if i < 0 {
			return sources.EnvVar{}, false
		}
		return p.Env[i], true
	}
	for _, c := range h.Currencies {
		if !c.Valid() {
			t.Errorf("Harness.Currencies: %q is not a currency Mizani knows", c)
		}
	}
	if p.Verifier != nil {
		if v, ok := env(h.KeyEnv); !ok || !v.Secret {
			t.Errorf("Harness.KeyEnv %q: not among the provider's variables, or not a secret (%+v)", h.KeyEnv, v)
		}
		if len(h.Webhooks) == 0 {
			t.Error("the provider verifies webhooks but Harness.Webhooks is empty")
		}
	} else if len(h.Webhooks) > 0 {
		t.Error("Harness.Webhooks set but the registration has no Verifier")
	}
	if z := p.Traits.ZoneEnv; z != "" {
		if _, ok := env(z); !ok {
			t.Errorf("Traits.ZoneEnv %s is not among the provider's variables", z)
		}
		if h.ZoneLess == nil {
			t.Error("Traits.ZoneEnv is set but Harness.ZoneLess is nil")
		}
	}
	if p.Status != nil && h.Refs == nil {
		t.Error("the provider checks status but Harness.Refs is nil")
	}
	if p.History == nil && p.Status == nil {
		t.Logf("%s has neither history nor status checks: records come by webhook only", p.DisplayName)
	}

	e := start(t, h, options{quiet: true})
	if p.History != nil || p.Status != nil {
		if m := e.Config.Missing(sources.ForPull); len(m) > 0 {
			t.Errorf("the simulator's ClientEnv leaves %v unset for pulls", m)
		}
	}
	if p.Verifier != nil {
		if m := e.Config.Missing(sources.ForWebhooks); len(m) > 0 {
			t.Errorf("the simulator's ClientEnv leaves %v unset for webhooks", m)
		}
	}
	for _, v := range p.Env {
		if val := e.Config.Get(v.Name); v.Secret && len(val) >= 4 && strings.Contains(e.Config.Redact("error: "+val), val) {
			t.Errorf("Config.Redact leaves the secret %s in place", v.Name)
		}
	}
}

func testEmptyWindow(t *testing.T, h Harness) {
	env := start(t, h, options{quiet: true})
	w := reconcile.Window{From: base, To: base.Add(6 * time.Hour)}
	if env.History == nil {
		lacks(t, h, "no history")
	} else {
		stats := pullAll(t, env, w)
		if stats.Records != 0 {
			t.Errorf("empty window: stats %+v, want no records", stats)
		}
	}
	if env.Status == nil {
		lacks(t, h, "no status checks")
	} else {
		ref := sources.StatusRef{MerchantRef: "conformance-unknown-1", ProviderRef: "conformance-unknown-1",
			Direction: reconcile.In, Currency: h.Currencies[0], At: base.Add(time.Hour)}
		res, err := env.Status.Check(context.Background(), ref, env.Store)
		if err != nil {
			t.Errorf("Check(unknown reference) = %v, want no error (found false)", err)
		}
		if res.Found || res.Records != 0 {
			t.Errorf("Check(unknown reference) = %+v, want not found and no record", res)
		}
	}
	if got := stored(t, env); len(got) != 0 {
		t.Errorf("empty simulator: stored %v", got)
	}
}

func testWindowEdges(t *testing.T, h Harness) {
	if h.Provider.History == nil {
		lacks(t, h, "no history (a status check asks by reference, not by window)")
		return
	}
	w := reconcile.Window{From: base.Add(2 * time.Hour), To: base.Add(3 * time.Hour)}
	c := h.Currencies[0]
	fixtures := []Fixture{
		{ID: "edge-before", Amount: money(100, c), At: w.From.Add(-time.Second)},
		{ID: "edge-from", Amount: money(200, c), At: w.From},
		{ID: "edge-last", Amount: money(300, c), At: w.To.Add(-time.Second)},
		{ID: "edge-to", Amount: money(400, c), At: w.To},
	}
	env := start(t, h, options{fixtures: fixtures, quiet: true})
	pullAll(t, env, w)
	got := stored(t, env)
	if d := diff(got, h.Expected(t, env, w, reconcile.SourcePoll)); d != "" {
		t.Errorf("window %s: stored records differ from the simulator's:\n%s", w, d)
	}
	for _, f := range fixtures {
		in := f.ID == "edge-from" || f.ID == "edge-last"
		if found := slices.ContainsFunc(got, func(e Expected) bool { return e.TxID == f.ID || e.MerchantRef == f.ID }); found != in {
			t.Errorf("window [%s, %s): transaction %s at %s stored = %v, want %v",
				w.From.Format(time.RFC3339), w.To.Format(time.RFC3339), f.ID, f.At.Format(time.RFC3339), found, in)
		}
	}
}

// amountsFor are the planted amounts, in minor units, by currency exponent.
func amountsFor(c reconcile.Currency) []int64 {
	if exp, _ := c.Exponent(); exp == 0 {
		return []int64{1, 5, 1100, 50050, 123456789, 999999999999}
	}
	return []int64{1, 5, 10, 99, 100, 50050, 123456789, 999999999999}
}

func testCurrenciesAndKinds(t *testing.T, h Harness) {
	var fixtures []Fixture
	at := base.Add(30 * time.Minute)
	add := func(f Fixture) {
		f.At = at.Add(time.Duration(len(fixtures)) * time.Minute)
		fixtures = append(fixtures, f)
	}
	for _, c := range h.Currencies {
		for i, minor := range amountsFor(c) {
			add(Fixture{ID: fmt.Sprintf("amount-%s-%d", strings.ToLower(string(c)), i), Kind: reconcile.KindPayment, Amount: money(minor, c)})
		}
	}
	for _, k := range h.Kinds {
		add(Fixture{ID: "kind-" + string(k), Kind: k, Amount: money(12345, h.Currencies[0])})
	}
	w := reconcile.Window{From: base, To: base.Add(3 * time.Hour)}
	found := func(t *testing.T, got []Expected) {
		for _, f := range fixtures {
			ok := slices.ContainsFunc(got, func(e Expected) bool {
				return (e.TxID == f.ID || e.MerchantRef == f.ID) && e.Kind == f.Kind && (!e.AmountKnown || e.Amount == f.Amount)
			})
			if !ok {
				t.Errorf("planted %s %s (%s %s) not stored as planted", f.Kind, f.ID, f.Amount.Currency, f.Amount)
			}
		}
	}
	t.Run("history", func(t *testing.T) {
		t.Parallel()
		if h.Provider.History == nil {
			lacks(t, h, "no history")
			return
		}
		env := start(t, h, options{fixtures: fixtures})
		pullAll(t, env, w)
		got := stored(t, env)
		if d := diff(got, h.Expected(t, env, w, reconcile.SourcePoll)); d != "" {
			t.Errorf("stored records differ from the simulator's:\n%s", d)
		}
		found(t, got)
	})
	t.Run("status", func(t *testing.T) {
		t.Parallel()
		if h.Provider.Status == nil {
			lacks(t, h, "no status checks")
			return
		}
		env := start(t, h, options{fixtures: fixtures})
		checkAll(t, env, h.Refs(t, env, w))
		got := stored(t, env)
		if d := diff(got, h.Expected(t, env, w, reconcile.SourceStatus)); d != "" {
			t.Errorf("stored records differ from the simulator's:\n%s", d)
		}
		found(t, got)
	})
}

// faultCases are the conditions pulls and checks must give the same records under.
var faultCases = []struct {
	name   string
	faults sources.Faults
}{
	{"clean", sources.Faults{}},
	{"faults", someFaults},
}

func testHistoryIdempotent(t *testing.T, h Harness) {
	if h.Provider.History == nil {
		lacks(t, h, "no history")
		return
	}
	for _, fc := range faultCases {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()
			env := start(t, h, options{faults: fc.faults})
			w := reconcile.Window{From: base, To: base.Add(12 * time.Hour)}
			want := h.Expected(t, env, w, reconcile.SourcePoll)
			if len(want) == 0 {
				t.Fatal("the simulator serves no transactions in 12 hours; the test proves nothing")
			}
			pullAll(t, env, w)
			if d := diff(stored(t, env), want); d != "" {
				t.Fatalf("first pull of %s:\n%s", w, d)
			}
			// The same window again, and the same window split differently.
			pullAll(t, env, w)
			pullAll(t, env, reconcile.Window{From: base, To: base.Add(5 * time.Hour)})
			pullAll(t, env, reconcile.Window{From: base.Add(5 * time.Hour), To: base.Add(12 * time.Hour)})
			if d := diff(stored(t, env), want); d != "" {
				t.Errorf("after pulling again, split differently:\n%s", d)
			}
		})
	}
}

func testStatusCheck(t *testing.T, h Harness) {
	if h.Provider.Status == nil {
		lacks(t, h, "no status checks")
		return
	}
	for _, fc := range faultCases {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()
			env := start(t, h, options{faults: fc.faults})
			w := reconcile.Window{From: base, To: base.Add(6 * time.Hour)}
			refs := h.Refs(t, env, w)
			if len(refs) == 0 {
				t.Fatal("the simulator has no references in 6 hours; the test proves nothing")
			}
			results := checkAll(t, env, refs)
			for i, res := range results {
				if !res.Found {
					t.Errorf("Check(%s) = %+v: the simulator's own reference not found", refs[i], res)
				}
			}
			if d := diff(stored(t, env), h.Expected(t, env, w, reconcile.SourceStatus)); d != "" {
				t.Fatalf("after checking %d references:\n%s", len(refs), d)
			}
			before, n := stored(t, env), payloads(t, env)
			final := 0
			for i, res := range results {
				if !res.Final {
					continue
				}
				final++
				again, err := check(env, refs[i])
				if err != nil {
					t.Fatalf("second Check(%s): %v", refs[i], err)
				}
				if !again.Found || !again.Final || again.Payloads != 0 {
					t.Errorf("second Check(%s) of a final reference = %+v, want found, final, nothing new stored", refs[i], again)
				}
			}
			if final == 0 {
				t.Fatal("no reference has a final status; idempotency of a second check is unproved")
			}
			if m := payloads(t, env); m != n {
				t.Errorf("second checks of %d final references stored %d new payloads", final, m-n)
			}
			if d := diff(stored(t, env), before); d != "" {
				t.Errorf("second checks of final references changed the records:\n%s", d)
			}
		})
	}
}

func testWebhooks(t *testing.T, h Harness) {
	if h.Provider.Verifier == nil {
		lacks(t, h, "no webhooks or callbacks")
		return
	}
	for _, wh := range h.Webhooks {
		t.Run(wh.Name, func(t *testing.T) {
			t.Parallel()
			env := start(t, h, options{quiet: true})
			key, path := env.key(h), "/webhooks/"+string(h.Provider.Name)
			good := wh.Request(key, path)
			if err := env.Verifier.Verify(good); err != nil {
				t.Fatalf("correctly signed delivery refused: %v", err)
			}
			refuse := func(what string, r sources.Request, want error) {
				t.Helper()
				err := env.Verifier.Verify(r)
				if !isRefusal(err) || (want != nil && !errors.Is(err, want)) {
					t.Errorf("%s: Verify = %v, want %v", what, err, wantName(want))
				}
				if err != nil && key != "" && strings.Contains(err.Error(), key) {
					t.Errorf("%s: error %q reveals the key", what, err)
				}
			}

			// Any one byte the signature covers, flipped: refused.
			spans := [][2]int{{0, len(good.Body)}}
			if wh.Signed != nil {
				spans = wh.Signed(good.Body)
			}
			var flips []int
			for _, s := range spans {
				for i := s[0]; i < s[1]; i++ {
					flips = append(flips, i)
				}
			}
			if len(flips) == 0 {
				t.Fatal("Signed covers no byte of the body")
			}
			accepted := 0
			for _, i := range flips {
				r := tamper(good, i)
				err := env.Verifier.Verify(r)
				if isRefusal(err) {
					if key != "" && strings.Contains(err.Error(), key) {
						t.Errorf("byte %d flipped: error %q reveals the key", i, err)
					}
					continue
				}
				if accepted++; accepted <= 5 {
					t.Errorf("byte %d (%q) flipped: Verify = %v, want ErrBadSignature or ErrNotSigned", i, good.Body[i], err)
				}
			}
			if accepted > 5 {
				t.Errorf("… %d of %d signed bytes flipped were not refused", accepted, len(flips))
			}
			refuse("wrong key", wh.Request(key+"x", path), sources.ErrBadSignature)
			strip := wh.Unsigned
			if strip == nil {
				strip = func(r sources.Request) sources.Request { r.Header = http.Header{}; return r }
			}
			unsigned := strip(clone(good))
			refuse("no signature", unsigned, sources.ErrNotSigned)

			// Through the receiver: refused with 401 and nothing stored.
			step := max(len(flips)/16, 1)
			for j := 0; j < len(flips); j += step {
				if code := env.Deliver(t, tamper(good, flips[j])); code != http.StatusUnauthorized {
					t.Errorf("receiver: byte %d flipped answered %d, want 401", flips[j], code)
				}
			}
			if code := env.Deliver(t, tamper(good, flips[len(flips)-1])); code != http.StatusUnauthorized {
				t.Errorf("receiver: last signed byte flipped answered %d, want 401", code)
			}
			if code := env.Deliver(t, wh.Request(key+"x", path)); code != http.StatusUnauthorized {
				t.Errorf("receiver: wrong key answered %d, want 401", code)
			}
			if code := env.Deliver(t, unsigned); code != http.StatusUnauthorized {
				t.Errorf("receiver: unsigned answered %d, want 401", code)
			}
			if n, got := payloads(t, env), stored(t, env); n != 0 || len(got) != 0 {
				t.Fatalf("refused deliveries stored %d payloads and records %v", n, got)
			}

			// Signed: stored once; its replay: still stored once.
			for _, what := range []string{"delivery", "replay"} {
				if code := env.Deliver(t, good); code != http.StatusOK {
					t.Fatalf("receiver: signed %s answered %d, want 200", what, code)
				}
				if n := payloads(t, env); n != 1 {
					t.Errorf("after the %s: %d payloads stored, want 1", what, n)
				}
				if d := diff(stored(t, env), wh.Want); d != "" {
					t.Errorf("after the %s:\n%s", what, d)
				}
			}
		})
	}
}

// wantName names a wanted error in messages.
func wantName(want error) any {
	if want == nil {
		return "ErrBadSignature or ErrNotSigned"
	}
	return want
}

// clone returns a copy of r sharing nothing with it.
func clone(r sources.Request) sources.Request {
	r.Header = r.Header.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Body = bytes.Clone(r.Body)
	return r
}

// tamper returns r with byte i of its body flipped (its lowest bit).
func tamper(r sources.Request, i int) sources.Request {
	r = clone(r)
	r.Body[i] ^= 0x01
	return r
}

func testCallbacks(t *testing.T, h Harness) {
	w := reconcile.Window{From: base, To: base.Add(6 * time.Hour)}
	trigger := h.Callbacks
	if trigger == nil {
		trigger = func(t *testing.T, env *Env, w reconcile.Window) int {
			em, ok := env.Sim.(sources.WebhookEmitter)
			if !ok {
				return -1
			}
			n, err := em.EmitWebhooks(context.Background(), w)
			if err != nil {
				t.Fatalf("EmitWebhooks(%s): %v", w, err)
			}
			return n
		}
	}
	if h.Provider.Verifier == nil {
		lacks(t, h, "no webhooks or callbacks")
		return
	}
	env := start(t, h, options{})
	n := trigger(t, env, w)
	if n < 0 {
		lacks(t, h, "a simulator that posts no callbacks or webhooks")
		return
	}
	if n == 0 {
		t.Fatalf("the simulator posted nothing for %s; the test proves nothing", w)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	answers := env.recv.await(ctx, n, 20*time.Second)
	if len(answers) < n {
		t.Fatalf("%d of %d callbacks arrived", len(answers), n)
	}
	counts := map[int]int{}
	for _, a := range answers {
		counts[a]++
	}
	if counts[http.StatusOK] != len(answers) {
		t.Errorf("callbacks answered %v, want all %d 200 (signed, verified, stored)", counts, len(answers))
	}
	if p := payloads(t, env); p == 0 || p > n {
		t.Errorf("%d callbacks stored %d payloads", n, p)
	}
	t.Logf("%d callbacks arrived signed and were stored", n)
}

func testZoneLess(t *testing.T, h Harness) {
	zoneEnv := h.Provider.Traits.ZoneEnv
	if zoneEnv == "" {
		lacks(t, h, "no zone-less times (Traits.ZoneEnv unset)")
		return
	}
	if h.ZoneLess == nil {
		t.Fatal("Traits.ZoneEnv is set but Harness.ZoneLess is nil")
	}
	wall := time.Date(2026, 3, 2, 10, 8, 32, 0, time.UTC)
	for _, zone := range []string{"", "UTC", "Africa/Lagos", "Africa/Nairobi", "Asia/Kolkata", "America/St_Johns"} {
		t.Run(cmp.Or(zone, "default"), func(t *testing.T) {
			vars := maps.Clone(h.Config)
			if vars == nil {
				vars = map[string]string{}
			}
			delete(vars, zoneEnv)
			if zone != "" {
				vars[zoneEnv] = zone
			}
			cfg := h.Provider.ConfigFrom(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
			name := cmp.Or(zone, cmp.Or(h.Provider.Traits.DefaultZone, "UTC"))
			loc, err := time.LoadLocation(name)
			if err != nil {
				t.Fatal(err)
			}
			want := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc)
			parser, err := h.Provider.Parser(cfg)
			if err != nil {
				t.Fatalf("parser with %s=%q: %v", zoneEnv, zone, err)
			}
			body, src := h.ZoneLess(t, wall)
			_, recs, err := parser.Parse(body, src)
			if err != nil {
				t.Fatalf("parsing a zone-less time: %v", err)
			}
			if len(recs) == 0 {
				t.Fatal("the zone-less payload yields no record; the test proves nothing")
			}
			for _, r := range recs {
				if !r.OccurredAt.Equal(want) {
					t.Errorf("%s=%q: %s %s occurred at %s, want %s (%s read in %s)", zoneEnv, zone, r.Kind, r.TxID,
						r.OccurredAt.UTC().Format(time.RFC3339), want.UTC().Format(time.RFC3339), wall.Format(time.DateTime), name)
				}
			}
		})
	}
}

func testMalformed(t *testing.T, h Harness) {
	cfg := h.Provider.ConfigFrom(func(k string) (string, bool) { v, ok := h.Config[k]; return v, ok })
	parser, err := h.Provider.Parser(cfg)
	if err != nil {
		t.Fatalf("parser: %v", err)
	}
	cases := append([]Malformed{
		{Name: "not JSON", Body: "this is not json"},
		{Name: "truncated", Body: `{"data": {"id": "x"`},
		{Name: "empty", Body: ""},
	}, h.Malformed...)
	for _, c := range cases {
		srcs := c.Sources
		if len(srcs) == 0 {
			srcs = []reconcile.Source{reconcile.SourceWebhook, reconcile.SourcePoll}
		}
		for _, src := range srcs {
			_, recs, err := parser.Parse([]byte(c.Body), src)
			if !errors.Is(err, sources.ErrMalformed) {
				t.Errorf("%s (%s): Parse error = %v, want ErrMalformed", c.Name, src, err)
				continue
			}
			if len(recs) != 0 {
				t.Errorf("%s (%s): Parse returned %d records with its error", c.Name, src, len(recs))
			}
			if c.Want != "" && !strings.Contains(err.Error(), c.Want) {
				t.Errorf("%s (%s): error %q does not name %q", c.Name, src, err, c.Want)
			}
		}
	}
	// A delivery with anything but JSON whitespace after it is refused, not
	// stored: the store's JSONB column would refuse it (a 500, retried for
	// ever).
	for _, wh := range h.Webhooks {
		body := wh.Request("conformance-key", "/webhooks/"+string(h.Provider.Name)).Body
		for _, tail := range []string{"\v", "\u00a0", " x", " {}"} {
			_, recs, err := parser.Parse(append(bytes.Clone(body), tail...), reconcile.SourceWebhook)
			if !errors.Is(err, sources.ErrMalformed) || len(recs) != 0 {
				t.Errorf("%s followed by %q: Parse = %d records, %v; want ErrMalformed", wh.Name, tail, len(recs), err)
			}
		}
	}
	for _, c := range h.Malformed {
		if c.Want == "" {
			t.Errorf("Harness.Malformed %q: Want (the field the error must name) is empty", c.Name)
		}
	}
}
