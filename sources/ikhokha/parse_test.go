package ikhokha_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/ikhokha"
)

func zar(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "ZAR"} }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

var parser = ikhokha.Parser{EntityID: "ENT-CFG"}

// vendorPaid is the record the vendor document's paid link makes.
var vendorPaid = reconcile.Record{
	Provider: ikhokha.Name, Kind: reconcile.KindPayment, TxID: "txn_abc123def456", MerchantRef: "ORDER-12345",
	ProviderRef: "link_abc123def456xyz", Account: "ENT-CFG", Amount: zar(19999), AmountKnown: true,
	Status: reconcile.StatusSucceeded, ProviderStatus: "paid", OccurredAt: at("2025-02-23T15:45:00Z"), Method: "card",
}

func with(r reconcile.Record, f func(*reconcile.Record)) reconcile.Record { f(&r); return r }

func TestParseVendorExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		src  reconcile.Source
		kind string
		want []reconcile.Record
	}{
		{"webhook_payment_link_paid.json", reconcile.SourceWebhook, ikhokha.EventPaid,
			[]reconcile.Record{with(vendorPaid, func(r *reconcile.Record) { r.Source = reconcile.SourceWebhook })}},
		{"link_status_paid.json", reconcile.SourceStatus, ikhokha.KindLinkStatus,
			[]reconcile.Record{with(vendorPaid, func(r *reconcile.Record) { r.Source = reconcile.SourceStatus })}},
		{"link_status_pending.json", reconcile.SourceStatus, ikhokha.KindLinkStatus, []reconcile.Record{{
			Provider: ikhokha.Name, Kind: reconcile.KindPayment, TxID: "link_abc123def456xyz", MerchantRef: "ORDER-12345",
			ProviderRef: "link_abc123def456xyz", Account: "ENT-CFG", Amount: zar(19999), AmountKnown: true,
			Status: reconcile.StatusPending, ProviderStatus: "pending", OccurredAt: at("2025-02-23T10:30:00Z"), Source: reconcile.SourceStatus,
		}}},
		{"payment_link_response.json", reconcile.SourceImport, ikhokha.KindCreateLink, nil},
		{"payment_link_request.json", reconcile.SourceImport, ikhokha.KindCreateRequest, nil},
		{"error_response.json", reconcile.SourceImport, ikhokha.KindError, nil},
	}
	for _, tt := range tests {
		body, err := os.ReadFile(filepath.Join("testdata", "vendor", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		payload, recs, err := parser.Parse(body, tt.src)
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if payload.Kind != tt.kind || payload.Provider != ikhokha.Name || payload.Source != tt.src || string(payload.Body) != string(body) || payload.DedupKey == "" {
			t.Errorf("%s: payload %+v", tt.file, payload)
		}
		checkRecords(t, tt.file, recs, tt.want)
	}
}

func checkRecords(t *testing.T, name string, got, want []reconcile.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d records %+v, want %d %+v", name, len(got), got, len(want), want)
		return
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: record %d\n got %+v\nwant %+v", name, i, got[i], want[i])
		}
	}
}

func TestParseShapes(t *testing.T) {
	t.Parallel()
	pending := reconcile.Record{Provider: ikhokha.Name, Kind: reconcile.KindPayment, TxID: "PL1", MerchantRef: "ORD-1", ProviderRef: "PL1",
		Account: "E9", Amount: zar(5000), AmountKnown: true, Source: reconcile.SourceWebhook}
	tests := []struct {
		name string
		body string
		src  reconcile.Source
		want []reconcile.Record
	}{
		{"created webhook: stored, no payment", `{"event":"paymentLink.created","timestamp":"2026-03-02T08:00:00Z","data":{"paylinkID":"PL1","amount":5000}}`, reconcile.SourceWebhook, nil},
		{"unknown event: stored, no record", `{"event":"paymentLink.viewed","timestamp":"2026-03-02T08:00:00Z","data":{}}`, reconcile.SourceWebhook, nil},
		{"expired webhook, time from the timestamp", `{"event":"paymentLink.expired","timestamp":"2026-03-03T08:00:00Z","data":{"paylinkID":"PL1","externalTransactionID":"ORD-1","entityID":"E9","amount":5000,"currency":"ZAR"}}`,
			reconcile.SourceWebhook, []reconcile.Record{with(pending, func(r *reconcile.Record) {
				r.Status, r.ProviderStatus, r.OccurredAt = reconcile.StatusExpired, "expired", at("2026-03-03T08:00:00Z")
			})}},
		{"failed webhook with the decline code", `{"event":"paymentLink.failed","timestamp":"2026-03-02T09:00:00Z","data":{"paylinkID":"PL1","externalTransactionID":"ORD-1","entityID":"E9","transactionID":"T1","amount":"5000","currency":"ZAR","paymentMethod":"card","cardBrand":"VISA","responseCode":"51"}}`,
			reconcile.SourceWebhook, []reconcile.Record{with(pending, func(r *reconcile.Record) {
				r.TxID, r.Status, r.ProviderStatus, r.OccurredAt, r.Method = "T1", reconcile.StatusFailed, "failed (51 insufficient funds)", at("2026-03-02T09:00:00Z"), "card"
			})}},
		{"Instant EFT, no currency (rand), entity from the link", `{"responseCode":"00","paylinkID":"PL1","externalTransactionID":"ORD-1","entityID":"E9","amount":5000,"status":"paid","transactionID":"T1","paymentMethod":"Instant EFT","paidAt":"2026-03-02T10:00:00.5+02:00"}`,
			reconcile.SourceWebhook, []reconcile.Record{with(pending, func(r *reconcile.Record) {
				r.TxID, r.Status, r.ProviderStatus, r.OccurredAt, r.Method = "T1", reconcile.StatusSucceeded, "paid", at("2026-03-02T08:00:00.5Z"), "eft"
			})}},
		{"international card by country", `{"paylinkID":"PL1","externalTransactionID":"ORD-1","entityID":"E9","amount":5000,"status":"paid","transactionID":"T1","paymentMethod":"card","cardBrand":"VISA","cardCountry":"GB","paidAt":"2026-03-02T10:00:00Z"}`,
			reconcile.SourceWebhook, []reconcile.Record{with(pending, func(r *reconcile.Record) {
				r.TxID, r.Status, r.ProviderStatus, r.OccurredAt, r.Method = "T1", reconcile.StatusSucceeded, "paid", at("2026-03-02T10:00:00Z"), "international_card"
			})}},
		{"cancelled link", `{"paylinkID":"PL1","externalTransactionID":"ORD-1","entityID":"E9","amount":5000,"status":"cancelled","createdAt":"2026-03-02T07:00:00Z","cancelledAt":"2026-03-02T07:30:00Z"}`,
			reconcile.SourceWebhook, []reconcile.Record{with(pending, func(r *reconcile.Record) {
				r.Status, r.ProviderStatus, r.OccurredAt = reconcile.StatusCancelled, "cancelled", at("2026-03-02T07:30:00Z")
			})}},
		{"refunded with no refund listed: the payment is reversed", `{"paylinkID":"PL1","externalTransactionID":"ORD-1","entityID":"E9","amount":5000,"status":"refunded","transactionID":"T1","paidAt":"2026-03-02T10:00:00Z"}`,
			reconcile.SourceWebhook, []reconcile.Record{with(pending, func(r *reconcile.Record) {
				r.TxID, r.Status, r.ProviderStatus, r.OccurredAt = "T1", reconcile.StatusReversed, "refunded", at("2026-03-02T10:00:00Z")
			})}},
		{"history with a refund", `{"responseCode":"00","payments":[
			{"paylinkID":"PL1","externalTransactionID":"ORD-1","entityID":"E9","amount":5000,"currency":"ZAR","status":"paid","transactionID":"T1","paymentMethod":"eft","paidAt":"2026-03-02T10:00:00Z",
			 "refunds":[{"refundID":"RF1","amount":1250,"status":"completed","refundedAt":"2026-03-03T09:00:00Z"},{"amount":null,"refundedAt":"2026-03-04T09:00:00Z"}]},
			{"paylinkID":"PL2","amount":100,"status":"pending","createdAt":"2026-03-02T11:00:00Z"}]}`,
			reconcile.SourcePoll, []reconcile.Record{
				with(pending, func(r *reconcile.Record) {
					r.TxID, r.Status, r.ProviderStatus, r.OccurredAt, r.Method, r.Source = "T1", reconcile.StatusSucceeded, "paid", at("2026-03-02T10:00:00Z"), "eft", reconcile.SourcePoll
				}),
				with(pending, func(r *reconcile.Record) {
					r.Kind, r.TxID, r.RelatedTxID, r.Amount, r.Status, r.ProviderStatus, r.OccurredAt, r.Method, r.Source =
						reconcile.KindReversal, "RF1", "T1", zar(1250), reconcile.StatusSucceeded, "refund completed", at("2026-03-03T09:00:00Z"), "eft", reconcile.SourcePoll
				}),
				with(pending, func(r *reconcile.Record) {
					r.Kind, r.TxID, r.RelatedTxID, r.Status, r.ProviderStatus, r.OccurredAt, r.Method, r.Source =
						reconcile.KindReversal, "T1/refund/2", "T1", reconcile.StatusSucceeded, "refund", at("2026-03-04T09:00:00Z"), "eft", reconcile.SourcePoll
				}),
				{Provider: ikhokha.Name, Kind: reconcile.KindPayment, TxID: "PL2", ProviderRef: "PL2", Account: "ENT-CFG", Amount: zar(100), AmountKnown: true,
					Status: reconcile.StatusPending, ProviderStatus: "pending", OccurredAt: at("2026-03-02T11:00:00Z"), Source: reconcile.SourcePoll},
			}},
		{"history as a bare array", `[]`, reconcile.SourcePoll, nil},
		{"envelope with data", `{"responseCode":"00","message":"Success","data":{"paylinkID":"PL1","externalTransactionID":"ORD-1","entityID":"E9","amount":5000,"status":"pending","createdAt":"2026-03-02T07:00:00Z"}}`,
			reconcile.SourceWebhook, []reconcile.Record{with(pending, func(r *reconcile.Record) {
				r.Status, r.ProviderStatus, r.OccurredAt = reconcile.StatusPending, "pending", at("2026-03-02T07:00:00Z")
			})}},
	}
	for _, tt := range tests {
		_, recs, err := parser.Parse([]byte(tt.body), tt.src)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		checkRecords(t, tt.name, recs, tt.want)
	}
}

// malformed are bodies the parser must refuse, naming the field.
var malformed = []struct{ name, body, want string }{
	{"not JSON", `not json`, "body"},
	{"truncated", `{"event":"paymentLink.paid","data":{"paylinkID":"x"`, "body"},
	{"no shape at all", `{"foo":1}`, "status"},
	{"amount with a fraction", `{"event":"paymentLink.paid","timestamp":"2025-02-23T15:45:00Z","data":{"paylinkID":"l","amount":199.99,"currency":"ZAR","paidAt":"2025-02-23T15:45:00Z"}}`, "data.amount"},
	{"negative amount", `{"paylinkID":"l","amount":-5,"status":"paid","paidAt":"2025-02-23T15:45:00Z"}`, "amount"},
	{"unknown currency", `{"paylinkID":"l","amount":5,"currency":"ZZZ","status":"paid","paidAt":"2025-02-23T15:45:00Z"}`, "currency"},
	{"no paylinkID nor transactionID", `{"event":"paymentLink.paid","timestamp":"2025-02-23T15:45:00Z","data":{"amount":19999}}`, "data.paylinkID"},
	{"unknown status", `{"paylinkID":"l","amount":5,"status":"teleported","createdAt":"2025-02-23T15:45:00Z"}`, "status"},
	{"paid without paidAt", `{"paylinkID":"l","amount":5,"status":"paid"}`, "paidAt"},
	{"bad paidAt", `{"paylinkID":"l","amount":5,"status":"paid","paidAt":"yesterday"}`, "paidAt"},
	{"data not an object", `{"event":"paymentLink.paid","timestamp":"2025-02-23T15:45:00Z","data":"x"}`, "data"},
	{"bad history row", `{"payments":[{"paylinkID":"a","amount":1,"status":"pending","createdAt":"2025-02-23T15:45:00Z"},{"paylinkID":"b","amount":"1.5","status":"pending","createdAt":"2025-02-23T15:45:00Z"}]}`, "payments[1].amount"},
	{"bad refund", `{"paylinkID":"l","transactionID":"t","amount":500,"status":"paid","paidAt":"2025-02-23T15:45:00Z","refunds":[{"amount":"x","refundedAt":"2025-02-24T15:45:00Z"}]}`, "refunds[0].amount"},
	{"refund without a time", `{"paylinkID":"l","transactionID":"t","amount":500,"status":"paid","paidAt":"2025-02-23T15:45:00Z","refunds":[{"amount":100}]}`, "refunds[0].refundedAt"},
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	for _, tt := range malformed {
		_, recs, err := parser.Parse([]byte(tt.body), reconcile.SourceImport)
		if !errors.Is(err, sources.ErrMalformed) {
			t.Errorf("%s: error %v, want ErrMalformed", tt.name, err)
			continue
		}
		if len(recs) != 0 {
			t.Errorf("%s: %d records with the error", tt.name, len(recs))
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q does not name %q", tt.name, err, tt.want)
		}
	}
}

func TestParseDedupKey(t *testing.T) {
	t.Parallel()
	a, _, _ := parser.Parse([]byte(`{"event":"paymentLink.created","data":{}}`), reconcile.SourceWebhook)
	b, _, _ := parser.Parse([]byte(" {\"event\":\"paymentLink.created\",\"data\":{}}\n"), reconcile.SourceImport)
	c, _, _ := parser.Parse([]byte(`{"event":"paymentLink.created","data":{"x":1}}`), reconcile.SourceWebhook)
	if a.DedupKey != b.DedupKey || a.DedupKey == c.DedupKey {
		t.Errorf("dedup keys %q %q %q: the same bytes must share one, other bytes not", a.DedupKey, b.DedupKey, c.DedupKey)
	}
}

func TestMethod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, brand, origin, country string
		intl                           bool
		want                           string
	}{
		{"eft", "", "", "", false, "eft"},
		{"Instant EFT", "", "", "", false, "eft"},
		{"instant_eft", "", "", "", false, "eft"},
		{"card", "VISA", "", "", false, "card"},
		{"card", "VISA", "local", "ZA", false, "card"},
		{"card", "VISA", "international", "", false, "international_card"},
		{"card", "MASTERCARD", "", "US", false, "international_card"},
		{"credit_card", "", "", "", true, "international_card"},
		{"", "VISA", "", "", false, "card"},
		{"", "", "", "", false, ""},
		{"Wallet", "", "", "", false, "wallet"},
	}
	for _, tt := range tests {
		if got := ikhokha.Method(tt.method, tt.brand, tt.origin, tt.country, tt.intl); got != tt.want {
			t.Errorf("Method(%q, %q, %q, %q, %v) = %q, want %q", tt.method, tt.brand, tt.origin, tt.country, tt.intl, got, tt.want)
		}
	}
}
