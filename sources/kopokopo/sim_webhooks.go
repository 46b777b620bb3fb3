package kopokopo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/mizani/reconcile"
)

// post sends doc, signed, to url in the background (a polling callback).
func (s *Simulator) post(url string, doc any) {
	body, err := json.Marshal(doc)
	if err != nil {
		return
	}
	if s.faults.DropCallback() {
		s.logger.Info("kopokopo simulator dropped a callback (fault injection)", "url", url)
		return
	}
	s.deliveries.After(s.cfg.CallbackDelay, func(ctx context.Context) {
		if err := s.deliver(ctx, url, body); err != nil {
			s.logger.Warn("kopokopo simulator callback failed", "url", url, "err", err)
		}
	})
}

// deliver POSTs body to url with the X-KopoKopo-Signature header.
func (s *Simulator) deliver(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, ComputeSignature(s.cfg.APIKey, body))
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

// Webhooks returns the webhook bodies the simulator emits for events in w,
// in time order: buygoods_transaction_received for every transaction,
// buygoods_transaction_reversed ten minutes after each reversed one, and at
// 10:00 EAT a settlement_transfer_completed paying out the previous day's
// unreversed payments of every till.
func (s *Simulator) Webhooks(w reconcile.Window) [][]byte {
	type event struct {
		at  time.Time
		doc map[string]any
	}
	var events []event
	// Look back far enough to catch reversals of earlier payments.
	for _, t := range s.transactions(reconcile.Window{From: w.From.Add(-10 * time.Minute), To: w.To}, s.cfg.Tills) {
		received := t
		received.Status = "Received"
		if w.Contains(t.OriginationTime) {
			events = append(events, event{t.OriginationTime, s.webhook("buygoods_transaction_received", "Buygoods Transaction", t.OriginationTime.Add(time.Second), received.resource())})
		}
		if rev := t.OriginationTime.Add(10 * time.Minute); t.Status == "Reversed" && w.Contains(rev) {
			events = append(events, event{rev, s.webhook("buygoods_transaction_reversed", "Buygoods Transaction", rev, t.resource())})
		}
	}
	f := w.From.In(eat)
	for mid := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, eat); mid.Before(w.To); mid = mid.AddDate(0, 0, 1) {
		at := mid.Add(10 * time.Hour)
		if !w.Contains(at) {
			continue
		}
		if doc := s.settlement(reconcile.Window{From: mid.AddDate(0, 0, -1), To: mid}, at); doc != nil {
			events = append(events, event{at, doc})
		}
	}
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	var out [][]byte
	for _, e := range events {
		body, _ := json.Marshal(e.doc)
		out = append(out, body)
	}
	return out
}

// EmitWebhooks posts Webhooks(w), signed, to SimConfig.WebhookURL, one after
// another. Dropped webhooks (fault injection) are skipped. It returns how
// many were delivered and the first delivery error.
func (s *Simulator) EmitWebhooks(ctx context.Context, w reconcile.Window) (int, error) {
	if s.cfg.WebhookURL == "" {
		return 0, errors.New("kopokopo simulator: no webhook URL configured")
	}
	sent := 0
	var first error
	for _, body := range s.Webhooks(w) {
		if s.faults.DropCallback() {
			continue
		}
		if err := s.deliver(ctx, s.cfg.WebhookURL, body); err != nil {
			if ctx.Err() != nil {
				return sent, ctx.Err()
			}
			first = cmpErr(first, err)
			continue
		}
		sent++
	}
	return sent, first
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// settlement is the settlement_transfer_completed webhook paying out the
// unreversed payments of day, or nil when there were none.
func (s *Simulator) settlement(day reconcile.Window, at time.Time) map[string]any {
	perTill := map[string]int64{}
	var total int64
	for _, t := range s.transactions(day, s.cfg.Tills) {
		m, err := t.Money()
		if err != nil || t.Status == "Reversed" || t.Currency != "KES" {
			continue
		}
		perTill[t.TillNumber] += m.Minor
		total += m.Minor
	}
	if total == 0 {
		return nil
	}
	var disb []map[string]any
	for _, till := range s.cfg.Tills {
		if perTill[till] == 0 {
			continue
		}
		disb = append(disb, map[string]any{
			"amount":                reconcile.Money{Minor: perTill[till], Currency: "KES"}.String(),
			"status":                "Transferred",
			"origination_time":      at.Add(-2 * time.Minute).In(eat).Format("2006-01-02T15:04:05.000-07:00"),
			"transaction_reference": nil,
		})
	}
	rng := s.rngFor("settlement", day.From.Format(time.RFC3339))
	resource := map[string]any{
		"id":       uuid(rng),
		"amount":   reconcile.Money{Minor: total, Currency: "KES"}.String(),
		"status":   "Transferred",
		"currency": "KES",
		"destination": map[string]any{
			"type": "Bank Account",
			"resource": map[string]any{
				"reference":         "34a273d1-fedc-4610-8ab6-a1ba4828f317",
				"account_name":      "Sandbox Merchant",
				"account_number":    "1234",
				"bank_branch_ref":   "ea2e79f7-35a1-486e-9e18-fe06589a9d7d",
				"settlement_method": "EFT",
			},
		},
		"disbursements":    disb,
		"origination_time": at.Add(-2 * time.Minute).In(eat).Format("2006-01-02T15:04:05.000-07:00"),
	}
	return s.webhook("settlement_transfer_completed", "Settlement Transfer", at, resource)
}

// webhook wraps resource in the documented envelope with a deterministic id.
func (s *Simulator) webhook(topic, typ string, at time.Time, resource map[string]any) map[string]any {
	id := uuid(s.rngFor(topic, fmt.Sprint(resource["id"])))
	return map[string]any{
		"topic":      topic,
		"id":         id,
		"created_at": at.In(eat).Format(time.RFC3339),
		"event":      map[string]any{"type": typ, "resource": resource},
		"_links": map[string]any{
			"self":     "https://sandbox.kopokopo.com/webhook_events/" + id,
			"resource": "https://sandbox.kopokopo.com/financial_transaction/" + fmt.Sprint(resource["id"]),
		},
	}
}

// rngFor returns a generator determined by the seed and the given strings.
func (s *Simulator) rngFor(parts ...string) *rand.Rand {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(s.cfg.Seed))
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var seed [32]byte
	copy(seed[:], h.Sum(nil))
	return rand.New(rand.NewChaCha8(seed))
}
