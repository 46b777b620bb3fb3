package kopokopo

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/mizani/reconcile"
)

// Transaction is one Buygoods transaction the simulator serves, in the
// resource shape of the vendor document, so fixture files can be written as
// the API sends them. Amount is a major-unit string such as "500.0".
type Transaction struct {
	ID                string    `json:"id"`
	Amount            string    `json:"amount"`
	Status            string    `json:"status"` // "Received" or "Reversed"
	System            string    `json:"system"`
	Currency          string    `json:"currency"`
	Reference         string    `json:"reference"` // the M-PESA code
	TillNumber        string    `json:"till_number"`
	OriginationTime   time.Time `json:"origination_time"`
	SenderLastName    string    `json:"sender_last_name"`
	SenderFirstName   string    `json:"sender_first_name"`
	SenderMiddleName  string    `json:"sender_middle_name"`
	SenderPhoneNumber string    `json:"sender_phone_number"`
}

// Money returns the transaction's amount in exact minor units.
func (t Transaction) Money() (reconcile.Money, error) {
	return reconcile.ParseMajor(t.Amount, reconcile.Currency(t.Currency))
}

// eat is East Africa Time, the zone Kopo Kopo writes its times in (+03:00).
var eat = time.FixedZone("EAT", 3*60*60)

// resource is t as the API writes it: times in +03:00.
func (t Transaction) resource() map[string]any {
	return map[string]any{
		"id":                  t.ID,
		"amount":              t.Amount,
		"status":              t.Status,
		"system":              t.System,
		"currency":            t.Currency,
		"reference":           t.Reference,
		"till_number":         t.TillNumber,
		"origination_time":    t.OriginationTime.In(eat).Format(time.RFC3339Nano),
		"sender_last_name":    t.SenderLastName,
		"sender_first_name":   t.SenderFirstName,
		"sender_middle_name":  t.SenderMiddleName,
		"sender_phone_number": t.SenderPhoneNumber,
	}
}

// LoadTransactions reads fixture transactions, one JSON resource per line
// (blank lines ignored), for SimConfig.Extra. Missing currency and system
// default to KES and Lipa Na M-PESA, a missing status to Received.
func LoadTransactions(r io.Reader) ([]Transaction, error) {
	var out []Transaction
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var t Transaction
		if err := json.Unmarshal([]byte(text), &t); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		t.Currency = cmp.Or(t.Currency, "KES")
		t.System = cmp.Or(t.System, "Lipa Na M-PESA")
		t.Status = cmp.Or(t.Status, "Received")
		if t.ID == "" || t.TillNumber == "" || t.OriginationTime.IsZero() {
			return nil, fmt.Errorf("line %d: id, till_number and origination_time are required", line)
		}
		if _, err := t.Money(); err != nil {
			return nil, fmt.Errorf("line %d: field amount: %w", line, err)
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// transactions returns the simulator's transactions with OriginationTime in
// w for the given tills, sorted by time then id. Each till-hour's
// transactions derive from hash(seed, till, hour) alone, so any window, however
// split, sees the same transactions.
func (s *Simulator) transactions(w reconcile.Window, tills []string) []Transaction {
	var out []Transaction
	for _, till := range tills {
		for h := w.From.Truncate(time.Hour); h.Before(w.To); h = h.Add(time.Hour) {
			for _, t := range s.hour(till, h) {
				if w.Contains(t.OriginationTime) {
					out = append(out, t)
				}
			}
		}
	}
	for _, t := range s.cfg.Extra {
		if w.Contains(t.OriginationTime) && slices.Contains(tills, t.TillNumber) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b Transaction) int {
		if c := a.OriginationTime.Compare(b.OriginationTime); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

var (
	firstNames = []string{"Jane", "John", "Wanjiru", "Otieno", "Achieng", "Kamau", "Njeri", "Mwangi", "Akinyi", "Kiprono", "Fatuma", "Baraka"}
	lastNames  = []string{"Doe", "Mwangi", "Odhiambo", "Wambui", "Kariuki", "Chebet", "Omondi", "Njoroge", "Mutua", "Wafula", "Hassan", "Kilonzo"}
)

// hour generates till's transactions for the hour starting at h.
func (s *Simulator) hour(till string, h time.Time) []Transaction {
	if s.cfg.PerHour < 0 {
		return nil
	}
	var seed [32]byte
	{
		sum := sha256.New()
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], uint64(s.cfg.Seed))
		binary.BigEndian.PutUint64(b[8:], uint64(h.Unix()))
		sum.Write(b[:])
		sum.Write([]byte(till))
		copy(seed[:], sum.Sum(nil))
	}
	rng := rand.New(rand.NewChaCha8(seed))
	n := rng.IntN(2*s.cfg.PerHour + 1)
	out := make([]Transaction, n)
	for i := range out {
		at := h.Add(time.Duration(rng.IntN(3600)) * time.Second)
		status := "Received"
		if rng.IntN(40) == 0 {
			status = "Reversed"
		}
		out[i] = Transaction{
			ID:                uuid(rng),
			Amount:            fmt.Sprintf("%d.0", amountShillings(rng)),
			Status:            status,
			System:            "Lipa Na M-PESA",
			Currency:          "KES",
			Reference:         mpesaCode(rng, at),
			TillNumber:        till,
			OriginationTime:   at.In(eat),
			SenderFirstName:   firstNames[rng.IntN(len(firstNames))],
			SenderLastName:    lastNames[rng.IntN(len(lastNames))],
			SenderPhoneNumber: fmt.Sprintf("+2547%08d", rng.IntN(100_000_000)),
		}
	}
	return out
}

// amountShillings draws a till payment: mostly small, sometimes large.
func amountShillings(rng *rand.Rand) int {
	switch p := rng.IntN(100); {
	case p < 60:
		return 10 + rng.IntN(990)
	case p < 95:
		return 1000 + rng.IntN(9000)
	default:
		return 10000 + rng.IntN(140000)
	}
}

// mpesaCode returns a 10-character M-PESA receipt such as "OJM6Q1W84K": a
// year letter, a month letter, a digit, then seven letters or digits.
func mpesaCode(rng *rand.Rand, at time.Time) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := []byte{
		byte('A' + (at.Year()-2006)%26),
		byte('A' + int(at.Month()) - 1),
		byte('0' + rng.IntN(10)),
	}
	for range 7 {
		b = append(b, alnum[rng.IntN(len(alnum))])
	}
	return string(b)
}

// uuid returns a version 4 UUID drawn from rng.
func uuid(rng *rand.Rand) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], rng.Uint64())
	binary.BigEndian.PutUint64(b[8:], rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
