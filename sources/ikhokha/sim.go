package ikhokha

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Sandbox credentials of the simulator when neither SimOptions.Env nor the
// environment sets IK_APPID, IK_APPSECRET or IK_ENTITYID.
const (
	SandboxAppID     = "IKSANDBOXAPP00000000000000000001"
	SandboxAppSecret = "ikSandboxSecret-0000-not-a-real-key"
	SandboxEntityID  = "IKSANDBOXENTITY01"
)

// defaultCallbackDelay is how long a created link waits for its simulated
// customer.
const defaultCallbackDelay = 2 * time.Second

// Sim simulates the iK Pay API (SPEC §8) as the sandbox mounts it, under
// /ikhokha with the prefix stripped:
//
//   - POST /payment and POST /paymentLink create a link from either request
//     shape (the vendor document's flat callbackUrl/successUrl/failureUrl/
//     cancelUrl, or the public examples' urls object with mode and
//     externalEntityID); the same externalTransactionID and amount while
//     the link is pending gets the same link back.
//   - GET /getStatus/{paylinkID} and GET /paymentLink/{paylinkID} answer
//     link status; GET /payments/history?startDate=&endDate= (YYYY-MM-DD,
//     both included, in Africa/Johannesburg; RFC 3339 instants accepted)
//     lists every link with an outcome or refund on those days.
//   - Paths are also served under /public-api/v1/api and /api, as a client
//     configured with the real API's path would send them.
//   - Every API request must carry IK-APPID and an IK-SIGN over the path as
//     the client sent it (sources.OriginalPath) plus the body, as
//     iKhokha's examples sign, or over the body alone, as the vendor
//     document says; anything else is 401 with responseCode 02.
//   - A created link is paid by its simulated customer after the callback
//     delay — by card, unless its cents are 05, 12 or 51, which decline
//     with that code — and its webhook is posted, signed, to its
//     callbackUrl (else SimOptions.WebhookURL). POST
//     /sandbox/links/{paylinkID}/{pay|fail|cancel|expire|refund} drives a
//     link by hand (pay?method=eft|card|international_card,
//     fail?code=05, refund?amount=CENTS).
//   - GET /pay/{paylinkID} is the hosted payment page paylinkUrl points at.
//
// Links come from the seed, a deterministic set for every business day,
// and from SimOptions.Fixtures (JSONL Link documents); Quiet drops the
// generated ones. Faults are the shared sources.Injector's.
type Sim struct {
	opts    sources.SimOptions
	appID   string
	secret  string
	entity  string
	zone    *time.Location
	gen     generator
	inj     *sources.Injector
	handler http.Handler
	logger  *slog.Logger
	client  *http.Client
	delay   time.Duration

	mu    sync.Mutex
	links map[string]*Link // fixtures, created links and changed generated ones
	order []string         // ids of links, in insertion order
	byExt map[string]string
	next  int

	// deliveries run the simulated customers (who pay or fail a link a
	// delay after it is created) and post the webhooks.
	deliveries *sources.Deliveries
}

// NewSimulator returns a simulator configured by opts.
func NewSimulator(opts sources.SimOptions) (*Sim, error) {
	zone, err := time.LoadLocation("Africa/Johannesburg")
	if err != nil {
		return nil, fmt.Errorf("ikhokha simulator: %w", err)
	}
	s := &Sim{
		opts:   opts,
		appID:  cmp.Or(strings.TrimSpace(opts.Getenv(EnvAppID)), SandboxAppID),
		secret: cmp.Or(strings.TrimSpace(opts.Getenv(EnvAppSecret)), SandboxAppSecret),
		entity: cmp.Or(strings.TrimSpace(opts.Getenv(EnvEntityID)), SandboxEntityID),
		zone:   zone,
		logger: cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
		client: &http.Client{Timeout: 10 * time.Second},
		delay:  cmp.Or(opts.CallbackDelay, defaultCallbackDelay),
		links:  map[string]*Link{},
		byExt:  map[string]string{},

		deliveries: sources.NewDeliveries(),
	}
	s.gen = generator{seed: opts.Seed, zone: zone, entity: s.entity}
	fixtures, err := ParseFixtures(opts.Fixtures)
	if err != nil {
		return nil, err
	}
	for _, l := range fixtures {
		if _, dup := s.links[l.PaylinkID]; dup {
			return nil, fmt.Errorf("ikhokha fixtures: paylinkID %s twice", l.PaylinkID)
		}
		if l.EntityID == "" {
			l.EntityID = s.entity
		}
		s.put(l)
	}
	s.inj = sources.NewInjector(opts.Faults, opts.Seed, func(w http.ResponseWriter, status int, msg string) {
		code := "99"
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			code = "91"
		}
		writeJSON(w, status, map[string]any{"responseCode": code, "message": msg})
	})
	s.handler = s.inj.Middleware(http.HandlerFunc(s.route), s.deliveries.Done())
	return s, nil
}

// put stores l (s.mu held or not yet shared).
func (s *Sim) put(l *Link) {
	if _, ok := s.links[l.PaylinkID]; !ok {
		s.order = append(s.order, l.PaylinkID)
	}
	s.links[l.PaylinkID] = l
	if l.ExternalTransactionID != "" {
		s.byExt[l.ExternalTransactionID] = l.PaylinkID
	}
}

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// ClientEnv implements sources.Simulator.
func (s *Sim) ClientEnv(baseURL string) map[string]string {
	return map[string]string{EnvBaseURL: baseURL, EnvAppID: s.appID, EnvAppSecret: s.secret, EnvEntityID: s.entity}
}

// Credentials returns the application id and secret the simulator accepts.
func (s *Sim) Credentials() (appID, secret string) { return s.appID, s.secret }

// EntityID is the entity of the simulator's generated links.
func (s *Sim) EntityID() string { return s.entity }

// Close stops the simulated customers and waits for webhooks in flight.
func (s *Sim) Close() error {
	s.deliveries.Close()
	return nil
}

// apiPath strips the real API's own path, should the client send it.
func apiPath(p string) string {
	for _, prefix := range []string{"/public-api/v1/api", "/public-api/v1", "/api"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok && (rest == "" || rest[0] == '/') {
			return rest
		}
	}
	return p
}

func (s *Sim) route(w http.ResponseWriter, r *http.Request) {
	p := apiPath(r.URL.Path)
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "pay":
		s.payPage(w, r, parts[1])
		return
	case r.Method == http.MethodPost && len(parts) == 4 && parts[0] == "sandbox" && parts[1] == "links":
		s.drive(w, r, parts[2], parts[3])
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "01", "Invalid request parameters: body too large or unreadable")
		return
	}
	if !s.signed(r, body) {
		writeError(w, http.StatusUnauthorized, "02", "Authentication failed: IK-APPID or IK-SIGN is not valid")
		return
	}
	switch {
	case r.Method == http.MethodPost && len(parts) == 1 && (parts[0] == "payment" || parts[0] == "paymentLink"):
		s.create(w, r, body)
	case r.Method == http.MethodGet && len(parts) == 2 && (parts[0] == "getStatus" || parts[0] == "paymentLink"):
		s.status(w, parts[1])
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "payments" && parts[1] == "history":
		s.history(w, r)
	default:
		writeError(w, http.StatusNotFound, "04", "Resource not found: "+r.Method+" "+p)
	}
}

// signed checks IK-APPID and IK-SIGN against the path the client sent.
func (s *Sim) signed(r *http.Request, body []byte) bool {
	v := Verifier{AppID: s.appID, AppSecret: s.secret}
	req := sources.Request{Method: r.Method, Path: sources.OriginalPath(r), Header: r.Header, Body: body}
	if v.Verify(req) == nil {
		return true
	}
	if prefix := r.Header.Get("X-Forwarded-Prefix"); prefix != "" {
		req.Path = strings.TrimRight(prefix, "/") + r.URL.EscapedPath()
		return v.Verify(req) == nil
	}
	return false
}

// createRequest is either shape of a create-link request.
type createRequest struct {
	EntityID              json.RawMessage `json:"entityID"`
	ExternalEntityID      json.RawMessage `json:"externalEntityID"`
	Amount                json.RawMessage `json:"amount"`
	Currency              string          `json:"currency"`
	RequesterURL          string          `json:"requesterUrl"`
	Description           string          `json:"description"`
	Mode                  string          `json:"mode"`
	ExternalTransactionID json.RawMessage `json:"externalTransactionID"`
	CallbackURL           string          `json:"callbackUrl"`
	SuccessURL            string          `json:"successUrl"`
	FailureURL            string          `json:"failureUrl"`
	CancelURL             string          `json:"cancelUrl"`
	URLs                  *struct {
		CallbackURL    string `json:"callbackUrl"`
		SuccessPageURL string `json:"successPageUrl"`
		FailurePageURL string `json:"failurePageUrl"`
		CancelURL      string `json:"cancelUrl"`
	} `json:"urls"`
}

func (s *Sim) create(w http.ResponseWriter, r *http.Request, body []byte) {
	var req createRequest
	invalid := func(why string) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"responseCode": "01", "message": "Invalid request parameters: " + why,
			"externalTransactionID": looseOr(req.ExternalTransactionID)})
	}
	if err := sources.DecodeObject(body, &req); err != nil {
		invalid("body is not a JSON object")
		return
	}
	ext, entity := looseOr(req.ExternalTransactionID), looseOr(req.EntityID)
	cur := cmp.Or(strings.TrimSpace(req.Currency), string(defaultCurrency))
	amount, known, err := sources.MinorAmount(req.Amount, reconcile.Currency(cur))
	switch {
	case ext == "":
		invalid("externalTransactionID is required")
		return
	case entity == "":
		invalid("entityID is required")
		return
	case err != nil || !known || amount.Minor <= 0:
		invalid("amount must be a positive whole number of cents")
		return
	case req.Mode != "" && req.Mode != "live" && req.Mode != "test":
		invalid("mode must be live or test")
		return
	}
	callback := req.CallbackURL
	if req.URLs != nil {
		callback = cmp.Or(req.URLs.CallbackURL, callback)
	}
	if callback != "" {
		if u, err := url.Parse(callback); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			invalid("callbackUrl must be an http(s) URL")
			return
		}
	}
	now := utc(time.Now())
	s.mu.Lock()
	l, ok := s.links[s.byExt[ext]]
	if !ok || l.Status != "pending" || l.Amount != amount.Minor {
		s.next++
		l = &Link{
			PaylinkID:             fmt.Sprintf("PLNEW%09d", s.next),
			ExternalTransactionID: ext, EntityID: entity, Amount: amount.Minor, Currency: string(amount.Currency),
			Status: "pending", Description: req.Description, CreatedAt: now, ExpiryAt: now.Add(24 * time.Hour),
			callbackURL: callback,
		}
		s.put(l)
		id := l.PaylinkID
		s.deliveries.After(s.delay, func(context.Context) { s.customer(id) })
	}
	resp := map[string]any{
		"responseCode": "00", "message": "Payment link created successfully",
		"paylinkUrl": baseOf(r) + "/pay/" + l.PaylinkID, "paylinkID": l.PaylinkID,
		"externalTransactionID": l.ExternalTransactionID, "amount": l.Amount, "currency": l.Currency,
		"expiry": l.ExpiryAt,
	}
	s.mu.Unlock()
	s.logger.Info("ikhokha simulator: link created", "paylinkID", l.PaylinkID, "externalTransactionID", ext, "amount", amount.String())
	writeJSON(w, http.StatusOK, resp)
}

// customer is the simulated customer of link id: it pays by card, or is
// declined when the cents are 05, 12 or 51.
func (s *Sim) customer(id string) {
	s.mu.Lock()
	l, ok := s.links[id]
	if !ok || l.Status != "pending" {
		s.mu.Unlock()
		return
	}
	code := fmt.Sprintf("%02d", l.Amount%100)
	if code == "05" || code == "12" || code == "51" {
		s.fail(l, code)
	} else {
		s.pay(l, MethodCard)
	}
	s.mu.Unlock()
	s.emit(id)
}

// pay and fail settle a pending link (s.mu held).
func (s *Sim) pay(l *Link, method string) {
	s.next++
	now := utc(time.Now())
	l.Status, l.PaidAt, l.TransactionID = "paid", &now, fmt.Sprintf("TXNEW%09d", s.next)
	switch method {
	case MethodEFT:
		l.PaymentMethod = "eft"
	case MethodInternationalCard:
		l.PaymentMethod, l.CardBrand, l.CardLastFour, l.CardOrigin, l.CardCountry = "card", "VISA", "4242", "international", "GB"
	default:
		l.PaymentMethod, l.CardBrand, l.CardLastFour, l.CardOrigin, l.CardCountry = "card", "VISA", "1111", "local", "ZA"
	}
}

func (s *Sim) fail(l *Link, code string) {
	s.next++
	now := utc(time.Now())
	l.Status, l.PaidAt, l.TransactionID, l.FailureCode = "failed", &now, fmt.Sprintf("TXNEW%09d", s.next), code
	l.PaymentMethod, l.CardBrand, l.CardLastFour, l.CardOrigin, l.CardCountry = "card", "MASTERCARD", "0002", "local", "ZA"
}

// link returns the link id, generated or stored (a copy; s.mu held).
func (s *Sim) link(id string) *Link {
	if l, ok := s.links[id]; ok {
		return l
	}
	if s.opts.Quiet {
		return nil
	}
	date, ok := dayOf(id)
	if !ok {
		return nil
	}
	for _, l := range s.gen.day(date) {
		if l.PaylinkID == id {
			return l
		}
	}
	return nil
}

func (s *Sim) status(w http.ResponseWriter, id string) {
	s.mu.Lock()
	l := s.link(id)
	var doc []byte
	if l != nil {
		doc = l.statusDoc()
	}
	s.mu.Unlock()
	if l == nil {
		writeError(w, http.StatusNotFound, "04", "Resource not found: no payment link "+id)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(doc)
}

// readDate reads a history bound: YYYY-MM-DD (the whole day) or RFC 3339.
func (s *Sim) readDate(v string, end bool) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, v, s.zone); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, v)
}

func (s *Sim) history(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err1 := s.readDate(q.Get("startDate"), false)
	to, err2 := s.readDate(q.Get("endDate"), true)
	switch {
	case err1 != nil || err2 != nil:
		writeError(w, http.StatusBadRequest, "01", "Invalid request parameters: startDate and endDate must be dates (YYYY-MM-DD)")
		return
	case !from.Before(to):
		writeError(w, http.StatusBadRequest, "01", "Invalid request parameters: endDate is before startDate")
		return
	case to.Sub(from) > 93*24*time.Hour:
		writeError(w, http.StatusBadRequest, "01", "Invalid request parameters: at most 93 days at a time")
		return
	}
	links := s.Links(reconcile.Window{From: from, To: to})
	rows := make([]json.RawMessage, len(links))
	for i, l := range links {
		b, _ := json.Marshal(l)
		rows[i] = b
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"responseCode": "00", "message": "Success",
		"startDate": q.Get("startDate"), "endDate": q.Get("endDate"), "payments": rows,
	})
}

// Links returns copies of the links with an outcome or a refund in w —
// generated ones (unless quiet), fixtures and created ones — by time.
func (s *Sim) Links(w reconcile.Window) []*Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Link
	in := func(l *Link) bool {
		return slices.ContainsFunc(l.times(), w.Contains)
	}
	if !s.opts.Quiet && w.From.Before(w.To) {
		for _, date := range days(w.From, w.To.Add(-time.Nanosecond), s.zone) {
			for _, l := range s.gen.day(date) {
				if _, changed := s.links[l.PaylinkID]; !changed && in(l) {
					out = append(out, l)
				}
			}
		}
	}
	// Generated links refunded after their day: the days before w hold
	// them (a refund comes at most two days later).
	if !s.opts.Quiet {
		for _, date := range days(w.From.AddDate(0, 0, -3), w.From.Add(-time.Nanosecond), s.zone) {
			for _, l := range s.gen.day(date) {
				if _, changed := s.links[l.PaylinkID]; !changed && !w.Contains(l.At()) && in(l) {
					out = append(out, l)
				}
			}
		}
	}
	for _, id := range s.order {
		if l := s.links[id]; in(l) {
			out = append(out, l.clone())
		}
	}
	slices.SortStableFunc(out, func(a, b *Link) int { return a.At().Compare(b.At()) })
	return out
}

// drive is the sandbox's hand on a link: pay, fail, cancel, expire, refund.
func (s *Sim) drive(w http.ResponseWriter, r *http.Request, id, action string) {
	q := r.URL.Query()
	s.mu.Lock()
	l := s.link(id)
	if l == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "04", "Resource not found: no payment link "+id)
		return
	}
	l = l.clone()
	now := utc(time.Now())
	var bad string
	webhook := true
	switch action {
	case "pay", "fail", "cancel", "expire":
		if l.Status != "pending" {
			bad = "the link is " + l.Status + ", not pending"
			break
		}
		switch action {
		case "pay":
			s.pay(l, cmp.Or(q.Get("method"), MethodCard))
		case "fail":
			s.fail(l, cmp.Or(q.Get("code"), "05"))
		case "cancel":
			l.Status, l.CancelledAt, webhook = "cancelled", &now, false
		case "expire":
			l.Status, l.ExpiryAt = "expired", now
		}
	case "refund":
		if l.Status != "paid" {
			bad = "only a paid link is refunded; this one is " + l.Status
			break
		}
		refunded := int64(0)
		for _, rf := range l.Refunds {
			refunded += rf.Amount
		}
		amount := l.Amount - refunded
		if v := q.Get("amount"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				bad = "amount must be a positive whole number of cents"
				break
			}
			amount = n
		}
		if amount <= 0 || refunded+amount > l.Amount {
			bad = "the refunds would exceed the payment"
			break
		}
		s.next++
		l.Refunds = append(l.Refunds, Refund{RefundID: fmt.Sprintf("RFNEW%09d", s.next), Amount: amount, Status: "completed", RefundedAt: now})
		webhook = false // iKhokha documents no refund event: status and history show it
	default:
		bad = "unknown action " + action + " (want pay, fail, cancel, expire or refund)"
	}
	if bad != "" {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "01", "Invalid request parameters: "+bad)
		return
	}
	s.put(l)
	doc := l.statusDoc()
	s.mu.Unlock()
	if webhook {
		s.emit(id)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(doc)
}

func (s *Sim) payPage(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	l := s.link(id)
	var amount, status string
	if l != nil {
		amount = reconcile.Money{Minor: l.Amount, Currency: reconcile.Currency(l.Currency)}.Human()
		status = l.Status
	}
	s.mu.Unlock()
	if l == nil {
		http.Error(w, "no such payment link", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>iK Pay (simulated)</title><h1>Pay %s</h1><p>Payment link %s is %s.</p>",
		html.EscapeString(amount), html.EscapeString(id), html.EscapeString(status))
}

// event is the webhook event of a link's outcome, "" when none is sent.
func event(l *Link) string {
	switch l.Status {
	case "paid":
		return EventPaid
	case "failed":
		return EventFailed
	case "expired":
		return EventExpired
	case "pending":
		return EventCreated
	}
	return ""
}

// webhookBody is the signed document of l's event.
func webhookBody(l *Link) []byte {
	b, _ := json.Marshal(map[string]any{"event": event(l), "timestamp": utc(l.At()), "data": l.webhookData()})
	return b
}

// emit posts link id's webhook in the background.
func (s *Sim) emit(id string) {
	s.mu.Lock()
	l := s.link(id)
	if l == nil || event(l) == "" {
		s.mu.Unlock()
		return
	}
	target := cmp.Or(l.callbackURL, s.opts.WebhookURL)
	body := webhookBody(l)
	s.mu.Unlock()
	if target == "" {
		return
	}
	s.deliveries.After(0, func(ctx context.Context) {
		if err := s.post(ctx, target, body); err != nil {
			s.logger.Warn("ikhokha simulator: webhook not delivered", "paylinkID", id, "err", err)
		}
	})
}

// EmitWebhooks implements sources.WebhookEmitter: it posts, signed, to
// SimOptions.WebhookURL the webhook of every link whose outcome lies in w
// (paymentLink.paid, .failed, .expired; .created for a pending link). It
// returns how many were delivered.
func (s *Sim) EmitWebhooks(ctx context.Context, w reconcile.Window) (int, error) {
	if s.opts.WebhookURL == "" {
		return 0, errors.New("ikhokha simulator: no webhook URL configured")
	}
	n := 0
	for _, l := range s.Links(w) {
		if !w.Contains(l.At()) || event(l) == "" {
			continue
		}
		if err := s.post(ctx, s.opts.WebhookURL, webhookBody(l)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// post signs and posts one webhook, retrying a failed delivery a few times;
// a dropped one (Faults.DropCallbacks) is silently not sent.
func (s *Sim) post(ctx context.Context, target string, body []byte) error {
	if s.inj.DropCallback() {
		s.logger.Info("ikhokha simulator: webhook dropped (fault injection)", "url", target)
		return nil
	}
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	sig := Sign(s.secret, u.EscapedPath(), body)
	var last error
	for attempt := range 4 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderAppID, s.appID)
		req.Header.Set(HeaderSign, sig)
		resp, err := s.client.Do(req)
		if err != nil {
			last = err
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return nil
		}
		last = fmt.Errorf("webhook answered HTTP %d", resp.StatusCode)
		if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests {
			return last
		}
	}
	return last
}

// baseOf is the URL the client reached the simulator at (its prefix kept).
func baseOf(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	prefix := strings.TrimSuffix(sources.OriginalPath(r), r.URL.EscapedPath())
	return scheme + "://" + r.Host + prefix
}

func looseOr(raw json.RawMessage) string {
	s, _ := sources.LooseString(raw)
	return strings.TrimSpace(s)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"responseCode": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
