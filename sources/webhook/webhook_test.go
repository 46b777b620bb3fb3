package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/sources/webhook"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

const apiKey = "test-api-key"

type bundle struct {
	url   string
	store *store.Store
	reg   *prometheus.Registry
}

// setup serves the webhook handler over loopback HTTP into a private schema.
func setup(tb testing.TB) *bundle {
	tb.Helper()
	return setupWith(tb, nil)
}

// setupWith is setup with the Config changed by edit (nil: unchanged).
func setupWith(tb testing.TB, edit func(*webhook.Config)) *bundle {
	tb.Helper()
	db := pgtest.New(tb)
	db.SetMaxIdleConns(32) // as many as concurrent deliveries: no reconnect per request
	st := store.New(db)
	reg := prometheus.NewRegistry()
	cfg := webhook.Config{
		Providers: map[reconcile.Provider]webhook.Provider{
			testprov.KopoKopo: {Parser: kopokopo.Parser{}, Verifier: kopokopo.Verifier{APIKey: apiKey}},
		},
		Sink:       st,
		Registerer: reg,
	}
	if edit != nil {
		edit(&cfg)
	}
	h, err := webhook.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/{provider}", h)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return &bundle{url: srv.URL, store: st, reg: reg}
}

func (b *bundle) post(tb testing.TB, provider string, body []byte, sig string) (int, map[string]string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, b.url+"/webhooks/"+provider, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(kopokopo.SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Errorf("response body %q is not a JSON object: %v", raw, err)
	}
	return resp.StatusCode, out
}

func (b *bundle) count(tb testing.TB, table string) int {
	tb.Helper()
	var n int
	if err := b.store.DB().Get(&n, "SELECT count(*) FROM "+table); err != nil {
		tb.Fatal(err)
	}
	return n
}

func vendor(tb testing.TB, name string) []byte {
	tb.Helper()
	body, err := os.ReadFile("../kopokopo/testdata/vendor/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

func TestWebhookDeliveries(t *testing.T) {
	t.Parallel()
	settlement := vendor(t, "webhook_settlement_transfer_completed.json")
	buygoods := vendor(t, "webhook_buygoods_transaction_received.json")
	tampered := bytes.Replace(buygoods, []byte(`"100.0"`), []byte(`"900.0"`), 1)
	badJSON := []byte(`{"topic": "buygoods_transaction_received", "id": `)
	huge := append([]byte(`{"topic": "x", "id": "y", "pad": "`), bytes.Repeat([]byte("a"), webhook.DefaultMaxBody)...)
	huge = append(huge, `"}`...)

	b := setup(t)
	steps := []struct {
		name                  string
		provider              string
		body                  []byte
		sig                   string
		wantCode              int
		wantStatus, wantError string
		wantPayloads, wantRec int
	}{
		{"signed webhook", "kopokopo", settlement, kopokopo.ComputeSignature(apiKey, settlement), 200, "stored", "", 1, 2},
		{"same again", "kopokopo", settlement, kopokopo.ComputeSignature(apiKey, settlement), 200, "duplicate", "", 1, 2},
		{"tampered", "kopokopo", tampered, kopokopo.ComputeSignature(apiKey, buygoods), 401, "", "signature does not match", 1, 2},
		{"signed with the wrong key", "kopokopo", buygoods, kopokopo.ComputeSignature("client-secret", buygoods), 401, "", "signature does not match", 1, 2},
		{"unsigned", "kopokopo", buygoods, "", 401, "", "not signed", 1, 2},
		{"too large", "kopokopo", huge, kopokopo.ComputeSignature(apiKey, huge), 413, "", "larger than the limit", 1, 2},
		{"bad JSON, signed", "kopokopo", badJSON, kopokopo.ComputeSignature(apiKey, badJSON), 400, "", "malformed payload: body", 1, 2},
		{"unknown provider", "mpesa", buygoods, kopokopo.ComputeSignature(apiKey, buygoods), 404, "", "unknown provider", 1, 2},
		{"second webhook", "kopokopo", buygoods, kopokopo.ComputeSignature(apiKey, buygoods), 200, "stored", "", 2, 3},
	}
	for _, s := range steps { // in order: each step sees the store the previous left
		code, out := b.post(t, s.provider, s.body, s.sig)
		if code != s.wantCode || out["status"] != s.wantStatus || !strings.Contains(out["error"], s.wantError) {
			t.Errorf("%s: %d %v, want %d status %q error containing %q", s.name, code, out, s.wantCode, s.wantStatus, s.wantError)
		}
		if s.sig != "" && strings.Contains(out["error"], s.sig) {
			t.Errorf("%s: the error repeats the signature", s.name)
		}
		if p, r := b.count(t, "raw_payloads"), b.count(t, "provider_records"); p != s.wantPayloads || r != s.wantRec {
			t.Errorf("%s: store holds %d payloads and %d records, want %d and %d", s.name, p, r, s.wantPayloads, s.wantRec)
		}
	}
	var body string
	if err := b.store.DB().Get(&body, "SELECT body FROM raw_payloads WHERE kind = 'settlement_transfer_completed'"); err != nil || body != string(settlement) {
		t.Errorf("stored body differs from the bytes sent (err %v)", err)
	}
	for _, m := range []struct {
		name, label string
		want        float64
	}{
		{"mizani_webhooks_received_total", "stored", 2},
		{"mizani_webhooks_received_total", "duplicate", 1},
		{"mizani_webhooks_refused_total", "bad_signature", 2},
		{"mizani_webhooks_refused_total", "not_signed", 1},
		{"mizani_webhooks_refused_total", "too_large", 1},
		{"mizani_webhooks_refused_total", "malformed", 1},
		{"mizani_webhooks_refused_total", "unknown_provider", 1},
		{"mizani_webhook_ingest_seconds", "", 3},
	} {
		if got := b.metric(t, m.name, m.label); got != m.want {
			t.Errorf("%s{%s} = %v, want %v", m.name, m.label, got, m.want)
		}
	}
}

// TestWebhookNotAPayload: a signed body that is neither a Kopo Kopo webhook
// envelope nor an API result is refused 400 and nothing is stored, while an
// envelope with a topic Mizani does not know is stored raw.
func TestWebhookNotAPayload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	steps := []struct {
		name                  string
		body                  string
		wantCode              int
		wantError             string
		wantPayloads, wantRec int
	}{
		{"any object", `{"foo":1}`, 400, "malformed payload: body: neither a webhook event", 0, 0},
		{"token response", string(vendor(t, "token_response.json")), 400, "malformed payload: body: an OAuth token response", 0, 0},
		{"polling request", string(vendor(t, "polling_request.json")), 400, "malformed payload: body: a request Mizani sends", 0, 0},
		{"no topic", `{"id":"x","event":{}}`, 400, "malformed payload: body", 0, 0},
		{"another provider's body", `{"status":true,"message":"Charge Successful","data":{"currency":"ZAR","amount":10}}`, 400, "malformed payload: data.id", 0, 0},
		{"negative amount", strings.Replace(string(vendor(t, "webhook_buygoods_transaction_received.json")), `"100.0"`, `"-5.0"`, 1),
			400, `malformed payload: event.resource.amount: negative amount "-5.0"`, 0, 0},
		{"unknown topic", `{"topic":"till_closed","id":"e-1","created_at":"2020-10-22T10:43:20+03:00","event":{"type":"Till Closed","resource":{}}}`, 200, "", 1, 0},
	}
	for _, s := range steps {
		body := []byte(s.body)
		code, out := b.post(t, "kopokopo", body, kopokopo.ComputeSignature(apiKey, body))
		if code != s.wantCode || !strings.Contains(out["error"], s.wantError) {
			t.Errorf("%s: %d %v, want %d error containing %q", s.name, code, out, s.wantCode, s.wantError)
		}
		if strings.Contains(out["error"], "JCGQXLrlfuOqdUYdTcLz3rBiCZQDRvdWIUPkw") {
			t.Errorf("%s: the error repeats the access token", s.name)
		}
		if p, r := b.count(t, "raw_payloads"), b.count(t, "provider_records"); p != s.wantPayloads || r != s.wantRec {
			t.Errorf("%s: store holds %d payloads and %d records, want %d and %d", s.name, p, r, s.wantPayloads, s.wantRec)
		}
	}
}

// TestWebhookNotConfigured: a provider whose signing key is not configured is
// answered 503 with the configured message, and nothing is stored; an
// unknown provider stays 404.
func TestWebhookNotConfigured(t *testing.T) {
	t.Parallel()
	const msg = "Kopo Kopo webhook signing key (K2_API_KEY) is not configured"
	b := setupWith(t, func(c *webhook.Config) {
		c.Providers = nil
		c.Unconfigured = map[reconcile.Provider]string{testprov.KopoKopo: msg}
	})
	body := vendor(t, "webhook_buygoods_transaction_received.json")
	tests := []struct {
		name, provider, sig string
		wantCode            int
		wantError           string
	}{
		{"signed", "kopokopo", kopokopo.ComputeSignature(apiKey, body), 503, msg},
		{"unsigned", "kopokopo", "", 503, msg},
		{"unknown provider", "foo", "", 404, "unknown provider foo"},
	}
	for _, tt := range tests {
		code, out := b.post(t, tt.provider, body, tt.sig)
		if code != tt.wantCode || out["error"] != tt.wantError {
			t.Errorf("%s: %d %v, want %d error %q", tt.name, code, out, tt.wantCode, tt.wantError)
		}
	}
	if p := b.count(t, "raw_payloads"); p != 0 {
		t.Errorf("store holds %d payloads, want none", p)
	}
	if got := b.metric(t, "mizani_webhooks_refused_total", "not_configured"); got != 2 {
		t.Errorf("refused{not_configured} = %v, want 2", got)
	}
}

// metric returns the counter (or histogram sample count) of the series of
// name that has a label with value label ("" matches any), summed.
func (b *bundle) metric(tb testing.TB, name, label string) float64 {
	tb.Helper()
	families, err := b.reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if label == "" || l.GetValue() == label {
					sum += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
					break
				}
			}
		}
	}
	return sum
}

// TestWebhookConcurrentDuplicates: the same event delivered many times at
// once is stored once and every delivery is answered 200.
func TestWebhookConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := vendor(t, "webhook_buygoods_transaction_reversed.json")
	sig := kopokopo.ComputeSignature(apiKey, body)
	var wg sync.WaitGroup
	var stored, dups atomic.Int32
	for range 16 {
		wg.Go(func() {
			code, out := b.post(t, "kopokopo", body, sig)
			switch {
			case code == 200 && out["status"] == "stored":
				stored.Add(1)
			case code == 200 && out["status"] == "duplicate":
				dups.Add(1)
			default:
				t.Errorf("delivery answered %d %v", code, out)
			}
		})
	}
	wg.Wait()
	if stored.Load() != 1 || dups.Load() != 15 {
		t.Errorf("%d stored, %d duplicates; want 1 and 15", stored.Load(), dups.Load())
	}
	// A reversal webhook carries two records: the payment and its reversal.
	if p, r, h := b.count(t, "raw_payloads"), b.count(t, "provider_records"), b.count(t, "record_history"); p != 1 || r != 2 || h != 2 {
		t.Errorf("store holds %d payloads, %d records, %d history rows; want 1, 2 and 2", p, r, h)
	}
}

// BenchmarkWebhookIngest sends distinct signed webhooks in parallel over
// loopback HTTP into PostgreSQL and reports durable webhooks per second.
//
// Sub-benchmarks: group (the default: concurrent deliveries group-committed)
// and alone (Config.Committers < 0: one Save, one commit, per delivery).
func BenchmarkWebhookIngest(b *testing.B) {
	b.Run("group", func(b *testing.B) { benchmarkWebhookIngest(b, 0) })
	b.Run("alone", func(b *testing.B) { benchmarkWebhookIngest(b, -1) })
}

func benchmarkWebhookIngest(b *testing.B, committers int) {
	bb := setupWith(b, func(c *webhook.Config) { c.Committers = committers })
	// Split the vendor example around its event and transaction ids once, so
	// the client spends its time signing and sending, not templating.
	tmpl := string(vendor(b, "webhook_buygoods_transaction_received.json"))
	head, rest, ok1 := strings.Cut(tmpl, "2133dbfb-24b9-40fc-ae57-2d7559785760")
	mid, tail, ok2 := strings.Cut(rest, "458712f-gr76y-24b9-40fc-ae57-2d35785760")
	if !ok1 || !ok2 {
		b.Fatal("vendor example lacks the ids the benchmark replaces")
	}
	var seq atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.SetParallelism(16) // providers deliver over many connections at once
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			id := strconv.FormatInt(n, 10)
			body := []byte(head + "evt-" + id + mid + "tx-" + id + tail)
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, bb.url+"/webhooks/kopokopo", bytes.NewReader(body))
			req.Header.Set(kopokopo.SignatureHeader, kopokopo.ComputeSignature(apiKey, body))
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "webhooks/s")
	if got := bb.count(b, "raw_payloads"); got != b.N {
		b.Errorf("%d payloads stored for %d deliveries", got, b.N)
	}
}
