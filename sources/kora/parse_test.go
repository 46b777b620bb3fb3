package kora

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

var testNow = time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC)

func testParser() Parser {
	return Parser{Zone: lagos, Now: func() time.Time { return testNow }}
}

func money(minor int64, cur reconcile.Currency) reconcile.Money {
	return reconcile.Money{Minor: minor, Currency: cur}
}

func TestParseVendorExamples(t *testing.T) {
	body, err := os.ReadFile("testdata/voucher_charge_response.json")
	if err != nil {
		t.Fatal(err)
	}
	p, recs, err := testParser().Parse(body, reconcile.SourceImport)
	if err != nil {
		t.Fatalf("Parse(voucher_charge_response.json): %v", err)
	}
	if p.Kind != KindCharge || !strings.HasPrefix(p.DedupKey, "charge:") || string(p.Body) != string(body) {
		t.Errorf("payload kind %q key %q; body kept verbatim: %v", p.Kind, p.DedupKey, string(p.Body) == string(body))
	}
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	r := recs[0]
	want := reconcile.Record{
		Provider: Name, Kind: reconcile.KindPayment, TxID: "KPY-CA-qFNr4bXheKr6", MerchantRef: "unique-payment-reference",
		ProviderRef: "KPY-CA-qFNr4bXheKr6", Amount: money(1000, "ZAR"), AmountKnown: true,
		Fee: money(0, "ZAR"), VAT: money(0, "ZAR"), FeeKnown: true, Status: reconcile.StatusSucceeded,
		ProviderStatus: "success", OccurredAt: testNow, Counterparty: "[email protected]", Method: "voucher",
		Source: reconcile.SourceImport,
	}
	if r != want {
		t.Errorf("record\n got %+v\nwant %+v", r, want)
	}
	assertNoPIN(t, recs, "1234252526252525")

	// The error document: no transaction, stored raw.
	body, _ = os.ReadFile("testdata/error_response.json")
	p, recs, err = testParser().Parse(body, reconcile.SourceImport)
	if err != nil || len(recs) != 0 || p.Kind != KindError || p.DedupKey == "" {
		t.Errorf("error_response.json: kind %q key %q, %d records, err %v; want kind error, none, nil", p.Kind, p.DedupKey, len(recs), err)
	}

	// A charge request is what Mizani sends, not what Kora sends: malformed,
	// and the error does not repeat its PIN.
	body, _ = os.ReadFile("testdata/voucher_charge_request.json")
	_, recs, err = testParser().Parse(body, reconcile.SourceImport)
	if !errors.Is(err, sources.ErrMalformed) || len(recs) != 0 {
		t.Errorf("voucher_charge_request.json: err %v, %d records; want ErrMalformed", err, len(recs))
	}
	if err != nil && strings.Contains(err.Error(), "1168648096792943") {
		t.Errorf("error %q repeats the voucher PIN", err)
	}
}

// assertNoPIN fails if pin is in any string field of recs.
func assertNoPIN(t *testing.T, recs []reconcile.Record, pin string) {
	t.Helper()
	for _, r := range recs {
		for _, f := range []string{r.TxID, r.MerchantRef, r.ProviderRef, r.RelatedTxID, r.Account, r.ProviderStatus, r.Counterparty, r.Method} {
			if strings.Contains(f, pin) {
				t.Errorf("record %s carries the voucher PIN in %q", r.TxID, f)
			}
		}
	}
}

func TestParsePayloads(t *testing.T) {
	lagosAt := func(s string) time.Time {
		at, err := time.ParseInLocation(time.DateTime, s, lagos)
		if err != nil {
			t.Fatal(err)
		}
		return at.UTC()
	}
	tests := []struct {
		name     string
		body     string
		wantKind string
		want     []reconcile.Record
	}{
		{
			name:     "charge.success webhook, numbers, fee and vat",
			body:     `{"event":"charge.success","data":{"reference":"KPY-C-1","payment_reference":"ORD-1","currency":"NGN","amount":10000.5,"fee":140,"vat":10.5,"status":"success","payment_method":"voucher","transaction_date":"2026-03-02 10:00:00"}}`,
			wantKind: EventChargeSuccess,
			want: []reconcile.Record{{Provider: Name, Kind: reconcile.KindPayment, TxID: "KPY-C-1", MerchantRef: "ORD-1", ProviderRef: "KPY-C-1",
				Amount: money(1000050, "NGN"), AmountKnown: true, Fee: money(14000, "NGN"), VAT: money(1050, "NGN"), FeeKnown: true,
				Status: reconcile.StatusSucceeded, ProviderStatus: "success", OccurredAt: lagosAt("2026-03-02 10:00:00"), Method: "voucher", Source: reconcile.SourceWebhook}},
		},
		{
			name:     "charge.failed webhook without a status in data",
			body:     `{"event":"charge.failed","data":{"reference":"KPY-C-2","payment_reference":"ORD-2","currency":"NGN","amount":"500.00","fee":"0","transaction_date":"2026-03-02T23:59:59"}}`,
			wantKind: EventChargeFailed,
			want: []reconcile.Record{{Provider: Name, Kind: reconcile.KindPayment, TxID: "KPY-C-2", MerchantRef: "ORD-2", ProviderRef: "KPY-C-2",
				Amount: money(50000, "NGN"), AmountKnown: true, Fee: money(0, "NGN"), VAT: money(0, "NGN"), FeeKnown: true,
				Status: reconcile.StatusFailed, ProviderStatus: "failed", OccurredAt: lagosAt("2026-03-02 23:59:59"), Source: reconcile.SourceWebhook}},
		},
		{
			name:     "transfer.success webhook is a payout keyed by the merchant's reference",
			body:     `{"event":"transfer.success","data":{"reference":"PAYOUT-9","currency":"KES","amount":2500,"fee":25,"status":"success","transaction_date":"2026-03-03 08:00:00"}}`,
			wantKind: EventTransferSuccess,
			want: []reconcile.Record{{Provider: Name, Kind: reconcile.KindPayout, TxID: "PAYOUT-9", MerchantRef: "PAYOUT-9",
				Amount: money(250000, "KES"), AmountKnown: true, Fee: money(2500, "KES"), VAT: money(0, "KES"), FeeKnown: true,
				Status: reconcile.StatusSucceeded, ProviderStatus: "success", OccurredAt: lagosAt("2026-03-03 08:00:00"), Source: reconcile.SourceWebhook}},
		},
		{
			name:     "transfer.failed webhook",
			body:     `{"event":"transfer.failed","data":{"reference":"PAYOUT-10","currency":"NGN","amount":100,"fee":null,"status":"failed","transaction_date":"2026-03-03 08:00:00"}}`,
			wantKind: EventTransferFailed,
			want: []reconcile.Record{{Provider: Name, Kind: reconcile.KindPayout, TxID: "PAYOUT-10", MerchantRef: "PAYOUT-10",
				Amount: money(10000, "NGN"), AmountKnown: true, Fee: money(0, "NGN"), VAT: money(0, "NGN"),
				Status: reconcile.StatusFailed, ProviderStatus: "failed", OccurredAt: lagosAt("2026-03-03 08:00:00"), Source: reconcile.SourceWebhook}},
		},
		{
			name:     "pay-ins page as Kora's guide shows it: one row object, strings, Kora's reference only",
			body:     `{"has_more":true,"data":{"pointer":"cus_7087","reference":"KPY-PAY-gL3oDeoAlWYz","status":"success","amount":"5000.00","amount_paid":"5000.00","amount_expected":"5000.00","fee":"26.88","currency":"NGN","description":"Test","payment_method":"bank_transfer","message":"Successful","date_created":"2023-09-28 12:24:29","date_completed":"2023-09-28 12:25:10"}}`,
			wantKind: KindPayIns,
			want: []reconcile.Record{{Provider: Name, Kind: reconcile.KindPayment, TxID: "KPY-PAY-gL3oDeoAlWYz", ProviderRef: "KPY-PAY-gL3oDeoAlWYz",
				Amount: money(500000, "NGN"), AmountKnown: true, Fee: money(2688, "NGN"), VAT: money(0, "NGN"), FeeKnown: true,
				Status: reconcile.StatusSucceeded, ProviderStatus: "success", OccurredAt: lagosAt("2023-09-28 12:24:29"), Method: "bank_transfer", Source: reconcile.SourcePoll}},
		},
		{
			name: "pay-ins page of rows: a partial redemption and a fee the customer paid",
			body: `{"status":true,"message":"ok","has_more":false,"data":[` +
				`{"pointer":"p1","reference":"KPY-CA-A","payment_reference":"ORD-A","status":"success","amount":"1000.00","amount_paid":"400.00","amount_expected":"1000.00","fee":"5.60","vat":"0.42","currency":"NGN","payment_method":"voucher","merchant_bears_cost":true,"date_created":"2026-03-05 09:00:00"},` +
				`{"pointer":"p2","reference":"KPY-CA-B","payment_reference":"ORD-B","status":"processing","amount":"75.5","amount_paid":"","fee":"1.05","vat":"0.07","currency":"NGN","merchant_bears_cost":false,"date_created":"2026-03-05 09:30:00"}]}`,
			wantKind: KindPayIns,
			want: []reconcile.Record{
				{Provider: Name, Kind: reconcile.KindPayment, TxID: "KPY-CA-A", MerchantRef: "ORD-A", ProviderRef: "KPY-CA-A",
					Amount: money(40000, "NGN"), AmountKnown: true, Fee: money(560, "NGN"), VAT: money(42, "NGN"), FeeKnown: true, Partial: true,
					Status: reconcile.StatusSucceeded, ProviderStatus: "success", OccurredAt: lagosAt("2026-03-05 09:00:00"), Method: "voucher", Source: reconcile.SourcePoll},
				{Provider: Name, Kind: reconcile.KindPayment, TxID: "KPY-CA-B", MerchantRef: "ORD-B", ProviderRef: "KPY-CA-B",
					Amount: money(7550, "NGN"), AmountKnown: true, Fee: money(105, "NGN"), VAT: money(7, "NGN"), FeeKnown: true, FeeOnPayer: true,
					Status: reconcile.StatusPending, ProviderStatus: "processing", OccurredAt: lagosAt("2026-03-05 09:30:00"), Source: reconcile.SourcePoll},
			},
		},
		{
			name: "empty pay-ins page",
			body: `{"status":true,"message":"ok","has_more":false,"data":[]}`, wantKind: KindPayIns, want: []reconcile.Record{},
		},
		{
			name:     "verification echoing the merchant's reference, RFC 3339 time",
			body:     `{"status":true,"message":"Charge retrieved successfully","data":{"reference":"ORD-7","transaction_reference":"KPY-CA-7","status":"pending","amount":"200.00","currency":"ZAR","transaction_date":"2026-03-02T10:00:00+02:00"}}`,
			wantKind: KindCharge,
			want: []reconcile.Record{{Provider: Name, Kind: reconcile.KindPayment, TxID: "KPY-CA-7", MerchantRef: "ORD-7", ProviderRef: "KPY-CA-7",
				Amount: money(20000, "ZAR"), AmountKnown: true, Fee: money(0, "ZAR"), VAT: money(0, "ZAR"),
				Status: reconcile.StatusPending, ProviderStatus: "pending", OccurredAt: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), Source: reconcile.SourceStatus}},
		},
		{
			name: "wrapped pay-ins page", body: `{"status":true,"message":"ok","data":{"has_more":false,"pointer":null,"data":[{"reference":"KPY-X","status":"failed","amount":1,"currency":"XOF","date_created":"2026-03-02 00:00:00"}]}}`,
			wantKind: KindPayIns,
			want: []reconcile.Record{{Provider: Name, Kind: reconcile.KindPayment, TxID: "KPY-X", ProviderRef: "KPY-X",
				Amount: money(1, "XOF"), AmountKnown: true, Fee: money(0, "XOF"), VAT: money(0, "XOF"), Status: reconcile.StatusFailed, ProviderStatus: "failed",
				OccurredAt: lagosAt("2026-03-02 00:00:00"), Source: reconcile.SourcePoll}},
		},
		{
			name: "unknown event: stored raw", body: `{"event":"refund.success","data":{"reference":"R1"}}`, wantKind: "refund.success", want: []reconcile.Record{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := reconcile.SourceImport
			if len(tt.want) > 0 {
				src = tt.want[0].Source
			}
			p, recs, err := testParser().Parse([]byte(tt.body), src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p.Kind != tt.wantKind || p.DedupKey == "" || p.Provider != Name {
				t.Errorf("payload kind %q key %q provider %q; want kind %q", p.Kind, p.DedupKey, p.Provider, tt.wantKind)
			}
			if len(recs) != len(tt.want) {
				t.Fatalf("got %d records %+v, want %d", len(recs), recs, len(tt.want))
			}
			for i := range recs {
				if recs[i] != tt.want[i] {
					t.Errorf("record %d\n got %+v\nwant %+v", i, recs[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseZoneFromConfig(t *testing.T) {
	cfg := Provider.ConfigFrom(func(k string) (string, bool) {
		if k == EnvTZ {
			return "Africa/Johannesburg", true
		}
		return "", false
	})
	parser, err := Provider.Parser(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, recs, err := parser.Parse([]byte(`{"event":"charge.success","data":{"reference":"KPY-1","currency":"ZAR","amount":1,"status":"success","transaction_date":"2026-03-02 10:00:00"}}`), reconcile.SourceWebhook)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC); !recs[0].OccurredAt.Equal(want) {
		t.Errorf("KORA_TZ=Africa/Johannesburg: occurred at %s, want %s", recs[0].OccurredAt, want)
	}
}

func TestParseDedupKeys(t *testing.T) {
	a := `{"event":"charge.success","data":{"reference":"KPY-1","currency":"NGN","amount":1,"status":"success","transaction_date":"2026-03-02 10:00:00"}}`
	b := `{ "event": "charge.success", "data": {"reference":"KPY-1","currency":"NGN","amount":1,"status":"success","transaction_date":"2026-03-02 10:00:00"} }`
	pa, _, _ := testParser().Parse([]byte(a), reconcile.SourceWebhook)
	pb, _, _ := testParser().Parse([]byte(b), reconcile.SourceWebhook)
	if pa.DedupKey != pb.DedupKey || pa.DedupKey != "charge.success:KPY-1:success" {
		t.Errorf("a redelivered webhook: keys %q and %q, want both charge.success:KPY-1:success", pa.DedupKey, pb.DedupKey)
	}
	page := `{"has_more":false,"data":[]}`
	p1, _, _ := testParser().Parse([]byte(page), reconcile.SourcePoll)
	p2, _, _ := testParser().Parse([]byte(`{"has_more": false, "data": []}`), reconcile.SourcePoll)
	p3, _, _ := testParser().Parse([]byte(`{"has_more":true,"data":[]}`), reconcile.SourcePoll)
	if p1.DedupKey != p2.DedupKey || p1.DedupKey == p3.DedupKey {
		t.Errorf("page keys %q %q %q: reformatting must not make a page new, a different page must be", p1.DedupKey, p2.DedupKey, p3.DedupKey)
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"not JSON", `nope`, "body"},
		{"array", `[1]`, "body"},
		{"webhook without data", `{"event":"charge.success"}`, "data"},
		{"webhook data not an object", `{"event":"charge.success","data":"x"}`, "data"},
		{"no reference", `{"event":"charge.success","data":{"currency":"NGN","amount":1,"status":"success","transaction_date":"2026-03-02 10:00:00"}}`, "data.reference"},
		{"unknown status", `{"event":"charge.success","data":{"reference":"K","currency":"NGN","amount":1,"status":"weird","transaction_date":"2026-03-02 10:00:00"}}`, "data.status"},
		{"unknown currency", `{"event":"charge.success","data":{"reference":"K","currency":"XYZ","amount":1,"status":"success","transaction_date":"2026-03-02 10:00:00"}}`, "data.currency"},
		{"negative amount", `{"event":"charge.success","data":{"reference":"K","currency":"NGN","amount":-1,"status":"success","transaction_date":"2026-03-02 10:00:00"}}`, "data.amount"},
		{"inexact amount", `{"event":"charge.success","data":{"reference":"K","currency":"NGN","amount":"1.005","status":"success","transaction_date":"2026-03-02 10:00:00"}}`, "data.amount"},
		{"fee not a number", `{"event":"charge.success","data":{"reference":"K","currency":"NGN","amount":1,"fee":"abc","status":"success","transaction_date":"2026-03-02 10:00:00"}}`, "data.fee"},
		{"bad vat", `{"event":"charge.success","data":{"reference":"K","currency":"NGN","amount":1,"vat":"1,00","status":"success","transaction_date":"2026-03-02 10:00:00"}}`, "data.vat"},
		{"bad time", `{"event":"charge.success","data":{"reference":"K","currency":"NGN","amount":1,"status":"success","transaction_date":"yesterday"}}`, "data.transaction_date"},
		{"no time and no voucher", `{"status":true,"message":"ok","data":{"reference":"K","currency":"NGN","amount":1,"status":"success"}}`, "data.transaction_date"},
		{"bad merchant_bears_cost", `{"event":"charge.success","data":{"reference":"K","currency":"NGN","amount":1,"status":"success","merchant_bears_cost":"maybe","transaction_date":"2026-03-02 10:00:00"}}`, "data.merchant_bears_cost"},
		{"bad row", `{"has_more":false,"data":[{"reference":"K","currency":"NGN","amount":"x","status":"success","date_created":"2026-03-02 10:00:00"}]}`, "data[0].amount"},
		{"no status, no event", `{"data":{"reference":"K"}}`, "status"},
		{"trailing data", `{"event":"charge.success","data":{}} {}`, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, recs, err := testParser().Parse([]byte(tt.body), reconcile.SourceImport)
			if !errors.Is(err, sources.ErrMalformed) {
				t.Fatalf("err %v, want ErrMalformed", err)
			}
			if len(recs) != 0 {
				t.Errorf("%d records returned with the error", len(recs))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
		})
	}
}
