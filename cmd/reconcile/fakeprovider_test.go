package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/apiclient"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// fakePay is a provider that exists only in this test. It is registered the
// way a new contributor registers one — one sources.Provider value — and the
// test then drives every command with it: ledger import, import, sandbox,
// pull (history and status checks), serve's webhooks and run. Nothing in
// cmd/, jobs/, matchers/ or reports/ knows its name.
//
// Its protocol: items {"id","ref","amount" (major units),"currency",
// "status" (paid|pending|failed),"at" (zone-less, in FAKE_TZ)}; GET
// /history?from=&to= (RFC 3339) → {"items": [...]}; GET /status/{ref} → an
// item or 404; webhooks are an item, signed X-Fake-Signature = hex
// HMAC-SHA256(FAKE_KEY, path + body) — over the path, so the test proves
// verification sees the request.
var fakePay = &sources.Provider{
	Name: "fakepay", DisplayName: "FakePay",
	Env: []sources.EnvVar{
		{Name: "FAKE_BASE_URL", Help: "API root", Required: sources.ForPull},
		{Name: "FAKE_KEY", Help: "API and webhook key", Secret: true, Required: sources.ForPull | sources.ForWebhooks},
		{Name: "FAKE_TZ", Default: "Africa/Lagos", Help: "zone of zone-less times"},
	},
	Traits: sources.Traits{ZoneEnv: "FAKE_TZ", DefaultZone: "Africa/Lagos"},
	Parser: func(cfg sources.Config) (sources.Parser, error) {
		zone, err := cfg.Zone()
		return fakeParser{zone: zone}, err
	},
	Verifier: func(cfg sources.Config) (sources.Verifier, error) {
		return fakeVerifier{key: cfg.Get("FAKE_KEY")}, nil
	},
	History: func(cfg sources.Config, o sources.ClientOptions) (sources.Puller, error) {
		c, err := newFakeClient(cfg, o)
		return fakePuller{c}, err
	},
	Status: func(cfg sources.Config, o sources.ClientOptions) (sources.StatusChecker, error) {
		c, err := newFakeClient(cfg, o)
		return fakeChecker{c}, err
	},
	Simulator: func(o sources.SimOptions) (sources.Simulator, error) { return newFakeSim(o), nil },
}

type fakeItem struct {
	ID       string `json:"id"`
	Ref      string `json:"ref"`
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
	Status   string `json:"status"`
	At       string `json:"at"`
}

type fakeParser struct{ zone *time.Location }

func (p fakeParser) Parse(body []byte, src reconcile.Source) (reconcile.RawPayload, []reconcile.Record, error) {
	payload := reconcile.RawPayload{Provider: fakePay.Name, Source: src, Kind: "item", Body: body}
	var doc struct {
		fakeItem
		Items []fakeItem `json:"items"`
	}
	if err := sources.DecodeObject(body, &doc); err != nil {
		return payload, nil, sources.Malformed(fakePay.Name, "body", err)
	}
	items := doc.Items
	if doc.ID != "" {
		items = append(items, doc.fakeItem)
	} else {
		payload.Kind = "history"
	}
	sum := sha256.Sum256(body)
	payload.DedupKey = hex.EncodeToString(sum[:])
	var recs []reconcile.Record
	for i, it := range items {
		field := fmt.Sprintf("items[%d]", i)
		if it.ID == "" {
			return payload, nil, sources.Malformed(fakePay.Name, field+".id", sources.ErrMissing)
		}
		cur, err := sources.Currency(it.Currency)
		if err != nil {
			return payload, nil, sources.Malformed(fakePay.Name, field+".currency", err)
		}
		amount, known, err := sources.Amount(json.RawMessage(`"`+it.Amount+`"`), cur)
		if err != nil {
			return payload, nil, sources.Malformed(fakePay.Name, field+".amount", err)
		}
		at, err := sources.Instant(it.At, p.zone)
		if err != nil {
			return payload, nil, sources.Malformed(fakePay.Name, field+".at", err)
		}
		st := map[string]reconcile.Status{"paid": reconcile.StatusSucceeded, "failed": reconcile.StatusFailed}[it.Status]
		if st == "" {
			st = reconcile.StatusPending
		}
		recs = append(recs, reconcile.Record{Provider: fakePay.Name, Kind: reconcile.KindPayment, TxID: it.ID, MerchantRef: it.Ref,
			Amount: amount, AmountKnown: known, Status: st, ProviderStatus: it.Status, OccurredAt: at, Source: src})
	}
	return payload, recs, nil
}

type fakeVerifier struct{ key string }

func fakeSign(key, path string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(path))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func (v fakeVerifier) Verify(req sources.Request) error {
	got, err := hex.DecodeString(req.Header.Get("X-Fake-Signature"))
	if req.Header.Get("X-Fake-Signature") == "" {
		return fmt.Errorf("fakepay: %w", sources.ErrNotSigned)
	}
	want, _ := hex.DecodeString(fakeSign(v.key, req.Path, req.Body))
	if err != nil || !hmac.Equal(got, want) {
		return fmt.Errorf("fakepay: %w", sources.ErrBadSignature)
	}
	return nil
}

type fakeClient struct {
	api  *apiclient.Client
	base string
	key  string
}

func newFakeClient(cfg sources.Config, o sources.ClientOptions) (*fakeClient, error) {
	api, err := apiclient.New(apiclient.Config{Provider: "fakepay", RateLimit: o.RateLimit, HTTPClient: o.HTTPClient, Logger: o.Logger, Retry: o.Retry})
	return &fakeClient{api: api, base: strings.TrimRight(cfg.Get("FAKE_BASE_URL"), "/"), key: cfg.Get("FAKE_KEY")}, err
}

func (c *fakeClient) get(ctx context.Context, path string) (*apiclient.Response, error) {
	return c.api.Do(ctx, apiclient.Request{Method: http.MethodGet, URL: c.base + path,
		Header: http.Header{"X-Fake-Key": {c.key}}, Accept: []int{http.StatusNotFound}})
}

type fakePuller struct{ c *fakeClient }

func (p fakePuller) Pull(ctx context.Context, w reconcile.Window, sink sources.Sink) (sources.PullStats, error) {
	resp, err := p.c.get(ctx, "/history?from="+url.QueryEscape(w.From.Format(time.RFC3339))+"&to="+url.QueryEscape(w.To.Format(time.RFC3339)))
	if err != nil {
		return sources.PullStats{}, err
	}
	payload, recs, err := fakeParser{zone: time.UTC}.Parse(resp.Body, reconcile.SourcePoll)
	if err != nil {
		return sources.PullStats{}, err
	}
	dup, err := sink.Save(ctx, payload, recs)
	st := sources.PullStats{Records: len(recs), Payloads: 1}
	if dup {
		st.Payloads, st.Duplicates = 0, 1
	}
	return st, err
}

type fakeChecker struct{ c *fakeClient }

func (k fakeChecker) Check(ctx context.Context, ref sources.StatusRef, sink sources.Sink) (sources.CheckResult, error) {
	resp, err := k.c.get(ctx, "/status/"+url.PathEscape(ref.MerchantRef))
	if err != nil || resp.StatusCode == http.StatusNotFound {
		return sources.CheckResult{}, err
	}
	payload, recs, err := fakeParser{zone: time.UTC}.Parse(resp.Body, reconcile.SourceStatus)
	if err != nil {
		return sources.CheckResult{}, err
	}
	dup, err := sink.Save(ctx, payload, recs)
	res := sources.CheckResult{Found: true, Final: len(recs) > 0 && recs[0].Status != reconcile.StatusPending, Records: len(recs), Payloads: 1}
	if dup {
		res.Payloads, res.Duplicates = 0, 1
	}
	return res, err
}

// fakeSim serves history for its fixture items and status only for those
// whose ref starts with "S-" (the history API omits them), so a pull needs
// both ways.
type fakeSim struct {
	items []fakeItem
	key   string
}

func newFakeSim(o sources.SimOptions) *fakeSim {
	s := &fakeSim{key: o.Getenv("FAKE_KEY")}
	for _, line := range bytes.Split(o.Fixtures, []byte("\n")) {
		var it fakeItem
		if json.Unmarshal(line, &it) == nil && it.ID != "" {
			s.items = append(s.items, it)
		}
	}
	return s
}

func (s *fakeSim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Fake-Key") != s.key {
		http.Error(w, `{"error":"bad key"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if ref, ok := strings.CutPrefix(r.URL.Path, "/status/"); ok {
		for _, it := range s.items {
			if it.Ref == ref && strings.HasPrefix(ref, "S-") {
				json.NewEncoder(w).Encode(it)
				return
			}
		}
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	}
	from, _ := time.Parse(time.RFC3339, r.URL.Query().Get("from"))
	to, _ := time.Parse(time.RFC3339, r.URL.Query().Get("to"))
	out := []fakeItem{}
	for _, it := range s.items {
		at, _ := time.ParseInLocation("2006-01-02 15:04:05", it.At, time.UTC)
		if !strings.HasPrefix(it.Ref, "S-") && !at.Before(from) && at.Before(to) {
			out = append(out, it)
		}
	}
	json.NewEncoder(w).Encode(map[string]any{"items": out})
}

func (s *fakeSim) ClientEnv(base string) map[string]string {
	return map[string]string{"FAKE_BASE_URL": base, "FAKE_KEY": s.key}
}

func (s *fakeSim) Close() error { return nil }

// TestFakeProviderEndToEnd registers fakePay and uses it through every
// command. Not parallel: it registers a provider and sets the environment.
func TestFakeProviderEndToEnd(t *testing.T) {
	sources.Register(fakePay)
	t.Cleanup(func() { sources.Unregister(fakePay.Name) })
	const key = "fake-key-NEVER-PRINTED"
	t.Setenv("FAKE_KEY", key)
	t.Setenv("FAKE_TZ", "UTC")
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fixtures := write("sim.jsonl", strings.Join([]string{
		`{"id":"T1","ref":"ORD-1","amount":"100.00","currency":"KES","status":"paid","at":"2026-03-02 09:00:00"}`,
		`{"id":"T2","ref":"ORD-2","amount":"50.00","currency":"KES","status":"paid","at":"2026-03-02 10:00:00"}`,
		`{"id":"T3","ref":"S-3","amount":"70.00","currency":"KES","status":"paid","at":"2026-03-02 11:00:00"}`,
	}, "\n"))
	sandboxURL := startSandbox(t, "--quiet", "--fixtures", "fakepay="+fixtures)
	t.Setenv("FAKE_BASE_URL", sandboxURL+"/fakepay")
	dbURL := pgtest.URL(t)
	cli := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := execute(context.Background(), append(args, "--database-url", dbURL, "--log-format", "json"), &out, &errb)
		if strings.Contains(out.String()+errb.String(), key) {
			t.Errorf("%v reveals FAKE_KEY", args)
		}
		return code, out.String() + errb.String()
	}

	// The ledger knows the provider: ORD-2 is short, S-3 is found only by a
	// status check, ORD-4 came by import, ORD-9 the provider never had.
	ledger := write("ledger.csv", "reference,provider,amount,currency,status,occurred_at\n"+
		"ORD-1,fakepay,100.00,KES,paid,2026-03-02T12:00:00+03:00\n"+
		"ORD-2,fakepay,60.00,KES,paid,2026-03-02T13:00:00+03:00\n"+
		"S-3,fakepay,70.00,KES,paid,2026-03-02T14:00:00+03:00\n"+
		"ORD-4,fakepay,10.00,KES,paid,2026-03-02T15:00:00+03:00\n"+
		"ORD-9,fakepay,5.00,KES,paid,2026-03-02T16:00:00+03:00\n")
	if code, out := cli("ledger", "import", "--file", ledger); code != exitOK {
		t.Fatalf("ledger import: %d %s", code, out)
	}
	// A zone-less time is read in FAKE_TZ.
	payloads := write("payloads.jsonl", `{"id":"T4","ref":"ORD-4","amount":"10.00","currency":"KES","status":"paid","at":"2026-03-02 12:30:00"}`+"\n")
	if code, out := cli("import", "--provider", "fakepay", "--file", payloads); code != exitOK || !strings.Contains(out, "1 payload(s) imported") {
		t.Fatalf("import: %d %s", code, out)
	}
	if code, out := cli("pull", "--provider", "fakepay", "--from", "2026-03-02", "--to", "2026-03-02"); code != exitOK ||
		!strings.Contains(out, "fakepay all") || !strings.Contains(out, "fakepay status") {
		t.Fatalf("pull: %d %s", code, out)
	}
	db := sqlx.MustOpen("postgres", dbURL)
	t.Cleanup(func() { db.Close() })
	var n int
	var at time.Time
	if err := db.QueryRow(`SELECT count(*) FROM provider_records WHERE provider = 'fakepay'`).Scan(&n); err != nil || n != 4 {
		t.Errorf("%d fakepay records stored (%v), want 4: history T1 T2, status T3, import T4", n, err)
	}
	if err := db.QueryRow(`SELECT occurred_at FROM provider_records WHERE tx_id = 'T4'`).Scan(&at); err != nil ||
		!at.Equal(time.Date(2026, 3, 2, 12, 30, 0, 0, time.UTC)) {
		t.Errorf("T4 at %s (%v), want 12:30 in FAKE_TZ=UTC", at, err)
	}
	// A second pull fetches no chunk again and asks only ORD-9, which the
	// provider does not know: every other reference is final.
	if code, out := cli("pull", "--provider", "fakepay", "--from", "2026-03-02", "--to", "2026-03-02"); code != exitOK ||
		!strings.Contains(out, "0 chunks fetched, 1 skipped") || !strings.Contains(out, "1 references asked, 0 known") {
		t.Errorf("second pull: %d %s", code, out)
	}

	// serve accepts its signed webhooks, over the path, and refuses tampered ones.
	providers, unconfigured, err := webhookProviders()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := providers[fakePay.Name]; !ok {
		t.Fatalf("serve does not accept fakepay webhooks (unconfigured: %v)", unconfigured)
	}
	h, err := newServeHandler(&app{logger: slog.New(slog.DiscardHandler)}, store.New(db), prometheus.NewRegistry(), providers, unconfigured)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := []byte(`{"id":"T5","ref":"ORD-5","amount":"20.00","currency":"KES","status":"paid","at":"2026-03-02 08:00:00"}`)
	post := func(sig string, b []byte) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/fakepay", bytes.NewReader(b))
		req.Header.Set("X-Fake-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(fakeSign(key, "/webhooks/fakepay", body), body); code != http.StatusOK {
		t.Errorf("signed fakepay webhook: %d, want 200", code)
	}
	if code := post(fakeSign(key, "/elsewhere", body), body); code != http.StatusUnauthorized {
		t.Errorf("webhook signed over another path: %d, want 401", code)
	}
	tampered := bytes.Replace(body, []byte("20.00"), []byte("21.00"), 1)
	if code := post(fakeSign(key, "/webhooks/fakepay", body), tampered); code != http.StatusUnauthorized {
		t.Errorf("tampered webhook: %d, want 401", code)
	}

	// run reconciles it from the registration alone.
	out := filepath.Join(dir, "out")
	code, text := cli("run", "--from", "2026-03-02", "--to", "2026-03-02", "--out", out, "--format", "csv")
	if code != exitOK {
		t.Fatalf("run: %d %s", code, text)
	}
	disc, err := os.ReadFile(filepath.Join(out, "discrepancies.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"amount_mismatch,fakepay,in,,ORD-2", "missing_in_provider,fakepay,in,,ORD-9", "missing_in_ledger,fakepay,in,,,,T5"} {
		if !strings.Contains(string(disc), want) {
			t.Errorf("discrepancies.csv lacks %q:\n%s", want, disc)
		}
	}
	if lines := strings.Count(strings.TrimSpace(string(disc)), "\n"); lines != 3 {
		t.Errorf("discrepancies.csv has %d rows, want 3:\n%s", lines, disc)
	}

	// Its variables are in the help of the commands that read them.
	for _, c := range []string{"pull", "import", "serve", "nightly", "sandbox"} {
		if code, help := cli(c, "--help"); code != exitOK || !strings.Contains(help, "FAKE_BASE_URL") || !strings.Contains(help, "FakePay") {
			t.Errorf("%s --help does not describe FakePay's variables:\n%s", c, help)
		}
	}
}
