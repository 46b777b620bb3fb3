package ikhokha_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/apiclient"
	"github.com/mizani/reconcile/sources/ikhokha"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// mount serves h under prefix as the sandbox does: the prefix stripped, the
// original path kept for signature checks.
func mount(prefix string, h http.Handler) http.Handler {
	mux := http.NewServeMux()
	strip := http.StripPrefix(prefix, h)
	mux.Handle(prefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		strip.ServeHTTP(w, sources.WithOriginalPath(r, r.URL.EscapedPath()))
	}))
	return mux
}

// fastRetry keeps retrying tests quick.
var fastRetry = sources.RetryPolicy{MaxRetries: 8, Base: time.Millisecond, Max: 5 * time.Millisecond}

type simEnv struct {
	sim    *ikhokha.Sim
	url    string // base URL, /ikhokha included
	client *ikhokha.Client
}

// startSim runs a simulator under /ikhokha on a real HTTP server and a
// client configured from its ClientEnv.
func startSim(t *testing.T, opts sources.SimOptions) simEnv {
	t.Helper()
	sim, err := ikhokha.NewSimulator(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mount("/ikhokha", sim))
	t.Cleanup(func() { srv.Close(); sim.Close() })
	base := srv.URL + "/ikhokha"
	return simEnv{sim: sim, url: base, client: clientFor(t, sim.ClientEnv(base))}
}

func clientFor(t *testing.T, env map[string]string) *ikhokha.Client {
	t.Helper()
	c, err := ikhokha.NewClient(ikhokha.ClientConfig{
		BaseURL: env[ikhokha.EnvBaseURL], AppID: env[ikhokha.EnvAppID], AppSecret: env[ikhokha.EnvAppSecret],
		EntityID: env[ikhokha.EnvEntityID], Options: sources.ClientOptions{RateLimit: 1000, Burst: 100, Retry: fastRetry},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func drive(t *testing.T, base, id, action string) {
	t.Helper()
	resp, err := http.Post(base+"/sandbox/links/"+id+"/"+action, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d", action, id, resp.StatusCode)
	}
}

func statusOf(t *testing.T, c *ikhokha.Client, id string) reconcile.Record {
	t.Helper()
	body, err := c.LinkStatus(context.Background(), id)
	if err != nil {
		t.Fatalf("LinkStatus(%s): %v", id, err)
	}
	_, recs, err := ikhokha.Parser{}.Parse(body, reconcile.SourceStatus)
	if err != nil || len(recs) == 0 {
		t.Fatalf("parsing the status of %s: %v (%d records)", id, err, len(recs))
	}
	return recs[0]
}

func TestClientLinkLifecycle(t *testing.T) {
	t.Parallel()
	env := startSim(t, sources.SimOptions{Seed: 1, Quiet: true, CallbackDelay: time.Hour})
	ctx := context.Background()
	req := ikhokha.LinkRequest{Amount: zar(19999), ExternalTransactionID: "ORDER-12345", Description: "Bob's \"best\" order \\ ok",
		RequesterURL: "https://shop.example", URLs: ikhokha.LinkURLs{CallbackURL: "https://shop.example/cb", SuccessPageURL: "https://shop.example/ok", FailurePageURL: "https://shop.example/ko"}}
	link, raw, err := env.client.CreateLink(ctx, req)
	if err != nil {
		t.Fatalf("CreateLink: %v", err)
	}
	if link.ResponseCode != "00" || link.PaylinkID == "" || link.ExternalTransactionID != "ORDER-12345" || !strings.HasPrefix(link.PaylinkURL, env.url+"/pay/") {
		t.Fatalf("created %+v", link)
	}
	if _, recs, err := (ikhokha.Parser{}).Parse(raw, reconcile.SourceStatus); err != nil || len(recs) != 0 {
		t.Errorf("a create-link answer is no payment: %v, %d records", err, len(recs))
	}
	// A retry of the same order gets the same link (iKhokha deduplicates on externalTransactionID).
	again, _, err := env.client.CreateLink(ctx, req)
	if err != nil || again.PaylinkID != link.PaylinkID {
		t.Errorf("second create: %+v, %v; want the same link %s", again, err, link.PaylinkID)
	}
	if r := statusOf(t, env.client, link.PaylinkID); r.Status != reconcile.StatusPending || r.Amount != zar(19999) || r.Account != ikhokha.SandboxEntityID {
		t.Errorf("new link: %+v", r)
	}
	drive(t, env.url, link.PaylinkID, "pay?method=international_card")
	paid := statusOf(t, env.client, link.PaylinkID)
	if paid.Status != reconcile.StatusSucceeded || paid.TxID == link.PaylinkID || paid.Method != ikhokha.MethodInternationalCard || paid.MerchantRef != "ORDER-12345" {
		t.Errorf("paid link: %+v", paid)
	}
	drive(t, env.url, link.PaylinkID, "refund?amount=4999")
	now := time.Now()
	body, err := env.client.History(ctx, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	_, recs, err := ikhokha.Parser{}.Parse(body, reconcile.SourcePoll)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1].Kind != reconcile.KindReversal || recs[1].RelatedTxID != paid.TxID || recs[1].Amount != zar(4999) {
		t.Errorf("history after a refund: %+v", recs)
	}
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	env := startSim(t, sources.SimOptions{Seed: 1, Quiet: true})
	ctx := context.Background()
	env2 := env.sim.ClientEnv(env.url)
	env2[ikhokha.EnvAppSecret] = "not-the-secret"
	wrongKey := clientFor(t, env2)
	env3 := env.sim.ClientEnv(env.url)
	env3[ikhokha.EnvAppID] = "SOMEONE-ELSE"
	wrongApp := clientFor(t, env3)

	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"wrong secret", func() error { _, err := wrongKey.LinkStatus(ctx, "PL1"); return err }, 401, "02"},
		{"wrong application", func() error { _, err := wrongApp.History(ctx, time.Now(), time.Now()); return err }, 401, "02"},
		{"unknown link", func() error { _, err := env.client.LinkStatus(ctx, "PLNOPE"); return err }, 404, "04"},
		{"amount in cents must be whole", func() error {
			_, _, err := env.client.CreateLink(ctx, ikhokha.LinkRequest{Amount: reconcile.Money{Minor: 100, Currency: "ZZZ"}, ExternalTransactionID: "X"})
			return err
		}, 400, "01"},
	}
	for _, tt := range tests {
		err := tt.call()
		var ae *apiclient.APIError
		if !errors.As(err, &ae) || ae.Status != tt.status || ae.Code != tt.code || ae.Message == "" {
			t.Errorf("%s: error %v, want HTTP %d code %s with a message", tt.name, err, tt.status, tt.code)
			continue
		}
		if strings.Contains(err.Error(), "not-the-secret") || strings.Contains(err.Error(), ikhokha.SandboxAppSecret) {
			t.Errorf("%s: error %q reveals a secret", tt.name, err)
		}
	}
	if _, err := env.client.LinkStatus(ctx, "PLNOPE"); !ikhokha.IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
}

// TestClientRetries: 429, 500, cut bodies and responseCodes 91 and 99 are
// retried until the answer comes.
func TestClientRetries(t *testing.T) {
	t.Parallel()
	sim, err := ikhokha.NewSimulator(sources.SimOptions{Seed: 3, Faults: sources.Faults{TooManyRequests: 0.1, ServerError: 0.1, Malformed: 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	flaky := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) % 7 {
		case 1:
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"responseCode":"91","message":"Network error"}`))
		case 2:
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"responseCode":"99","message":"System error"}`))
		default:
			sim.ServeHTTP(w, r)
		}
	})
	srv := httptest.NewServer(mount("/ikhokha", flaky))
	t.Cleanup(func() { srv.Close(); sim.Close() })
	c := clientFor(t, sim.ClientEnv(srv.URL+"/ikhokha"))
	day := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	want := sim.Links(reconcile.Window{From: day.Add(-12 * time.Hour), To: day.Add(36 * time.Hour)})
	for i := range 10 {
		body, err := c.History(context.Background(), day, day)
		if err != nil {
			t.Fatalf("History %d: %v", i, err)
		}
		_, recs, err := ikhokha.Parser{}.Parse(body, reconcile.SourcePoll)
		if err != nil || len(recs) < len(want)/2 {
			t.Fatalf("History %d: %v, %d records", i, err, len(recs))
		}
	}
	if calls.Load() <= 10 {
		t.Errorf("%d calls for 10 answers: nothing was retried", calls.Load())
	}
}

// TestClientDocumentPaths: against a server that serves only the vendor
// document's paths (/paymentLink), the client falls back to them.
func TestClientDocumentPaths(t *testing.T) {
	t.Parallel()
	sim, err := ikhokha.NewSimulator(sources.SimOptions{Quiet: true, CallbackDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	docOnly := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path)
		if r.URL.Path == "/payment" || strings.HasPrefix(r.URL.Path, "/getStatus/") {
			http.NotFound(w, r) // not an iKhokha answer: the route does not exist
			return
		}
		sim.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mount("/ikhokha", docOnly))
	t.Cleanup(func() { srv.Close(); sim.Close() })
	c := clientFor(t, sim.ClientEnv(srv.URL+"/ikhokha"))
	link, _, err := c.CreateLink(context.Background(), ikhokha.LinkRequest{Amount: zar(500), ExternalTransactionID: "DOC-1"})
	if err != nil {
		t.Fatalf("CreateLink: %v", err)
	}
	if r := statusOf(t, c, link.PaylinkID); r.MerchantRef != "DOC-1" {
		t.Errorf("status %+v", r)
	}
	want := []string{"POST /payment", "POST /paymentLink", "GET /getStatus/" + link.PaylinkID, "GET /paymentLink/" + link.PaylinkID}
	if !slices.Equal(seen, want) {
		t.Errorf("requests %q, want %q", seen, want)
	}
}

// storedRecords reads every iKhokha record of st.
func storedRecords(t *testing.T, st *store.Store) []reconcile.Record {
	t.Helper()
	var out []reconcile.Record
	all := reconcile.Window{From: time.Unix(0, 0), To: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
	for r, err := range st.Records(context.Background(), store.Filter{Window: all, Providers: []reconcile.Provider{ikhokha.Name}}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// expectedRecords parses the simulator's links the way a pull reads them,
// keeping the records in w.
func expectedRecords(t *testing.T, links []*ikhokha.Link, w reconcile.Window) map[string]reconcile.Record {
	t.Helper()
	out := map[string]reconcile.Record{}
	for _, l := range links {
		_, recs, err := ikhokha.Parser{}.Parse(ikhokha.StatusDocument(l), reconcile.SourcePoll)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if w.Contains(r.OccurredAt) {
				out[string(r.Kind)+"/"+r.TxID] = r
			}
		}
	}
	return out
}

func TestPullerAndStatusChecker(t *testing.T) {
	t.Parallel()
	env := startSim(t, sources.SimOptions{Seed: 11})
	st := store.New(pgtest.New(t))
	ctx := context.Background()
	w := reconcile.Window{From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)}
	puller := ikhokha.Puller{Client: env.client}
	stats, err := sources.PullWindow(ctx, sources.PullJob{Provider: ikhokha.Name, Scope: "entity", Puller: puller, Sink: st, Chunk: 6 * time.Hour}, w)
	if err != nil {
		t.Fatal(err)
	}
	want := expectedRecords(t, env.sim.Links(w), w)
	if len(want) < 15 || stats.Records != len(want) {
		t.Fatalf("pulled %+v, the simulator has %d records in %s", stats, len(want), w)
	}
	got := storedRecords(t, st)
	if len(got) != len(want) {
		t.Errorf("stored %d records, want %d", len(got), len(want))
	}
	kinds := map[reconcile.Kind]int{}
	methods := map[string]int{}
	for _, r := range got {
		e, ok := want[string(r.Kind)+"/"+r.TxID]
		if !ok || e.Amount != r.Amount || e.Status != r.Status || !e.OccurredAt.Equal(r.OccurredAt) || e.Method != r.Method {
			t.Errorf("stored %+v, simulator %+v", r, e)
		}
		kinds[r.Kind]++
		methods[r.Method]++
	}
	if methods[ikhokha.MethodEFT] == 0 || methods[ikhokha.MethodCard] == 0 {
		t.Errorf("methods %v: want Instant EFT and card payments among the simulator's", methods)
	}
	// Pulling again, split differently, stores nothing new.
	if _, err := puller.Pull(ctx, w, st); err != nil {
		t.Fatal(err)
	}
	if again := storedRecords(t, st); len(again) != len(got) {
		t.Errorf("after pulling again: %d records, want %d", len(again), len(got))
	}

	checker := ikhokha.StatusChecker{Client: env.client}
	var paid *ikhokha.Link
	for _, l := range env.sim.Links(w) {
		if l.Status == "paid" {
			paid = l
			break
		}
	}
	tests := []struct {
		name         string
		ref          sources.StatusRef
		found, final bool
	}{
		{"by paylinkID", sources.StatusRef{ProviderRef: paid.PaylinkID, MerchantRef: paid.ExternalTransactionID}, true, true},
		{"by externalTransactionID, looked up in history", sources.StatusRef{MerchantRef: paid.ExternalTransactionID, At: paid.At()}, true, true},
		{"merchant reference without a time", sources.StatusRef{MerchantRef: paid.ExternalTransactionID}, false, false},
		{"unknown paylinkID", sources.StatusRef{ProviderRef: "PLUNKNOWN"}, false, false},
		{"unknown merchant reference", sources.StatusRef{MerchantRef: "NOPE", At: paid.At()}, false, false},
	}
	for _, tt := range tests {
		res, err := checker.Check(ctx, tt.ref, st)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if res.Found != tt.found || res.Final != tt.final || (tt.found && res.Records == 0) {
			t.Errorf("%s: %+v, want found %v final %v", tt.name, res, tt.found, tt.final)
		}
	}
}

// TestPullerLongWindow: a window longer than a month is asked for a month
// at a time (the simulator, like a cautious API, refuses more than 93 days).
func TestPullerLongWindow(t *testing.T) {
	t.Parallel()
	var fx []byte
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, days := range []int{0, 45, 100, 139} {
		paid := start.AddDate(0, 0, days).Add(10 * time.Hour)
		fx = append(fx, fmt.Sprintf(`{"paylinkID":"PLLONG%d","externalTransactionID":"LONG-%d","amount":%d,"status":"paid","transactionID":"TXLONG%d","paymentMethod":"eft","paidAt":%q}`+"\n",
			i, i, 1000+i, i, paid.Format(time.RFC3339))...)
	}
	env := startSim(t, sources.SimOptions{Quiet: true, Fixtures: fx})
	st := store.New(pgtest.New(t))
	w := reconcile.Window{From: start, To: start.AddDate(0, 0, 140)}
	stats, err := ikhokha.Puller{Client: env.client}.Pull(context.Background(), w, st)
	if err != nil {
		t.Fatal(err)
	}
	if got := storedRecords(t, st); len(got) != 4 || stats.Records != 4 || stats.Payloads != 5 {
		t.Errorf("pulled %+v, stored %d records; want 4 records from 5 monthly requests", stats, len(got))
	}
}
