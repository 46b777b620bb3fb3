package kora

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/mizani/reconcile"
)

// Charge is one transaction the simulator serves: a pay-in (Kind "charge",
// the default) or a payout (Kind "transfer", seen only in transfer.*
// webhooks). It is also the line format of the simulator's fixture JSONL
// (SimOptions.Fixtures), one object per line.
type Charge struct {
	// Kind is "charge" or "transfer".
	Kind string `json:"kind,omitempty"`
	// Reference is the merchant's reference; TransactionReference Kora's
	// (generated from Reference when empty).
	Reference            string `json:"reference"`
	TransactionReference string `json:"transaction_reference,omitempty"`
	Currency             string `json:"currency"`
	// Amount is what Kora took, in major units ("5000.00"); AmountExpected
	// what was asked when more (a partial redemption).
	Amount         string `json:"amount"`
	AmountExpected string `json:"amount_expected,omitempty"`
	// Fee and VAT as Kora reports them (major units).
	Fee string `json:"fee,omitempty"`
	VAT string `json:"vat,omitempty"`
	// MerchantBearsCost false: the customer paid the fee on top. Default true.
	MerchantBearsCost *bool `json:"merchant_bears_cost,omitempty"`
	// Status is success, failed, processing or pending. Default success.
	Status        string `json:"status,omitempty"`
	PaymentMethod string `json:"payment_method,omitempty"`
	Description   string `json:"description,omitempty"`
	// At is when the charge was created.
	At time.Time `json:"at"`
	// NoWebhook: EmitWebhooks skips it (a webhook Kora never delivered).
	NoWebhook bool `json:"no_webhook,omitempty"`
}

// LoadCharges reads fixture charges, one JSON object per line (blank lines
// and lines starting with # ignored), filling defaults.
func LoadCharges(data []byte) ([]Charge, error) {
	var out []Charge
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		var c Charge
		d := json.NewDecoder(strings.NewReader(text))
		d.DisallowUnknownFields()
		if err := d.Decode(&c); err != nil {
			return nil, fmt.Errorf("kora fixtures: line %d: %w", line, err)
		}
		if err := c.normalize(); err != nil {
			return nil, fmt.Errorf("kora fixtures: line %d: %w", line, err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// normalize fills c's defaults and checks its amounts.
func (c *Charge) normalize() error {
	c.Kind = cmp.Or(c.Kind, "charge")
	if c.Kind != "charge" && c.Kind != "transfer" {
		return fmt.Errorf("kind %q: want charge or transfer", c.Kind)
	}
	if c.Reference == "" && c.TransactionReference == "" {
		return fmt.Errorf("charge without a reference")
	}
	c.Currency = cmp.Or(c.Currency, "NGN")
	c.Status = cmp.Or(c.Status, "success")
	if c.Kind == "charge" {
		c.PaymentMethod = cmp.Or(c.PaymentMethod, "voucher")
		if c.TransactionReference == "" {
			c.TransactionReference = "KPY-CA-" + shortHash(c.Reference)
		}
	}
	if c.At.IsZero() {
		return fmt.Errorf("charge %s has no time (at)", c.Reference)
	}
	for name, v := range map[string]string{"amount": c.Amount, "amount_expected": c.AmountExpected, "fee": c.Fee, "vat": c.VAT} {
		if v == "" && name != "amount" {
			continue
		}
		if _, err := reconcile.ParseMajor(v, reconcile.Currency(c.Currency)); err != nil {
			return fmt.Errorf("charge %s: %s: %w", c.Reference, name, err)
		}
	}
	return nil
}

// Money returns what Kora took, exactly.
func (c Charge) Money() reconcile.Money {
	m, _ := reconcile.ParseMajor(c.Amount, reconcile.Currency(c.Currency))
	return m
}

// bearsCost reports merchant_bears_cost (default true).
func (c Charge) bearsCost() bool { return c.MerchantBearsCost == nil || *c.MerchantBearsCost }

// koraRef is Kora's reference for c.
func (c Charge) koraRef() string { return cmp.Or(c.TransactionReference, c.Reference) }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	var b strings.Builder
	for _, x := range sum[:12] {
		b.WriteByte(alphabet[int(x)%len(alphabet)])
	}
	return b.String()
}

// rngFor is a generator seeded by the simulator's seed and parts.
func (s *Simulator) rngFor(parts ...string) *rand.Rand {
	h := sha256.New()
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], uint64(s.seed))
	h.Write(seed[:])
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16])))
}

// generatedRefPrefix marks the merchant references of generated charges:
// "sim-<unix hour>-<n>", so a verification can regenerate them.
const generatedRefPrefix = "sim-"

// hour returns the charges generated for the hour starting at h (UTC).
func (s *Simulator) hour(h time.Time) []Charge {
	if s.quiet {
		return nil
	}
	key := strconv.FormatInt(h.Unix()/3600, 10)
	rng := s.rngFor("hour", key)
	n := rng.IntN(3)
	out := make([]Charge, 0, n)
	for i := range n {
		naira := 500 + rng.IntN(49500)
		kobo := 0
		if rng.IntN(4) == 0 {
			kobo = 50
		}
		minor := int64(naira*100 + kobo)
		c := Charge{
			Kind:      "charge",
			Reference: fmt.Sprintf("%s%s-%d", generatedRefPrefix, key, i),
			Currency:  "NGN",
			At:        h.Add(time.Duration(rng.IntN(3600)) * time.Second),
			Status:    "success",
		}
		switch roll := rng.IntN(100); {
		case roll < 6:
			c.Status = "failed"
		case roll < 8:
			c.Status = "processing"
		case roll < 11:
			c.AmountExpected = major(minor)
			minor = minor / 2
		}
		c.Amount = major(minor)
		fee, vat := voucherFee(minor)
		c.Fee, c.VAT = major(fee), major(vat)
		if rng.IntN(10) == 0 {
			f := false
			c.MerchantBearsCost = &f
		}
		_ = c.normalize()
		out = append(out, c)
	}
	return out
}

// transfers returns the payouts generated for the day starting at d (UTC).
func (s *Simulator) transfers(d time.Time) []Charge {
	if s.quiet {
		return nil
	}
	key := d.Format("20060102")
	rng := s.rngFor("transfer", key)
	var out []Charge
	for i := range rng.IntN(2) {
		c := Charge{
			Kind: "transfer", Reference: fmt.Sprintf("sim-payout-%s-%d", key, i), Currency: "NGN",
			Amount: major(int64(1000+rng.IntN(90000)) * 100), Fee: "10.00", VAT: "0.75",
			At: d.Add(time.Duration(8*3600+rng.IntN(10*3600)) * time.Second), Status: "success",
		}
		if rng.IntN(8) == 0 {
			c.Status = "failed"
		}
		_ = c.normalize()
		out = append(out, c)
	}
	return out
}

// voucherFee is the simulator's fee on a voucher charge of minor units:
// 1.4% (truncated to the kobo), and 7.5% VAT on the fee — integer
// arithmetic, exact.
func voucherFee(minor int64) (fee, vat int64) {
	fee = minor * 14 / 1000
	return fee, fee * 75 / 1000
}

// major prints minor units of a two-decimal currency: 500050 → "5000.50".
func major(minor int64) string {
	return reconcile.FormatMinor(minor, 2)
}
