// Package sourcetest is the conformance suite every provider adapter must
// pass: its Puller run over real HTTP against the provider's simulator, into
// a real PostgreSQL store, and its Parser and Verifier on the payloads the
// provider sends. A provider package calls Run from a test:
//
//	func TestConformance(t *testing.T) {
//		sourcetest.Run(t, sourcetest.Harness{Provider: reconcile.KopoKopo, Start: ..., ...})
//	}
package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// Harness is what a provider fills in to run the suite. Every field is required.
type Harness struct {
	Provider reconcile.Provider
	// Start runs the provider's simulator, serving the given fixture
	// transactions besides its generated ones (none at all when quiet), and
	// returns a Puller talking to it over HTTP. It stops the simulator in
	// t.Cleanup.
	Start func(t *testing.T, fixtures []Fixture, quiet bool) Env
	// Parser and Verifier are the provider's.
	Parser   sources.Parser
	Verifier sources.Verifier
	// Webhook is a body the provider sends to webhooks; Sign returns the
	// headers that sign body with key as the provider does, and Key is the
	// right key.
	Webhook []byte
	Sign    func(key string, body []byte) http.Header
	Key     string
	// Malformed are bodies the Parser must refuse with an error wrapping
	// sources.ErrMalformed that names the field at fault (Want, a substring
	// of the error).
	Malformed []Malformed
}

// Malformed is a body the Parser must refuse.
type Malformed struct {
	Name, Body, Want string
}

// Fixture is a transaction planted in the simulator.
type Fixture struct {
	ID      string
	Account string
	Amount  reconcile.Money
	At      time.Time
}

// Env is a running simulator and a Puller pointed at it.
type Env struct {
	Puller sources.Puller
	// Expected lists the transactions the simulator serves in w, as the
	// records a pull must leave: one per transaction.
	Expected func(w reconcile.Window) []Expected
}

// Expected is one transaction a pull must store.
type Expected struct {
	TxID   string
	Kind   reconcile.Kind
	Amount reconcile.Money
}

// Run runs every conformance test against h.
func Run(t *testing.T, h Harness) {
	t.Run("EmptyWindow", func(t *testing.T) { t.Parallel(); testEmptyWindow(t, h) })
	t.Run("WindowEdges", func(t *testing.T) { t.Parallel(); testWindowEdges(t, h) })
	t.Run("IdempotentRefetch", func(t *testing.T) { t.Parallel(); testIdempotent(t, h) })
	t.Run("ExactAmounts", func(t *testing.T) { t.Parallel(); testExactAmounts(t, h) })
	t.Run("BadSignatureRefused", func(t *testing.T) { t.Parallel(); testSignature(t, h) })
	t.Run("MalformedRefused", func(t *testing.T) { t.Parallel(); testMalformed(t, h) })
}

// base is an hour boundary in the past, so windows are complete.
var base = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func pull(t *testing.T, h Harness, env Env, st *store.Store, w reconcile.Window) sources.PullStats {
	t.Helper()
	stats, err := env.Puller.Pull(context.Background(), w, st)
	if err != nil {
		t.Fatalf("Pull(%s): %v", w, err)
	}
	return stats
}

// stored returns the records in the store as Expected values, sorted.
func stored(t *testing.T, h Harness, st *store.Store) []Expected {
	t.Helper()
	var out []Expected
	all := reconcile.Window{From: time.Unix(0, 0), To: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
	for r, err := range st.Records(context.Background(), store.Filter{Window: all, Providers: []reconcile.Provider{h.Provider}}) {
		if err != nil {
			t.Fatalf("reading records: %v", err)
		}
		if !r.AmountKnown {
			t.Errorf("record %s: amount not stored", r.TxID)
		}
		out = append(out, Expected{TxID: r.TxID, Kind: r.Kind, Amount: r.Amount})
	}
	return sortExpected(out)
}

func sortExpected(es []Expected) []Expected {
	slices.SortFunc(es, func(a, b Expected) int {
		return strings.Compare(string(a.Kind)+"/"+a.TxID, string(b.Kind)+"/"+b.TxID)
	})
	return es
}

func diff(got, want []Expected) string {
	if slices.Equal(got, want) {
		return ""
	}
	return fmt.Sprintf("got %d records %v\nwant %d %v", len(got), got, len(want), want)
}

func testEmptyWindow(t *testing.T, h Harness) {
	env := h.Start(t, nil, true)
	st := store.New(pgtest.New(t))
	stats := pull(t, h, env, st, reconcile.Window{From: base, To: base.Add(6 * time.Hour)})
	if stats.Records != 0 {
		t.Errorf("empty window: stats %+v, want no records", stats)
	}
	if got := stored(t, h, st); len(got) != 0 {
		t.Errorf("empty window stored %v", got)
	}
}

func testWindowEdges(t *testing.T, h Harness) {
	w := reconcile.Window{From: base.Add(2 * time.Hour), To: base.Add(3 * time.Hour)}
	kes := func(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "KES"} }
	fixtures := []Fixture{
		{ID: "edge-before", Account: "", Amount: kes(100), At: w.From.Add(-time.Second)},
		{ID: "edge-from", Amount: kes(200), At: w.From},
		{ID: "edge-last", Amount: kes(300), At: w.To.Add(-time.Second)},
		{ID: "edge-to", Amount: kes(400), At: w.To},
	}
	env := h.Start(t, fixtures, true)
	st := store.New(pgtest.New(t))
	pull(t, h, env, st, w)
	want := []Expected{
		{TxID: "edge-from", Kind: reconcile.KindPayment, Amount: kes(200)},
		{TxID: "edge-last", Kind: reconcile.KindPayment, Amount: kes(300)},
	}
	if d := diff(stored(t, h, st), want); d != "" {
		t.Errorf("window %s: a transaction at from is in, at to is out:\n%s", w, d)
	}
}

func testIdempotent(t *testing.T, h Harness) {
	env := h.Start(t, nil, false)
	st := store.New(pgtest.New(t))
	w := reconcile.Window{From: base, To: base.Add(12 * time.Hour)}
	want := sortExpected(env.Expected(w))
	if len(want) == 0 {
		t.Fatal("the simulator serves no transactions in 12 hours; the test proves nothing")
	}
	pull(t, h, env, st, w)
	first := stored(t, h, st)
	if d := diff(first, want); d != "" {
		t.Fatalf("first pull:\n%s", d)
	}
	// The same window again, and the same window split differently.
	pull(t, h, env, st, w)
	pull(t, h, env, st, reconcile.Window{From: base, To: base.Add(5 * time.Hour)})
	pull(t, h, env, st, reconcile.Window{From: base.Add(5 * time.Hour), To: base.Add(12 * time.Hour)})
	if d := diff(stored(t, h, st), want); d != "" {
		t.Errorf("after pulling again:\n%s", d)
	}
}

func testExactAmounts(t *testing.T, h Harness) {
	var fixtures []Fixture
	at := base.Add(30 * time.Minute)
	for i, minor := range []int64{1, 5, 10, 99, 100, 50050, 123456789, 999999999999} {
		fixtures = append(fixtures, Fixture{
			ID: fmt.Sprintf("amount-%d", i), Amount: reconcile.Money{Minor: minor, Currency: "KES"}, At: at.Add(time.Duration(i) * time.Minute),
		})
	}
	env := h.Start(t, fixtures, false)
	st := store.New(pgtest.New(t))
	w := reconcile.Window{From: base, To: base.Add(2 * time.Hour)}
	pull(t, h, env, st, w)
	want := sortExpected(env.Expected(w))
	if d := diff(stored(t, h, st), want); d != "" {
		t.Errorf("stored amounts differ from the simulator's:\n%s", d)
	}
	for _, f := range fixtures {
		if !slices.ContainsFunc(want, func(e Expected) bool { return e.TxID == f.ID && e.Amount == f.Amount }) {
			t.Errorf("fixture %s (%s) not served by the simulator as planted", f.ID, f.Amount.Human())
		}
	}
}

func testSignature(t *testing.T, h Harness) {
	good := h.Sign(h.Key, h.Webhook)
	if err := h.Verifier.Verify(good, h.Webhook); err != nil {
		t.Fatalf("correctly signed webhook refused: %v", err)
	}
	tampered := []byte(strings.Replace(string(h.Webhook), "0", "1", 1))
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"wrong key", h.Sign(h.Key+"x", h.Webhook), h.Webhook, sources.ErrBadSignature},
		{"tampered body", good, tampered, sources.ErrBadSignature},
		{"no signature", http.Header{}, h.Webhook, sources.ErrNotSigned},
	}
	for _, tt := range tests {
		err := h.Verifier.Verify(tt.header, tt.body)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), h.Key) {
			t.Errorf("%s: error %q reveals the key", tt.name, err)
		}
	}
}

func testMalformed(t *testing.T, h Harness) {
	cases := append([]Malformed{
		{Name: "not JSON", Body: "this is not json"},
		{Name: "truncated", Body: `{"data": {"id": "x"`},
	}, h.Malformed...)
	for _, c := range cases {
		for _, src := range []reconcile.Source{reconcile.SourceWebhook, reconcile.SourcePoll} {
			_, recs, err := h.Parser.Parse([]byte(c.Body), src)
			if !errors.Is(err, sources.ErrMalformed) {
				t.Errorf("%s (%s): Parse error = %v, want ErrMalformed", c.Name, src, err)
				continue
			}
			if len(recs) != 0 {
				t.Errorf("%s: Parse returned %d records with its error", c.Name, len(recs))
			}
			if c.Want != "" && !strings.Contains(err.Error(), c.Want) {
				t.Errorf("%s: error %q does not name %q", c.Name, err, c.Want)
			}
		}
	}
}
