package ikhokha_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/ikhokha"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// send sends a request signed as iKhokha's examples sign it, over the URL's
// path (query excluded) plus the body, and returns status and decoded body.
func send(t *testing.T, method, rawURL, appID, secret string, body []byte) (int, map[string]any) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("IK-APPID", appID)
	req.Header.Set("IK-SIGN", ikhokha.Sign(secret, u.EscapedPath(), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: answer %q is not a JSON object", method, rawURL, b)
	}
	return resp.StatusCode, out
}

func TestSimRequestShapesAndPaths(t *testing.T) {
	t.Parallel()
	env := startSim(t, sources.SimOptions{Quiet: true, CallbackDelay: time.Hour})
	id, secret := env.sim.Credentials()
	flat, _ := json.Marshal(map[string]any{ // the vendor document's shape
		"amount": 19999, "currency": "ZAR", "externalTransactionID": "FLAT-1", "requesterUrl": "https://yoursite.com",
		"description": "Payment for Order 12345", "entityID": "E1", "callbackUrl": "https://yoursite.com/ikhokha-callback",
		"successUrl": "https://yoursite.com/success", "failureUrl": "https://yoursite.com/failure", "cancelUrl": "https://yoursite.com/cancel",
	})
	nested, _ := json.Marshal(map[string]any{ // the public examples' shape
		"entityID": "4", "externalEntityID": "4", "amount": 200, "currency": "ZAR", "requesterUrl": "https://example.com/requester",
		"description": "Test Description 1", "paymentReference": "4", "mode": "live", "externalTransactionID": "NESTED-1",
		"urls": map[string]string{"callbackUrl": "https://example.com/callback", "successPageUrl": "https://example.com/success",
			"failurePageUrl": "https://example.com/failure", "cancelUrl": "https://example.com/cancel"},
	})
	var ids []string
	for _, tt := range []struct {
		name, path string
		body       []byte
	}{
		{"flat fields, /paymentLink", "/paymentLink", flat},
		{"urls object, /payment", "/payment", nested},
		{"the real API's path", "/public-api/v1/api/payment", bytes.Replace(nested, []byte("NESTED-1"), []byte("NESTED-2"), 1)},
	} {
		status, out := send(t, http.MethodPost, env.url+tt.path, id, secret, tt.body)
		if status != 200 || out["responseCode"] != "00" || out["paylinkID"] == nil || out["paylinkUrl"] == nil {
			t.Errorf("%s: HTTP %d %v", tt.name, status, out)
			continue
		}
		ids = append(ids, out["paylinkID"].(string))
	}
	for _, p := range []string{"/getStatus/", "/paymentLink/", "/public-api/v1/api/getStatus/"} {
		status, out := send(t, http.MethodGet, env.url+p+ids[0], id, secret, nil)
		if status != 200 || out["status"] != "pending" || out["externalTransactionID"] != "FLAT-1" {
			t.Errorf("GET %s: HTTP %d %v", p, status, out)
		}
	}
	status, out := send(t, http.MethodGet, env.url+"/payments/history?startDate="+time.Now().Format(time.DateOnly)+"&endDate="+time.Now().AddDate(0, 0, 1).Format(time.DateOnly), id, secret, nil)
	if rows, _ := out["payments"].([]any); status != 200 || len(rows) != 3 {
		t.Errorf("history: HTTP %d %v, want the 3 links", status, out)
	}

	refused := []struct {
		name          string
		method, path  string
		appID, secret string
		body          []byte
		status        int
		code          string
	}{
		{"wrong secret", "GET", "/getStatus/" + ids[0], id, "nope", nil, 401, "02"},
		{"wrong application", "GET", "/getStatus/" + ids[0], "OTHER", secret, nil, 401, "02"},
		{"unknown link", "GET", "/getStatus/PLX", id, secret, nil, 404, "04"},
		{"not JSON", "POST", "/payment", id, secret, []byte("amount=5"), 400, "01"},
		{"amount in rand, not cents", "POST", "/payment", id, secret, []byte(`{"amount":199.99,"currency":"ZAR","externalTransactionID":"X","entityID":"E"}`), 400, "01"},
		{"no externalTransactionID", "POST", "/payment", id, secret, []byte(`{"amount":100,"entityID":"E"}`), 400, "01"},
		{"no dates", "GET", "/payments/history", id, secret, nil, 400, "01"},
		{"unknown path", "GET", "/nowhere", id, secret, nil, 404, "04"},
	}
	for _, tt := range refused {
		status, out := send(t, tt.method, env.url+tt.path, tt.appID, tt.secret, tt.body)
		if status != tt.status || out["responseCode"] != tt.code || out["message"] == "" {
			t.Errorf("%s: HTTP %d %v, want %d responseCode %s", tt.name, status, out, tt.status, tt.code)
		}
	}
	// Signed over the path without the sandbox prefix: refused, the
	// simulator checks the path the client sent.
	req, _ := http.NewRequest("GET", env.url+"/getStatus/"+ids[0], nil)
	req.Header.Set("IK-APPID", id)
	req.Header.Set("IK-SIGN", ikhokha.Sign(secret, "/getStatus/"+ids[0], nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("signature over the stripped path: HTTP %d, want 401", resp.StatusCode)
	}
}

func TestSimDeterministic(t *testing.T) {
	t.Parallel()
	w := reconcile.Window{From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)}
	docs := func(seed int64) string {
		sim, err := ikhokha.NewSimulator(sources.SimOptions{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		defer sim.Close()
		var b strings.Builder
		statuses := map[string]int{}
		for _, l := range sim.Links(w) {
			b.Write(ikhokha.StatusDocument(l))
			statuses[l.Status]++
			if len(l.Refunds) > 0 {
				statuses["refunded"]++
			}
		}
		for _, s := range []string{"paid", "expired", "cancelled", "failed", "pending", "refunded"} {
			if statuses[s] == 0 {
				t.Errorf("seed %d: a week holds no %s link: %v", seed, s, statuses)
			}
		}
		return b.String()
	}
	if a, b := docs(5), docs(5); a != b {
		t.Error("the same seed gave different links")
	}
	if a, b := docs(5), docs(6); a == b {
		t.Error("different seeds gave the same links")
	}
}

func TestSimFixtures(t *testing.T) {
	t.Parallel()
	fixtures := []byte(`# planted links
{"paylinkID":"PLFIX1","externalTransactionID":"ORD-9","entityID":"E7","amount":123456,"status":"paid","transactionID":"TXFIX1","paymentMethod":"eft","paidAt":"2026-03-03T10:00:00Z"}
{"paylinkID":"PLFIX2","externalTransactionID":"ORD-10","amount":500,"status":"expired","expiryAt":"2026-03-03T11:00:00Z"}
`)
	env := startSim(t, sources.SimOptions{Quiet: true, Fixtures: fixtures})
	if r := statusOf(t, env.client, "PLFIX1"); r.Amount != zar(123456) || r.Method != "eft" || r.Account != "E7" || r.TxID != "TXFIX1" {
		t.Errorf("fixture 1: %+v", r)
	}
	if r := statusOf(t, env.client, "PLFIX2"); r.Status != reconcile.StatusExpired || r.Account != ikhokha.SandboxEntityID {
		t.Errorf("fixture 2: %+v", r)
	}
	for _, bad := range []string{`{"externalTransactionID":"x","amount":1}`, `{"paylinkID":"a","amount":0,"createdAt":"2026-03-03T10:00:00Z"}`, `{"paylinkID":"a","amount":1,"status":"paid"}`, `not json`} {
		if _, err := ikhokha.NewSimulator(sources.SimOptions{Fixtures: []byte(bad)}); err == nil {
			t.Errorf("fixture %s accepted", bad)
		}
	}
}

// receiver is a webhook endpoint doing what serve does: verify, parse,
// store, 200 after commit; 401 and nothing stored when the signature fails.
type receiver struct {
	t        *testing.T
	verifier sources.Verifier
	st       *store.Store
	mu       sync.Mutex
	got      []int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	status := http.StatusOK
	if err := rc.verifier.Verify(sources.Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header, Body: body}); err != nil {
		status = http.StatusUnauthorized
	} else if payload, recs, err := (ikhokha.Parser{}).Parse(body, reconcile.SourceWebhook); err != nil {
		status = http.StatusBadRequest
	} else if _, err := rc.st.Save(r.Context(), payload, recs); err != nil {
		status = http.StatusInternalServerError
	}
	rc.mu.Lock()
	rc.got = append(rc.got, status)
	rc.mu.Unlock()
	w.WriteHeader(status)
}

func (rc *receiver) statuses() []int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]int(nil), rc.got...)
}

func TestSimWebhooks(t *testing.T) {
	t.Parallel()
	st := store.New(pgtest.New(t))
	rc := &receiver{t: t, st: st}
	hooks := httptest.NewServer(rc)
	t.Cleanup(hooks.Close)
	env := startSim(t, sources.SimOptions{Seed: 2, WebhookURL: hooks.URL + "/webhooks/ikhokha", CallbackDelay: 20 * time.Millisecond})
	id, secret := env.sim.Credentials()
	rc.verifier = ikhokha.Verifier{AppID: id, AppSecret: secret}

	// A created link is paid by its simulated customer; its webhook goes to
	// the link's callbackUrl, signed over that URL's path plus the body.
	link, _, err := env.client.CreateLink(context.Background(), ikhokha.LinkRequest{Amount: zar(25000), ExternalTransactionID: "HOOK-1",
		URLs: ikhokha.LinkURLs{CallbackURL: hooks.URL + "/webhooks/ikhokha?order=HOOK-1"}})
	if err != nil {
		t.Fatal(err)
	}
	// Declined: cents 51.
	declined, _, err := env.client.CreateLink(context.Background(), ikhokha.LinkRequest{Amount: zar(10051), ExternalTransactionID: "HOOK-2"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(rc.statuses()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	recs := storedRecords(t, st)
	byRef := map[string]reconcile.Record{}
	for _, r := range recs {
		byRef[r.ProviderRef] = r
	}
	if r := byRef[link.PaylinkID]; r.Status != reconcile.StatusSucceeded || r.Source != reconcile.SourceWebhook || r.Amount != zar(25000) {
		t.Errorf("paid link's webhook: %+v (receiver said %v)", r, rc.statuses())
	}
	if r := byRef[declined.PaylinkID]; r.Status != reconcile.StatusFailed || !strings.Contains(r.ProviderStatus, "51") {
		t.Errorf("declined link's webhook: %+v", r)
	}

	// The webhooks of a window, to SimOptions.WebhookURL.
	w := reconcile.Window{From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)}
	n, err := env.sim.EmitWebhooks(context.Background(), w)
	if err != nil || n < 8 {
		t.Fatalf("EmitWebhooks: %d, %v", n, err)
	}
	for _, s := range rc.statuses() {
		if s != http.StatusOK {
			t.Errorf("a webhook was refused: %v", rc.statuses())
			break
		}
	}
	// Tampered: refused, nothing stored.
	before := len(storedRecords(t, st))
	body := []byte(`{"event":"paymentLink.paid","timestamp":"2026-03-02T10:00:00Z","data":{"paylinkID":"PLT","transactionID":"TXT","externalTransactionID":"T","amount":100,"currency":"ZAR","paidAt":"2026-03-02T10:00:00Z"}}`)
	req, _ := http.NewRequest("POST", hooks.URL+"/webhooks/ikhokha", bytes.NewReader(bytes.Replace(body, []byte("100"), []byte("900"), 1)))
	req.Header.Set("IK-APPID", id)
	req.Header.Set("IK-SIGN", ikhokha.Sign(secret, "/webhooks/ikhokha", body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(storedRecords(t, st)) != before {
		t.Errorf("tampered webhook: HTTP %d, records %d → %d", resp.StatusCode, before, len(storedRecords(t, st)))
	}
}

// TestSimFaults: the shared injector answers in iKhokha's error shape.
func TestSimFaults(t *testing.T) {
	t.Parallel()
	env := startSim(t, sources.SimOptions{Quiet: true, Faults: sources.Faults{TooManyRequests: 1, RetryAfter: 7}})
	id, secret := env.sim.Credentials()
	status, out := send(t, http.MethodGet, env.url+"/getStatus/PL1", id, secret, nil)
	if status != http.StatusTooManyRequests || out["responseCode"] != "91" {
		t.Errorf("HTTP %d %v, want 429 with responseCode 91", status, out)
	}
}
