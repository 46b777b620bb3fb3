package kora

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Simulator speaks Kora's merchant API (SPEC §8): POST /charge/voucher with
// document 001's outcomes, GET /charges/{reference}, GET /pay-ins with
// pointer paging, and charge.* and transfer.* webhooks signed over data. It
// implements sources.Simulator and sources.WebhookEmitter.
//
// Test vouchers (16-digit PINs; provider codes 0001 and 0003 are active,
// 0002 is a provider not active for the merchant, anything else unsupported):
//
//	…0000 invalid PIN (400)         …0002 insufficient funds (402)
//	…0003 partial redemption (half) …0004 amount above what is due (400)
//	…0005 system error (500)        any other PIN: redeemed in full
//
// A PIN redeemed once is used (400 "The voucher has already been used.").
type Simulator struct {
	seed     int64
	quiet    bool
	secret   string
	zone     *time.Location
	webhook  string
	delay    time.Duration
	logger   *slog.Logger
	faults   *sources.Injector
	handler  http.Handler
	fixtures []Charge

	mu      sync.Mutex
	created []Charge
	used    map[string]bool

	deliveries *sources.Deliveries
}

var (
	_ sources.Simulator      = (*Simulator)(nil)
	_ sources.WebhookEmitter = (*Simulator)(nil)
)

// NewSimulator returns a simulator configured by opts: the secret key from
// KORA_SECRET_KEY (default SandboxSecretKey), the zone from KORA_TZ, planted
// charges from opts.Fixtures (LoadCharges' format).
func NewSimulator(opts sources.SimOptions) (*Simulator, error) {
	fixtures, err := LoadCharges(opts.Fixtures)
	if err != nil {
		return nil, err
	}
	zoneName := cmp.Or(opts.Getenv(EnvTZ), DefaultZone)
	zone, err := time.LoadLocation(zoneName)
	if err != nil {
		return nil, fmt.Errorf("kora simulator: %s %q: %w", EnvTZ, zoneName, err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Simulator{
		seed: opts.Seed, quiet: opts.Quiet, secret: cmp.Or(opts.Getenv(EnvSecretKey), SandboxSecretKey),
		zone: zone, webhook: opts.WebhookURL, delay: opts.CallbackDelay, logger: logger,
		fixtures: fixtures, used: map[string]bool{}, deliveries: sources.NewDeliveries(),
	}
	if s.delay <= 0 {
		s.delay = 200 * time.Millisecond
	}
	s.faults = sources.NewInjector(opts.Faults, opts.Seed, writeError)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /charge/voucher", s.auth(s.handleVoucher))
	mux.HandleFunc("GET /charges/{reference}", s.auth(s.handleCharge))
	mux.HandleFunc("GET /pay-ins", s.auth(s.handlePayIns))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Route not found")
	})
	s.handler = s.faults.Middleware(mux, s.deliveries.Done())
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// ClientEnv implements sources.Simulator.
func (s *Simulator) ClientEnv(baseURL string) map[string]string {
	return map[string]string{EnvBaseURL: baseURL, EnvSecretKey: s.secret, EnvTZ: s.zone.String(), EnvCurrencies: strings.Join(s.currencies(), ",")}
}

// SecretKey returns the key the simulator accepts and signs webhooks with.
func (s *Simulator) SecretKey() string { return s.secret }

// Close stops webhook deliveries in flight.
func (s *Simulator) Close() error {
	s.deliveries.Close()
	return nil
}

// currencies lists the currencies of the planted charges, NGN first.
func (s *Simulator) currencies() []string {
	out := []string{"NGN"}
	for _, c := range s.fixtures {
		if !slices.Contains(out, c.Currency) {
			out = append(out, c.Currency)
		}
	}
	return out
}

// writeError writes Kora's error document (document 001: {status: false,
// message, data: null}).
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"status": false, "message": msg, "data": nil})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	if js, err := Stringify(body); err == nil {
		body = js // as Kora's Node servers print it
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// auth refuses a request without "Authorization: Bearer <secret key>".
func (s *Simulator) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.secret)) != 1 {
			writeError(w, http.StatusUnauthorized, "Invalid authorization key")
			return
		}
		h(w, r)
	}
}

// Charges returns every pay-in (Kind "charge") the simulator serves whose
// creation time lies in w, in listing order.
func (s *Simulator) Charges(w reconcile.Window) []Charge {
	return filterKind(s.all(w), "charge")
}

// all returns every transaction of w: generated, planted and created, in
// time then reference order.
func (s *Simulator) all(w reconcile.Window) []Charge {
	var out []Charge
	if !s.quiet && w.From.Before(w.To) {
		for h := w.From.UTC().Truncate(time.Hour); h.Before(w.To); h = h.Add(time.Hour) {
			for _, c := range s.hour(h) {
				if w.Contains(c.At) {
					out = append(out, c)
				}
			}
		}
		for d := w.From.UTC().Truncate(24 * time.Hour); d.Before(w.To); d = d.Add(24 * time.Hour) {
			for _, c := range s.transfers(d) {
				if w.Contains(c.At) {
					out = append(out, c)
				}
			}
		}
	}
	s.mu.Lock()
	for _, c := range append(slices.Clone(s.fixtures), s.created...) {
		if w.Contains(c.At) {
			out = append(out, c)
		}
	}
	s.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Charge) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.koraRef(), b.koraRef())
	})
	return out
}

func filterKind(cs []Charge, kind string) []Charge {
	out := cs[:0:0]
	for _, c := range cs {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// find returns the charge whose merchant or Kora reference is ref.
func (s *Simulator) find(ref string) (Charge, bool) {
	match := func(c Charge) bool {
		return c.Kind == "charge" && (c.Reference == ref || c.TransactionReference == ref)
	}
	s.mu.Lock()
	for _, c := range append(slices.Clone(s.created), s.fixtures...) {
		if match(c) {
			s.mu.Unlock()
			return c, true
		}
	}
	s.mu.Unlock()
	// A generated charge names its hour: sim-<unix hour>-<n>.
	for _, c := range s.generatedFor(ref) {
		if match(c) {
			return c, true
		}
	}
	return Charge{}, false
}

func (s *Simulator) generatedFor(ref string) []Charge {
	ref = strings.TrimPrefix(ref, "KPY-CA-")
	rest, ok := strings.CutPrefix(ref, generatedRefPrefix)
	if !ok {
		// A Kora reference of a generated charge is a hash: look it up in
		// the hours of the last year would be slow, so only merchant
		// references are found this way, as Kora's own lookup by merchant
		// reference works.
		return nil
	}
	hourText, _, _ := strings.Cut(rest, "-")
	h, err := strconv.ParseInt(hourText, 10, 64)
	if err != nil || s.quiet {
		return nil
	}
	return s.hour(time.Unix(h*3600, 0).UTC())
}

// row is c as a row of the pay-ins history (Kora's pay-ins guide: amounts
// and fee as major-unit strings, zone-less date_created). payment_reference
// and vat are not in the guide's example row; Kora's charge objects carry
// them, and the simulator serves them so a row can be matched to the
// merchant's reference.
func (s *Simulator) row(c Charge) map[string]any {
	r := map[string]any{
		"pointer":             "pyi_" + shortHash(c.koraRef()),
		"reference":           c.koraRef(),
		"payment_reference":   c.Reference,
		"status":              c.Status,
		"amount":              cmp.Or(c.AmountExpected, c.Amount),
		"amount_paid":         c.Amount,
		"amount_expected":     cmp.Or(c.AmountExpected, c.Amount),
		"fee":                 cmp.Or(c.Fee, "0.00"),
		"vat":                 cmp.Or(c.VAT, "0.00"),
		"currency":            c.Currency,
		"description":         cmp.Or(c.Description, "Voucher payment"),
		"payment_method":      c.PaymentMethod,
		"merchant_bears_cost": c.bearsCost(),
		"message":             message(c.Status),
		"date_created":        c.At.In(s.zone).Format(time.DateTime),
		"date_completed":      nil,
	}
	if c.Status == "success" || c.Status == "failed" {
		r["date_completed"] = c.At.Add(20 * time.Second).In(s.zone).Format(time.DateTime)
	}
	return r
}

func message(status string) string {
	switch status {
	case "success":
		return "Successful"
	case "failed":
		return "Transaction failed"
	}
	return "Transaction is processing"
}

// handlePayIns serves GET /pay-ins?currency&date_from&date_to&limit&starting_after.
func (s *Simulator) handlePayIns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	win := reconcile.Window{From: time.Unix(0, 0).UTC(), To: time.Now().Add(24 * time.Hour)}
	for name, t := range map[string]*time.Time{"date_from": &win.From, "date_to": &win.To} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		at, err := time.ParseInLocation(QueryTimeLayout, v, s.zone)
		if err != nil {
			writeError(w, http.StatusBadRequest, name+" must be in the format YYYY-MM-DD-HH-MM-SS")
			return
		}
		*t = at
	}
	if q.Get("date_from") == "" {
		// Without date_from the simulator lists the last 31 days (generated
		// data exists for every hour since 1970).
		win.From = win.To.AddDate(0, 0, -31)
	}
	// date_to is inclusive of its second.
	win.To = win.To.Add(time.Second)
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "limit must be a number from 1 to 100")
			return
		}
		limit = n
	}
	if q.Get("starting_after") != "" && q.Get("ending_before") != "" {
		writeError(w, http.StatusBadRequest, "starting_after and ending_before cannot be used together")
		return
	}
	cur := strings.ToUpper(q.Get("currency"))
	var rows []map[string]any
	if win.From.Before(win.To) {
		for _, c := range s.Charges(win) {
			if cur == "" || c.Currency == cur {
				rows = append(rows, s.row(c))
			}
		}
	}
	start, end := 0, len(rows)
	if p := q.Get("starting_after"); p != "" {
		i := slices.IndexFunc(rows, func(r map[string]any) bool { return r["pointer"] == p })
		if i < 0 {
			writeError(w, http.StatusBadRequest, "Invalid pointer")
			return
		}
		start = i + 1
	}
	if p := q.Get("ending_before"); p != "" {
		i := slices.IndexFunc(rows, func(r map[string]any) bool { return r["pointer"] == p })
		if i < 0 {
			writeError(w, http.StatusBadRequest, "Invalid pointer")
			return
		}
		end, start = i, max(0, i-limit)
	}
	page := rows[start:min(end, start+limit)]
	if page == nil {
		page = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status": true, "message": "Pay-ins retrieved successfully",
		"has_more": start+len(page) < end, "data": page,
	})
}

// verification is c as GET /charges/{reference} returns it.
func (s *Simulator) verification(c Charge) map[string]any {
	return map[string]any{
		"reference":             c.Reference,
		"payment_reference":     c.Reference,
		"transaction_reference": c.koraRef(),
		"status":                c.Status,
		"amount":                cmp.Or(c.AmountExpected, c.Amount),
		"amount_paid":           c.Amount,
		"amount_expected":       cmp.Or(c.AmountExpected, c.Amount),
		"fee":                   cmp.Or(c.Fee, "0.00"),
		"vat":                   cmp.Or(c.VAT, "0.00"),
		"currency":              c.Currency,
		"description":           cmp.Or(c.Description, "Voucher payment"),
		"payment_method":        c.PaymentMethod,
		"merchant_bears_cost":   c.bearsCost(),
		"transaction_date":      c.At.In(s.zone).Format(time.DateTime),
	}
}

// handleCharge serves GET /charges/{reference}.
func (s *Simulator) handleCharge(w http.ResponseWriter, r *http.Request) {
	c, ok := s.find(r.PathValue("reference"))
	if !ok {
		writeError(w, http.StatusNotFound, "Charge not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": true, "message": "Charge retrieved successfully", "data": s.verification(c)})
}

// handleVoucher serves POST /charge/voucher (document 001).
func (s *Simulator) handleVoucher(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Could not read the request")
		return
	}
	var req struct {
		Amount            json.Number `json:"amount"`
		Currency          string      `json:"currency"`
		MerchantBearsCost *bool       `json:"merchant_bears_cost"`
		NotificationURL   string      `json:"notification_url"`
		Description       string      `json:"description"`
		Reference         string      `json:"reference"`
		Voucher           struct {
			PIN          json.RawMessage `json:"pin"` // a number or a string (document 001 says number)
			PhoneNumber  string          `json:"phone_number"`
			ProviderCode string          `json:"provider_code"`
		} `json:"voucher"`
		Customer struct {
			Email string `json:"email"`
			Name  string `json:"name"`
		} `json:"customer"`
	}
	if err := sources.DecodeObject(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid request body")
		return
	}
	pin, _ := sources.LooseString(req.Voucher.PIN)
	cur, curErr := reconcile.ParseCurrency(req.Currency)
	amount, amountErr := reconcile.ParseMajor(req.Amount.String(), cur)
	switch {
	case req.Reference == "":
		writeError(w, http.StatusBadRequest, "reference is required")
		return
	case curErr != nil:
		writeError(w, http.StatusBadRequest, "currency is not supported")
		return
	case amountErr != nil || amount.Minor <= 0:
		writeError(w, http.StatusBadRequest, "amount must be a positive number")
		return
	case req.MerchantBearsCost == nil:
		writeError(w, http.StatusBadRequest, "merchant_bears_cost is required")
		return
	case pin == "" || req.Voucher.PhoneNumber == "" || req.Voucher.ProviderCode == "":
		writeError(w, http.StatusBadRequest, "voucher.pin, voucher.phone_number and voucher.provider_code are required")
		return
	case req.Customer.Email == "":
		writeError(w, http.StatusBadRequest, "customer.email is required")
		return
	}
	switch req.Voucher.ProviderCode {
	case "0001", "0003":
	case "0002":
		writeError(w, http.StatusForbidden, "The voucher provider is not active for this merchant.")
		return
	default:
		writeError(w, http.StatusBadRequest, "The selected provider code is not supported.")
		return
	}
	if len(pin) != 16 || strings.Trim(pin, "0123456789") != "" || strings.HasSuffix(pin, "0000") {
		writeError(w, http.StatusBadRequest, "The voucher pin you have entered is invalid.")
		return
	}
	switch {
	case strings.HasSuffix(pin, "0002"):
		writeError(w, http.StatusPaymentRequired, "Voucher funds are lower than the transaction amount.")
		return
	case strings.HasSuffix(pin, "0004"):
		writeError(w, http.StatusBadRequest, "The amount provided exceeds the required amount.")
		return
	case strings.HasSuffix(pin, "0005"):
		writeError(w, http.StatusInternalServerError, "An unexpected system error occurred.")
		return
	}
	exp, _ := cur.Exponent()
	taken, asked := amount.Minor, amount.Minor
	if strings.HasSuffix(pin, "0003") {
		taken = asked / 2
	}
	fee, vat := voucherFee(taken)
	c := Charge{
		Kind: "charge", Reference: req.Reference, Currency: string(cur),
		Amount: reconcile.FormatMinor(taken, exp), Fee: reconcile.FormatMinor(fee, exp), VAT: reconcile.FormatMinor(vat, exp),
		MerchantBearsCost: req.MerchantBearsCost, Status: "success", PaymentMethod: "voucher",
		Description: req.Description, At: time.Now().UTC().Truncate(time.Second),
	}
	if taken < asked {
		c.AmountExpected = reconcile.FormatMinor(asked, exp)
	}
	if err := c.normalize(); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid amount")
		return
	}
	s.mu.Lock()
	switch {
	case s.used[pin]:
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "The voucher has already been used.")
		return
	case slices.ContainsFunc(s.created, func(x Charge) bool { return x.Reference == c.Reference }):
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Duplicate transaction reference")
		return
	}
	s.used[pin] = true
	s.created = append(s.created, c)
	s.mu.Unlock()

	data := map[string]any{
		"currency":              c.Currency,
		"amount":                json.Number(jsNumber(c.Amount)),
		"fee":                   json.Number(jsNumber(c.Fee)),
		"vat":                   json.Number(jsNumber(c.VAT)),
		"transaction_reference": c.TransactionReference,
		"payment_reference":     c.Reference,
		"status":                c.Status,
		// Document 001's response echoes the voucher, PIN included.
		"voucher": map[string]any{
			"serial_number": "2025" + pin[:12],
			"balance":       json.Number(jsNumber(reconcile.FormatMinor(asked-taken, exp))),
			"pin":           pin,
			"expiry_date":   c.At.AddDate(2, 0, 0).In(s.zone).Format(time.DateTime),
		},
		"customer": map[string]any{"name": req.Customer.Name, "email": req.Customer.Email},
	}
	if c.AmountExpected != "" {
		data["amount_expected"] = json.Number(jsNumber(c.AmountExpected))
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": true, "message": "Charge Successful", "data": data})
	if url := cmp.Or(req.NotificationURL, s.webhook); url != "" {
		s.deliverLater(url, c)
	}
}

// deliverLater posts c's webhook after the callback delay.
func (s *Simulator) deliverLater(url string, c Charge) {
	s.deliveries.After(s.delay, func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if s.faults.DropCallback() {
			s.logger.Info("kora simulator dropped a webhook", "reference", c.Reference)
			return
		}
		if err := s.deliver(ctx, url, s.Webhook(c)); err != nil {
			s.logger.Warn("kora simulator webhook not delivered", "reference", c.Reference, "err", err)
		}
	})
}

// Webhook returns the webhook body Kora sends for c: {event, data}, data
// with the fields of Kora's webhook guide (amounts and fee as numbers).
func (s *Simulator) Webhook(c Charge) []byte {
	event := "charge."
	if c.Kind == "transfer" {
		event = "transfer."
	}
	switch c.Status {
	case "success":
		event += "success"
	default:
		event += "failed"
	}
	var data map[string]any
	if c.Kind == "transfer" {
		data = map[string]any{
			"reference": c.Reference, "currency": c.Currency, "amount": json.Number(jsNumber(c.Amount)),
			"fee": json.Number(jsNumber(cmp.Or(c.Fee, "0"))), "status": c.Status,
			"narration": cmp.Or(c.Description, "Payout"), "transaction_date": c.At.In(s.zone).Format(time.DateTime),
		}
		if c.VAT != "" {
			data["vat"] = json.Number(jsNumber(c.VAT))
		}
	} else {
		data = map[string]any{
			"reference": c.koraRef(), "payment_reference": c.Reference, "currency": c.Currency,
			"amount": json.Number(jsNumber(c.Amount)), "fee": json.Number(jsNumber(cmp.Or(c.Fee, "0"))),
			"vat": json.Number(jsNumber(cmp.Or(c.VAT, "0"))), "status": c.Status,
			"payment_method": c.PaymentMethod, "merchant_bears_cost": c.bearsCost(),
			"transaction_date": c.At.In(s.zone).Format(time.DateTime),
		}
		if c.AmountExpected != "" {
			data["amount_expected"] = json.Number(jsNumber(c.AmountExpected))
		}
	}
	body, _ := json.Marshal(map[string]any{"event": event, "data": data})
	js, err := Stringify(body)
	if err != nil {
		return body
	}
	return js
}

// deliver posts one signed webhook body.
func (s *Simulator) deliver(ctx context.Context, url string, body []byte) error {
	data, err := DataMember(body)
	if err != nil {
		return err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(s.secret, compact.Bytes()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook receiver answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// Webhooks returns the bodies of every webhook of w's transactions, in time
// order (those marked NoWebhook left out).
func (s *Simulator) Webhooks(w reconcile.Window) [][]byte {
	var out [][]byte
	for _, c := range s.all(w) {
		if c.NoWebhook || (c.Status != "success" && c.Status != "failed") {
			continue
		}
		out = append(out, s.Webhook(c))
	}
	return out
}

// EmitWebhooks posts the webhooks of w's transactions to SimOptions.WebhookURL,
// signed; it implements sources.WebhookEmitter. Injected DropCallbacks skip
// some. It returns how many were delivered.
func (s *Simulator) EmitWebhooks(ctx context.Context, w reconcile.Window) (int, error) {
	if s.webhook == "" {
		return 0, errors.New("kora simulator: no webhook URL to emit to")
	}
	n := 0
	var firstErr error
	for _, body := range s.Webhooks(w) {
		if s.faults.DropCallback() {
			continue
		}
		if err := s.deliver(ctx, s.webhook, body); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		n++
	}
	return n, firstErr
}
