package kora

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/apiclient"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// simEnv is a simulator served over HTTP and a configuration pointing at it.
type simEnv struct {
	sim      *Simulator
	srv      *httptest.Server
	cfg      sources.Config
	requests atomic.Int64
	payIns   atomic.Int64
}

func startSim(t *testing.T, opts sources.SimOptions, currencies string) *simEnv {
	t.Helper()
	sim, err := NewSimulator(opts)
	if err != nil {
		t.Fatal(err)
	}
	e := &simEnv{sim: sim}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		if r.URL.Path == "/pay-ins" {
			e.payIns.Add(1)
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { e.srv.Close(); sim.Close() })
	env := sim.ClientEnv(e.srv.URL)
	if currencies != "" {
		env[EnvCurrencies] = currencies
	}
	e.cfg = Provider.ConfigFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return e
}

var fastRetry = sources.ClientOptions{RateLimit: 1000, Burst: 100, Retry: sources.RetryPolicy{MaxRetries: 8, Base: time.Millisecond, Max: 5 * time.Millisecond}}

// plant returns n fixture charges in JSONL, spread over the week from
// 2026-03-02 (WAT), in currencies by turn.
func plant(n int, currencies ...reconcile.Currency) []byte {
	var b strings.Builder
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, lagos)
	for i := range n {
		cur := currencies[i%len(currencies)]
		at := start.Add(time.Duration(i) * 7 * 24 * time.Hour / time.Duration(n))
		fmt.Fprintf(&b, `{"reference":"ORD-%04d","currency":%q,"amount":"%d.%02d","fee":"1.40","vat":"0.10","at":%q}`+"\n",
			i, cur, 100+i, i%100, at.UTC().Format(time.RFC3339))
	}
	return []byte(b.String())
}

type storedRecord struct {
	TxID, MerchantRef string
	Amount            reconcile.Money
}

func storedRecords(t *testing.T, st *store.Store) []storedRecord {
	t.Helper()
	all := reconcile.Window{From: time.Unix(0, 0), To: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
	var out []storedRecord
	for r, err := range st.Records(context.Background(), store.Filter{Window: all, Providers: []reconcile.Provider{Name}}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, storedRecord{r.TxID, r.MerchantRef, r.Amount})
	}
	slices.SortFunc(out, func(a, b storedRecord) int { return strings.Compare(a.TxID, b.TxID) })
	return out
}

// TestPullWalksEveryPageOnce: a multi-week window of two currencies over
// many pages is pulled with one request per page, every planted pay-in
// stored once; a second pull stores nothing new.
func TestPullWalksEveryPageOnce(t *testing.T) {
	t.Parallel()
	const n, size = 131, 7
	e := startSim(t, sources.SimOptions{Seed: 1, Quiet: true, Fixtures: plant(n, "NGN", "KES")}, "NGN,KES")
	hist, err := Provider.History(e.cfg, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	puller := hist.(*Puller)
	puller.PageSize = size
	st := store.New(pgtest.New(t))
	w := reconcile.Window{From: time.Date(2026, 2, 23, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)}

	stats, err := puller.Pull(context.Background(), w, st)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	ngn, kes := (n+1)/2, n/2
	wantPages := (ngn+size-1)/size + (kes+size-1)/size
	if got := e.payIns.Load(); got != int64(wantPages) {
		t.Errorf("pay-ins requests %d, want %d (every page once)", got, wantPages)
	}
	if stats.Records != n || stats.Payloads != wantPages || stats.Duplicates != 0 {
		t.Errorf("first pull stats %+v, want %d records in %d new payloads", stats, n, wantPages)
	}
	first := storedRecords(t, st)
	if len(first) != n {
		t.Fatalf("stored %d records, want %d", len(first), n)
	}
	for _, c := range e.sim.Charges(w) {
		if !slices.Contains(first, storedRecord{c.TransactionReference, c.Reference, c.Money()}) {
			t.Errorf("planted %s (%s) not stored as planted", c.Reference, c.Money())
		}
	}

	again, err := puller.Pull(context.Background(), w, st)
	if err != nil {
		t.Fatalf("second Pull: %v", err)
	}
	if again.Payloads != 0 || again.Duplicates != wantPages {
		t.Errorf("second pull stats %+v, want no new payloads, %d duplicates", again, wantPages)
	}
	if got := storedRecords(t, st); !slices.Equal(got, first) {
		t.Errorf("second pull changed the records")
	}
}

// TestPullThroughFaults: 429s and 5xx are retried; the pull completes.
func TestPullThroughFaults(t *testing.T) {
	t.Parallel()
	e := startSim(t, sources.SimOptions{Seed: 7, Quiet: true, Fixtures: plant(40, "NGN"),
		Faults: sources.Faults{TooManyRequests: 0.2, RetryAfter: 0, ServerError: 0.2}}, "")
	hist, err := Provider.History(e.cfg, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	hist.(*Puller).PageSize = 5
	st := store.New(pgtest.New(t))
	w := reconcile.Window{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)}
	if _, err := hist.Pull(context.Background(), w, st); err != nil {
		t.Fatalf("Pull through faults: %v", err)
	}
	if got := len(storedRecords(t, st)); got != 40 {
		t.Errorf("stored %d records, want 40", got)
	}
	if e.payIns.Load() <= 8 {
		t.Errorf("only %d requests: no fault was injected, the test proves nothing", e.payIns.Load())
	}
}

// TestVoucherCharges: document 001's outcomes, each as the client reports it.
func TestVoucherCharges(t *testing.T) {
	t.Parallel()
	e := startSim(t, sources.SimOptions{Seed: 3, Quiet: true}, "")
	c, err := NewClient(e.cfg, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	charge := func(ref, pin, code string) VoucherCharge {
		return VoucherCharge{Amount: "100", Currency: "ZAR", MerchantBearsCost: true, Reference: ref,
			Voucher:  Voucher{PIN: pin, PhoneNumber: "+27057684756", ProviderCode: code},
			Customer: Customer{Email: "jd@example.com", Name: "John Doe"}}
	}
	tests := []struct {
		name       string
		req        VoucherCharge
		wantStatus int // 0: success
		wantMsg    string
		wantAmount int64
		partial    bool
	}{
		{"valid", charge("V-1", "1168648096792943", "0001"), 0, "", 10000, false},
		{"used", charge("V-2", "1168648096792943", "0001"), 400, "The voucher has already been used.", 0, false},
		{"invalid", charge("V-3", "1168648096790000", "0001"), 400, "The voucher pin you have entered is invalid.", 0, false},
		{"insufficient funds", charge("V-4", "1168648096790002", "0001"), 402, "Voucher funds are lower than the transaction amount.", 0, false},
		{"partial redemption", charge("V-5", "1168648096790003", "0001"), 0, "", 5000, true},
		{"amount above due", charge("V-6", "1168648096790004", "0001"), 400, "The amount provided exceeds the required amount.", 0, false},
		{"provider inactive", charge("V-7", "1168648096792944", "0002"), 403, "The voucher provider is not active for this merchant.", 0, false},
		{"provider unsupported", charge("V-8", "1168648096792945", "0999"), 400, "The selected provider code is not supported.", 0, false},
		{"system error (retried, then reported)", charge("V-9", "1168648096790005", "0001"), 500, "An unexpected system error occurred.", 0, false},
	}
	for _, tt := range tests {
		before := e.requests.Load()
		body, err := c.ChargeVoucher(context.Background(), tt.req)
		sent := e.requests.Load() - before
		if tt.wantStatus != 0 {
			var apiErr *apiclient.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tt.wantStatus || apiErr.Message != tt.wantMsg {
				t.Errorf("%s: err %v, want HTTP %d %q", tt.name, err, tt.wantStatus, tt.wantMsg)
			}
			if err != nil && strings.Contains(err.Error(), tt.req.Voucher.PIN) {
				t.Errorf("%s: error %q carries the PIN", tt.name, err)
			}
			if wantSent := int64(1); tt.wantStatus < 500 && sent != wantSent {
				t.Errorf("%s: %d requests sent; a 4xx must not be retried", tt.name, sent)
			} else if tt.wantStatus >= 500 && sent < 2 {
				t.Errorf("%s: %d requests sent; a 5xx must be retried", tt.name, sent)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		_, recs, err := testParser().Parse(body, reconcile.SourceImport)
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: Parse: %v (%d records)", tt.name, err, len(recs))
		}
		r := recs[0]
		if r.Amount != money(tt.wantAmount, "ZAR") || r.Status != reconcile.StatusSucceeded || r.Partial != tt.partial || r.MerchantRef != tt.req.Reference {
			t.Errorf("%s: record %+v, want success %d ZAR cents, partial %v", tt.name, r, tt.wantAmount, tt.partial)
		}
		assertNoPIN(t, recs, tt.req.Voucher.PIN)
	}
	// A wrong key is refused.
	bad := e.cfg.With(EnvSecretKey, "sk_test_wrong")
	bc, _ := NewClient(bad, fastRetry)
	_, _, err = bc.Charge(context.Background(), "V-1")
	var apiErr *apiclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || strings.Contains(err.Error(), "sk_test_wrong") {
		t.Errorf("wrong key: err %v, want HTTP 401 without the key", err)
	}
}

// TestStatusCheck verifies a charge made, a planted one, and an unknown one.
func TestStatusCheck(t *testing.T) {
	t.Parallel()
	e := startSim(t, sources.SimOptions{Seed: 3, Quiet: true, Fixtures: []byte(
		`{"reference":"ORD-P","currency":"NGN","amount":"250.00","amount_expected":"300.00","fee":"3.50","vat":"0.26","status":"processing","at":"2026-03-03T09:00:00Z"}` + "\n")}, "")
	chk, err := Provider.Status(e.cfg, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(pgtest.New(t))
	res, err := chk.Check(context.Background(), sources.StatusRef{MerchantRef: "ORD-P"}, st)
	if err != nil || !res.Found || res.Final || res.Records != 1 || res.Payloads != 1 {
		t.Errorf("Check(ORD-P) = %+v, %v; want found, pending, 1 record in 1 payload", res, err)
	}
	if got := storedRecords(t, st); len(got) != 1 || got[0].Amount != money(25000, "NGN") || got[0].MerchantRef != "ORD-P" {
		t.Errorf("stored %+v", got)
	}
	res, err = chk.Check(context.Background(), sources.StatusRef{MerchantRef: "ORD-P"}, st)
	if err != nil || res.Duplicates != 1 {
		t.Errorf("second Check = %+v, %v; want a duplicate", res, err)
	}
	res, err = chk.Check(context.Background(), sources.StatusRef{MerchantRef: "NOPE"}, st)
	if err != nil || res.Found {
		t.Errorf("Check(unknown) = %+v, %v; want not found, no error", res, err)
	}
}

// TestWebhooksFromSimulator: the simulator's charge.* and transfer.*
// webhooks, posted to a receiver, verify with the secret key and parse.
func TestWebhooksFromSimulator(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []reconcile.Record
	verifier := Verifier{SecretKey: SandboxSecretKey}
	var refused atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifier.Verify(sources.Request{Method: r.Method, Path: r.URL.Path, Header: r.Header, Body: body}); err != nil {
			refused.Add(1)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		_, recs, err := testParser().Parse(body, reconcile.SourceWebhook)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, recs...)
		mu.Unlock()
	}))
	defer recv.Close()
	sim, err := NewSimulator(sources.SimOptions{Seed: 11, WebhookURL: recv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	w := reconcile.Window{From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}
	n, err := sim.EmitWebhooks(context.Background(), w)
	if err != nil || n == 0 || refused.Load() != 0 {
		t.Fatalf("EmitWebhooks = %d, %v; %d refused", n, err, refused.Load())
	}
	kinds := map[reconcile.Kind]int{}
	for _, r := range got {
		kinds[r.Kind]++
	}
	if len(got) != n || kinds[reconcile.KindPayment] == 0 || kinds[reconcile.KindPayout] == 0 {
		t.Errorf("%d webhooks gave records by kind %v; want payments and payouts", n, kinds)
	}
}

// TestSimulatorDeterministic: the same seed serves the same pages.
func TestSimulatorDeterministic(t *testing.T) {
	t.Parallel()
	get := func(seed int64) string {
		e := startSim(t, sources.SimOptions{Seed: seed}, "")
		c, err := NewClient(e.cfg, fastRetry)
		if err != nil {
			t.Fatal(err)
		}
		page, err := c.PayIns(context.Background(), PayInsQuery{Currency: "NGN",
			From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return string(page.Body)
	}
	a, b, c := get(5), get(5), get(6)
	if a != b || a == c || !strings.Contains(a, `"reference":"KPY-CA-`) {
		t.Errorf("seed 5 twice equal: %v; seed 6 differs: %v", a == b, a != c)
	}
}

// TestStoreKeepsFlags: a partial redemption and a fee the customer paid
// survive the store, and a later sighting without them does not clear them.
func TestStoreKeepsFlags(t *testing.T) {
	t.Parallel()
	st := store.New(pgtest.New(t))
	page := `{"has_more":false,"data":[{"pointer":"p1","reference":"KPY-CA-F","payment_reference":"ORD-F","status":"success","amount":"1000.00","amount_paid":"400.00","amount_expected":"1000.00","fee":"5.60","vat":"0.42","currency":"NGN","merchant_bears_cost":false,"date_created":"2026-03-05 09:00:00"}]}`
	hook := `{"event":"charge.success","data":{"reference":"KPY-CA-F","payment_reference":"ORD-F","currency":"NGN","amount":400,"fee":5.6,"vat":0.42,"status":"success","transaction_date":"2026-03-05 09:00:00"}}`
	for _, b := range []string{page, hook} {
		p, recs, err := testParser().Parse([]byte(b), reconcile.SourcePoll)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Save(context.Background(), p, recs); err != nil {
			t.Fatal(err)
		}
	}
	all := reconcile.Window{From: time.Unix(0, 0), To: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
	n := 0
	for r, err := range st.Records(context.Background(), store.Filter{Window: all}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if !r.Partial || !r.FeeOnPayer || r.Fee != money(560, "NGN") || r.VAT != money(42, "NGN") || !r.FeeKnown || r.Amount != money(40000, "NGN") {
			t.Errorf("stored %+v, want partial, fee on payer, fee 5.60 + VAT 0.42, amount 400.00", r)
		}
	}
	if n != 1 {
		t.Errorf("%d records stored, want 1", n)
	}
}
