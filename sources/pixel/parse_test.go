package pixel

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

var received = time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)

// TestParseVendorExamples parses every JSON example of the vendor
// documents: callbacks and answers to records, banks answers to none,
// request bodies refused naming the field a callback or answer has.
func TestParseVendorExamples(t *testing.T) {
	t.Parallel()
	nairobi, _ := time.LoadLocation("Africa/Nairobi")
	serviced := time.Date(2020, 11, 25, 10, 8, 32, 832969000, time.UTC)
	const merchant = "e0fecd91fcb24f348048193b3fb34875ba3722b4"
	callback := reconcile.Record{
		Provider: Name, Kind: reconcile.KindPayment, TxID: "1234567", MerchantRef: "16280954971628095497",
		ProviderRef: "QR555RQ", Account: merchant, Counterparty: "0900000001", Method: "14",
		AmountSent: "100", Status: reconcile.StatusSucceeded, ProviderStatus: "2 success", OccurredAt: serviced,
	}
	status := func(tx, ref string, code int, at time.Time) reconcile.Record {
		r := reconcile.Record{Provider: Name, Kind: reconcile.KindPayment, TxID: tx, MerchantRef: "16280954971628095497",
			ProviderRef: ref, OccurredAt: at}
		r.Status, r.ProviderStatus = NormalizeStatus(code)
		return r
	}
	with := func(r reconcile.Record, f func(*reconcile.Record)) reconcile.Record { f(&r); return r }
	tests := []struct {
		file   string
		parser Parser
		kind   string // payload kind
		want   []reconcile.Record
		err    string // field named by a malformed error
	}{
		{file: "callback.json", kind: KindCallback, want: []reconcile.Record{callback}},
		{file: "callback.json", parser: Parser{Currency: "KES"}, kind: KindCallback, want: []reconcile.Record{with(callback, func(r *reconcile.Record) {
			r.AmountSent, r.Amount, r.AmountKnown = "", reconcile.Money{Minor: 10000, Currency: "KES"}, true
		})}},
		{file: "callback.json", parser: Parser{Currency: "XOF"}, kind: KindCallback, want: []reconcile.Record{with(callback, func(r *reconcile.Record) {
			r.AmountSent, r.Amount, r.AmountKnown = "", reconcile.Money{Minor: 100, Currency: "XOF"}, true
		})}},
		{file: "callback.json", parser: Parser{Zone: nairobi}, kind: KindCallback, want: []reconcile.Record{with(callback, func(r *reconcile.Record) {
			r.OccurredAt = serviced.Add(-3 * time.Hour)
		})}},
		// Document 003's callback has no service_date_time: it happened
		// when it was received.
		{file: "callback_003.json", kind: KindCallback, want: []reconcile.Record{with(callback, func(r *reconcile.Record) {
			r.OccurredAt = received
		})}},
		{file: "status_response_in_progress.json", kind: KindStatus, want: []reconcile.Record{status("532007056722", "", 1, serviced)}},
		{file: "status_response_success_003.json", kind: KindStatus, want: []reconcile.Record{status("732007046722", "MP.33234.342.CP33", 2, serviced)}},
		{file: "status_response_success_003.json", parser: Parser{Merchant: merchant, Currency: "UGX"}, kind: KindStatus,
			want: []reconcile.Record{with(status("732007046722", "MP.33234.342.CP33", 2, serviced), func(r *reconcile.Record) {
				r.Account, r.Amount.Currency = merchant, "UGX"
			})}},
		{file: "payment_c2b_response.json", kind: KindStatus, want: []reconcile.Record{status("732007046722", "MP.33234.342.CP33", 1, serviced)}},
		{file: "payment_c2b_response_success_003.json", kind: KindStatus, want: []reconcile.Record{status("732007046722", "MP.33234.342.CP33", 2, serviced)}},
		{file: "payment_b2c_response.json", kind: KindStatus, want: []reconcile.Record{status("732007046722", "MP.33234.342.CP33", 1, serviced)}},
		{file: "simulator_provider_14_response.json", kind: KindStatus, want: []reconcile.Record{with(status("12345", "", 1, time.Date(2023, 5, 15, 10, 0, 0, 0, time.UTC)), func(r *reconcile.Record) {
			r.MerchantRef = "54321"
		})}},
		{file: "bank_transfer_c2b_response_ng.json", kind: KindStatus, want: []reconcile.Record{with(status("0987654321", "", 1, time.Date(2025, 5, 25, 15, 15, 55, 50505000, time.UTC)), func(r *reconcile.Record) {
			r.MerchantRef = "1234567890"
		})}},
		{file: "banks_response.json", kind: KindBanks},
		{file: "status_request.json", err: "result"},
		{file: "banks_request.json", err: "result"},
		{file: "payment_c2b_request.json", err: "result"},
		{file: "payment_b2c_request.json", err: "result"},
		{file: "bank_transfer_c2b_request_ng.json", err: "result"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body, err := readVendor(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			p := tt.parser
			p.Now = func() time.Time { return received }
			raw, recs, err := p.Parse(body, reconcile.SourceImport)
			if tt.err != "" {
				if !errors.Is(err, sources.ErrMalformed) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse = %v; want malformed naming %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if raw.Kind != tt.kind || raw.Provider != Name || raw.Source != reconcile.SourceImport ||
				!strings.HasPrefix(raw.DedupKey, "sha256:") || string(raw.Body) != string(body) {
				t.Errorf("payload = kind %q provider %q source %q key %q", raw.Kind, raw.Provider, raw.Source, raw.DedupKey)
			}
			if len(recs) != len(tt.want) {
				t.Fatalf("%d records, want %d: %+v", len(recs), len(tt.want), recs)
			}
			for i := range recs {
				w := tt.want[i]
				w.Source = reconcile.SourceImport
				if recs[i] != w {
					t.Errorf("record %d\n got %+v\nwant %+v", i, recs[i], w)
				}
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "vendor", "*.json"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("vendor example %s is not parsed by this test", filepath.Base(f))
		}
	}
	if len(files) == 0 {
		t.Error("no vendor examples found")
	}
}

// TestParseMapping covers what the vendor examples do not: payouts, every
// status code, amounts too precise or malformed, and bad fields.
func TestParseMapping(t *testing.T) {
	t.Parallel()
	cb := func(fields string) string {
		return `{"merchant_id":"M1","operation_type":17,"customer_id":"254700000001","amount":"200.50","order_id":"O1",` +
			`"transaction_id":"T1","transaction_ref":"R1","status":2,"provider_id":2304,"result":{"code":0,"message":"OK"},` +
			`"service_date_time":"2026-03-02 10:00:00.000000"` + fields + `}`
	}
	replace := func(old, new string) string { return strings.Replace(cb(""), old, new, 1) }
	tests := []struct {
		name     string
		body     string
		currency reconcile.Currency
		check    func(t *testing.T, r reconcile.Record)
		err      string
	}{
		{name: "b2c is a payout", body: replace(`"operation_type":17`, `"operation_type":16`), check: func(t *testing.T, r reconcile.Record) {
			if r.Kind != reconcile.KindPayout || r.Direction() != reconcile.Out {
				t.Errorf("kind %s, want payout", r.Kind)
			}
		}},
		{name: "operation type as string", body: replace(`"operation_type":17`, `"operation_type":"17"`), check: func(t *testing.T, r reconcile.Record) {
			if r.Kind != reconcile.KindPayment {
				t.Errorf("kind %s", r.Kind)
			}
		}},
		{name: "amount kept as sent, the channel's currency as fallback", body: cb(""), check: func(t *testing.T, r reconcile.Record) {
			if r.AmountKnown || r.AmountSent != "200.50" || r.Amount.Currency != "XOF" {
				t.Errorf("amount %+v known %v sent %q", r.Amount, r.AmountKnown, r.AmountSent)
			}
		}},
		{name: "amount kept as sent, unlisted channel: no currency", body: replace(`"provider_id":2304`, `"provider_id":5026`), check: func(t *testing.T, r reconcile.Record) {
			if r.AmountKnown || r.AmountSent != "200.50" || r.Amount.Currency != "" {
				t.Errorf("amount %+v known %v sent %q", r.Amount, r.AmountKnown, r.AmountSent)
			}
		}},
		{name: "too precise for XOF: reported, not rounded", body: cb(""), currency: "XOF", check: func(t *testing.T, r reconcile.Record) {
			if r.AmountKnown || r.AmountSent != "200.50" || r.Amount.Currency != "XOF" {
				t.Errorf("amount %+v known %v sent %q", r.Amount, r.AmountKnown, r.AmountSent)
			}
		}},
		{name: "exact in KES", body: cb(""), currency: "KES", check: func(t *testing.T, r reconcile.Record) {
			if !r.AmountKnown || r.Amount != (reconcile.Money{Minor: 20050, Currency: "KES"}) || r.AmountSent != "" {
				t.Errorf("amount %+v known %v sent %q", r.Amount, r.AmountKnown, r.AmountSent)
			}
		}},
		{name: "amount as a JSON number", body: replace(`"amount":"200.50"`, `"amount":1100.00`), currency: "XOF", check: func(t *testing.T, r reconcile.Record) {
			if !r.AmountKnown || r.Amount.Minor != 1100 {
				t.Errorf("amount %+v", r.Amount)
			}
		}},
		{name: "no amount", body: replace(`"amount":"200.50",`, ``), check: func(t *testing.T, r reconcile.Record) {
			if r.AmountKnown || r.AmountSent != "" {
				t.Errorf("amount %+v sent %q", r.Amount, r.AmountSent)
			}
		}},
		{name: "no transaction id yet", body: replace(`"transaction_id":"T1"`, `"transaction_id":""`), check: func(t *testing.T, r reconcile.Record) {
			if r.TxID != "order:O1" {
				t.Errorf("TxID %q", r.TxID)
			}
		}},
		{name: "unknown status code", body: replace(`"status":2`, `"status":9`), check: func(t *testing.T, r reconcile.Record) {
			if r.Status != reconcile.StatusPending || !strings.Contains(r.ProviderStatus, "unknown") {
				t.Errorf("status %s %q", r.Status, r.ProviderStatus)
			}
		}},
		{name: "negative amount", body: replace(`"200.50"`, `"-5"`), err: "amount"},
		{name: "exponent amount", body: replace(`"200.50"`, `2e3`), err: "amount"},
		{name: "amount object", body: replace(`"200.50"`, `{"v":1}`), err: "amount"},
		{name: "other operation type", body: replace(`"operation_type":17`, `"operation_type":18`), err: "operation_type"},
		{name: "no order_id", body: replace(`"order_id":"O1",`, ``), err: "order_id"},
		{name: "status not a number", body: replace(`"status":2`, `"status":"done"`), err: "status"},
		{name: "no status", body: replace(`"status":2,`, ``), err: "status"},
		{name: "bad time", body: replace(`2026-03-02 10:00:00.000000`, `yesterday`), err: "service_date_time"},
		{name: "response without time", body: `{"order_id":"O1","transaction_id":"T1","status":2,"result":{"code":0}}`, err: "service_date_time"},
		{name: "response without result code", body: `{"order_id":"O1","status":2,"result":{}}`, err: "result.code"},
		{name: "not JSON", body: `order_id=O1`, err: "body"},
		{name: "trailing data", body: cb("") + `{}`, err: "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := Parser{Currency: tt.currency}
			_, recs, err := p.Parse([]byte(tt.body), reconcile.SourceWebhook)
			if tt.err != "" {
				if !errors.Is(err, sources.ErrMalformed) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse = %v; want malformed naming %q", err, tt.err)
				}
				return
			}
			if err != nil || len(recs) != 1 {
				t.Fatalf("Parse = %d records, %v", len(recs), err)
			}
			tt.check(t, recs[0])
		})
	}
}

// TestNormalizeStatus maps every documented code and an unknown one.
func TestNormalizeStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code  int
		want  reconcile.Status
		ps    string
		final bool
	}{
		{-1, reconcile.StatusPending, "-1 undefined", false},
		{0, reconcile.StatusPending, "0 initiated", false},
		{1, reconcile.StatusPending, "1 in progress", false},
		{2, reconcile.StatusSucceeded, "2 success", true},
		{3, reconcile.StatusFailed, "3 failed", true},
		{4, reconcile.StatusCancelled, "4 cancelled", true},
		{5, reconcile.StatusCancelled, "5 cancelled partially", true},
		{6, reconcile.StatusPending, "6 in transit", false},
		{42, reconcile.StatusPending, "42 (unknown Pixel status code, treated as pending)", false},
	}
	for _, tt := range tests {
		s, ps := NormalizeStatus(tt.code)
		if s != tt.want || ps != tt.ps || Final(tt.code) != tt.final {
			t.Errorf("NormalizeStatus(%d) = %s %q final %v; want %s %q final %v", tt.code, s, ps, Final(tt.code), tt.want, tt.ps, tt.final)
		}
	}
}

// TestParseErrorAnswer: an answer refusing the request carries no
// transaction.
func TestParseErrorAnswer(t *testing.T) {
	t.Parallel()
	body := []byte(`{"order_id":"O1","transaction_id":"","transaction_ref":"","status":-1,"result":{"code":10201,"message":"Merchant authentication error"}}`)
	raw, recs, err := (&Parser{}).Parse(body, reconcile.SourceStatus)
	if err != nil || len(recs) != 0 || raw.Kind != KindError {
		t.Fatalf("Parse = kind %q, %d records, %v", raw.Kind, len(recs), err)
	}
	_, recs, err = (&Parser{}).ParseStatus([]byte(`{"order_id":"O1","transaction_id":"T1","status":2,"result":{"code":0},"service_date_time":"2026-03-02 10:00:00"}`),
		reconcile.SourceStatus, reconcile.KindPayout)
	if err != nil || len(recs) != 1 || recs[0].Kind != reconcile.KindPayout {
		t.Fatalf("ParseStatus as payout = %+v, %v", recs, err)
	}
}
