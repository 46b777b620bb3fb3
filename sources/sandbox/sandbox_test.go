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
	"github.com/mizani/reconcile/sources/kopokopo"
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
	err := kopokopo.Verifier{APIKey: "sandbox-test-key"}.Verify(r.Header, body)
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
	sb := sandbox.New(sandbox.Config{Seed: 11, KopoKopo: kopokopo.SimConfig{
		ClientID: "sb-id", ClientSecret: "sb-secret", APIKey: "sandbox-test-key", WebhookURL: hooks.URL + "/webhooks/kopokopo",
	}})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	defer sb.Close()
	if got := sb.Prefixes(); len(got) != 1 || got[0] != "/kopokopo" {
		t.Errorf("prefixes %v", got)
	}

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
	if want := sb.KopoKopo().Transactions(w, ""); len(recs) != len(want) || len(want) == 0 {
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
	n, err := sb.KopoKopo().EmitWebhooks(context.Background(), day)
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
	txs := sb.KopoKopo().Transactions(day, "")
	if topics["buygoods_transaction_received"] != len(txs) || topics["settlement_transfer_completed"] != 1 || topics["buygoods_transaction_reversed"] == 0 {
		t.Errorf("webhook topics %v for %d transactions", topics, len(txs))
	}
}
