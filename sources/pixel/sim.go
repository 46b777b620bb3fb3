package pixel

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Sandbox credentials of the vendor documents: the public_id and
// merchant_id of the API examples, the secret key of the signature example.
const (
	SandboxPublicID   = "f54ec96649be11ebb3780242ac130002"
	SandboxMerchantID = "e0fecd91fcb24f348048193b3fb34875ba3722b4"
	SandboxSecretKey  = "cf11635572c1e8d77297207152dc0791ad91f22b32d23c758ce3ba2637202ad8f7290ba41f2243cccf32edde1dfb8bf0f5dea62525309e293b3adb2c76eed6a5"
)

// DefaultCallbackDelay is how long after a payment request the simulator
// posts its callback (the documents: "usually 2-3 minutes maximum").
const DefaultCallbackDelay = 2 * time.Second

// serviceVersion is what the simulator reports as service_version.
const serviceVersion = "1.03/1.14|1.0/1.26|1.0/1.0|1.01/1.01|1.01/1.01||1.01/1.27"

// Tx is one operation the simulator knows, and the line format of its
// fixtures (SimOptions.Fixtures: one JSON object per line).
type Tx struct {
	OrderID        string `json:"order_id"`
	Operation      string `json:"operation"` // "c2b" (default) or "b2c"
	TransactionID  string `json:"transaction_id"`
	TransactionRef string `json:"transaction_ref"`
	Status         int    `json:"status"`
	// Amount in major units as the merchant sent it ("100.00"), and its
	// currency (Pixel reports neither in a status answer).
	Amount     string             `json:"amount"`
	Currency   reconcile.Currency `json:"currency"`
	Country    string             `json:"country,omitempty"`
	CustomerID string             `json:"customer_id"`
	ProviderID int                `json:"provider_id"`
	MerchantID string             `json:"merchant_id,omitempty"`
	// At is when the operation was serviced (service_date_time, written
	// in the simulator's PIXEL_TZ).
	At          time.Time `json:"at"`
	CallbackURL string    `json:"callback_url,omitempty"`
}

// Kind is the record kind tx yields.
func (tx Tx) Kind() reconcile.Kind {
	if tx.Operation == string(B2C) {
		return reconcile.KindPayout
	}
	return reconcile.KindPayment
}

// Simulator serves the Pixel API under its sandbox prefix (stripped):
// POST /{public_id}/{status,payment_c2b,payment_b2c,banks}. It checks each
// request's signature (either form) and its merchant and public ids,
// answering result.code 10201 when they are wrong; it enforces the
// country rules (CheckAmount, result.code 10001); it answers status for the
// operations it was asked for and those planted (SimOptions.Fixtures) or
// generated from the seed; and it posts a signed callback with the final
// status to a payment's callback_url CallbackDelay after the request —
// except for provider 14, the vendor's simulator channel, whose operations
// stay "in progress" and never call back, as documented. Every answer is
// signed in its own signature field. Faults come from the shared Injector.
// It implements sources.Simulator and sources.WebhookEmitter.
type Simulator struct {
	opts                      sources.SimOptions
	publicID, merchantID, key string
	zone                      *time.Location
	delay                     time.Duration
	inj                       *sources.Injector
	handler                   http.Handler
	logger                    *slog.Logger
	http                      *http.Client
	deliveries                *sources.Deliveries
	now                       func() time.Time

	mu    sync.Mutex
	rng   *rand.Rand
	txs   map[string]*Tx
	order []string
}

// NewSimulator returns a simulator configured by opts: credentials from
// PIXEL_PUBLIC_ID, PIXEL_MERCHANT_ID and PIXEL_SECRET_KEY (opts.Env, else
// the environment, else the documents' sandbox values), PIXEL_TZ for
// service_date_time (UTC), transactions from opts.Fixtures and, unless
// opts.Quiet, generated from opts.Seed.
func NewSimulator(opts sources.SimOptions) (*Simulator, error) {
	s := &Simulator{
		opts:       opts,
		publicID:   cmp.Or(opts.Getenv(EnvPublicID), SandboxPublicID),
		merchantID: cmp.Or(opts.Getenv(EnvMerchantID), SandboxMerchantID),
		key:        cmp.Or(opts.Getenv(EnvSecretKey), SandboxSecretKey),
		delay:      cmp.Or(opts.CallbackDelay, DefaultCallbackDelay),
		logger:     cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
		http:       &http.Client{Timeout: 10 * time.Second},
		deliveries: sources.NewDeliveries(),
		now:        time.Now,
		rng:        rand.New(rand.NewPCG(uint64(opts.Seed), 0x91e1)),
		txs:        map[string]*Tx{},
	}
	zone, err := time.LoadLocation(cmp.Or(opts.Getenv(EnvTZ), "UTC"))
	if err != nil {
		return nil, fmt.Errorf("pixel simulator: %s: %w", EnvTZ, err)
	}
	s.zone = zone
	s.inj = sources.NewInjector(opts.Faults, opts.Seed, s.writeFault)
	if !opts.Quiet {
		s.generate()
	}
	if err := s.load(opts.Fixtures); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{public_id}/{method}", s.serveAPI)
	s.handler = s.inj.Middleware(mux, s.deliveries.Done())
	return s, nil
}

// ServeHTTP serves the API.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// ClientEnv returns the variables a client sets to talk to the simulator at
// baseURL.
func (s *Simulator) ClientEnv(baseURL string) map[string]string {
	return map[string]string{
		EnvBaseURL: strings.TrimRight(baseURL, "/"), EnvPublicID: s.publicID,
		EnvMerchantID: s.merchantID, EnvSecretKey: s.key, EnvTZ: s.zone.String(),
	}
}

// Close stops pending callbacks and waits for those being posted.
func (s *Simulator) Close() error {
	s.deliveries.Close()
	return nil
}

// Transactions returns every operation the simulator knows, in the order
// it learnt them.
func (s *Simulator) Transactions() []Tx {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Tx, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.txs[id])
	}
	return out
}

// Transaction returns the operation with orderID.
func (s *Simulator) Transaction(orderID string) (Tx, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, ok := s.txs[orderID]
	if !ok {
		return Tx{}, false
	}
	return *tx, true
}

// Plant adds (or replaces) an operation.
func (s *Simulator) Plant(tx Tx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plant(tx)
}

func (s *Simulator) plant(tx Tx) {
	tx.MerchantID = cmp.Or(tx.MerchantID, s.merchantID)
	tx.Operation = cmp.Or(tx.Operation, string(C2B))
	if _, ok := s.txs[tx.OrderID]; !ok {
		s.order = append(s.order, tx.OrderID)
	}
	s.txs[tx.OrderID] = &tx
}

// load plants the fixtures, one JSON object per line.
func (s *Simulator) load(fixtures []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(fixtures))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var tx Tx
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&tx); err != nil {
			return fmt.Errorf("pixel simulator: fixtures line %d: %w", line, err)
		}
		if tx.OrderID == "" || tx.At.IsZero() {
			return fmt.Errorf("pixel simulator: fixtures line %d: order_id and at are required", line)
		}
		if tx.Operation != "" && tx.Operation != string(C2B) && tx.Operation != string(B2C) {
			return fmt.Errorf("pixel simulator: fixtures line %d: operation %q (want c2b or b2c)", line, tx.Operation)
		}
		if tx.TransactionID == "" {
			tx.TransactionID = s.newTxID()
		}
		s.plant(tx)
	}
	return sc.Err()
}

// generated channels: country, currency, provider, customer format.
var simChannels = []struct {
	country  string
	currency reconcile.Currency
	provider int
	customer string
}{
	{"KE", "KES", 2162, "2547"}, {"CI", "XOF", 2304, "2250"}, {"UG", "UGX", 2106, "2567"}, {"CM", "XAF", 803, "2376"},
}

// generate creates the seed's operations: one every two hours (jittered
// within the first hour) over the week of 2026-03-02, c2b and b2c, in every
// channel above; every third one succeeded, the rest drawn.
func (s *Simulator) generate() {
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range 7 * 12 {
		ch := simChannels[s.rng.IntN(len(simChannels))]
		op := C2B
		if s.rng.IntN(4) == 0 {
			op = B2C
		}
		r, _ := RuleFor(ch.country, ch.provider)
		amount := max(r.C2BMin, r.B2CMin) + int64(s.rng.IntN(200))*5
		status := []int{StatusSuccess, StatusSuccess, StatusFailed, StatusInProgress, StatusCancelled}[s.rng.IntN(5)]
		if i%3 == 0 {
			status = StatusSuccess
		}
		exp, _ := ch.currency.Exponent()
		text := strconv.FormatInt(amount, 10)
		if exp == 2 {
			text += ".00"
		}
		at := base.Add(time.Duration(i)*2*time.Hour + time.Duration(s.rng.Int64N(int64(time.Hour))))
		s.plant(Tx{
			OrderID: fmt.Sprintf("SIM-%d-%03d", s.opts.Seed, i), Operation: string(op), TransactionID: s.newTxID(),
			TransactionRef: s.newRef(), Status: status, Amount: text, Currency: ch.currency, Country: ch.country,
			CustomerID: ch.customer + fmt.Sprintf("%08d", s.rng.IntN(1e8)), ProviderID: ch.provider,
			At: at.Truncate(time.Microsecond),
		})
	}
}

// newTxID returns a fresh transaction_id (12 digits). Callers hold mu or
// run before serving.
func (s *Simulator) newTxID() string { return strconv.FormatInt(7e11+s.rng.Int64N(1e11), 10) }

// newRef returns a fresh transaction_ref in the documents' style.
func (s *Simulator) newRef() string {
	const letters = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	b := make([]byte, 8)
	for i := range b {
		b[i] = letters[s.rng.IntN(len(letters))]
	}
	return "MP." + string(b)
}

// serveAPI answers one API call.
func (s *Simulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		s.answer(w, http.StatusBadRequest, errorAnswer("", CodeInvalid, "Cannot read the request"))
		return
	}
	method := r.PathValue("method")
	switch method {
	case MethodStatus, MethodPaymentC2B, MethodPaymentB2C, MethodBanks:
	default:
		s.answer(w, http.StatusNotFound, errorAnswer("", CodeInvalid, "Unknown method "+method))
		return
	}
	var req map[string]json.RawMessage
	if err := sources.DecodeObject(body, &req); err != nil {
		s.answer(w, http.StatusBadRequest, errorAnswer("", CodeInvalid, "Request body is not a JSON object"))
		return
	}
	orderID, _ := sources.LooseString(req["order_id"])
	if !s.authentic(r.PathValue("public_id"), req, body) {
		s.answer(w, http.StatusOK, errorAnswer(orderID, CodeAuth, "Merchant authentication error"))
		return
	}
	switch method {
	case MethodStatus:
		s.serveStatus(w, orderID)
	case MethodBanks:
		s.answer(w, http.StatusOK, []Field{{"banks", json.RawMessage(`[{"code":"000001","name":"OK"}]`)},
			{"result", []Field{{"code", 0}, {"message", "OK"}}}})
	case MethodPaymentC2B:
		s.servePayment(w, C2B, req)
	case MethodPaymentB2C:
		s.servePayment(w, B2C, req)
	}
}

// authentic checks the public id, the merchant id and the signature.
func (s *Simulator) authentic(publicID string, req map[string]json.RawMessage, body []byte) bool {
	merchant, _ := sources.LooseString(req["merchant_id"])
	sig, err := signatureOf(body)
	if err != nil || sig == "" || publicID != s.publicID || merchant != s.merchantID {
		return false
	}
	c, err := Canonicalize(body)
	return err == nil && Matches(s.key, c, sig)
}

func (s *Simulator) serveStatus(w http.ResponseWriter, orderID string) {
	s.mu.Lock()
	tx, ok := s.txs[orderID]
	var fields []Field
	if ok {
		fields = s.statusAnswer(*tx)
	}
	s.mu.Unlock()
	if !ok {
		s.answer(w, http.StatusOK, errorAnswer(orderID, CodeNotFound, "Order not found"))
		return
	}
	s.answer(w, http.StatusOK, fields)
}

// servePayment starts (or, for an order_id already used, repeats the
// answer of) a payment_c2b or payment_b2c.
func (s *Simulator) servePayment(w http.ResponseWriter, op Operation, req map[string]json.RawMessage) {
	str := func(k string) string { v, _ := sources.LooseString(req[k]); return strings.TrimSpace(v) }
	orderID, customer, amount, country, callback := str("order_id"), str("customer_id"), str("amount"), str("country"), str("callback_url")
	for _, k := range []string{"order_id", "customer_id", "amount", "currency", "provider_id"} {
		if str(k) == "" {
			s.answer(w, http.StatusOK, errorAnswer(orderID, CodeInvalid, "Missing required parameter "+k))
			return
		}
	}
	provider, err := strconv.Atoi(str("provider_id"))
	if err != nil {
		s.answer(w, http.StatusOK, errorAnswer(orderID, CodeInvalid, "provider_id is not an integer"))
		return
	}
	cur, err := reconcile.ParseCurrency(str("currency"))
	if err != nil {
		s.answer(w, http.StatusOK, errorAnswer(orderID, CodeInvalid, "Unsupported currency"))
		return
	}
	s.mu.Lock()
	if tx, ok := s.txs[orderID]; ok { // idempotent on order_id
		fields := s.statusAnswer(*tx)
		s.mu.Unlock()
		s.answer(w, http.StatusOK, fields)
		return
	}
	s.mu.Unlock()
	if err := CheckAmount(op, country, provider, amount, cur); err != nil {
		s.answer(w, http.StatusOK, errorAnswer(orderID, CodeInvalid, strings.TrimPrefix(err.Error(), "pixel: ")))
		return
	}
	s.mu.Lock()
	tx := Tx{
		OrderID: orderID, Operation: string(op), TransactionID: s.newTxID(), Status: StatusInProgress,
		Amount: amount, Currency: cur, Country: country, CustomerID: customer, ProviderID: provider,
		MerchantID: s.merchantID, At: s.now().Truncate(time.Microsecond), CallbackURL: callback,
	}
	final := StatusSuccess
	if provider != SimulatorProviderID {
		tx.TransactionRef = s.newRef()
		if s.rng.IntN(10) == 0 {
			final = StatusFailed
		}
	}
	s.plant(tx)
	fields := s.statusAnswer(tx)
	s.mu.Unlock()
	s.answer(w, http.StatusOK, fields)
	if provider != SimulatorProviderID && callback != "" {
		s.scheduleCallback(orderID, final)
	}
}

// scheduleCallback settles the operation with final status and posts its
// callback after the delay.
func (s *Simulator) scheduleCallback(orderID string, final int) {
	s.deliveries.After(s.delay, func(ctx context.Context) {
		s.mu.Lock()
		tx := s.txs[orderID]
		tx.Status = final
		c := *tx
		s.mu.Unlock()
		if s.inj.DropCallback() {
			s.logger.Info("pixel simulator: callback dropped", "order_id", orderID)
			return
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := s.post(ctx, c.CallbackURL, c); err != nil {
			s.logger.Warn("pixel simulator: callback failed", "order_id", orderID, "err", err)
		}
	})
}

// Callback returns the signed callback the simulator sends for tx.
func (s *Simulator) Callback(tx Tx) []byte {
	op := OperationC2B
	if tx.Operation == string(B2C) {
		op = OperationB2C
	}
	amount := any(tx.Amount)
	if plainAmount.MatchString(tx.Amount) {
		amount = json.Number(tx.Amount) // the documents send a number
	}
	fields := []Field{
		{"merchant_id", cmp.Or(tx.MerchantID, s.merchantID)}, {"operation_type", op}, {"customer_id", tx.CustomerID},
		{"amount", amount}, {"order_id", tx.OrderID}, {"transaction_id", tx.TransactionID},
		{"transaction_ref", tx.TransactionRef}, {"status", tx.Status}, {"provider_id", tx.ProviderID},
		{"destination_id", ""}, {"result", []Field{{"code", 0}, {"message", "OK"}}},
		{"provider_result", providerResult(tx)}, {"service_id", 1}, {"service_version", serviceVersion},
		{"service_date_time", s.serviceTime(tx.At)},
	}
	return s.sign(fields)
}

// StatusAnswer returns the signed answer the simulator gives to status for
// tx (the demo fixtures import such answers as Pixel sent them).
func (s *Simulator) StatusAnswer(tx Tx) []byte { return s.sign(s.statusAnswer(tx)) }

// post sends tx's callback to url.
func (s *Simulator) post(ctx context.Context, url string, tx Tx) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(s.Callback(tx)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("callback answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// PostCallbacks posts the callback of every operation serviced in w that
// calls back (not provider 14, not still in progress) to url, in time
// order, and returns how many were delivered. Injected DropCallbacks apply.
func (s *Simulator) PostCallbacks(ctx context.Context, url string, w reconcile.Window) (int, error) {
	txs := s.Transactions()
	slices.SortStableFunc(txs, func(a, b Tx) int { return a.At.Compare(b.At) })
	n := 0
	for _, tx := range txs {
		if !w.Contains(tx.At) || tx.ProviderID == SimulatorProviderID || !Final(tx.Status) {
			continue
		}
		if s.inj.DropCallback() {
			continue
		}
		if err := s.post(ctx, url, tx); err != nil {
			return n, fmt.Errorf("pixel simulator: callback of %s: %w", tx.OrderID, err)
		}
		n++
	}
	return n, nil
}

// EmitWebhooks posts the callbacks of w to SimOptions.WebhookURL.
func (s *Simulator) EmitWebhooks(ctx context.Context, w reconcile.Window) (int, error) {
	if s.opts.WebhookURL == "" {
		return 0, fmt.Errorf("pixel simulator: no webhook URL to post callbacks to")
	}
	return s.PostCallbacks(ctx, s.opts.WebhookURL, w)
}

// statusAnswer is the answer to status (and to the payment request) for
// tx, in the documents' shape. Callers hold mu.
func (s *Simulator) statusAnswer(tx Tx) []Field {
	f := []Field{
		{"order_id", tx.OrderID}, {"transaction_id", tx.TransactionID}, {"transaction_ref", tx.TransactionRef},
		{"status", tx.Status}, {"result", []Field{{"code", 0}, {"message", "OK"}}},
		{"provider_result", providerResult(tx)},
	}
	if tx.Status == StatusInProgress && tx.ProviderID != SimulatorProviderID {
		f = append(f, Field{"extra", []Field{{"customer_message", "Complete the payment by following the instructions received by USSD"}}})
	}
	return append(f, Field{"service_id", 1}, Field{"service_version", serviceVersion},
		Field{"service_date_time", s.serviceTime(tx.At)}, Field{"confirm_type", 0})
}

// providerResult is the channel's own result: -8888 "Good" for the
// simulator channel, as document 003 prints it.
func providerResult(tx Tx) []Field {
	if tx.ProviderID == SimulatorProviderID {
		return []Field{{"code", -8888}, {"message", "Good"}}
	}
	if tx.Status == StatusFailed {
		return []Field{{"code", 1}, {"message", "Declined by the customer"}}
	}
	return []Field{{"code", 0}, {"message", "OK"}}
}

// serviceTime writes t as service_date_time: zone-less, in PIXEL_TZ.
func (s *Simulator) serviceTime(t time.Time) string {
	return t.In(s.zone).Format("2006-01-02 15:04:05.000000")
}

// errorAnswer is a refused request's answer.
func errorAnswer(orderID string, code int, msg string) []Field {
	return []Field{{"order_id", orderID}, {"transaction_id", ""}, {"transaction_ref", ""}, {"status", StatusUndefined},
		{"result", []Field{{"code", code}, {"message", msg}}}}
}

// sign encodes fields and appends their signature.
func (s *Simulator) sign(fields []Field) []byte {
	body, err := EncodeFields(fields)
	if err == nil {
		body, err = Signed(s.key, body)
	}
	if err != nil {
		panic("pixel simulator: encoding an answer: " + err.Error()) // fields are the simulator's own
	}
	return body
}

// answer writes a signed answer.
func (s *Simulator) answer(w http.ResponseWriter, status int, fields []Field) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(s.sign(fields))
}

// writeFault is the Injector's error body: Pixel's error shape.
func (s *Simulator) writeFault(w http.ResponseWriter, status int, msg string) {
	s.answer(w, status, errorAnswer("", CodeInvalid, msg))
}
