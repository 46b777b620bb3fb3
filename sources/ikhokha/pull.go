package ikhokha

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Puller pulls iKhokha's payment history for a window (one request for the
// days the window touches, in the client's zone) and saves the answer with
// the records whose own time lies in the window.
type Puller struct {
	Client *Client
	Parser Parser
}

// maxHistoryDays is the most days one history request asks for.
const maxHistoryDays = 31

// Pull implements sources.Puller. A window longer than a month is asked
// for a month at a time.
func (p Puller) Pull(ctx context.Context, w reconcile.Window, sink sources.Sink) (sources.PullStats, error) {
	var st sources.PullStats
	if !w.From.Before(w.To) {
		return st, nil
	}
	zone := p.Client.Zone()
	last := w.To.Add(-time.Nanosecond)
	y, m, d := last.In(zone).Date()
	lastDay := time.Date(y, m, d, 0, 0, 0, 0, zone)
	for start := w.From; !start.After(last); {
		y, m, d := start.In(zone).Date()
		end := time.Date(y, m, d, 0, 0, 0, 0, zone).AddDate(0, 0, maxHistoryDays-1)
		if end.After(lastDay) {
			end = lastDay
		}
		one, err := p.pull(ctx, w, start, end, sink)
		st = st.Add(one)
		if err != nil {
			return st, err
		}
		start = end.AddDate(0, 0, 1)
	}
	return st, nil
}

// pull asks for the days from start to end and saves the records in w.
func (p Puller) pull(ctx context.Context, w reconcile.Window, start, end time.Time, sink sources.Sink) (sources.PullStats, error) {
	var st sources.PullStats
	body, err := p.Client.History(ctx, start, end)
	if err != nil {
		return st, fmt.Errorf("ikhokha: payment history %s: %w", w, err)
	}
	payload, recs, err := p.Parser.Parse(body, reconcile.SourcePoll)
	if err != nil {
		return st, fmt.Errorf("ikhokha: payment history %s: %w", w, err)
	}
	var in []reconcile.Record
	for _, r := range recs {
		if w.Contains(r.OccurredAt) {
			in = append(in, r)
		}
	}
	// History answers by whole days, so windows within the same days get the
	// same bytes but keep different records: the window is part of the
	// payload's identity, lest a narrower pull's answer hide a wider one's
	// records as a duplicate.
	payload.DedupKey += "|" + w.From.UTC().Format(time.RFC3339Nano) + "/" + w.To.UTC().Format(time.RFC3339Nano)
	dup, err := sink.Save(ctx, payload, in)
	if err != nil {
		return st, fmt.Errorf("ikhokha: saving payment history %s: %w", w, err)
	}
	if dup {
		st.Duplicates++
	} else {
		st.Payloads++
	}
	st.Records = len(in)
	return st, nil
}

// StatusChecker asks iKhokha for the status of one link.
type StatusChecker struct {
	Client *Client
	Parser Parser
}

// Check implements sources.StatusChecker. With ref.ProviderRef (a
// paylinkID) it asks for that link's status. With only ref.MerchantRef it
// must first find the link: iK Pay answers link status by paylinkID only,
// never by externalTransactionID, so Check looks the reference up in the
// payment history of the days around ref.At; a reference not there (or a
// ref without a time) is reported not found — iKhokha cannot be asked about
// it by the merchant's reference alone.
func (c StatusChecker) Check(ctx context.Context, ref sources.StatusRef, sink sources.Sink) (sources.CheckResult, error) {
	var res sources.CheckResult
	id := strings.TrimSpace(ref.ProviderRef)
	if id == "" {
		var err error
		if id, err = c.lookUp(ctx, ref); err != nil || id == "" {
			return res, err
		}
	}
	body, err := c.Client.LinkStatus(ctx, id)
	if IsNotFound(err) {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("ikhokha: status of %s: %w", ref, err)
	}
	payload, recs, err := c.Parser.Parse(body, reconcile.SourceStatus)
	if err != nil {
		return res, fmt.Errorf("ikhokha: status of %s: %w", ref, err)
	}
	dup, err := sink.Save(ctx, payload, recs)
	if err != nil {
		return res, fmt.Errorf("ikhokha: saving the status of %s: %w", ref, err)
	}
	res.Found, res.Records = true, len(recs)
	if dup {
		res.Duplicates = 1
	} else {
		res.Payloads = 1
	}
	res.Final = len(recs) > 0 && recs[0].Status != reconcile.StatusPending
	return res, nil
}

// lookUp finds the paylinkID of ref.MerchantRef in the history of the day
// of ref.At and the days either side; "" when it is not there.
func (c StatusChecker) lookUp(ctx context.Context, ref sources.StatusRef) (string, error) {
	if ref.MerchantRef == "" || ref.At.IsZero() {
		return "", nil
	}
	body, err := c.Client.History(ctx, ref.At.AddDate(0, 0, -1), ref.At.AddDate(0, 0, 1))
	if IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("ikhokha: looking up %s in the payment history: %w", ref, err)
	}
	var rows []struct {
		PaylinkID             json.RawMessage `json:"paylinkID"`
		ExternalTransactionID json.RawMessage `json:"externalTransactionID"`
	}
	var doc map[string]json.RawMessage
	if sources.DecodeObject(body, &doc) == nil {
		if f := arrayField(doc); f != "" {
			_ = json.Unmarshal(doc[f], &rows)
		}
	} else {
		_ = json.Unmarshal(body, &rows)
	}
	id := ""
	for _, r := range rows {
		ext, _ := sources.LooseString(r.ExternalTransactionID)
		if strings.TrimSpace(ext) == ref.MerchantRef {
			// The latest link for the reference: a reference paid after an
			// expired link has the paid one last.
			id, _ = sources.LooseString(r.PaylinkID)
		}
	}
	return strings.TrimSpace(id), nil
}
