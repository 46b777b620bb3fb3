package reconcile

import (
	"fmt"
	"time"
)

// LedgerStatus is the merchant ledger's own view of an order (SPEC §5).
type LedgerStatus string

// Ledger statuses.
const (
	LedgerPaid      LedgerStatus = "paid"
	LedgerPending   LedgerStatus = "pending"
	LedgerFailed    LedgerStatus = "failed"
	LedgerCancelled LedgerStatus = "cancelled"
	LedgerRefunded  LedgerStatus = "refunded"
)

// ParseLedgerStatus validates s.
func ParseLedgerStatus(s string) (LedgerStatus, error) {
	switch st := LedgerStatus(s); st {
	case LedgerPaid, LedgerPending, LedgerFailed, LedgerCancelled, LedgerRefunded:
		return st, nil
	}
	return "", fmt.Errorf("unknown status %q (want paid, pending, failed, cancelled or refunded)", s)
}

// LedgerEntry is one row of the merchant's own books: what the merchant
// believes happened. (Provider, Direction, Reference) is unique.
type LedgerEntry struct {
	ID        int64
	Reference string
	Provider  Provider
	Direction Direction
	Amount    Money
	Status    LedgerStatus
	// OccurredAt is when the order was paid or created, in UTC.
	OccurredAt        time.Time
	Account           string
	ProviderReference string
	CustomerPhone     string
	Description       string
}
