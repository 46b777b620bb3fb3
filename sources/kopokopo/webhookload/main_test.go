package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/sources/webhook"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// TestDriveChecksTheStore drives the real webhook receiver over loopback
// and finds the store holding exactly the webhooks answered 200.
func TestDriveChecksTheStore(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	st, err := store.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := webhook.New(webhook.Config{
		Providers: map[reconcile.Provider]webhook.Provider{
			kopokopo.Name: {Parser: kopokopo.Parser{}, Verifier: kopokopo.Verifier{APIKey: "k"}},
		},
		Sink: st,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/{provider}", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var out strings.Builder
	if err := run([]string{"-url", srv.URL + "/webhooks/kopokopo", "-database-url", dbURL, "-api-key", "k",
		"-c", "1,8", "-n", "300", "-warmup", "20"}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if got := strings.Count(out.String(), "300×200; store holds every 200, nothing else"); got != 2 {
		t.Errorf("output:\n%s\nwant two runs of 300 stored", out.String())
	}
	var n int
	if err := st.DB().Get(&n, "SELECT count(*) FROM raw_payloads"); err != nil || n != 2*(300+20) {
		t.Errorf("store holds %d payloads (%v), want %d", n, err, 2*(300+20))
	}
	// A wrong key: every webhook refused, nothing stored, and the check holds.
	out.Reset()
	if err := run([]string{"-url", srv.URL + "/webhooks/kopokopo", "-database-url", dbURL, "-api-key", "wrong",
		"-c", "2", "-n", "50", "-warmup", "0"}, &out); err != nil || !strings.Contains(out.String(), "50×401; store holds every 200") {
		t.Errorf("wrong key: %v\n%s", err, out.String())
	}
}

func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080/webhooks/kopokopo", true},
		{"http://[::1]:8080/webhooks/kopokopo", true},
		{"http://localhost:8080/x", true},
		{"http://10.0.0.1:8080/x", false},
		{"https://example.com/webhooks/kopokopo", false},
		{"not a url", false},
	} {
		if err := loopbackOnly(tt.url); (err == nil) != tt.ok {
			t.Errorf("loopbackOnly(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}
