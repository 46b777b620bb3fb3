package store_test

import (
	"context"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// TestPaymentByTxID checks the lookup the matcher uses for the payment a
// reversal names when that payment lies before the window read.
func TestPaymentByTxID(t *testing.T) {
	t.Parallel()
	s := store.New(pgtest.New(t))
	for _, q := range []string{
		`INSERT INTO provider_records (provider, kind, tx_id, merchant_ref, provider_ref, account, currency,
			amount_minor, status, provider_status, occurred_at, counterparty, method, source)
		VALUES ('kopokopo', 'payment', 'TX-1', 'ORD-1', 'QC1', 'TILL', 'KES', 18000, 'reversed', 'Reversed',
			$1::timestamptz, '+254700000001', 'mpesa', 'webhook'),
		('kopokopo', 'reversal', 'TX-1', '', 'QC1', 'TILL', 'KES', 18000, 'succeeded', 'Reversed',
			$1::timestamptz + interval '3 days', '', 'mpesa', 'webhook'),
		('kopokopo', 'payout', 'TX-2', 'PAY-2', '', 'TILL', 'KES', 5000, 'succeeded', 'Success',
			$1::timestamptz, '', 'mpesa', 'poll'),
		('pixel', 'payment', 'TX-3', 'ORD-3', '', '', 'XOF', 1100, 'succeeded', 'SUCCESS',
			$1::timestamptz, '', '', 'poll')`,
	} {
		if _, err := s.DB().Exec(q, t0); err != nil {
			t.Fatalf("seeding: %v", err)
		}
	}
	tests := []struct {
		p      reconcile.Provider
		tx     string
		found  bool
		kind   reconcile.Kind
		status reconcile.Status
	}{
		{"kopokopo", "TX-1", true, reconcile.KindPayment, reconcile.StatusReversed},
		{"kopokopo", "TX-2", true, reconcile.KindPayout, reconcile.StatusSucceeded},
		{"kopokopo", "TX-3", false, "", ""}, // another provider's
		{"kopokopo", "TX-9", false, "", ""},
		{"pixel", "TX-3", true, reconcile.KindPayment, reconcile.StatusSucceeded},
	}
	for _, tt := range tests {
		r, found, err := s.PaymentByTxID(context.Background(), tt.p, tt.tx)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.p, tt.tx, err)
		}
		if found != tt.found || r.Kind != tt.kind || r.Status != tt.status {
			t.Errorf("%s %s: found %v, %s %s; want %v, %s %s", tt.p, tt.tx, found, r.Kind, r.Status, tt.found, tt.kind, tt.status)
		}
		if found && (!r.OccurredAt.Equal(t0) || r.TxID != tt.tx || r.Provider != tt.p || !r.AmountKnown) {
			t.Errorf("%s %s: read %+v", tt.p, tt.tx, r)
		}
	}
	if r, _, _ := s.PaymentByTxID(context.Background(), "kopokopo", "TX-1"); r.Amount != (reconcile.Money{Minor: 18000, Currency: "KES"}) || r.MerchantRef != "ORD-1" || r.ProviderRef != "QC1" {
		t.Errorf("TX-1 read as %+v", r)
	}
}
