package sources_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile/sources"
)

// TestInjector: the shared fault middleware answers 429 with Retry-After,
// 500, cuts bodies, delays, and does so deterministically from its seed.
func TestInjector(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"data":"0123456789"}`) })
	outcomes := func(f sources.Faults, seed int64, n int) []string {
		in := sources.NewInjector(f, seed, nil)
		srv := httptest.NewServer(in.Middleware(ok, nil))
		defer srv.Close()
		var out []string
		for range n {
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			out = append(out, resp.Status+" "+resp.Header.Get("Retry-After")+" "+string(body))
		}
		return out
	}
	tests := []struct {
		name   string
		faults sources.Faults
		want   string // every outcome contains it
	}{
		{"none", sources.Faults{}, `200 OK  {"data":"0123456789"}`},
		{"always 429", sources.Faults{TooManyRequests: 1, RetryAfter: 3}, "429 Too Many Requests 3 "},
		{"always 500", sources.Faults{ServerError: 1}, "500 Internal Server Error"},
		{"always cut", sources.Faults{Malformed: 1}, `200 OK  {"data":"0`},
	}
	for _, tt := range tests {
		for _, o := range outcomes(tt.faults, 1, 5) {
			if !strings.Contains(o, tt.want) || (tt.name == "always cut" && strings.HasSuffix(o, `"}`)) {
				t.Errorf("%s: outcome %q, want %q", tt.name, o, tt.want)
			}
		}
	}
	mixed := sources.Faults{TooManyRequests: 0.3, ServerError: 0.3, Malformed: 0.2}
	a, b := outcomes(mixed, 42, 30), outcomes(mixed, 42, 30)
	if strings.Join(a, "|") != strings.Join(b, "|") {
		t.Error("the same seed gave different faults")
	}
	kinds := map[string]bool{}
	for _, o := range a {
		kinds[o[:3]] = true
	}
	if !kinds["429"] || !kinds["500"] || !kinds["200"] {
		t.Errorf("30 requests at 30%%/30%% gave only %v", kinds)
	}

	in := sources.NewInjector(sources.Faults{Latency: 50 * time.Millisecond}, 1, nil)
	srv := httptest.NewServer(in.Middleware(ok, nil))
	defer srv.Close()
	start := time.Now()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if time.Since(start) < 50*time.Millisecond {
		t.Error("latency not injected")
	}
	drops := sources.NewInjector(sources.Faults{DropCallbacks: 1}, 1, nil)
	none := sources.NewInjector(sources.Faults{}, 1, nil)
	if !drops.DropCallback() || none.DropCallback() {
		t.Error("DropCallback does not follow DropCallbacks")
	}
}

// TestOriginalPath: a simulator behind the sandbox's prefix sees the path
// the client sent.
func TestOriginalPath(t *testing.T) {
	t.Parallel()
	var got string
	h := http.StripPrefix("/ikhokha", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = sources.OriginalPath(r) }))
	r := httptest.NewRequest(http.MethodPost, "/ikhokha/payment?x=1", nil)
	h.ServeHTTP(httptest.NewRecorder(), sources.WithOriginalPath(r, r.URL.EscapedPath()))
	if got != "/ikhokha/payment" {
		t.Errorf("OriginalPath = %q, want /ikhokha/payment", got)
	}
	if p := sources.OriginalPath(httptest.NewRequest(http.MethodGet, "/a/b", nil)); p != "/a/b" {
		t.Errorf("OriginalPath without the sandbox = %q", p)
	}
}
