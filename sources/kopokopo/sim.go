package kopokopo

import (
	"cmp"
	crand "crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Documented sandbox-like credentials the simulator accepts when none are
// configured (the client_id and client_secret of the vendor's curl example).
const (
	SimClientID     = "CGQXLrlfuOqdUYdTcLz3rBiCZQDRvdWIUPkwasGMuGhkem9Bo"
	SimClientSecret = "g7QLwvO37aN2HoKx1amekWi8a2g7AIuPbD5CcJSLqXIcDOxfTr"
	SimAPIKey       = "sandbox-api-key"
)

// SimConfig configures the Kopo Kopo simulator. The zero value is usable.
type SimConfig struct {
	// Seed determines every generated transaction and every injected fault.
	Seed int64
	// ClientID, ClientSecret and APIKey are the credentials the simulator
	// accepts and signs with. Defaults: K2_CLIENT_ID, K2_CLIENT_SECRET and
	// K2_API_KEY, else SimClientID, SimClientSecret and SimAPIKey.
	ClientID, ClientSecret, APIKey string
	// Tills are the company's till numbers. Default {"000000", "000001"}.
	Tills []string
	// PerHour is the mean number of transactions per till and hour. Default
	// 4; negative means none, so only Extra is served.
	PerHour int
	// Extra transactions are served besides the generated ones (fixtures).
	Extra []Transaction
	// TokenTTL is the lifetime of issued access tokens. Default 1 h.
	TokenTTL time.Duration
	// PendingReads is how many reads of a polling result answer "Pending"
	// before it becomes final. Default 1; negative means none.
	PendingReads int
	// WebhookURL receives the webhooks EmitWebhooks sends.
	WebhookURL string
	// CallbackDelay is how long after a polling request its result is
	// posted to the callback URL. Default 0: at once.
	CallbackDelay time.Duration
	// Faults are injected into API responses and outgoing callbacks by the
	// shared sources.Injector: latency, 429 with Retry-After and 500 on
	// every endpoint, polling results cut in half, callbacks and webhooks
	// dropped.
	Faults sources.Faults
	// HTTPClient posts callbacks and webhooks. Default: 10 s timeout.
	HTTPClient *http.Client
	// Logger receives what the simulator does. Default: discard.
	Logger *slog.Logger
}

// Simulator serves the Kopo Kopo API as the vendor document describes it:
// OAuth2 client credentials at /oauth/token and polling at
// /api/{v1,v2}/polling, with results posted signed to the callback URL. It
// is an http.Handler; mount it at the root of a base URL or under a prefix
// with http.StripPrefix. It implements sources.Simulator and
// sources.WebhookEmitter.
type Simulator struct {
	cfg    SimConfig
	mux    *http.ServeMux
	logger *slog.Logger
	faults *sources.Injector
	// deliveries post the polling callbacks, a delay after the request.
	deliveries *sources.Deliveries

	mu     sync.Mutex
	tokens map[string]time.Time
	polls  map[string]*pollJob
	ids    *rand.Rand
}

type pollJob struct {
	result map[string]any // the final {data: ...} document
	reads  int
}

// NewSimulator returns a simulator for cfg. Call Close to stop its callbacks.
func NewSimulator(cfg SimConfig) *Simulator {
	cfg.ClientID = cmp.Or(cfg.ClientID, os.Getenv(EnvClientID), SimClientID)
	cfg.ClientSecret = cmp.Or(cfg.ClientSecret, os.Getenv(EnvClientSecret), SimClientSecret)
	cfg.APIKey = cmp.Or(cfg.APIKey, os.Getenv(EnvAPIKey), SimAPIKey)
	if len(cfg.Tills) == 0 {
		cfg.Tills = []string{"000000", "000001"}
	}
	cfg.PerHour = cmp.Or(cfg.PerHour, 4)
	cfg.TokenTTL = cmp.Or(cfg.TokenTTL, time.Hour)
	cfg.PendingReads = cmp.Or(cfg.PendingReads, 1)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	s := &Simulator{
		cfg:    cfg,
		mux:    http.NewServeMux(),
		logger: cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
		faults: sources.NewInjector(cfg.Faults, cfg.Seed, writeError),
		ids:    rand.New(rand.NewPCG(uint64(cfg.Seed), 0x1d5)),
		tokens: map[string]time.Time{},
		polls:  map[string]*pollJob{},
	}
	s.deliveries = sources.NewDeliveries()
	s.mux.HandleFunc("POST /oauth/token", s.injected(s.handleToken))
	for _, v := range []string{"v1", "v2"} {
		s.mux.HandleFunc("POST /api/"+v+"/polling", s.injected(s.api(s.handleCreatePoll)))
		// Only polling results may be cut short (Faults.Malformed): the
		// client reads a result again, as GET is idempotent.
		s.mux.Handle("GET /api/"+v+"/polling/{id}", s.faults.Middleware(s.api(s.handleGetPoll), s.deliveries.Done()))
	}
	return s
}

var (
	_ sources.Simulator      = (*Simulator)(nil)
	_ sources.WebhookEmitter = (*Simulator)(nil)
)

// ClientEnv returns what a client sets to talk to the simulator served at
// baseURL: K2_BASE_URL and the credentials the simulator accepts and signs
// with (K2_CLIENT_ID, K2_CLIENT_SECRET, K2_API_KEY).
func (s *Simulator) ClientEnv(baseURL string) map[string]string {
	return map[string]string{
		EnvBaseURL:      baseURL,
		EnvClientID:     s.cfg.ClientID,
		EnvClientSecret: s.cfg.ClientSecret,
		EnvAPIKey:       s.cfg.APIKey,
	}
}

// Close stops pending callbacks and waits for them.
func (s *Simulator) Close() error {
	s.deliveries.Close()
	return nil
}

// ExpireTokens makes every access token issued so far expire now, as if
// their lifetime had run out: the next API call with one answers 401.
func (s *Simulator) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// APIKey returns the key the simulator signs callbacks and webhooks with.
func (s *Simulator) APIKey() string { return s.cfg.APIKey }

// Transactions lists the transactions the simulator serves with
// origination_time in w, for till (all tills when till is ""), in time order.
func (s *Simulator) Transactions(w reconcile.Window, till string) []Transaction {
	tills := s.cfg.Tills
	if till != "" {
		tills = []string{till}
	}
	return s.transactions(w, tills)
}

// ServeHTTP implements http.Handler.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// writeError answers with the vendor's documented error shape.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error_code": status, "error_message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// injected answers with an injected fault (latency, 429, 500) or passes the
// request on to h.
func (s *Simulator) injected(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.faults.Inject(w, r, s.deliveries.Done()) {
			return
		}
		h(w, r)
	}
}

// handleToken issues access tokens for the client credentials grant. It
// accepts form-urlencoded bodies (as documented), multipart/form-data and JSON.
func (s *Simulator) handleToken(w http.ResponseWriter, r *http.Request) {
	var id, secret, grant string
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var req struct{ ClientID, ClientSecret, GrantType string }
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := json.Unmarshal(body, &struct {
			ClientID     *string `json:"client_id"`
			ClientSecret *string `json:"client_secret"`
			GrantType    *string `json:"grant_type"`
		}{&req.ClientID, &req.ClientSecret, &req.GrantType}); err != nil {
			writeError(w, http.StatusBadRequest, "Request body is not valid JSON")
			return
		}
		id, secret, grant = req.ClientID, req.ClientSecret, req.GrantType
	} else {
		// Form-urlencoded as documented, or multipart/form-data as
		// `curl -F` and many HTTP clients send a form.
		var err error
		if ct == "multipart/form-data" {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			err = r.ParseMultipartForm(1 << 20)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "Request body is not valid form data")
			return
		}
		id, secret, grant = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), r.PostForm.Get("grant_type")
	}
	if grant != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type",
			"error_code": 400, "error_message": "The authorization grant type is not supported by the authorization server."})
		return
	}
	if id != s.cfg.ClientID || secret != s.cfg.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client",
			"error_code": 401, "error_message": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."})
		return
	}
	tok := crand.Text()
	now := time.Now()
	s.mu.Lock()
	s.tokens[tok] = now.Add(s.cfg.TokenTTL)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int64(s.cfg.TokenTTL / time.Second),
		"created_at":   now.Unix(),
	})
}

// api wraps a resource handler with Accept negotiation and bearer token
// checks.
func (s *Simulator) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if acc := r.Header.Get("Accept"); acc != "" && !strings.Contains(acc, "application/json") && !strings.Contains(acc, "*/*") {
			writeError(w, http.StatusNotAcceptable, "You requested a format that isn't valid json")
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		exp, known := s.tokens[tok]
		s.mu.Unlock()
		if !ok || !known || time.Now().After(exp) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="Doorkeeper", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		h(w, r)
	}
}

// handleCreatePoll validates a polling request, answers 201 with the
// Location of the result, and posts the result to the callback URL.
func (s *Simulator) handleCreatePoll(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Scope          string  `json:"scope"`
		ScopeReference *string `json:"scope_reference"`
		FromTime       string  `json:"from_time"`
		ToTime         string  `json:"to_time"`
		Links          struct {
			CallbackURL string `json:"callback_url"`
		} `json:"_links"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "Request body is not valid JSON")
		return
	}
	ref := ""
	if req.ScopeReference != nil {
		ref = *req.ScopeReference
	}
	var tills []string
	switch req.Scope {
	case ScopeCompany:
		tills = s.cfg.Tills
	case ScopeTill:
		if ref == "" {
			writeError(w, http.StatusBadRequest, "Scope reference can't be blank")
			return
		}
		if !slices.Contains(s.cfg.Tills, ref) {
			writeError(w, http.StatusBadRequest, "Invalid scope reference")
			return
		}
		tills = []string{ref}
	default:
		writeError(w, http.StatusBadRequest, "Scope is invalid")
		return
	}
	from, err1 := time.Parse(time.RFC3339Nano, req.FromTime)
	to, err2 := time.Parse(time.RFC3339Nano, req.ToTime)
	switch {
	case err1 != nil:
		writeError(w, http.StatusBadRequest, "From time is invalid")
		return
	case err2 != nil:
		writeError(w, http.StatusBadRequest, "To time is invalid")
		return
	case !from.Before(to):
		writeError(w, http.StatusBadRequest, "From time must be before to time")
		return
	case req.Links.CallbackURL == "":
		writeError(w, http.StatusBadRequest, "Callback url can't be blank")
		return
	}

	s.mu.Lock()
	id := uuid(s.ids)
	s.mu.Unlock()
	self := baseURL(r) + "/api/" + strings.Split(r.URL.Path, "/")[2] + "/polling/" + id
	txs := []map[string]any{}
	for _, t := range s.transactions(reconcile.Window{From: from, To: to}, tills) {
		txs = append(txs, map[string]any{"type": "Buygoods Transaction", "resource": t.resource()})
	}
	var scopeRef any // the vendor example shows null for the company scope
	if req.Scope == ScopeTill {
		scopeRef = ref
	}
	result := map[string]any{"data": map[string]any{
		"id":   id,
		"type": "polling",
		"attributes": map[string]any{
			"status":          "Success",
			"created_at":      time.Now().In(eat).Format("2006-01-02T15:04:05.000-07:00"),
			"from_time":       req.FromTime,
			"to_time":         req.ToTime,
			"transactions":    txs,
			"scope":           strings.ToUpper(req.Scope[:1]) + req.Scope[1:],
			"scope_reference": scopeRef,
			"_links":          map[string]string{"callback_url": req.Links.CallbackURL, "self": self},
		},
	}}
	s.mu.Lock()
	s.polls[id] = &pollJob{result: result}
	s.mu.Unlock()
	s.post(req.Links.CallbackURL, result)

	w.Header().Set("Location", self)
	w.WriteHeader(http.StatusCreated)
}

// handleGetPoll answers the polling result: Pending for the first
// PendingReads reads, then the final result.
func (s *Simulator) handleGetPoll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	job, ok := s.polls[r.PathValue("id")]
	pending := false
	if ok {
		job.reads++
		pending = job.reads <= s.cfg.PendingReads
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "The specified resource could not be found")
		return
	}
	doc := job.result
	if pending {
		data := doc["data"].(map[string]any)
		attrs := map[string]any{}
		for k, v := range data["attributes"].(map[string]any) {
			attrs[k] = v
		}
		attrs["status"], attrs["transactions"] = "Pending", []any{}
		doc = map[string]any{"data": map[string]any{"id": data["id"], "type": "polling", "attributes": attrs}}
	}
	body, _ := json.Marshal(doc)
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// baseURL is the scheme, host and mount prefix the request came in under,
// so Locations point back through http.StripPrefix mounts.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	prefix := ""
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		prefix = strings.TrimSuffix(u.Path, r.URL.Path)
	}
	return scheme + "://" + r.Host + prefix
}
