package sandbox_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/kopokopo"
	_ "github.com/mizani/reconcile/sources/providers"
	"github.com/mizani/reconcile/sources/sandbox"
)

// receiver collects verified Kopo Kopo callbacks and webhooks.
type receiver struct {
	mu     sync.Mutex
	bodies [][]byte
	errs   []error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	err := kopokopo.Verifier{APIKey: "sandbox-test-key"}.Verify(sources.Request{Method: r.Method, Path: r.URL.Path, Header: r.Header, Body: body})
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil {
		rc.errs = append(rc.errs, err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	rc.bodies = append(rc.bodies, body)
}

func (rc *receiver) snapshot() ([][]byte, []error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.bodies...), append([]error(nil), rc.errs...)
}

func TestSandboxServesKopoKopoUnderPrefix(t *testing.T) {
	t.Parallel()
	rc := &receiver{}
	hooks := httptest.NewServer(rc)
	defer hooks.Close()
	sb, err := sandbox.New(sandbox.Config{Seed: 11, WebhookURL: hooks.URL + "/webhooks/", Options: map[reconcile.Provider]sources.SimOptions{
		kopokopo.Name: {Env: map[string]string{"K2_CLIENT_ID": "sb-id", "K2_CLIENT_SECRET": "sb-secret", "K2_API_KEY": "sandbox-test-key"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	defer sb.Close()
	// Every registered provider is mounted under its name.
	var want []string
	for _, p := range sources.Registered() {
		want = append(want, "/"+string(p.Name))
	}
	if got := sb.Prefixes(); strings.Join(got, ",") != strings.Join(want, ",") || len(got) == 0 {
		t.Errorf("prefixes %v, want %v", got, want)
	}
	env := sb.ClientEnv(srv.URL)[kopokopo.Name]
	if env["K2_BASE_URL"] != srv.URL+"/kopokopo" || env["K2_CLIENT_ID"] != "sb-id" {
		t.Errorf("Kopo Kopo client env %v", env)
	}
	sim, _ := sb.Simulator(kopokopo.Name)
	kk := sim.(*kopokopo.Simulator)

	client, err := kopokopo.New(kopokopo.Config{BaseURL: srv.URL + "/kopokopo", ClientID: "sb-id", ClientSecret: "sb-secret",
		CallbackURL: hooks.URL + "/callback", PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	w := reconcile.Window{From: from, To: from.Add(3 * time.Hour)}
	body, err := client.Poll(context.Background(), kopokopo.PollRequest{Scope: "company", From: w.From, To: w.To})
	if err != nil {
		t.Fatalf("Poll through the sandbox prefix: %v", err)
	}
	if !strings.Contains(string(body), `"self":"`+srv.URL+`/kopokopo/api/v1/polling/`) {
		t.Errorf("result's self link does not go through the prefix: %s", body)
	}
	_, recs, err := kopokopo.Parser{}.Parse(body, reconcile.SourcePoll)
	if err != nil {
		t.Fatal(err)
	}
	if want := kk.Transactions(w, ""); len(recs) != len(want) || len(want) == 0 {
		t.Errorf("%d records, simulator has %d transactions", len(recs), len(want))
	}

	// The same result is posted, signed, to the callback URL.
	deadline := time.Now().Add(5 * time.Second)
	for {
		bodies, errs := rc.snapshot()
		if len(errs) > 0 {
			t.Fatalf("callback signature refused: %v", errs)
		}
		if len(bodies) == 1 {
			if string(bodies[0]) != string(body) {
				t.Errorf("callback body differs from the polled result")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no polling callback received")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Webhooks for a day: every one signed and parsable, settlement included.
	day := reconcile.Window{From: from, To: from.Add(24 * time.Hour)}
	n, err := kk.EmitWebhooks(context.Background(), day)
	if err != nil {
		t.Fatal(err)
	}
	bodies, errs := rc.snapshot()
	if len(errs) > 0 || n != len(bodies)-1 {
		t.Fatalf("sent %d webhooks, received %d, errors %v", n, len(bodies)-1, errs)
	}
	topics := map[string]int{}
	for _, b := range bodies[1:] {
		p, _, err := kopokopo.Parser{}.Parse(b, reconcile.SourceWebhook)
		if err != nil {
			t.Fatalf("webhook does not parse: %v\n%s", err, b)
		}
		topics[p.Kind]++
	}
	txs := kk.Transactions(day, "")
	if topics["buygoods_transaction_received"] != len(txs) || topics["settlement_transfer_completed"] != 1 || topics["buygoods_transaction_reversed"] == 0 {
		t.Errorf("webhook topics %v for %d transactions", topics, len(txs))
	}
}
