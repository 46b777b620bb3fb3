package ikhokha

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mizani/reconcile"
)

// Link is one payment link as the simulator keeps it. Its JSON is the
// link status document iKhokha answers (without the responseCode), and one
// line of the simulator's JSONL fixtures (SimOptions.Fixtures).
type Link struct {
	PaylinkID             string `json:"paylinkID"`
	ExternalTransactionID string `json:"externalTransactionID"`
	EntityID              string `json:"entityID,omitempty"`
	Amount                int64  `json:"amount"`
	Currency              string `json:"currency"`
	// Status is pending, paid, expired, cancelled or failed.
	Status        string `json:"status"`
	Description   string `json:"description,omitempty"`
	TransactionID string `json:"transactionID,omitempty"`
	// PaymentMethod is "card" or "eft"; CardOrigin "local" or
	// "international", CardCountry the issuing country.
	PaymentMethod string `json:"paymentMethod,omitempty"`
	CardBrand     string `json:"cardBrand,omitempty"`
	CardLastFour  string `json:"cardLastFour,omitempty"`
	CardOrigin    string `json:"cardOrigin,omitempty"`
	CardCountry   string `json:"cardCountry,omitempty"`
	// FailureCode is the decline code of a failed payment (05, 12, 51).
	FailureCode string     `json:"failureCode,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	ExpiryAt    time.Time  `json:"expiryAt"`
	PaidAt      *time.Time `json:"paidAt,omitempty"`
	CancelledAt *time.Time `json:"cancelledAt,omitempty"`
	Refunds     []Refund   `json:"refunds,omitempty"`

	// callbackURL is where the link's webhooks go (the create request's).
	callbackURL string
}

// Refund is one refund of a paid link.
type Refund struct {
	RefundID   string    `json:"refundID"`
	Amount     int64     `json:"amount"`
	Status     string    `json:"status"`
	RefundedAt time.Time `json:"refundedAt"`
	Reason     string    `json:"reason,omitempty"`
}

// At is the time of the link's outcome: when it was paid, failed, expired
// or was cancelled; when it was created while pending. The parser dates the
// link's payment record by it.
func (l *Link) At() time.Time {
	switch l.Status {
	case "paid", "failed":
		if l.PaidAt != nil {
			return *l.PaidAt
		}
	case "expired":
		return l.ExpiryAt
	case "cancelled":
		if l.CancelledAt != nil {
			return *l.CancelledAt
		}
	}
	return l.CreatedAt
}

// times are the instants of every record the link yields: its outcome and
// its refunds. History lists the link on each of their days.
func (l *Link) times() []time.Time {
	out := []time.Time{l.At()}
	for _, r := range l.Refunds {
		out = append(out, r.RefundedAt)
	}
	return out
}

// clone returns a deep copy of l.
func (l *Link) clone() *Link {
	c := *l
	c.Refunds = slices.Clone(l.Refunds)
	if l.PaidAt != nil {
		t := *l.PaidAt
		c.PaidAt = &t
	}
	if l.CancelledAt != nil {
		t := *l.CancelledAt
		c.CancelledAt = &t
	}
	return &c
}

// statusDoc is the link status answer.
func (l *Link) statusDoc() []byte {
	b, _ := json.Marshal(struct {
		ResponseCode string `json:"responseCode"`
		*Link
	}{"00", l})
	return b
}

// webhookData is the data of the link's webhook: the link, a failed one's
// decline code as responseCode.
func (l *Link) webhookData() map[string]any {
	var m map[string]any
	b, _ := json.Marshal(l)
	_ = json.Unmarshal(b, &m)
	if l.FailureCode != "" {
		m["responseCode"] = l.FailureCode
	}
	delete(m, "refunds")
	return m
}

// utc truncates t to the second, in UTC, as iKhokha writes times.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func ptr(t time.Time) *time.Time { t = utc(t); return &t }

// ParseFixtures reads JSONL link documents (one Link per line; blank lines
// and lines starting with # skipped), filling in what a line leaves out:
// currency ZAR, status paid when paidAt is set (else pending), createdAt
// from the outcome, expiryAt a day after createdAt.
func ParseFixtures(data []byte) ([]*Link, error) {
	var out []*Link
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var l Link
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			return nil, fmt.Errorf("ikhokha fixtures line %d: %w", i+1, err)
		}
		if l.PaylinkID == "" {
			return nil, fmt.Errorf("ikhokha fixtures line %d: paylinkID is empty", i+1)
		}
		if l.Currency == "" {
			l.Currency = string(defaultCurrency)
		}
		if _, err := reconcile.ParseCurrency(l.Currency); err != nil {
			return nil, fmt.Errorf("ikhokha fixtures line %d: %w", i+1, err)
		}
		if l.Amount <= 0 {
			return nil, fmt.Errorf("ikhokha fixtures line %d: amount %d cents must be positive", i+1, l.Amount)
		}
		if l.Status == "" {
			l.Status = "pending"
			if l.PaidAt != nil {
				l.Status = "paid"
			}
		}
		if _, _, err := linkStatus(l.Status); err != nil {
			return nil, fmt.Errorf("ikhokha fixtures line %d: %w", i+1, err)
		}
		if l.CreatedAt.IsZero() {
			switch {
			case l.PaidAt != nil:
				l.CreatedAt = l.PaidAt.Add(-10 * time.Minute)
			case l.CancelledAt != nil:
				l.CreatedAt = l.CancelledAt.Add(-time.Hour)
			case !l.ExpiryAt.IsZero():
				l.CreatedAt = l.ExpiryAt.Add(-24 * time.Hour)
			default:
				return nil, fmt.Errorf("ikhokha fixtures line %d: link %s has no time (createdAt, paidAt, expiryAt or cancelledAt)", i+1, l.PaylinkID)
			}
		}
		if l.ExpiryAt.IsZero() {
			l.ExpiryAt = l.CreatedAt.Add(24 * time.Hour)
		}
		if (l.Status == "paid" || l.Status == "failed") && l.PaidAt == nil {
			return nil, fmt.Errorf("ikhokha fixtures line %d: %s link %s has no paidAt", i+1, l.Status, l.PaylinkID)
		}
		l.CreatedAt, l.ExpiryAt = utc(l.CreatedAt), utc(l.ExpiryAt)
		out = append(out, &l)
	}
	return out, nil
}

// generator makes the simulator's links of one business day from the
// seed, the same on every call.
type generator struct {
	seed   int64
	zone   *time.Location
	entity string
}

// dayOf parses the day a generated paylinkID names ("PL20260302007…"):
// the date, and whether the id is a generated one.
func dayOf(id string) (string, bool) {
	if len(id) < 13 || !strings.HasPrefix(id, "PL") {
		return "", false
	}
	if _, err := time.Parse("20060102", id[2:10]); err != nil {
		return "", false
	}
	if _, err := strconv.Atoi(id[10:13]); err != nil {
		return "", false
	}
	return id[2:10], true
}

var brands = []string{"VISA", "MASTERCARD", "VISA", "MASTERCARD", "AMEX"}

// day returns the generated links of the business day date (YYYYMMDD),
// ordered by time.
func (g generator) day(date string) []*Link {
	d, err := time.ParseInLocation("20060102", date, g.zone)
	if err != nil {
		return nil
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", g.seed, date)
	r := rand.New(rand.NewPCG(h.Sum64(), 0x1c40a))
	n := 24 + r.IntN(12)
	out := make([]*Link, 0, n)
	for i := range n {
		// Links are paid around the clock (online shops), busier by day.
		secs := r.IntN(24 * 3600)
		if r.IntN(3) > 0 {
			secs = 7*3600 + r.IntN(14*3600)
		}
		at := d.Add(time.Duration(secs) * time.Second)
		cents := (20 + r.Int64N(5980)) * 100
		cents += []int64{0, 0, 50, 99, r.Int64N(100)}[r.IntN(5)]
		l := &Link{
			PaylinkID:             fmt.Sprintf("PL%s%03d%06X", date, i, r.Uint32()&0xffffff),
			ExternalTransactionID: fmt.Sprintf("SIM-%s-%03d", date, i),
			EntityID:              g.entity, Amount: cents, Currency: string(defaultCurrency),
			Description: "Simulated order",
		}
		roll := r.IntN(100)
		switch {
		case roll < 78:
			l.Status = "paid"
			l.CreatedAt, l.ExpiryAt, l.PaidAt = utc(at.Add(-time.Duration(2+r.IntN(40))*time.Minute)), utc(at.Add(24*time.Hour)), ptr(at)
			l.TransactionID = fmt.Sprintf("TX%s%03d%08X", date, i, r.Uint32())
			switch m := r.IntN(100); {
			case m < 30:
				l.PaymentMethod = "eft"
			case m < 85:
				l.PaymentMethod, l.CardOrigin, l.CardCountry = "card", "local", "ZA"
			default:
				l.PaymentMethod, l.CardOrigin, l.CardCountry = "card", "international", []string{"GB", "US", "DE", "NA"}[r.IntN(4)]
			}
			if l.PaymentMethod == "card" {
				l.CardBrand, l.CardLastFour = brands[r.IntN(len(brands))], fmt.Sprintf("%04d", r.IntN(10000))
			}
			if r.IntN(100) < 5 {
				amount := l.Amount
				if r.IntN(2) == 0 {
					amount = l.Amount / 2
				}
				l.Refunds = []Refund{{RefundID: fmt.Sprintf("RF%s%03d%06X", date, i, r.Uint32()&0xffffff), Amount: amount,
					Status: "completed", RefundedAt: utc(at.Add(time.Duration(1+r.IntN(47)) * time.Hour)), Reason: "customer request"}}
			}
		case roll < 86:
			l.Status = "expired"
			l.CreatedAt, l.ExpiryAt = utc(at.Add(-24*time.Hour)), utc(at)
		case roll < 91:
			l.Status = "cancelled"
			l.CreatedAt, l.ExpiryAt, l.CancelledAt = utc(at.Add(-time.Hour)), utc(at.Add(23*time.Hour)), ptr(at)
		case roll < 97:
			l.Status = "failed"
			l.CreatedAt, l.ExpiryAt, l.PaidAt = utc(at.Add(-5*time.Minute)), utc(at.Add(24*time.Hour)), ptr(at)
			l.TransactionID = fmt.Sprintf("TX%s%03d%08X", date, i, r.Uint32())
			l.PaymentMethod, l.CardOrigin, l.CardCountry = "card", "local", "ZA"
			l.CardBrand, l.CardLastFour = brands[r.IntN(len(brands))], fmt.Sprintf("%04d", r.IntN(10000))
			l.FailureCode = []string{"05", "12", "51"}[r.IntN(3)]
		default:
			l.Status = "pending"
			l.CreatedAt, l.ExpiryAt = utc(at), utc(at.Add(24*time.Hour))
		}
		out = append(out, l)
	}
	slices.SortStableFunc(out, func(a, b *Link) int { return a.At().Compare(b.At()) })
	return out
}

// days lists the business days (YYYYMMDD) from the day of from to the day
// of to, both included.
func days(from, to time.Time, zone *time.Location) []string {
	var out []string
	y, m, d := from.In(zone).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, zone)
	for !day.After(to) && len(out) < 400 {
		out = append(out, day.Format("20060102"))
		day = day.AddDate(0, 0, 1)
	}
	return out
}

// records parses the simulator's own link as the client would read it.
func (l *Link) records() ([]reconcile.Record, error) {
	_, recs, err := Parser{}.Parse(l.statusDoc(), reconcile.SourcePoll)
	return recs, err
}

// StatusDocument is the link status answer the simulator gives for l.
func StatusDocument(l *Link) []byte { return l.statusDoc() }

// StatusAnswer is StatusDocument as a JSON value, for writers that marshal
// documents (the demo fixture generator).
func StatusAnswer(l *Link) json.RawMessage { return l.statusDoc() }
