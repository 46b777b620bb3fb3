package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/sources/webhook"
)

// send posts a signed body and returns the status and Retry-After.
func (b *bundle) send(tb testing.TB, body []byte) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.url+"/webhooks/kopokopo", bytes.NewReader(body))
	req.Header.Set(kopokopo.SignatureHeader, kopokopo.ComputeSignature(apiKey, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Error(err)
		return 0, ""
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// TestWebhookGroupCommit: many deliveries at once — distinct webhooks,
// redeliveries of one webhook, and different webhooks sighting the same
// transaction — are group-committed, and the store holds each payload once
// and each transaction once with every sighting in its history, exactly as
// one Save at a time would leave it.
func TestWebhookGroupCommit(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(c *webhook.Config) { c.Queue = 4096 }) // room for every delivery: none shed
	const n = 200
	var wg sync.WaitGroup
	codes := make([]int, 3*n)
	for i := range n {
		i := i
		wg.Go(func() { codes[i], _ = b.send(t, buygoods(fmt.Sprint("e", i), fmt.Sprint("tx", i), "Doe", "1")) })
		wg.Go(func() { codes[n+i], _ = b.send(t, buygoods("same", "tx-same", "Doe", "1")) })
		// A different event (payload) for the same transaction as event i.
		wg.Go(func() { codes[2*n+i], _ = b.send(t, buygoods(fmt.Sprint("again", i), fmt.Sprint("tx", i), "Doe", "2")) })
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("delivery %d answered %d", i, c)
		}
	}
	if p, r, h := b.count(t, "raw_payloads"), b.count(t, "provider_records"), b.count(t, "record_history"); p != 2*n+1 || r != n+1 || h != 2*n+1 {
		t.Errorf("store holds %d payloads, %d records, %d history rows; want %d, %d, %d", p, r, h, 2*n+1, n+1, 2*n+1)
	}
	var grouped int
	if err := b.store.DB().Get(&grouped, `SELECT count(*) FROM (SELECT xmin FROM raw_payloads GROUP BY xmin HAVING count(*) > 1) g`); err != nil {
		t.Fatal(err)
	}
	if grouped == 0 {
		t.Error("no transaction stored more than one delivery: nothing was group-committed")
	}
}

// TestWebhookShedsBeyondCapacity: while the store cannot keep up (here its
// raw_payloads table is locked by another transaction), deliveries beyond
// the queue are shed with 503 and Retry-After, nothing stored; those queued
// are stored once the store catches up, and answered 200 only then. No
// webhook is lost (every one is 200 or 503, and a 503 redelivered is
// stored) or doubled (the store holds exactly the 200s).
func TestWebhookShedsBeyondCapacity(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(c *webhook.Config) {
		c.Committers, c.MaxGroup, c.Queue, c.QueueWait = 1, 4, 4, 20*time.Millisecond
	})
	ctx := context.Background()
	lock, err := b.store.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.ExecContext(ctx, "LOCK TABLE raw_payloads IN EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	const n = 40
	type answer struct {
		code       int
		retryAfter string
		at         time.Time
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			code, ra := b.send(t, buygoods(fmt.Sprint("shed", i), fmt.Sprint("tx-shed", i), "Doe", "1"))
			answers[i] = answer{code, ra, time.Now()}
		})
	}
	time.Sleep(500 * time.Millisecond) // every delivery is queued, committing, or shed
	released := time.Now()
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	var ok, shed []int
	for i, a := range answers {
		switch {
		case a.code == http.StatusOK:
			if a.at.Before(released) {
				t.Errorf("delivery %d answered 200 before the store could commit it", i)
			}
			ok = append(ok, i)
		case a.code == http.StatusServiceUnavailable && a.retryAfter != "":
			shed = append(shed, i)
		default:
			t.Errorf("delivery %d answered %d (Retry-After %q)", i, a.code, a.retryAfter)
		}
	}
	if len(shed) == 0 || len(ok) == 0 {
		t.Fatalf("%d stored, %d shed; want some of each", len(ok), len(shed))
	}
	if p := b.count(t, "raw_payloads"); p != len(ok) {
		t.Errorf("store holds %d payloads, answered 200: %d", p, len(ok))
	}
	if got := b.metric(t, "mizani_webhooks_refused_total", "overloaded"); got != float64(len(shed)) {
		t.Errorf("refused{overloaded} = %v, want %d", got, len(shed))
	}
	for _, i := range shed { // the provider retries after Retry-After
		if code, _ := b.send(t, buygoods(fmt.Sprint("shed", i), fmt.Sprint("tx-shed", i), "Doe", "1")); code != http.StatusOK {
			t.Errorf("redelivery of shed %d answered %d", i, code)
		}
	}
	if p, r := b.count(t, "raw_payloads"), b.count(t, "provider_records"); p != n || r != n {
		t.Errorf("after redelivery the store holds %d payloads, %d records; want %d each", p, r, n)
	}
}
