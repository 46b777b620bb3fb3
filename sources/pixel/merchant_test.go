package pixel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/pixel"
	"github.com/mizani/reconcile/sources/webhook"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// TestPHPMerchant runs testdata/merchant.php — a merchant integration
// written from the vendor documents alone, signing with their own
// calculateSignature — against the simulator mounted at /pixel as the
// sandbox mounts it, and against the real callback receiver (serve's
// POST /webhooks/pixel over a PostgreSQL store). It needs the php CLI
// (php-cli): without it the test fails, it is never skipped.
func TestPHPMerchant(t *testing.T) {
	t.Parallel()
	php, err := exec.LookPath("php")
	if err != nil {
		t.Fatalf("php CLI not found (install php-cli): %v", err)
	}
	ctx := context.Background()
	st := store.New(pgtest.New(t))

	sim, err := pixel.NewSimulator(sources.SimOptions{Seed: 1, Quiet: true, CallbackDelay: 50 * time.Millisecond,
		Fixtures: []byte(`{"order_id":"php_known_1","operation":"c2b","transaction_id":"732007046722","transaction_ref":"MP.33234.342.CP33","status":2,"amount":"100.00","currency":"KES","customer_id":"254700000001","provider_id":2162,"at":"2026-03-02T07:08:32Z"}`)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	mux := http.NewServeMux()
	mux.Handle("/pixel/", http.StripPrefix("/pixel", sim))
	simSrv := httptest.NewServer(mux)
	t.Cleanup(simSrv.Close)

	vars := sim.ClientEnv(simSrv.URL + "/pixel")
	cfg := pixel.Provider.ConfigFrom(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	parser, _ := pixel.Provider.Parser(cfg)
	verifier, err := pixel.Provider.Verifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	handler, err := webhook.New(webhook.Config{Providers: map[reconcile.Provider]webhook.Provider{
		pixel.Name: {Parser: parser, Verifier: verifier}}, Sink: st})
	if err != nil {
		t.Fatal(err)
	}
	serve := http.NewServeMux()
	serve.Handle("POST /webhooks/{provider}", handler)
	serveSrv := httptest.NewServer(serve)
	t.Cleanup(serveSrv.Close)
	hook := serveSrv.URL + "/webhooks/pixel"

	cmd := exec.CommandContext(ctx, php, "testdata/merchant.php")
	cmd.Env = append(os.Environ(), "CALLBACK_URL="+hook, "WEBHOOK_URL="+hook, "ORDER_ID=php_known_1")
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	t.Logf("merchant.php:\n%s", out)
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "DONE") {
		t.Fatalf("merchant.php failed: %v", err)
	}

	// The simulator's own callbacks for the c2b and b2c payments (not
	// provider 14's) reach serve too.
	want := map[string]reconcile.Kind{"php_cb_intended": reconcile.KindPayment, "php_cb_literal": reconcile.KindPayment,
		"php_cb_flat": reconcile.KindPayout}
	for _, tx := range sim.Transactions() {
		switch {
		case strings.HasPrefix(tx.OrderID, "php_c2b_"):
			want[tx.OrderID] = reconcile.KindPayment
		case strings.HasPrefix(tx.OrderID, "php_b2c_"):
			want[tx.OrderID] = reconcile.KindPayout
		}
	}
	if len(want) != 5 {
		t.Fatalf("the simulator holds %+v; want the script's c2b and b2c orders", sim.Transactions())
	}
	var got map[string]reconcile.Record
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got = map[string]reconcile.Record{}
		all := reconcile.Window{From: time.Unix(0, 0), To: time.Now().Add(time.Hour)}
		for r, err := range st.Records(ctx, store.Filter{Window: all}) {
			if err != nil {
				t.Fatal(err)
			}
			got[r.MerchantRef] = r
		}
		if len(got) >= len(want) {
			break
		}
	}
	for ref, kind := range want {
		if r, ok := got[ref]; !ok || r.Kind != kind {
			t.Errorf("%s: stored %+v, want a %s", ref, r, kind)
		}
	}
	if _, ok := got["php_cb_tampered"]; ok || len(got) != len(want) {
		t.Errorf("stored %d records (%v), want exactly %d: the tampered callback or provider 14's was stored", len(got), keys(got), len(want))
	}
}

func keys(m map[string]reconcile.Record) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCanonicalizeMatchesPHP signs bodies with PHP itself — the documents'
// calculateSignature over json_decode($body, true), corrected and literal —
// and with Mizani's canonicalizer: every signature must agree, numbers,
// booleans, nulls, lists, repeated keys and Unicode included.
func TestCanonicalizeMatchesPHP(t *testing.T) {
	t.Parallel()
	php, err := exec.LookPath("php")
	if err != nil {
		t.Fatalf("php CLI not found (install php-cli): %v", err)
	}
	bodies := []string{
		`{"merchant_id":"fffed61be9780b97c5e4c65e4e07bb6b","provider_id":10,"client_id":"254000000000","country":"KE","order_id":"order_3444298767545","amount":1000,"currency":"KES","callback_url":"https://my.callback.url"}`,
		`{"a":11.1,"b":100.00,"c":1e25,"d":0.00001,"e":-0.0,"f":0.30000000000000004,"g":1E2,"h":99999999999999.99,"i":123456789012345.678}`,
		`{"a":9223372036854775807,"b":9223372036854775808,"c":-9223372036854775808,"d":-0,"e":1.5e-7,"f":2.5e+300}`,
		`{"t":true,"f":false,"n":null,"s":"","u":"\u00e9\ud83d\ude00","q":"a\"b\\c/d"}`,
		`{"extra":{"customer_name":"Name Surname","nested":{"deep":[1,"two",{"three":3}]}},"signature":"x","z":"last"}`,
		`{"a":"1","b":"2","a":"3"}`,
		`{"list":[],"obj":{},"signature":{"k":"v"},"k2":"v2"}`,
		`{"123":"numeric key","-5":"negative key","08":"leading zero key"}`,
	}
	for _, name := range []string{"callback.json", "callback_003.json", "payment_c2b_request.json", "status_response_in_progress.json", "bank_transfer_c2b_response_ng.json", "banks_response.json"} {
		b, err := os.ReadFile("testdata/vendor/" + name)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, strings.Join(strings.Fields(string(b)), " "))
	}
	const key = pixel.SandboxSecretKey
	cmd := exec.Command(php, "testdata/canonical.php", key)
	cmd.Stdin = strings.NewReader(strings.Join(bodies, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("canonical.php: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(bodies) {
		t.Fatalf("canonical.php printed %d lines for %d bodies:\n%s", len(lines), len(bodies), out)
	}
	for i, body := range bodies {
		c, err := pixel.Canonicalize([]byte(body))
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		want := strings.Fields(lines[i])
		if got := []string{pixel.Sign(key, c.Intended), pixel.Sign(key, c.Literal)}; len(want) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s:\n Go  intended %q literal %q\n signatures differ from PHP's", body, c.Intended, c.Literal)
		}
	}
}

// httptestServer serves sim until the test ends and returns its URL.
func httptestServer(t *testing.T, sim *pixel.Simulator) string {
	t.Helper()
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	return srv.URL
}
