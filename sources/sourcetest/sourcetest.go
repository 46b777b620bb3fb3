// Package sourcetest is the conformance suite every provider adapter must
// pass. It runs a provider's own registration (the *sources.Provider its
// package exports) against the provider's own simulator over real HTTP
// (httptest.Server), into a real PostgreSQL store (store/pgtest), and its
// webhooks through the real receiver (sources/webhook).
//
// A provider package fills in a Harness with what only it knows — how to
// plant transactions in its simulator, which records the simulator serves,
// how it signs a webhook — and calls Run from one test:
//
//	func TestConformance(t *testing.T) {
//		t.Parallel()
//		sourcetest.Run(t, sourcetest.Harness{
//			Provider:   pixel.Provider,            // the registration itself
//			KeyEnv:     "PIXEL_SECRET_KEY",        // the signing key's variable
//			Config:     map[string]string{"PIXEL_CURRENCY": "XOF"},
//			Currencies: []reconcile.Currency{"XOF"},
//			Kinds:      []reconcile.Kind{reconcile.KindPayment, reconcile.KindPayout},
//			// Planted transactions in the simulator's own JSONL fixture
//			// format (SimOptions.Fixtures).
//			Encode: func(t *testing.T, fx []sourcetest.Fixture) []byte { ... },
//			// What a history pull (SourcePoll) or status checks of Refs(w)
//			// (SourceStatus) must leave, read from the simulator itself.
//			Expected: func(t *testing.T, env *sourcetest.Env, w reconcile.Window, src reconcile.Source) []sourcetest.Expected {
//				sim := env.Sim.(*pixel.Simulator)
//				...
//			},
//			Refs: func(t *testing.T, env *sourcetest.Env, w reconcile.Window) []sources.StatusRef { ... },
//			Webhooks: []sourcetest.Webhook{{
//				Name:    "c2b callback",
//				Request: func(key, path string) sources.Request { ... }, // signed as the vendor signs
//				Want:    []sourcetest.Expected{...},
//				// Pixel signs in the body: say how to take the signature out.
//				Unsigned: func(r sources.Request) sources.Request { ... },
//			}},
//			// Simulators that post callbacks on request (Pixel after
//			// payment_c2b) trigger them here; a sources.WebhookEmitter
//			// needs nothing.
//			Callbacks: func(t *testing.T, env *sourcetest.Env, w reconcile.Window) int { ... },
//			ZoneLess:  func(t *testing.T, wall time.Time) ([]byte, reconcile.Source) { ... },
//			Malformed: []sourcetest.Malformed{{Name: "no order_id", Body: `{...}`, Want: "order_id"}},
//		})
//	}
//
// Kora, which signs only the data member, sets Webhook.Signed to that
// member's byte range; iKhokha, which signs the path too, signs the path
// Request is given (the receiver's). fake_test.go in this package is a
// complete, small example: a provider with every part, written for the
// suite's own test. sources/kopokopo/conformance_test.go is a real one.
//
// The suite builds everything else from the registration: it starts
// Provider.Simulator with SimOptions (seed, fixtures, faults, the receiver's
// URL as WebhookURL), serves it, reads the client's variables from the
// simulator's ClientEnv plus Harness.Config through Provider.ConfigFrom, and
// builds Provider.History, Provider.Status, Provider.Parser and
// Provider.Verifier from that Config. A part the provider genuinely lacks (no
// history endpoint, no status query, no webhooks, no zone-less times) is
// reported with t.Log and its checks are passed over; no test is skipped.
//
// What is checked (each a sub-test of Run):
//   - Registration: names, constructors, the key variable a secret, the
//     simulator's client variables enough for pulls and webhooks.
//   - EmptyWindow: a quiet simulator yields nothing; an unknown reference is
//     answered "not found" with no record.
//   - WindowEdges: a history pull of [from, to) takes a transaction at from
//     and one just before to, not one before from nor one at to.
//   - CurrenciesAndKinds: planted transactions in every currency the
//     provider handles (zero-exponent ones included) with amounts from 1
//     minor unit to 999 999 999 999, and one of every record kind, stored
//     exactly as planted, by history pull and by status check.
//   - HistoryIdempotent: the same window twice and split differently leaves
//     the same records, also under injected 429s (with Retry-After), 5xx and
//     cut bodies.
//   - StatusCheck: every reference answered and stored; a second check of a
//     final reference stores nothing new (the DedupKey of an answer must
//     not change while the status does not); also under injected faults.
//   - Webhooks: each signed delivery stored once through the receiver, its
//     replay stored once; flipping any one byte the signature covers, a
//     wrong key or no signature is refused and stores nothing.
//   - Callbacks: what the simulator posts arrives signed and verifies.
//   - ZoneLessTimes: times without a zone read in the configured zone
//     (Traits.ZoneEnv) and in Traits.DefaultZone when it is unset.
//   - MalformedRefused: bad bodies refused with sources.ErrMalformed naming
//     the field; a webhook body followed by anything but JSON whitespace
//     refused too (the store's JSONB would refuse it: a 500, retried for
//     ever).
package sourcetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/store"
)

// Harness is what a provider fills in to run the suite. Provider, Encode,
// Expected, Currencies and Kinds are required; the rest as the provider has
// them (see each field).
type Harness struct {
	// Provider is the provider's registration, exactly as its package
	// exports it.
	Provider *sources.Provider
	// Seed seeds the simulator (0: 7).
	Seed int64
	// Config are variables set on top of the simulator's ClientEnv (a zone,
	// a currency list). They are also given to the simulator as
	// SimOptions.Env.
	Config map[string]string
	// KeyEnv names the variable holding the webhook signing key
	// (K2_API_KEY, PIXEL_SECRET_KEY…); required when Provider.Verifier is
	// set. The key is read from the Config the suite builds.
	KeyEnv string
	// Currencies the provider's records take; every one is planted.
	// Include a zero-exponent currency (XOF, UGX) where the provider has one.
	Currencies []reconcile.Currency
	// Kinds of record the provider's history or status checks yield;
	// a transaction of every kind is planted (Fixture.Kind).
	Kinds []reconcile.Kind

	// Encode writes planted transactions in the simulator's own JSONL
	// fixture format, for SimOptions.Fixtures.
	Encode func(t *testing.T, fixtures []Fixture) []byte
	// Expected lists the records the running simulator's transactions in w
	// must leave in the store: after a history pull of w when src is
	// reconcile.SourcePoll, after a status check of every Refs(w) when src
	// is reconcile.SourceStatus. It reads the simulator directly (type-assert
	// env.Sim), never over HTTP.
	Expected func(t *testing.T, env *Env, w reconcile.Window, src reconcile.Source) []Expected
	// Refs lists the references of the simulator's transactions in w, as
	// the jobs would ask a StatusChecker about them. Required when
	// Provider.Status is set.
	Refs func(t *testing.T, env *Env, w reconcile.Window) []sources.StatusRef

	// Webhooks are deliveries the provider sends, each signed with the key
	// given. Required (at least one) when Provider.Verifier is set.
	Webhooks []Webhook
	// Callbacks makes the running simulator post its callbacks or webhooks
	// for w to env.WebhookURL and returns how many it posted. Nil: the
	// simulator's EmitWebhooks when it is a sources.WebhookEmitter.
	Callbacks func(t *testing.T, env *Env, w reconcile.Window) int
	// ZoneLess returns a payload carrying the wall-clock time wall (its
	// fields, read as written; wall's location is UTC) with no zone, and the
	// source it arrives by. Required when Provider.Traits.ZoneEnv is set.
	ZoneLess func(t *testing.T, wall time.Time) ([]byte, reconcile.Source)
	// Malformed are bodies the parser must refuse besides the suite's own
	// (not JSON, truncated).
	Malformed []Malformed
}

// Fixture is a transaction planted in the simulator.
type Fixture struct {
	// ID is the transaction's id and, where the provider's records carry
	// one, its merchant reference: a planted transaction is found by a
	// record whose TxID or MerchantRef is ID.
	ID string
	// Kind is the record kind the transaction must yield (payment unless set).
	Kind reconcile.Kind
	// Account is the till, merchant_id or entity (empty: the simulator's
	// default).
	Account string
	Amount  reconcile.Money
	At      time.Time
}

// Expected is one record a pull or status check must store. Status is
// compared only when set; Amount only when AmountKnown.
type Expected struct {
	Kind        reconcile.Kind
	TxID        string
	MerchantRef string
	Amount      reconcile.Money
	AmountKnown bool
	Status      reconcile.Status
}

// String names the record in failure messages.
func (e Expected) String() string {
	amount := "amount not reported"
	if e.AmountKnown {
		amount = e.Amount.Human()
	}
	s := fmt.Sprintf("%s %s", e.Kind, e.TxID)
	if e.MerchantRef != "" {
		s += " ref " + e.MerchantRef
	}
	s += " " + amount
	if e.Status != "" {
		s += " " + string(e.Status)
	}
	return s
}

// Webhook is one delivery the provider sends.
type Webhook struct {
	Name string
	// Request returns the delivery signed with key as the provider signs
	// it, sent to path (the receiver's, "/webhooks/<name>"; a provider that
	// signs the path signs this one). Method "" means POST.
	Request func(key, path string) sources.Request
	// Want are the records the delivery must leave (none for a payload that
	// carries no transaction).
	Want []Expected
	// Signed returns the byte ranges [from, to) of body the signature
	// covers (Kora signs only the data member); nil: the whole body. Each
	// byte in them, flipped, must make the delivery refused.
	Signed func(body []byte) [][2]int
	// Unsigned strips the signature from r (nil: every header removed); the
	// result must be refused with sources.ErrNotSigned.
	Unsigned func(r sources.Request) sources.Request
}

// Malformed is a body the parser must refuse with an error wrapping
// sources.ErrMalformed that contains Want (the field at fault).
type Malformed struct {
	Name, Body, Want string
	// Sources it is parsed as (nil: webhook and poll).
	Sources []reconcile.Source
}

// Run runs every conformance test against h.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Provider == nil || h.Encode == nil || h.Expected == nil || len(h.Currencies) == 0 || len(h.Kinds) == 0 {
		t.Fatal("sourcetest: Harness needs Provider, Encode, Expected, Currencies and Kinds")
	}
	h.Seed = cmp.Or(h.Seed, 7)
	tests := []struct {
		name string
		run  func(*testing.T, Harness)
	}{
		{"Registration", testRegistration},
		{"EmptyWindow", testEmptyWindow},
		{"WindowEdges", testWindowEdges},
		{"CurrenciesAndKinds", testCurrenciesAndKinds},
		{"HistoryIdempotent", testHistoryIdempotent},
		{"StatusCheck", testStatusCheck},
		{"Webhooks", testWebhooks},
		{"Callbacks", testCallbacks},
		{"ZoneLessTimes", testZoneLess},
		{"MalformedRefused", testMalformed},
		{"Timeouts", testTimeouts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.run(t, h) })
	}
}

// base is a day in the past, so every window is complete.
var base = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// someFaults are the faults pulls and checks must withstand: 429 with
// Retry-After, 500 and bodies cut in half.
var someFaults = sources.Faults{TooManyRequests: 0.15, RetryAfter: 1, ServerError: 0.15, Malformed: 0.1}

// pullAll pulls w through env.History, pulling again after a failed attempt
// (an error means the chunk is incomplete, SPEC: pull again) up to a bound.
func pullAll(t *testing.T, env *Env, w reconcile.Window) sources.PullStats {
	t.Helper()
	var last error
	for range 20 {
		stats, err := env.History.Pull(context.Background(), w, env.Store)
		if err == nil {
			return stats
		}
		last = err
		if !env.faulty {
			break
		}
	}
	t.Fatalf("Pull(%s): %v", w, last)
	return sources.PullStats{}
}

// checkAll checks every ref, asking again after a failed attempt when faults
// are injected.
func checkAll(t *testing.T, env *Env, refs []sources.StatusRef) []sources.CheckResult {
	t.Helper()
	out := make([]sources.CheckResult, 0, len(refs))
	for _, ref := range refs {
		res, err := check(env, ref)
		if err != nil {
			t.Fatalf("Check(%s): %v", ref, err)
		}
		out = append(out, res)
	}
	return out
}

func check(env *Env, ref sources.StatusRef) (sources.CheckResult, error) {
	var (
		res sources.CheckResult
		err error
	)
	for range 20 {
		res, err = env.Status.Check(context.Background(), ref, env.Store)
		if err == nil || !env.faulty {
			break
		}
	}
	return res, err
}

// stored returns the provider's records in the store as Expected values,
// sorted.
func stored(t *testing.T, env *Env) []Expected {
	t.Helper()
	var out []Expected
	all := reconcile.Window{From: time.Unix(0, 0), To: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
	for r, err := range env.Store.Records(context.Background(), store.Filter{Window: all, Providers: []reconcile.Provider{env.Provider.Name}}) {
		if err != nil {
			t.Fatalf("reading records: %v", err)
		}
		e := Expected{Kind: r.Kind, TxID: r.TxID, MerchantRef: r.MerchantRef, AmountKnown: r.AmountKnown, Status: r.Status}
		if r.AmountKnown {
			e.Amount = r.Amount
		}
		out = append(out, e)
	}
	return sortExpected(out)
}

func sortExpected(es []Expected) []Expected {
	es = slices.Clone(es)
	slices.SortFunc(es, func(a, b Expected) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.TxID, b.TxID))
	})
	return es
}

// same compares a stored record with an expected one.
func same(got, want Expected) bool {
	if want.Status == "" {
		got.Status = ""
	}
	return got == want
}

// diff describes how the stored records got differ from want ("" if not).
func diff(got, want []Expected) string {
	want = sortExpected(want)
	if slices.EqualFunc(got, want, same) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "got %d records, want %d", len(got), len(want))
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g Expected) bool { return same(g, w) }) {
			fmt.Fprintf(&b, "\n  missing: %s", w)
		}
	}
	for _, g := range got {
		if !slices.ContainsFunc(want, func(w Expected) bool { return same(g, w) }) {
			fmt.Fprintf(&b, "\n  unexpected: %s", g)
		}
	}
	return b.String()
}

// payloads counts the provider's raw payloads in the store.
func payloads(t *testing.T, env *Env) int {
	t.Helper()
	var n int
	if err := env.Store.DB().GetContext(context.Background(), &n,
		"SELECT count(*) FROM raw_payloads WHERE provider = $1", string(env.Provider.Name)); err != nil {
		t.Fatalf("counting raw payloads: %v", err)
	}
	return n
}

// money is minor units of c.
func money(minor int64, c reconcile.Currency) reconcile.Money {
	return reconcile.Money{Minor: minor, Currency: c}
}

// lacks logs, for the reader of -v output, that a provider has no such part.
func lacks(t *testing.T, h Harness, what string) {
	t.Helper()
	t.Logf("%s has %s: nothing to check here", h.Provider.DisplayName, what)
}

// isRefusal reports whether err is a verification refusal.
func isRefusal(err error) bool {
	return errors.Is(err, sources.ErrBadSignature) || errors.Is(err, sources.ErrNotSigned)
}
