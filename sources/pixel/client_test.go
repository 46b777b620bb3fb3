package pixel

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/apiclient"
)

// simEnv is a simulator served over HTTP, a client configured from its
// ClientEnv, and the requests the simulator received.
type simEnv struct {
	sim      *Simulator
	srv      *httptest.Server
	client   *Client
	cfg      sources.Config
	requests atomic.Int64
}

func newSimEnv(t *testing.T, opts sources.SimOptions, override map[string]string) *simEnv {
	t.Helper()
	sim, err := NewSimulator(opts)
	if err != nil {
		t.Fatal(err)
	}
	e := &simEnv{sim: sim}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { e.srv.Close(); sim.Close() })
	env := sim.ClientEnv(e.srv.URL)
	for k, v := range override {
		env[k] = v
	}
	e.cfg = Provider.ConfigFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	e.client, err = NewClient(e.cfg, fastClient())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// fastClient retries quickly, so fault tests take milliseconds.
func fastClient() sources.ClientOptions {
	return sources.ClientOptions{RateLimit: 1000, Burst: 10,
		Retry: sources.RetryPolicy{MaxRetries: 12, Base: time.Millisecond, Max: 5 * time.Millisecond}}
}

// receiver collects callbacks.
type receiver struct {
	mu     sync.Mutex
	bodies [][]byte
	got    chan struct{}
}

func newReceiver(t *testing.T) (*receiver, string) {
	rc := &receiver{got: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, b)
		rc.mu.Unlock()
		rc.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return rc, srv.URL + "/webhooks/pixel"
}

func (rc *receiver) wait(t *testing.T, n int, within time.Duration) [][]byte {
	t.Helper()
	deadline := time.After(within)
	for range n {
		select {
		case <-rc.got:
		case <-deadline:
			t.Fatalf("fewer than %d callbacks within %s", n, within)
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.bodies...)
}

// TestClientStatus asks the simulator about a generated operation, an
// unknown one, and with a wrong key (10201).
func TestClientStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newSimEnv(t, sources.SimOptions{Seed: 3}, nil)
	tx := e.sim.Transactions()[0]
	r, err := e.client.Status(ctx, tx.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if r.OrderID != tx.OrderID || r.TransactionID != tx.TransactionID || r.Status != tx.Status || r.Code != 0 {
		t.Errorf("status = %+v, want %+v", r, tx)
	}
	again, err := e.client.Status(ctx, tx.OrderID)
	if err != nil || string(again.Body) != string(r.Body) {
		t.Errorf("a second status answer differs: %s vs %s (%v)", again.Body, r.Body, err)
	}

	_, err = e.client.Status(ctx, "NO-SUCH-ORDER")
	var apiErr *apiclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "10404" {
		t.Errorf("unknown order: %v, want API error 10404", err)
	}

	bad := newSimEnv(t, sources.SimOptions{Seed: 3}, map[string]string{EnvSecretKey: "not-the-key"})
	_, err = bad.client.Status(ctx, tx.OrderID)
	if !errors.As(err, &apiErr) || apiErr.Code != "10201" || !strings.Contains(err.Error(), "authentication") {
		t.Errorf("wrong key: %v, want API error 10201", err)
	}
	if strings.Contains(err.Error(), "not-the-key") || strings.Contains(err.Error(), SandboxSecretKey) {
		t.Errorf("error carries a key: %v", err)
	}
	wrongMerchant := newSimEnv(t, sources.SimOptions{Seed: 3}, map[string]string{EnvMerchantID: "someone-else"})
	if _, err = wrongMerchant.client.Status(ctx, tx.OrderID); !errors.As(err, &apiErr) || apiErr.Code != "10201" {
		t.Errorf("wrong merchant_id: %v, want API error 10201", err)
	}
	wrongPublic := newSimEnv(t, sources.SimOptions{Seed: 3}, map[string]string{EnvPublicID: "0000"})
	if _, err = wrongPublic.client.Status(ctx, tx.OrderID); !errors.As(err, &apiErr) || apiErr.Code != "10201" {
		t.Errorf("wrong public id: %v, want API error 10201", err)
	}
}

// TestClientPaymentsAndCallbacks sends c2b and b2c payments: answered in
// progress, then called back, signed, with the final status; provider 14
// stays in progress and never calls back; the same order_id twice is one
// operation.
func TestClientPaymentsAndCallbacks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rc, url := newReceiver(t)
	e := newSimEnv(t, sources.SimOptions{Seed: 1, Quiet: true, CallbackDelay: 20 * time.Millisecond}, nil)
	c2b := Payment{CustomerID: "254700000001", OrderID: "C2B-1", Amount: "150.00", Currency: "KES", Country: "KE",
		CallbackURL: url, ProviderID: 2162, Extra: []Field{{"customer_name", "Name Surname"}, {"customer_email", "n@example.com"}}}
	r, err := e.client.PaymentC2B(ctx, c2b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusInProgress || r.TransactionID == "" {
		t.Errorf("c2b answer %+v, want in progress with a transaction id", r)
	}
	b2c := Payment{CustomerID: "2250700000001", OrderID: "B2C-1", Amount: "1000", Currency: "XOF", Country: "CI",
		CallbackURL: url, ProviderID: 2304, Extra: []Field{{"customer_name", "Name Surname"}}}
	if _, err := e.client.PaymentB2C(ctx, b2c); err != nil {
		t.Fatal(err)
	}
	sim14 := Payment{CustomerID: "0900000001", OrderID: "SIM14-1", Amount: "100.00", Currency: "CDF", Country: "KE",
		CallbackURL: url, ProviderID: SimulatorProviderID}
	r14, err := e.client.PaymentC2B(ctx, sim14)
	if err != nil {
		t.Fatal(err)
	}
	if r14.Status != StatusInProgress || r14.TransactionRef != "" {
		t.Errorf("provider 14 answer %+v", r14)
	}
	bodies := rc.wait(t, 2, 5*time.Second)
	v, _ := NewVerifier(e.cfg.Get(EnvSecretKey))
	p := Parser{}
	kinds := map[string]reconcile.Kind{}
	for _, b := range bodies {
		if err := v.Verify(sources.Request{Method: "POST", Body: b}); err != nil {
			t.Errorf("callback %s: %v", b, err)
		}
		_, recs, err := p.Parse(b, reconcile.SourceWebhook)
		if err != nil || len(recs) != 1 {
			t.Fatalf("callback %s: %v", b, err)
		}
		kinds[recs[0].MerchantRef] = recs[0].Kind
		if recs[0].Status == reconcile.StatusPending {
			t.Errorf("callback %s is not final", b)
		}
	}
	if kinds["C2B-1"] != reconcile.KindPayment || kinds["B2C-1"] != reconcile.KindPayout || len(kinds) != 2 {
		t.Errorf("callbacks for %v, want C2B-1 payment and B2C-1 payout", kinds)
	}
	// Three times the delay later, provider 14 has still not called back.
	time.Sleep(100 * time.Millisecond)
	rc.mu.Lock()
	n := len(rc.bodies)
	rc.mu.Unlock()
	if n != 2 {
		t.Errorf("%d callbacks, want 2 (none for provider 14)", n)
	}
	if st, err := e.client.Status(ctx, "SIM14-1"); err != nil || st.Status != StatusInProgress {
		t.Errorf("provider 14 status = %+v, %v; want still in progress", st, err)
	}
	if st, err := e.client.Status(ctx, "C2B-1"); err != nil || !Final(st.Status) {
		t.Errorf("C2B-1 after its callback = %+v, %v; want final", st, err)
	}
	// The same order_id again: the same operation, no new callback.
	again, err := e.client.PaymentC2B(ctx, c2b)
	if err != nil || again.TransactionID != r.TransactionID {
		t.Errorf("repeated order_id: %+v, %v; want transaction %s", again, err, r.TransactionID)
	}
	if len(e.sim.Transactions()) != 3 {
		t.Errorf("%d operations, want 3", len(e.sim.Transactions()))
	}
}

// TestCountryRules: the client refuses a payment breaking document 003's
// rules before sending anything, naming the rule; the simulator refuses
// the same request sent anyway (result.code 10001).
func TestCountryRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newSimEnv(t, sources.SimOptions{Quiet: true}, nil)
	pay := func(op Operation, country string, provider int, amount string, cur reconcile.Currency) Payment {
		return Payment{CustomerID: "2250700000001", OrderID: "R-" + country + amount + string(op), Amount: amount,
			Currency: cur, Country: country, ProviderID: provider}
	}
	tests := []struct {
		name string
		op   Operation
		p    Payment
		rule string // "" accepted
	}{
		{"CI c2b minimum", C2B, pay(C2B, "CI", 2304, "150", "XOF"), "c2b minimum"},
		{"CI at the minimum", C2B, pay(C2B, "CI", 2304, "200", "XOF"), ""},
		{"CI multiples of 5", C2B, pay(C2B, "CI", 2304, "1002", "XOF"), "multiples of 5"},
		{"CI b2c maximum", B2C, pay(B2C, "CI", 2306, "1000005", "XOF"), "b2c maximum"},
		{"BF multiples of 5", B2C, pay(B2C, "BF", 9209, "1101", "XOF"), "multiples of 5"},
		{"BJ has no multiple rule", C2B, pay(C2B, "BJ", 9210, "101", "XOF"), ""},
		{"KE b2c minimum (003)", B2C, pay(B2C, "KE", 2390, "249.99", "KES"), "b2c minimum"},
		{"KE b2c minimum, channel 2162 (002)", B2C, pay(B2C, "KE", 2162, "499.00", "KES"), "b2c minimum"},
		{"KE c2b maximum", C2B, pay(C2B, "KE", 2390, "150000.01", "KES"), "c2b maximum"},
		{"KE c2b fine", C2B, pay(C2B, "KE", 2390, "1.00", "KES"), ""},
		{"XOF too precise", C2B, pay(C2B, "CI", 2304, "200.50", "XOF"), "precision"},
		{"currency of the country", C2B, pay(C2B, "KE", 2390, "100", "UGX"), "currency"},
		{"UG b2c minimum", B2C, pay(B2C, "UG", 2106, "800", "UGX"), "b2c minimum"},
		{"GH channel 981: no c2b maximum", C2B, pay(C2B, "GH", 981, "1000000.00", "GHS"), ""},
		{"provider 14 is the vendor's simulator, country ANY", C2B, pay(C2B, "KE", 14, "100.00", "CDF"), ""},
		{"unknown country: no rule", C2B, pay(C2B, "ZZ", 1, "0.01", "USD"), ""},
		{"zero", C2B, pay(C2B, "ZZ", 1, "0.00", "USD"), "amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.requests.Load()
			var err error
			if tt.op == C2B {
				_, err = e.client.PaymentC2B(ctx, tt.p)
			} else {
				_, err = e.client.PaymentB2C(ctx, tt.p)
			}
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var re *RuleError
			if !errors.As(err, &re) || re.Rule != tt.rule || !strings.Contains(err.Error(), tt.rule) {
				t.Fatalf("err = %v, want the %q rule", err, tt.rule)
			}
			if e.requests.Load() != before {
				t.Errorf("the client sent a request breaking the %s rule", tt.rule)
			}
			// Sent anyway, the simulator refuses it too.
			method := MethodPaymentC2B
			if tt.op == B2C {
				method = MethodPaymentB2C
			}
			_, err = e.client.Call(ctx, method, tt.p.fields())
			var apiErr *apiclient.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != "10001" || !strings.Contains(apiErr.Message, tt.rule) {
				t.Errorf("simulator answered %v, want 10001 naming %q", err, tt.rule)
			}
		})
	}
}

// TestClientBanks lists the banks of a channel.
func TestClientBanks(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sources.SimOptions{Quiet: true}, nil)
	banks, err := e.client.Banks(context.Background(), 2166)
	if err != nil || len(banks) != 1 || banks[0] != (Bank{Code: "000001", Name: "OK"}) {
		t.Fatalf("Banks = %+v, %v", banks, err)
	}
}

// TestClientUnderFaults: 429s with Retry-After, 500s and cut bodies are
// retried until the answer comes through.
func TestClientUnderFaults(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sources.SimOptions{Seed: 5, Faults: sources.Faults{TooManyRequests: 0.2, ServerError: 0.2, Malformed: 0.2}}, nil)
	for _, tx := range e.sim.Transactions() {
		r, err := e.client.Status(context.Background(), tx.OrderID)
		if err != nil {
			t.Fatalf("status %s: %v", tx.OrderID, err)
		}
		if r.Status != tx.Status {
			t.Errorf("status %s = %d, want %d", tx.OrderID, r.Status, tx.Status)
		}
	}
	if n := e.requests.Load(); n <= int64(len(e.sim.Transactions())) {
		t.Errorf("%d requests for %d statuses: no fault was injected", n, len(e.sim.Transactions()))
	}
}

// TestSimulatorDeterministic: the same seed gives the same operations.
func TestSimulatorDeterministic(t *testing.T) {
	t.Parallel()
	a, _ := NewSimulator(sources.SimOptions{Seed: 9})
	b, _ := NewSimulator(sources.SimOptions{Seed: 9})
	c, _ := NewSimulator(sources.SimOptions{Seed: 10})
	ta, tb, tc := a.Transactions(), b.Transactions(), c.Transactions()
	if len(ta) == 0 || len(ta) != len(tb) {
		t.Fatalf("%d and %d operations", len(ta), len(tb))
	}
	for i := range ta {
		if ta[i] != tb[i] {
			t.Fatalf("operation %d differs: %+v vs %+v", i, ta[i], tb[i])
		}
	}
	if ta[0] == tc[0] {
		t.Error("seeds 9 and 10 gave the same first operation")
	}
	for _, tx := range ta {
		op := C2B
		if tx.Kind() == reconcile.KindPayout {
			op = B2C
		}
		if err := CheckAmount(op, tx.Country, tx.ProviderID, tx.Amount, tx.Currency); err != nil {
			t.Errorf("generated %s breaks its rules: %v", tx.OrderID, err)
		}
	}
	q, _ := NewSimulator(sources.SimOptions{Seed: 9, Quiet: true, Fixtures: []byte(`{"order_id":"F1","at":"2026-03-02T10:00:00Z","status":2,"amount":"5","currency":"XOF"}` + "\n\n")})
	if txs := q.Transactions(); len(txs) != 1 || txs[0].OrderID != "F1" || txs[0].TransactionID == "" {
		t.Errorf("quiet with one fixture: %+v", txs)
	}
	if _, err := NewSimulator(sources.SimOptions{Fixtures: []byte(`{"order_id":"F1"}`)}); err == nil {
		t.Error("a fixture without at was accepted")
	}
	if _, err := NewSimulator(sources.SimOptions{Fixtures: []byte(`{"order_id":"F1","at":"2026-03-02T10:00:00Z","colour":"red"}`)}); err == nil {
		t.Error("a fixture with an unknown field was accepted")
	}
}
