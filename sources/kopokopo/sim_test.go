package kopokopo_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources/kopokopo"
)

// TestSimulatorProtocol drives the simulator with plain HTTP requests written
// from the vendor document, checking status codes, headers and JSON shapes.
func TestSimulatorProtocol(t *testing.T) {
	t.Parallel()
	sim := kopokopo.NewSimulator(kopokopo.SimConfig{Seed: 1, ClientID: "id", ClientSecret: "secret"})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); srv.Close() })

	do := func(method, path, ctype, auth, body string, hdr ...string) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		req.Header.Set("Accept", "application/json")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var doc map[string]any
		json.Unmarshal(raw, &doc)
		return resp.StatusCode, resp.Header, doc
	}
	form := url.Values{"client_id": {"id"}, "client_secret": {"secret"}, "grant_type": {"client_credentials"}}.Encode()

	code, _, tok := do("POST", "/oauth/token", "application/x-www-form-urlencoded", "", form)
	if code != 200 || tok["token_type"] != "Bearer" || tok["expires_in"] != 3600.0 || tok["access_token"] == "" || tok["created_at"] == nil {
		t.Fatalf("form token: %d %v", code, tok)
	}
	token := tok["access_token"].(string)
	if code, _, doc := do("POST", "/oauth/token", "application/json", "", `{"client_id":"id","client_secret":"secret","grant_type":"client_credentials"}`); code != 200 || doc["access_token"] == nil {
		t.Errorf("JSON token: %d %v", code, doc)
	}
	if code, _, doc := do("POST", "/oauth/token", "application/x-www-form-urlencoded", "", strings.Replace(form, "secret", "wrong", 1)); code != 401 || doc["error_code"] != 401.0 || doc["error_message"] == nil {
		t.Errorf("bad credentials: %d %v", code, doc)
	}

	poll := func(scope, ref string) string {
		return `{"scope":"` + scope + `","scope_reference":"` + ref + `","from_time":"2026-03-02T08:00:00+03:00","to_time":"2026-03-02T11:00:00+03:00","_links":{"callback_url":"http://127.0.0.1:1/unreachable"}}`
	}
	refusals := []struct {
		name, path, auth, body string
		code                   int
		msg                    string
	}{
		{"no token", "/api/v1/polling", "", poll("company", ""), 401, "Unauthorized"},
		{"unknown token", "/api/v1/polling", "not-a-token", poll("company", ""), 401, "Unauthorized"},
		{"bad JSON", "/api/v1/polling", token, `{"scope":`, 400, "Request body is not valid JSON"},
		{"bad scope", "/api/v1/polling", token, poll("branch", ""), 400, "Scope is invalid"},
		{"till without reference", "/api/v2/polling", token, poll("till", ""), 400, "Scope reference can't be blank"},
		{"unknown till", "/api/v1/polling", token, poll("till", "424242"), 400, "Invalid scope reference"},
		{"no callback", "/api/v1/polling", token, strings.Replace(poll("company", ""), "http://127.0.0.1:1/unreachable", "", 1), 400, "Callback url can't be blank"},
	}
	for _, tt := range refusals {
		code, _, doc := do("POST", tt.path, "application/json", tt.auth, tt.body)
		if code != tt.code || doc["error_code"] != float64(tt.code) || doc["error_message"] != tt.msg {
			t.Errorf("%s: %d %v, want %d %q", tt.name, code, doc, tt.code, tt.msg)
		}
	}
	if code, _, _ := do("POST", "/api/v1/polling", "application/json", token, poll("company", ""), "Accept", "application/xml"); code != 406 {
		t.Errorf("Accept: application/xml answered %d, want 406", code)
	}

	for _, v := range []string{"v1", "v2"} {
		code, hdr, _ := do("POST", "/api/"+v+"/polling", "application/json", token, poll("till", "000000"))
		loc := hdr.Get("Location")
		if code != 201 || !strings.HasPrefix(loc, srv.URL+"/api/"+v+"/polling/") {
			t.Fatalf("%s create: %d Location %q", v, code, loc)
		}
		path := strings.TrimPrefix(loc, srv.URL)
		_, _, first := do("GET", path, "", token, "")
		_, _, second := do("GET", path, "", token, "")
		status := func(doc map[string]any) any {
			return doc["data"].(map[string]any)["attributes"].(map[string]any)["status"]
		}
		if status(first) != "Pending" || status(second) != "Success" {
			t.Errorf("%s reads: %v then %v, want Pending then Success", v, status(first), status(second))
		}
		attrs := second["data"].(map[string]any)["attributes"].(map[string]any)
		if attrs["scope"] != "Till" || attrs["scope_reference"] != "000000" || attrs["_links"].(map[string]any)["self"] != loc {
			t.Errorf("%s result attributes: %v", v, attrs)
		}
		txs := attrs["transactions"].([]any)
		for _, tx := range txs {
			res := tx.(map[string]any)["resource"].(map[string]any)
			amt, ok := res["amount"].(string)
			if tx.(map[string]any)["type"] != "Buygoods Transaction" || !ok || !strings.HasSuffix(amt, ".0") ||
				!strings.HasSuffix(res["origination_time"].(string), "+03:00") || len(res["reference"].(string)) != 10 {
				t.Errorf("transaction not in the documented shape: %v", tx)
			}
		}
	}
	if code, _, _ := do("GET", "/api/v1/polling/00000000-0000-4000-8000-000000000000", "", token, ""); code != 404 {
		t.Errorf("unknown polling id answered %d, want 404", code)
	}
}

func TestSimulatorDeterministic(t *testing.T) {
	t.Parallel()
	a := kopokopo.NewSimulator(kopokopo.SimConfig{Seed: 99})
	b := kopokopo.NewSimulator(kopokopo.SimConfig{Seed: 99})
	other := kopokopo.NewSimulator(kopokopo.SimConfig{Seed: 100})
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	w := reconcile.Window{From: from, To: from.Add(48 * time.Hour)}
	all := a.Transactions(w, "")
	var split []kopokopo.Transaction
	for _, c := range w.Split(7*time.Hour + 13*time.Minute) {
		split = append(split, b.Transactions(c, "")...)
	}
	if len(all) < 100 || !slices.EqualFunc(all, split, func(x, y kopokopo.Transaction) bool { return x.ID == y.ID && x.Amount == y.Amount }) {
		t.Errorf("a window split differently serves other transactions: %d vs %d", len(all), len(split))
	}
	if o := other.Transactions(w, ""); len(o) > 0 && o[0].ID == all[0].ID {
		t.Error("another seed serves the same transactions")
	}
	reversed := 0
	for _, tx := range all {
		if tx.Status == "Reversed" {
			reversed++
		}
		if tx.OriginationTime.Before(w.From) || !tx.OriginationTime.Before(w.To) {
			t.Errorf("transaction %s at %s outside %s", tx.ID, tx.OriginationTime, w)
		}
	}
	if reversed == 0 || reversed > len(all)/10 {
		t.Errorf("%d of %d transactions reversed, want a few", reversed, len(all))
	}
}

func TestLoadTransactions(t *testing.T) {
	t.Parallel()
	txs, err := kopokopo.LoadTransactions(strings.NewReader(`{"id":"fx-1","amount":"1500.00","reference":"QCX1A2B3C4","till_number":"000000","origination_time":"2026-03-02T10:00:00+03:00"}

{"id":"fx-2","amount":"780","currency":"KES","status":"Reversed","till_number":"000001","origination_time":"2026-03-02T11:00:00Z"}
`))
	if err != nil || len(txs) != 2 || txs[0].Currency != "KES" || txs[0].Status != "Received" || txs[1].Status != "Reversed" {
		t.Fatalf("LoadTransactions = %+v, %v", txs, err)
	}
	if m, _ := txs[0].Money(); m.Minor != 150000 {
		t.Errorf("amount %+v, want 150000 minor", m)
	}
	for _, bad := range []struct{ in, want string }{
		{`{"id":"x","amount":"1.005","till_number":"1","origination_time":"2026-03-02T10:00:00Z"}`, "line 1: field amount"},
		{"\n" + `{"id":"x","amount":"1"}`, "line 2: id, till_number and origination_time are required"},
		{`not json`, "line 1"},
	} {
		if _, err := kopokopo.LoadTransactions(strings.NewReader(bad.in)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("LoadTransactions(%q) error = %v, want %q", bad.in, err, bad.want)
		}
	}
}

// TestSimulatorTokenBodies: the token endpoint takes the client credentials
// as form-urlencoded (documented), multipart/form-data (curl -F) and JSON.
func TestSimulatorTokenBodies(t *testing.T) {
	t.Parallel()
	sim := kopokopo.NewSimulator(kopokopo.SimConfig{Seed: 1, ClientID: "id", ClientSecret: "secret"})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); srv.Close() })

	multipartBody := func(fields ...string) (string, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for i := 0; i+1 < len(fields); i += 2 {
			if err := mw.WriteField(fields[i], fields[i+1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		return mw.FormDataContentType(), b.String()
	}
	good := []string{"client_id", "id", "client_secret", "secret", "grant_type", "client_credentials"}
	mpType, mpGood := multipartBody(good...)
	wrongType, mpWrong := multipartBody("client_id", "id", "client_secret", "wrong", "grant_type", "client_credentials")
	noGrantType, mpNoGrant := multipartBody("client_id", "id", "client_secret", "secret")
	tests := []struct {
		name, ctype, body string
		wantCode          int
		wantErr           string
	}{
		{"form-urlencoded", "application/x-www-form-urlencoded",
			url.Values{"client_id": {"id"}, "client_secret": {"secret"}, "grant_type": {"client_credentials"}}.Encode(), 200, ""},
		{"JSON", "application/json", `{"client_id":"id","client_secret":"secret","grant_type":"client_credentials"}`, 200, ""},
		{"multipart", mpType, mpGood, 200, ""},
		{"multipart, wrong secret", wrongType, mpWrong, 401, "invalid_client"},
		{"multipart, no grant type", noGrantType, mpNoGrant, 400, "unsupported_grant_type"},
		{"multipart, broken body", mpType, "--not-the-boundary\r\n", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+"/oauth/token", tt.ctype, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var doc map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatalf("response is not JSON: %v", err)
			}
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status %d %v, want %d", resp.StatusCode, doc, tt.wantCode)
			}
			if tt.wantCode == 200 && (doc["token_type"] != "Bearer" || doc["access_token"] == "" || doc["access_token"] == nil) {
				t.Errorf("token response %v lacks a bearer token", doc)
			}
			if tt.wantErr != "" && doc["error"] != tt.wantErr {
				t.Errorf("error = %v, want %s", doc["error"], tt.wantErr)
			}
		})
	}
}
