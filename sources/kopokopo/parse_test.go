package kopokopo

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the parser's output")

// goldenRecord is the stable JSON form of a record in golden files.
type goldenRecord struct {
	Kind           reconcile.Kind     `json:"kind"`
	TxID           string             `json:"tx_id"`
	MerchantRef    string             `json:"merchant_ref,omitempty"`
	ProviderRef    string             `json:"provider_ref,omitempty"`
	RelatedTxID    string             `json:"related_tx_id,omitempty"`
	Account        string             `json:"account,omitempty"`
	AmountMinor    *int64             `json:"amount_minor"`
	Currency       reconcile.Currency `json:"currency"`
	Status         reconcile.Status   `json:"status"`
	ProviderStatus string             `json:"provider_status"`
	OccurredAt     string             `json:"occurred_at"`
	Counterparty   string             `json:"counterparty,omitempty"`
	Method         string             `json:"method,omitempty"`
	Source         reconcile.Source   `json:"source"`
}

type golden struct {
	Kind     string         `json:"kind"`
	DedupKey string         `json:"dedup_key"`
	Records  []goldenRecord `json:"records"`
}

func toGolden(p reconcile.RawPayload, recs []reconcile.Record) golden {
	g := golden{Kind: p.Kind, DedupKey: p.DedupKey, Records: []goldenRecord{}}
	for _, r := range recs {
		gr := goldenRecord{
			Kind: r.Kind, TxID: r.TxID, MerchantRef: r.MerchantRef, ProviderRef: r.ProviderRef,
			RelatedTxID: r.RelatedTxID, Account: r.Account, Currency: r.Currency(),
			Status: r.Status, ProviderStatus: r.ProviderStatus,
			OccurredAt:   r.OccurredAt.Format(time.RFC3339Nano),
			Counterparty: r.Counterparty, Method: r.Method, Source: r.Source,
		}
		if r.AmountKnown {
			gr.AmountMinor = &r.Amount.Minor
		}
		g.Records = append(g.Records, gr)
	}
	return g
}

// notReceived are the vendor examples Kopo Kopo never sends to Mizani —
// requests Mizani sends, and the token response — each with what the parser
// must say when one is fed to it anyway.
var notReceived = map[string]string{
	"incoming_payment_request":             "a request Mizani sends",
	"payment_request":                      "a request Mizani sends",
	"polling_request":                      "a request Mizani sends",
	"settlement_transfer_request_targeted": "a request Mizani sends",
	"webhook_subscription_request":         "a request Mizani sends",
	"token_response":                       "an OAuth token response",
}

// TestParseVendorExamples maps every JSON example of the vendor document and
// compares the normalized records with testdata/golden (go test -update).
// The examples in notReceived must be refused as malformed instead.
func TestParseVendorExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/vendor/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vendor examples: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, recs, err := Parser{}.Parse(body, reconcile.SourceWebhook)
			if want, ok := notReceived[name]; ok {
				if !errors.Is(err, sources.ErrMalformed) || !strings.Contains(err.Error(), ": body: "+want) || recs != nil {
					t.Fatalf("Parse = %d records, %v; want ErrMalformed naming body: %s", len(recs), err, want)
				}
				if strings.Contains(err.Error(), "JCGQXLrlfuOqdUYdTcLz3rBiCZQDRvdWIUPkw") {
					t.Errorf("error %q reveals the access token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !bytes.Equal(p.Body, body) || p.Provider != Name || p.Source != reconcile.SourceWebhook {
				t.Errorf("payload = %+v, want the body verbatim from kopokopo/webhook", p)
			}
			got, err := json.MarshalIndent(toGolden(p, recs), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the parser's output:\n got: %s\nwant: %s", path, got, want)
			}
		})
	}
}

// TestParseAmountForms covers the amount shapes Kopo Kopo sends, read exactly.
func TestParseAmountForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		amount    string
		want      int64
		wantKnown bool
		wantErr   string
	}{
		{amount: `"500.0"`, want: 50000, wantKnown: true},
		{amount: `"456"`, want: 45600, wantKnown: true},
		{amount: `780`, want: 78000, wantKnown: true},
		{amount: `10.25`, want: 1025, wantKnown: true},
		{amount: `"49452.0"`, want: 4945200, wantKnown: true},
		{amount: `null`, wantKnown: false},
		{amount: `""`, wantKnown: false},
		{amount: `"0.0"`, want: 0, wantKnown: true},
		{amount: `"100.005"`, wantErr: "event.resource.amount"},
		{amount: `"-5.0"`, wantErr: "event.resource.amount: negative amount \"-5.0\""},
		{amount: `-5`, wantErr: "event.resource.amount: negative amount -5"},
		{amount: `"-0.01"`, wantErr: "negative amount"},
		{amount: `"-0.0"`, wantErr: "negative amount"},
		{amount: `"1e3"`, wantErr: "event.resource.amount"},
		{amount: `true`, wantErr: "event.resource.amount"},
		{amount: `"92233720368547758.08"`, wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.amount, func(t *testing.T) {
			body := webhookBody(TopicBuygoodsReceived, "evt-1", `"amount": `+tt.amount+`, "currency": "KES"`)
			_, recs, err := Parser{}.Parse(body, reconcile.SourceWebhook)
			if tt.wantErr != "" {
				if !errors.Is(err, sources.ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrMalformed naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := recs[0]
			if r.AmountKnown != tt.wantKnown || r.Amount.Minor != tt.want || r.Amount.Currency != "KES" {
				t.Errorf("amount = %+v known=%v, want %d KES known=%v", r.Amount, r.AmountKnown, tt.want, tt.wantKnown)
			}
		})
	}
}

// webhookBody builds a buygoods-style webhook whose resource holds extra.
func webhookBody(topic, id, extra string) []byte {
	return []byte(`{"topic": "` + topic + `", "id": "` + id + `", "created_at": "2020-10-22T10:43:20+03:00",
"event": {"type": "Buygoods Transaction", "resource": {"id": "tx-1", "reference": "OJM6Q1W84K",
"status": "Received", "till_number": "000000", "origination_time": "2020-10-22T10:43:19.5+03:00", ` + extra + `}}}`)
}

func TestParseTimesAndStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status, when string
		wantStatus   reconcile.Status
		wantProvider string
		wantAt       time.Time
	}{
		{"Received", "2020-10-22T10:43:19+03:00", reconcile.StatusSucceeded, "Received", time.Date(2020, 10, 22, 7, 43, 19, 0, time.UTC)},
		{"Complete", "2021-01-27T10:57:58.623+03:00", reconcile.StatusSucceeded, "Complete", time.Date(2021, 1, 27, 7, 57, 58, 623e6, time.UTC)},
		{"Reversed", "2020-10-29T00:06:49+03:00", reconcile.StatusReversed, "Reversed", time.Date(2020, 10, 28, 21, 6, 49, 0, time.UTC)},
		{"Failed", "2020-10-29T08:06:49Z", reconcile.StatusFailed, "Failed", time.Date(2020, 10, 29, 8, 6, 49, 0, time.UTC)},
		{"Pending", "2020-10-29T08:06:49+03:00", reconcile.StatusPending, "Pending", time.Date(2020, 10, 29, 5, 6, 49, 0, time.UTC)},
		{"Frozen", "2020-10-29T08:06:49+03:00", reconcile.StatusPending, "Frozen (unknown status, treated as pending)", time.Date(2020, 10, 29, 5, 6, 49, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			body := []byte(`{"topic": "b2b_transaction_received", "id": "e", "event": {"resource": {"id": "x",
"amount": "1", "currency": "KES", "status": "` + tt.status + `", "origination_time": "` + tt.when + `"}}}`)
			_, recs, err := Parser{}.Parse(body, reconcile.SourceImport)
			if err != nil {
				t.Fatal(err)
			}
			r := recs[0]
			if r.Status != tt.wantStatus || r.ProviderStatus != tt.wantProvider || !r.OccurredAt.Equal(tt.wantAt) || r.OccurredAt.Location() != time.UTC {
				t.Errorf("got %s %q %v, want %s %q %v UTC", r.Status, r.ProviderStatus, r.OccurredAt, tt.wantStatus, tt.wantProvider, tt.wantAt)
			}
			if r.Source != reconcile.SourceImport {
				t.Errorf("source = %s, want import", r.Source)
			}
		})
	}
}

// TestParseStoredRaw: payloads that carry no transaction are kept, not refused.
func TestParseStoredRaw(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, wantKind, wantKey string
	}{
		{"unknown topic", `{"topic": "till_closed", "id": "e-9", "event": {"resource": {"weird": [1]}}}`, "till_closed", "till_closed:e-9"},
		{"customer created", `{"topic": "customer_created", "id": "c-1", "event": {"resource": {"first_name": "Jane"}}}`, "customer_created", "customer_created:c-1"},
		{"unknown result type", `{"data": {"id": "n-1", "type": "transaction_sms_notification", "attributes": {"status": "Success"}}}`,
			"transaction_sms_notification_result", "transaction_sms_notification:n-1:Success"},
		{"unknown topic, empty event", `{"topic": "till_closed", "id": "e-10", "event": {}}`, "till_closed", "till_closed:e-10"},
		{"polling, unknown transaction type", `{"data": {"id": "p-1", "type": "polling", "attributes": {"status": "Success",
"transactions": [{"type": "Airtime Purchase", "resource": {"id": "a"}}]}}}`, "polling_result", "polling:p-1:Success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, recs, err := Parser{}.Parse([]byte(tt.body), reconcile.SourceWebhook)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 0 || p.Kind != tt.wantKind || p.DedupKey != tt.wantKey || string(p.Body) != tt.body {
				t.Errorf("got kind %q key %q, %d records; want kind %q key %q, none", p.Kind, p.DedupKey, len(recs), tt.wantKind, tt.wantKey)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, wantField string
	}{
		{"not JSON", `{"topic": `, "body"},
		{"not an object", `[1, 2]`, "body"},
		{"trailing garbage", `{"hello": 1} x`, "body"},
		{"webhook without id", `{"topic": "buygoods_transaction_received", "event": {}}`, "id"},
		{"unknown shape", `{"foo": 1}`, "body"},
		{"empty object", `{}`, "body"},
		{"no topic", `{"id": "x", "event": {}}`, "body"},
		{"empty topic", `{"topic": "", "id": "x", "event": {"resource": {"id": "t"}}}`, "body"},
		{"topic not a string", `{"topic": 7, "id": "x", "event": {}}`, "body"},
		{"null data", `{"data": null}`, "body"},
		{"data not an object", `{"data": [1]}`, "data"},
		{"result without attributes", `{"data": {"id": "x", "type": "payment"}}`, "data.attributes"},
		{"another provider's result", `{"status": true, "message": "Charge Successful", "data": {"currency": "ZAR", "amount": 10}}`, "data.id"},
		{"iKhokha webhook", `{"event": "paymentLink.paid", "data": {"paylinkID": "l", "amount": 19999}}`, "body"},
		{"token response", `{"access_token": "s3cr3t", "token_type": "Bearer", "expires_in": 3600, "created_at": 1556012342}`, "body"},
		{"polling request", `{"scope": "company", "from_time": "2021-04-12T08:50:22+03:00", "_links": {"callback_url": "https://x"}}`, "body"},
		{"unknown topic without event", `{"topic": "till_closed", "id": "e-9"}`, "event"},
		{"unknown topic, null event", `{"topic": "till_closed", "id": "e-9", "event": null}`, "event"},
		{"event not an object", `{"topic": "till_closed", "id": "e-9", "event": "x"}`, "body"},
		{"customer created without resource", `{"topic": "customer_created", "id": "c-1", "event": {"type": "Customer Created"}}`, "event.resource"},
		{"customer created, resource not an object", `{"topic": "customer_created", "id": "c-1", "event": {"resource": "Jane"}}`, "event.resource"},
		{"negative amount", `{"topic": "buygoods_transaction_received", "id": "e", "event": {"resource": {"id": "x", "amount": "-5.0", "origination_time": "2020-10-29T08:37:31+03:00"}}}`, "event.resource.amount"},
		{"negative payout", `{"data": {"id": "p", "type": "payment", "attributes": {"status": "Processed", "created_at": "2021-01-28T10:00:17.827+03:00",
"amount": {"currency": "KES", "value": -780}}}}`, "data.attributes.amount.value"},
		{"negative disbursement", `{"data": {"id": "s", "type": "settlement_transfer", "attributes": {"status": "Processed",
"created_at": "2021-01-27T10:57:09.838+03:00", "amount": {"currency": "KES", "value": null},
"transfer_batches": [{"disbursements": [{"amount": "-19900.0", "status": "Transferred"}]}]}}}`, "data.attributes.transfer_batches[0].disbursements[0].amount"},
		{"negative transfer amount", `{"data": {"id": "s", "type": "settlement_transfer", "attributes": {"status": "Processed",
"created_at": "2021-01-27T10:57:09.838+03:00", "amount": {"currency": "KES", "value": "-5"},
"transfer_batches": [{"disbursements": [{"amount": "5.0", "status": "Transferred"}]}]}}}`, "data.attributes.amount.value"},
		{"second batch's disbursement named", `{"data": {"id": "s", "type": "settlement_transfer", "attributes": {"status": "Processed",
"created_at": "2021-01-27T10:57:09.838+03:00", "amount": {"currency": "KES", "value": null},
"transfer_batches": [{"disbursements": [{"amount": "1.0", "status": "Transferred"}]}, {"disbursements": [{"amount": "2.0", "status": "Transferred"}, {"amount": "x", "status": "Transferred"}]}]}}}`, "data.attributes.transfer_batches[1].disbursements[1].amount"},
		{"webhook without resource", `{"topic": "buygoods_transaction_received", "id": "e", "event": {"resource": null}}`, "event.resource"},
		{"resource without id", `{"topic": "m2m_transaction_received", "id": "e", "event": {"resource": {"amount": "1", "origination_time": "2020-10-29T08:37:31+03:00"}}}`, "event.resource.id"},
		{"bad time", `{"topic": "m2m_transaction_received", "id": "e", "event": {"resource": {"id": "x", "amount": "1", "origination_time": "29/10/2020"}}}`, "event.resource.origination_time"},
		{"missing time", `{"topic": "m2m_transaction_received", "id": "e", "event": {"resource": {"id": "x", "amount": "1"}}}`, "event.resource.origination_time"},
		{"bad currency", `{"topic": "m2m_transaction_received", "id": "e", "event": {"resource": {"id": "x", "currency": "KSH", "amount": "1"}}}`, "event.resource.currency"},
		{"wrong type", `{"topic": "m2m_transaction_received", "id": "e", "event": {"resource": {"id": 7}}}`, "event.resource"},
		{"result without id", `{"data": {"type": "payment", "attributes": {}}}`, "data.id"},
		{"result without type", `{"data": {"id": "x", "attributes": {}}}`, "data.type"},
		{"bad disbursement", `{"data": {"id": "s", "type": "settlement_transfer", "attributes": {"status": "Processed",
"created_at": "2021-01-27T10:57:09.838+03:00", "amount": {"currency": "KES", "value": null},
"transfer_batches": [{"disbursements": [{"amount": "12,5", "status": "Transferred"}]}]}}}`, "data.attributes.transfer_batches[0].disbursements[0].amount"},
		{"polling transaction without resource", `{"data": {"id": "p", "type": "polling", "attributes": {"status": "Success",
"transactions": [{"type": "Buygoods Transaction", "resource": null}]}}}`, "data.attributes.transactions[0].resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, recs, err := Parser{}.Parse([]byte(tt.body), reconcile.SourceWebhook)
			if !errors.Is(err, sources.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), ": "+tt.wantField+": ") {
				t.Errorf("err = %q, want it to name field %q", err, tt.wantField)
			}
			if recs != nil {
				t.Errorf("records = %v, want none on error", recs)
			}
		})
	}
}

// TestParseResultDedupKeys: a pending status and the final result of one STK
// push are different payloads of the same record.
func TestParseResultDedupKeys(t *testing.T) {
	t.Parallel()
	parse := func(name string) (reconcile.RawPayload, reconcile.Record) {
		body, err := os.ReadFile(filepath.Join("testdata", "vendor", name))
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.ReplaceAll(body, []byte("e192ac63-8b24-4caf-8637-a2a9b75a14e6"), []byte("a652f86f-f2aa-4d70-baa2-ccfe4b78f4fc"))
		p, recs, err := Parser{}.Parse(body, reconcile.SourceStatus)
		if err != nil || len(recs) != 1 {
			t.Fatalf("Parse(%s) = %d records, %v", name, len(recs), err)
		}
		return p, recs[0]
	}
	pp, pending := parse("incoming_payment_status_pending.json")
	sp, success := parse("incoming_payment_result_success.json")
	if pp.DedupKey == sp.DedupKey {
		t.Errorf("pending and success share dedup key %q", pp.DedupKey)
	}
	if pending.TxID != success.TxID || pending.Kind != success.Kind {
		t.Errorf("pending %s/%s and success %s/%s should be the same record", pending.Kind, pending.TxID, success.Kind, success.TxID)
	}
}

// TestParseSettlementBothWays: the disbursements of the webhook and of the
// settlement transfer result describe the same money and get the same keys.
func TestParseSettlementBothWays(t *testing.T) {
	t.Parallel()
	keys := func(name string) map[string]int64 {
		body, err := os.ReadFile(filepath.Join("testdata", "vendor", name))
		if err != nil {
			t.Fatal(err)
		}
		_, recs, err := Parser{}.Parse(body, reconcile.SourceWebhook)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int64{}
		for _, r := range recs {
			if r.Kind != reconcile.KindSettlement {
				t.Errorf("kind = %s, want settlement", r.Kind)
			}
			m[r.TxID] = r.Amount.Minor
		}
		return m
	}
	hook := keys("webhook_settlement_transfer_completed.json")
	res := keys("settlement_transfer_result.json")
	var sum int64
	for k, v := range hook {
		if res[k] != v {
			t.Errorf("webhook disbursement %s (%d) not in the result with the same amount (%d)", k, v, res[k])
		}
		sum += v
	}
	if sum != 4945200 {
		t.Errorf("webhook disbursements sum to %d, want the transfer's 4945200", sum)
	}
}

// TestParseReversedTransaction: a reversal webhook is the payment (status
// reversed) followed by its reversal, dated by created_at, so the payment
// is recorded even when nothing else ever reported it; a polling result,
// which cannot say when, is the payment with status reversed alone, for
// the store to date (Record.ReversedAt).
func TestParseReversedTransaction(t *testing.T) {
	t.Parallel()
	const resource = `{"id": "tx-9", "amount": "780.0", "status": "Reversed", "system": "Lipa Na M-PESA",
"currency": "KES", "reference": "OJM6Q1W84K", "till_number": "K555123",
"origination_time": "2026-03-04T10:15:00+03:00", "sender_phone_number": "+254712345678"}`
	at := time.Date(2026, 3, 4, 7, 15, 0, 0, time.UTC)
	tests := []struct {
		name, body string
		// reversedAt is when the reversal is dated: the webhook's
		// created_at, never before the payment.
		reversedAt time.Time
	}{
		{"webhook", `{"topic": "buygoods_transaction_reversed", "id": "evt-9", "created_at": "2026-03-04T10:30:00+03:00",
"event": {"type": "Buygoods Transaction", "resource": ` + resource + `}}`, at.Add(15 * time.Minute)},
		{"webhook raised a day later", `{"topic": "buygoods_transaction_reversed", "id": "evt-9", "created_at": "2026-03-05T15:00:00+03:00",
"event": {"type": "Buygoods Transaction", "resource": ` + resource + `}}`, time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)},
		{"webhook created before the payment: never dated before it", `{"topic": "buygoods_transaction_reversed", "id": "evt-9", "created_at": "2026-03-04T10:00:00+03:00",
"event": {"type": "Buygoods Transaction", "resource": ` + resource + `}}`, at},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, recs, err := Parser{}.Parse([]byte(tt.body), reconcile.SourceWebhook)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 {
				t.Fatalf("got %d records, want the payment and its reversal: %+v", len(recs), recs)
			}
			pay, rev := recs[0], recs[1]
			// The payment's RelatedTxID is its own id: its reversal is a
			// record of its own (reconcile.Record.RelatedTxID).
			if pay.Kind != reconcile.KindPayment || pay.TxID != "tx-9" || pay.Status != reconcile.StatusReversed ||
				pay.RelatedTxID != "tx-9" || pay.Amount.Minor != 78000 || !pay.OccurredAt.Equal(at) || pay.ProviderRef != "OJM6Q1W84K" {
				t.Errorf("payment = %+v, want payment tx-9, reversed, 78000 KES at %s", pay, at)
			}
			if rev.Kind != reconcile.KindReversal || rev.TxID != "tx-9" || rev.RelatedTxID != "tx-9" || rev.Status != reconcile.StatusReversed ||
				rev.Amount != pay.Amount || !rev.OccurredAt.Equal(tt.reversedAt) || rev.Account != "K555123" {
				t.Errorf("reversal = %+v, want reversal of tx-9 with the payment's amount and till, at %s", rev, tt.reversedAt)
			}
		})
	}
	t.Run("polling result", func(t *testing.T) {
		_, recs, err := Parser{}.Parse([]byte(`{"data": {"id": "poll-9", "type": "polling", "attributes": {"status": "Success",
"transactions": [{"type": "Buygoods Transaction", "resource": `+resource+`}]}}}`), reconcile.SourcePoll)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].Kind != reconcile.KindPayment || recs[0].TxID != "tx-9" || recs[0].Status != reconcile.StatusReversed ||
			recs[0].RelatedTxID != "" || recs[0].Amount.Minor != 78000 || !recs[0].OccurredAt.Equal(at) {
			t.Errorf("records = %+v, want the payment tx-9 alone, reversed, 78000 KES at %s, no reversal of its own", recs, at)
		}
	})
}

// TestParseZoneLessTime: Kopo Kopo sends +03:00, but a time without an
// offset is read in the parser's zone (East Africa Time by default), never
// silently as UTC.
func TestParseZoneLessTime(t *testing.T) {
	t.Parallel()
	utc := time.UTC
	tests := []struct {
		name string
		zone *time.Location
		when string
		want time.Time
	}{
		{"default zone", nil, "2026-03-02 10:00:00", time.Date(2026, 3, 2, 7, 0, 0, 0, utc)},
		{"default zone, T form", nil, "2026-03-02T10:00:00.250", time.Date(2026, 3, 2, 7, 0, 0, 250e6, utc)},
		{"configured zone", utc, "2026-03-02 10:00:00", time.Date(2026, 3, 2, 10, 0, 0, 0, utc)},
		{"offset wins over the zone", utc, "2026-03-02T10:00:00+03:00", time.Date(2026, 3, 2, 7, 0, 0, 0, utc)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := webhookBody(TopicBuygoodsReceived, "evt-z", `"amount": "1.0", "currency": "KES"`)
			body = []byte(strings.Replace(string(body), "2020-10-22T10:43:19.5+03:00", tt.when, 1))
			_, recs, err := Parser{Zone: tt.zone}.Parse(body, reconcile.SourceWebhook)
			if err != nil {
				t.Fatal(err)
			}
			if got := recs[0].OccurredAt; !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("OccurredAt = %v, want %v UTC", got, tt.want)
			}
		})
	}
}
