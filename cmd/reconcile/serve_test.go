package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/jobs"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/sources/webhook"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

func TestServeRoutes(t *testing.T) {
	t.Parallel()
	st := store.New(pgtest.New(t))
	var logs bytes.Buffer
	a := &app{logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	const key = "serve-test-key"
	reg := prometheus.NewRegistry()
	h, err := newServeHandler(a, st, reg, map[reconcile.Provider]webhook.Provider{
		testprov.KopoKopo: {Parser: kopokopo.Parser{}, Verifier: kopokopo.Verifier{APIKey: key}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.NewMetrics(reg, jobs.NightlyJobName); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	body := []byte(compact(t, "webhook_m2m_transaction_received.json"))
	sig := kopokopo.ComputeSignature(key, body)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/kopokopo", bytes.NewReader(body))
	req.Header.Set(kopokopo.SignatureHeader, sig)
	if code, _ := do(t, req); code != http.StatusOK {
		t.Fatalf("signed webhook: %d, want 200", code)
	}
	for _, path := range []string{"/healthz", "/livez"} {
		if code, text := do(t, mustGet(t, srv.URL+path)); code != http.StatusOK || text != "ok\n" {
			t.Errorf("%s = %d %q, want 200 ok", path, code, text)
		}
	}
	code, metrics := do(t, mustGet(t, srv.URL+"/metrics"))
	for _, want := range []string{
		`mizani_webhooks_received_total{outcome="stored",provider="kopokopo"} 1`,
		`mizani_webhook_ingest_seconds_count{provider="kopokopo"} 1`,
		`mizani_job_runs_total{job="nightly",outcome="failed"} 0`,
		`mizani_job_last_success_timestamp_seconds{job="nightly"} 0`,
		"go_goroutines",
	} {
		if code != http.StatusOK || !strings.Contains(metrics, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	if code, _ := do(t, mustGet(t, srv.URL+"/webhooks/kopokopo")); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /webhooks/kopokopo = %d, want 405", code)
	}
	if strings.Contains(logs.String(), sig) || strings.Contains(logs.String(), "Jane Flowers") {
		t.Errorf("logs hold the signature or the body: %s", logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"webhook stored"`) {
		t.Errorf("logs lack the delivery: %s", logs.String())
	}
}

// TestServeWebhookCredentials: serve's webhook routes as K2_API_KEY leaves
// them. Without the key a Kopo Kopo delivery is refused 503 (not 404) with a
// message naming the variable, and nothing is stored; unknown providers stay
// 404. Not parallel: it sets the environment.
func TestServeWebhookCredentials(t *testing.T) {
	const key = "serve-credentials-key"
	body := []byte(compact(t, "webhook_m2m_transaction_received.json"))
	notConfigured := `{"error":"Kopo Kopo is not configured for webhooks: set K2_API_KEY"}` + "\n"
	tests := []struct {
		name, apiKey, provider string
		wantCode               int
		wantBody               string
		wantPayloads           int
	}{
		{"no key: kopokopo", "", "kopokopo", http.StatusServiceUnavailable, notConfigured, 0},
		{"no key: unknown provider", "", "foo", http.StatusNotFound, `{"error":"unknown provider foo"}` + "\n", 0},
		{"key set: kopokopo", key, "kopokopo", http.StatusOK, `{"status":"stored"}` + "\n", 1},
		{"key set: unknown provider", key, "foo", http.StatusNotFound, `{"error":"unknown provider foo"}` + "\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(kopokopo.EnvAPIKey, tt.apiKey)
			db := pgtest.New(t)
			st := store.New(db)
			a := &app{logger: slog.New(slog.DiscardHandler)}
			providers, unconfigured, err := webhookProviders()
			if err != nil {
				t.Fatal(err)
			}
			h, err := newServeHandler(a, st, prometheus.NewRegistry(), providers, unconfigured)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/"+tt.provider, bytes.NewReader(body))
			req.Header.Set(kopokopo.SignatureHeader, kopokopo.ComputeSignature(key, body))
			code, text := do(t, req)
			if code != tt.wantCode || text != tt.wantBody {
				t.Errorf("POST /webhooks/%s = %d %q, want %d %q", tt.provider, code, text, tt.wantCode, tt.wantBody)
			}
			var n int
			if err := db.Get(&n, "SELECT count(*) FROM raw_payloads"); err != nil || n != tt.wantPayloads {
				t.Errorf("store holds %d payloads (%v), want %d", n, err, tt.wantPayloads)
			}
		})
	}
}

// TestServeGracefulShutdown runs the real command and stops it as SIGTERM would.
func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dbURL := pgtest.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var errb bytes.Buffer
	go func() {
		done <- execute(ctx, []string{"serve", "--listen", addr, "--database-url", dbURL, "--log-format", "json"}, io.Discard, &errb)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exited %d, want 0; stderr: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if !strings.Contains(errb.String(), "shutting down") {
		t.Errorf("no shutdown log: %s", errb.String())
	}
}

func mustGet(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
