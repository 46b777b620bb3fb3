package sourcetest_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/apiclient"
	"github.com/mizani/reconcile/sources/sourcetest"
)

// fakepay is a provider written for this test only, with every part the
// suite checks — history, status per reference, signed webhooks posted by
// its simulator, zone-less times, a zero-exponent currency — so that the
// suite's own paths run whatever the real providers lack. Its protocol:
// GET /history?from&to and GET /status/{ref} with a bearer key; webhooks
// {"event", "transaction"} signed X-Fake-Signature = hex HMAC-SHA256(key,
// body); amounts in minor units; times zone-less in FAKE_TZ.
const fakeName reconcile.Provider = "fakepay"

var fakeProvider = &sources.Provider{
	Name:        fakeName,
	DisplayName: "Fake Pay",
	Env: []sources.EnvVar{
		{Name: "FAKE_BASE_URL", Help: "API root", Required: sources.ForPull},
		{Name: "FAKE_KEY", Help: "API and webhook key", Secret: true, Required: sources.ForPull | sources.ForWebhooks},
		{Name: "FAKE_TZ", Help: "zone of zone-less times"},
	},
	Traits: sources.Traits{ZoneEnv: "FAKE_TZ", DefaultZone: "Africa/Lagos"},
	Parser: func(cfg sources.Config) (sources.Parser, error) {
		zone, err := cfg.Zone()
		return fakeParser{zone: zone}, err
	},
	Verifier: func(cfg sources.Config) (sources.Verifier, error) {
		return fakeVerifier{key: cfg.Get("FAKE_KEY")}, cfg.NotConfigured(sources.ForWebhooks)
	},
	History: func(cfg sources.Config, o sources.ClientOptions) (sources.Puller, error) {
		c, err := newFakeClient(cfg, o)
		return fakePuller{c}, err
	},
	Status: func(cfg sources.Config, o sources.ClientOptions) (sources.StatusChecker, error) {
		c, err := newFakeClient(cfg, o)
		return fakeChecker{c}, err
	},
	Simulator: newFakeSim,
}

// fakeTx is one transaction as the protocol writes it.
type fakeTx struct {
	ID       string `json:"id"`
	Ref      string `json:"ref"`
	Kind     string `json:"kind"`
	Amount   string `json:"amount"` // minor units
	Currency string `json:"currency"`
	Status   string `json:"status"` // paid, pending
	At       string `json:"at"`     // zone-less, FAKE_TZ
}

const fakeLayout = "2006-01-02 15:04:05"

// --- parser and verifier

type fakeParser struct{ zone *time.Location }

func (p fakeParser) Parse(body []byte, src reconcile.Source) (reconcile.RawPayload, []reconcile.Record, error) {
	sum := sha256.Sum256(body)
	payload := reconcile.RawPayload{Provider: fakeName, Source: src, Body: body, DedupKey: hex.EncodeToString(sum[:])}
	var doc struct {
		Event        string          `json:"event"`
		Transaction  json.RawMessage `json:"transaction"`
		Transactions []fakeTx        `json:"transactions"`
	}
	if err := sources.DecodeObject(body, &doc); err != nil {
		return payload, nil, sources.Malformed(fakeName, "body", err)
	}
	payload.Kind = "history"
	txs, path := doc.Transactions, "transactions"
	if !sources.IsNull(doc.Transaction) {
		payload.Kind, path = cmp.Or(doc.Event, "status"), "transaction"
		var t fakeTx
		if err := sources.DecodeObject(doc.Transaction, &t); err != nil {
			return payload, nil, sources.Malformed(fakeName, path, err)
		}
		txs = []fakeTx{t}
	}
	var recs []reconcile.Record
	for i, t := range txs {
		at := path
		if path == "transactions" {
			at = fmt.Sprintf("%s[%d]", path, i)
		}
		r, err := p.record(t, src, at)
		if err != nil {
			return payload, nil, err
		}
		recs = append(recs, r)
	}
	return payload, recs, nil
}

func (p fakeParser) record(t fakeTx, src reconcile.Source, path string) (reconcile.Record, error) {
	if t.ID == "" {
		return reconcile.Record{}, sources.Malformed(fakeName, path+".id", sources.ErrMissing)
	}
	cur, err := sources.Currency(t.Currency)
	if err != nil {
		return reconcile.Record{}, sources.Malformed(fakeName, path+".currency", err)
	}
	amount, _ := json.Marshal(t.Amount)
	m, known, err := sources.MinorAmount(amount, cur)
	if err != nil {
		return reconcile.Record{}, sources.Malformed(fakeName, path+".amount", err)
	}
	at, err := sources.Instant(t.At, p.zone)
	if err != nil {
		return reconcile.Record{}, sources.Malformed(fakeName, path+".at", err)
	}
	st := reconcile.StatusSucceeded
	if t.Status == "pending" {
		st = reconcile.StatusPending
	}
	return reconcile.Record{Provider: fakeName, Kind: reconcile.Kind(t.Kind), TxID: t.ID, MerchantRef: t.Ref,
		Amount: m, AmountKnown: known, Status: st, ProviderStatus: t.Status, OccurredAt: at, Source: src}, nil
}

type fakeVerifier struct{ key string }

func fakeSign(key string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func (v fakeVerifier) Verify(r sources.Request) error {
	got := r.Header.Get("X-Fake-Signature")
	if got == "" {
		return fmt.Errorf("fakepay: %w", sources.ErrNotSigned)
	}
	sig, err := hex.DecodeString(got)
	if err != nil || !hmac.Equal(sig, must(hex.DecodeString(fakeSign(v.key, r.Body)))) {
		return fmt.Errorf("fakepay: %w", sources.ErrBadSignature)
	}
	return nil
}

func must(b []byte, _ error) []byte { return b }

// --- client, puller, checker

type fakeClient struct {
	api    *apiclient.Client
	base   string
	key    string
	parser fakeParser
}

func newFakeClient(cfg sources.Config, o sources.ClientOptions) (*fakeClient, error) {
	if err := cfg.NotConfigured(sources.ForPull); err != nil {
		return nil, err
	}
	zone, err := cfg.Zone()
	if err != nil {
		return nil, err
	}
	api, err := apiclient.New(apiclient.Config{Provider: string(fakeName), HTTPClient: o.HTTPClient,
		RateLimit: o.RateLimit, Burst: o.Burst, Retry: o.Retry, Logger: o.Logger})
	return &fakeClient{api: api, base: cfg.Get("FAKE_BASE_URL"), key: cfg.Get("FAKE_KEY"), parser: fakeParser{zone}}, err
}

func (c *fakeClient) get(ctx context.Context, path string, accept ...int) (*apiclient.Response, error) {
	return c.api.Do(ctx, apiclient.Request{Method: http.MethodGet, URL: c.base + path,
		Header: http.Header{"Authorization": {"Bearer " + c.key}}, Accept: accept})
}

type fakePuller struct{ c *fakeClient }

func (p fakePuller) Pull(ctx context.Context, w reconcile.Window, sink sources.Sink) (sources.PullStats, error) {
	q := url.Values{"from": {w.From.UTC().Format(time.RFC3339)}, "to": {w.To.UTC().Format(time.RFC3339)}}
	resp, err := p.c.get(ctx, "/history?"+q.Encode())
	if err != nil {
		return sources.PullStats{}, err
	}
	payload, recs, err := p.c.parser.Parse(resp.Body, reconcile.SourcePoll)
	if err != nil {
		return sources.PullStats{}, err
	}
	recs = slices.DeleteFunc(recs, func(r reconcile.Record) bool { return !w.Contains(r.OccurredAt) })
	dup, err := sink.Save(ctx, payload, recs)
	if err != nil {
		return sources.PullStats{}, err
	}
	st := sources.PullStats{Records: len(recs), Payloads: 1}
	if dup {
		st.Payloads, st.Duplicates = 0, 1
	}
	return st, nil
}

type fakeChecker struct{ c *fakeClient }

func (k fakeChecker) Check(ctx context.Context, ref sources.StatusRef, sink sources.Sink) (sources.CheckResult, error) {
	resp, err := k.c.get(ctx, "/status/"+url.PathEscape(ref.MerchantRef), http.StatusNotFound)
	if err != nil {
		return sources.CheckResult{}, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return sources.CheckResult{}, nil
	}
	payload, recs, err := k.c.parser.Parse(resp.Body, reconcile.SourceStatus)
	if err != nil {
		return sources.CheckResult{}, err
	}
	dup, err := sink.Save(ctx, payload, recs)
	if err != nil {
		return sources.CheckResult{}, err
	}
	res := sources.CheckResult{Found: true, Final: true, Records: len(recs), Payloads: 1}
	if dup {
		res.Payloads, res.Duplicates = 0, 1
	}
	for _, r := range recs {
		res.Final = res.Final && r.Status != reconcile.StatusPending
	}
	return res, nil
}

// --- simulator

type fakeSim struct {
	opts   sources.SimOptions
	key    string
	zone   *time.Location
	extra  []fakeTx
	faults *sources.Injector
	mux    *http.ServeMux
	done   chan struct{}
	once   sync.Once
}

func newFakeSim(opts sources.SimOptions) (sources.Simulator, error) {
	zone, err := time.LoadLocation(cmp.Or(opts.Getenv("FAKE_TZ"), "Africa/Lagos"))
	if err != nil {
		return nil, err
	}
	s := &fakeSim{opts: opts, key: cmp.Or(opts.Getenv("FAKE_KEY"), "fake-sandbox-key"), zone: zone,
		faults: sources.NewInjector(opts.Faults, opts.Seed, nil), mux: http.NewServeMux(), done: make(chan struct{})}
	for line := range bytes.SplitSeq(opts.Fixtures, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var t fakeTx
		if err := json.Unmarshal(line, &t); err != nil {
			return nil, fmt.Errorf("fakepay fixtures: %w", err)
		}
		s.extra = append(s.extra, t)
	}
	s.mux.HandleFunc("GET /history", s.auth(s.history))
	s.mux.HandleFunc("GET /status/{ref}", s.auth(s.status))
	return s, nil
}

func (s *fakeSim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.faults.Middleware(s.mux, s.done).ServeHTTP(w, r)
}

func (s *fakeSim) ClientEnv(baseURL string) map[string]string {
	return map[string]string{"FAKE_BASE_URL": baseURL, "FAKE_KEY": s.key}
}

func (s *fakeSim) Close() error { s.once.Do(func() { close(s.done) }); return nil }

func (s *fakeSim) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+s.key {
			http.Error(w, `{"error":"bad key"}`, http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

// transactions lists what the simulator holds in w: a few per hour from
// the seed (none when quiet), and the fixtures.
func (s *fakeSim) transactions(w reconcile.Window) []fakeTx {
	var out []fakeTx
	in := func(t fakeTx) bool {
		at, err := time.ParseInLocation(fakeLayout, t.At, s.zone)
		return err == nil && w.Contains(at)
	}
	if !s.opts.Quiet {
		for h := w.From.Truncate(time.Hour); h.Before(w.To); h = h.Add(time.Hour) {
			rng := rand.New(rand.NewPCG(uint64(s.opts.Seed), uint64(h.Unix())))
			for i := range rng.IntN(4) {
				t := fakeTx{ID: fmt.Sprintf("gen-%d-%d", h.Unix(), i), Ref: fmt.Sprintf("ORD-%d-%d", h.Unix(), i),
					Kind: "payment", Amount: fmt.Sprint(1 + rng.IntN(500000)), Currency: "XOF", Status: "paid",
					At: h.Add(time.Duration(rng.IntN(3600)) * time.Second).In(s.zone).Format(fakeLayout)}
				if rng.IntN(5) == 0 {
					t.Status = "pending"
				}
				if in(t) {
					out = append(out, t)
				}
			}
		}
	}
	for _, t := range s.extra {
		if in(t) {
			out = append(out, t)
		}
	}
	return out
}

func (s *fakeSim) history(w http.ResponseWriter, r *http.Request) {
	from, err1 := time.Parse(time.RFC3339, r.URL.Query().Get("from"))
	to, err2 := time.Parse(time.RFC3339, r.URL.Query().Get("to"))
	if err := errors.Join(err1, err2); err != nil {
		http.Error(w, `{"error":"bad window"}`, http.StatusBadRequest)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"transactions": s.transactions(reconcile.Window{From: from, To: to})})
}

func (s *fakeSim) status(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("ref")
	// Generated references name their hour: look there, else in the fixtures.
	txs := s.extra
	var hour int64
	if _, err := fmt.Sscanf(ref, "ORD-%d-", &hour); err == nil {
		txs = s.transactions(reconcile.Window{From: time.Unix(hour, 0), To: time.Unix(hour, 0).Add(time.Hour)})
	}
	for _, t := range txs {
		if t.Ref == ref {
			json.NewEncoder(w).Encode(map[string]any{"transaction": t})
			return
		}
	}
	http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
}

// EmitWebhooks posts every transaction of w, signed, to the webhook URL.
func (s *fakeSim) EmitWebhooks(ctx context.Context, w reconcile.Window) (int, error) {
	n := 0
	for _, t := range s.transactions(w) {
		body, _ := json.Marshal(map[string]any{"event": "transaction.updated", "transaction": t})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.WebhookURL, bytes.NewReader(body))
		if err != nil {
			return n, err
		}
		req.Header.Set("X-Fake-Signature", fakeSign(s.key, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return n, err
		}
		resp.Body.Close()
		n++
	}
	return n, nil
}

// --- the harness

func TestFakeProviderConformance(t *testing.T) {
	t.Parallel()
	lagos, _ := time.LoadLocation("Africa/Lagos")
	expected := func(t *testing.T, env *sourcetest.Env, w reconcile.Window, _ reconcile.Source) []sourcetest.Expected {
		var out []sourcetest.Expected
		for _, tx := range env.Sim.(*fakeSim).transactions(w) {
			m, err := reconcile.ParseMinor(tx.Amount, reconcile.Currency(tx.Currency))
			if err != nil {
				t.Fatal(err)
			}
			st := reconcile.StatusSucceeded
			if tx.Status == "pending" {
				st = reconcile.StatusPending
			}
			out = append(out, sourcetest.Expected{Kind: reconcile.Kind(tx.Kind), TxID: tx.ID, MerchantRef: tx.Ref,
				Amount: m, AmountKnown: true, Status: st})
		}
		return out
	}
	webhook := func(key, path string) sources.Request {
		body := []byte(`{"event":"transaction.updated","transaction":{"id":"wh-1","ref":"ORD-W1","kind":"payment","amount":"1100","currency":"XOF","status":"paid","at":"2026-03-02 10:08:32"}}`)
		return sources.Request{Method: http.MethodPost, Path: path, Body: body,
			Header: http.Header{"X-Fake-Signature": {fakeSign(key, body)}}}
	}
	sourcetest.Run(t, sourcetest.Harness{
		Provider:   fakeProvider,
		KeyEnv:     "FAKE_KEY",
		Currencies: []reconcile.Currency{"XOF", "NGN"},
		Kinds:      []reconcile.Kind{reconcile.KindPayment, reconcile.KindPayout, reconcile.KindReversal},
		Encode: func(t *testing.T, fx []sourcetest.Fixture) []byte {
			var b bytes.Buffer
			for _, f := range fx {
				json.NewEncoder(&b).Encode(fakeTx{ID: f.ID, Ref: f.ID, Kind: string(cmp.Or(string(f.Kind), "payment")),
					Amount: fmt.Sprint(f.Amount.Minor), Currency: string(f.Amount.Currency), Status: "paid",
					At: f.At.In(lagos).Format(fakeLayout)})
			}
			return b.Bytes()
		},
		Expected: expected,
		Refs: func(t *testing.T, env *sourcetest.Env, w reconcile.Window) []sources.StatusRef {
			var refs []sources.StatusRef
			for _, tx := range env.Sim.(*fakeSim).transactions(w) {
				refs = append(refs, sources.StatusRef{MerchantRef: tx.Ref, Currency: reconcile.Currency(tx.Currency)})
			}
			return refs
		},
		Webhooks: []sourcetest.Webhook{{Name: "transaction", Request: webhook, Want: []sourcetest.Expected{
			{Kind: reconcile.KindPayment, TxID: "wh-1", MerchantRef: "ORD-W1", Amount: reconcile.Money{Minor: 1100, Currency: "XOF"},
				AmountKnown: true, Status: reconcile.StatusSucceeded},
		}}},
		ZoneLess: func(t *testing.T, wall time.Time) ([]byte, reconcile.Source) {
			return fmt.Appendf(nil, `{"transaction":{"id":"z1","ref":"Z1","kind":"payment","amount":"5","currency":"XOF","status":"paid","at":%q}}`,
				wall.Format(fakeLayout)), reconcile.SourceStatus
		},
		Malformed: []sourcetest.Malformed{
			{Name: "amount with a fraction", Want: "transactions[0].amount",
				Body: `{"transactions":[{"id":"a","kind":"payment","amount":"1.5","currency":"XOF","at":"2026-03-02 10:00:00"}]}`},
			{Name: "unknown currency", Want: "transaction.currency",
				Body: `{"transaction":{"id":"a","kind":"payment","amount":"1","currency":"XXX","at":"2026-03-02 10:00:00"}}`},
			{Name: "no id", Want: "transaction.id",
				Body: `{"transaction":{"kind":"payment","amount":"1","currency":"XOF","at":"2026-03-02 10:00:00"}}`},
		},
	})
}

// The fake's parser is itself exact: what the suite relies on.
func TestFakeParserZone(t *testing.T) {
	lagos, _ := time.LoadLocation("Africa/Lagos")
	_, recs, err := fakeParser{zone: lagos}.Parse([]byte(`{"transaction":{"id":"z","kind":"payment","amount":"7","currency":"XOF","at":"2026-03-02 10:00:00"}}`), reconcile.SourceStatus)
	if err != nil || len(recs) != 1 || !recs[0].OccurredAt.Equal(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) || !strings.EqualFold(string(recs[0].Amount.Currency), "xof") {
		t.Fatalf("Parse = %+v, %v", recs, err)
	}
}
