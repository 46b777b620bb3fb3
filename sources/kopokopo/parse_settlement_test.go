package kopokopo

import (
	"errors"
	"strings"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// settlementHook is a settlement_transfer_completed webhook whose resource
// carries amount (a JSON value) and the disbursements given.
func settlementHook(amount, disbursements string) []byte {
	return []byte(`{"topic": "settlement_transfer_completed", "id": "evt-s1", "created_at": "2026-03-03T10:02:00+03:00",
"event": {"type": "Settlement Transfer", "resource": {"id": "batch-1", "amount": ` + amount + `, "status": "Transferred",
"currency": "KES", "destination": {"type": "Bank Account", "resource": {"reference": "bank-1"}},
"origination_time": "2026-03-03T10:00:00+03:00", "disbursements": [` + disbursements + `]}}}`)
}

// settlementResult is a settlement transfer result of status st, amount
// (a JSON value) and the batches given.
func settlementResult(st, amount, batches string) []byte {
	return []byte(`{"data": {"id": "transfer-1", "type": "settlement_transfer", "attributes": {"status": "` + st + `",
"created_at": "2026-03-03T09:59:00+03:00", "amount": {"currency": "KES", "value": ` + amount + `},
"transfer_batches": [` + batches + `]}}}`)
}

// TestParseSettlementOneDisbursementTwoWays (issue 14, item 5): the webhook
// gives a disbursement no transaction_reference, the settlement transfer
// result gives it one: one key, so the store keeps one record, and the
// result's reference.
func TestParseSettlementOneDisbursementTwoWays(t *testing.T) {
	t.Parallel()
	_, hook, err := Parser{}.Parse(settlementHook(`"1000.0"`,
		`{"amount": "1000.0", "status": "Transferred", "origination_time": "2026-03-03T10:00:01+03:00", "transaction_reference": null}`), reconcile.SourceWebhook)
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := Parser{}.Parse(settlementResult("Processed", "null",
		`{"status": "Transferred", "disbursements": [{"amount": "1000.0", "status": "Transferred", "destination_type": "Bank Account",
"origination_time": "2026-03-03T10:00:01.000+03:00", "transaction_reference": "LDL1"}]}`), reconcile.SourcePoll)
	if err != nil {
		t.Fatal(err)
	}
	if len(hook) != 1 || len(res) != 1 || hook[0].TxID != res[0].TxID || hook[0].Kind != res[0].Kind {
		t.Fatalf("webhook %+v and result %+v: want one disbursement under one key", hook, res)
	}
	if hook[0].ProviderRef != "" || res[0].ProviderRef != "LDL1" || res[0].Amount.Minor != 100000 {
		t.Errorf("webhook ref %q, result ref %q amount %d; want the reference kept as ProviderRef", hook[0].ProviderRef, res[0].ProviderRef, res[0].Amount.Minor)
	}
}

// TestParseSettlementStatuses (issue 14, item 3): a disbursement Reversed
// or Failed after it was Transferred is reversed, which replaces the
// Transferred sighting by the store's precedence; a disbursement with no
// status of its own takes its batch's.
func TestParseSettlementStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, disbursement, batch string
		want                      reconcile.Status
		wantWord                  string
	}{
		{"transferred", `"status": "Transferred"`, "Transferred", reconcile.StatusSucceeded, "Transferred"},
		{"reversed", `"status": "Reversed"`, "Transferred", reconcile.StatusReversed, "Reversed"},
		{"failed", `"status": "Failed"`, "Transferred", reconcile.StatusReversed, "Failed"},
		{"the batch's status", `"status": ""`, "Failed", reconcile.StatusReversed, "Failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, recs, err := Parser{}.Parse(settlementResult("Processed", "null", `{"status": "`+tt.batch+`", "disbursements": [{"amount": "1000.0", `+
				tt.disbursement+`, "origination_time": "2026-03-03T10:00:01+03:00"}]}`), reconcile.SourcePoll)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].Status != tt.want || recs[0].ProviderStatus != tt.wantWord {
				t.Errorf("records %+v, want one %s (%s)", recs, tt.want, tt.wantWord)
			}
			if tt.want.Precedence() < reconcile.StatusSucceeded.Precedence() {
				t.Errorf("%s would not replace an earlier Transferred sighting", tt.want)
			}
		})
	}
}

// TestParseSettlementAmounts (issue 14, item 6): a settlement payload is
// used — the transfer's own amount where its disbursements do not say —
// or refused naming the field, never dropped in silence.
func TestParseSettlementAmounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      []byte
		wantMinor []int64 // the settlement records' amounts
		wantField string  // or the field a malformed error names
	}{
		{"null disbursement amount, the transfer's only one", settlementHook(`"1000.0"`,
			`{"amount": null, "status": "Transferred", "origination_time": "2026-03-03T10:00:01+03:00"}`), []int64{100000}, ""},
		{"null disbursement amount beside another", settlementHook(`"1500.0"`,
			`{"amount": "500.0", "status": "Transferred"}, {"amount": null, "status": "Transferred"}`), nil, "event.resource.disbursements[1].amount"},
		{"null disbursement amount, all available funds", settlementHook(`null`,
			`{"amount": null, "status": "Transferred"}`), nil, "event.resource.disbursements[0].amount"},
		{"completed, an amount and no disbursements", settlementHook(`"49452.0"`, ``), []int64{4945200}, ""},
		{"completed, no amount and no disbursements", settlementHook(`null`, ``), nil, "event.resource.amount"},
		{"result still pending, no batches", settlementResult("Pending", `"1000.0"`, ``), []int64{}, ""},
		{"result processed, an amount and no batches", settlementResult("Processed", `"1000.0"`, ``), []int64{100000}, ""},
		{"result processed, no amount and no batches", settlementResult("Processed", `null`, ``), nil, "data.attributes.amount.value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, recs, err := Parser{}.Parse(tt.body, reconcile.SourceWebhook)
			if tt.wantField != "" {
				if !errors.Is(err, sources.ErrMalformed) || !strings.Contains(err.Error(), tt.wantField) {
					t.Fatalf("error %v, want malformed naming %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []int64{}
			for _, r := range recs {
				if r.Kind != reconcile.KindSettlement || !r.AmountKnown || r.Status != reconcile.StatusSucceeded {
					t.Errorf("record %+v, want a succeeded settlement with an amount", r)
				}
				got = append(got, r.Amount.Minor)
			}
			if len(got) != len(tt.wantMinor) || (len(got) > 0 && got[0] != tt.wantMinor[0]) {
				t.Errorf("settled %v, want %v", got, tt.wantMinor)
			}
		})
	}
}
