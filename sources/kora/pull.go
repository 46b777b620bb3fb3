package kora

import (
	"context"
	"errors"
	"fmt"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// DefaultPageSize is the page size the puller asks for.
const DefaultPageSize = 50

// maxPages bounds one listing, so a server that never says has_more false
// cannot keep a pull running for ever.
const maxPages = 100000

// Puller pulls the pay-ins history of a window, one listing per currency
// (the history filters by one currency at a time), walking every page once
// by its pointer. It implements sources.Puller.
type Puller struct {
	Client *Client
	// Currencies are listed one after another (KORA_CURRENCIES).
	Currencies []reconcile.Currency
	// PageSize is the limit asked for (0: DefaultPageSize).
	PageSize int
	// Parser parses the pages (zero value: Client's zone).
	Parser *Parser
}

// Pull implements sources.Puller: each page is saved verbatim with the
// records of it whose date lies in w. A page fetched again is a duplicate
// payload, so pulling the same window twice changes nothing.
func (p *Puller) Pull(ctx context.Context, w reconcile.Window, sink sources.Sink) (sources.PullStats, error) {
	var st sources.PullStats
	if p.Client == nil {
		return st, errors.New("kora: Puller has no Client")
	}
	parser := Parser{Zone: p.Client.zone}
	if p.Parser != nil {
		parser = *p.Parser
	}
	size := p.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	for _, cur := range p.Currencies {
		seen := map[string]bool{}
		q := PayInsQuery{Currency: cur, From: w.From, To: w.To, Limit: size}
		for n := 0; ; n++ {
			if n >= maxPages {
				return st, fmt.Errorf("kora: pay-ins %s %s: more than %d pages", cur, w, maxPages)
			}
			page, err := p.Client.PayIns(ctx, q)
			if err != nil {
				return st, err
			}
			payload, records, err := parser.Parse(page.Body, reconcile.SourcePoll)
			if err != nil {
				return st, fmt.Errorf("kora: pay-ins %s page %d: %w", cur, n+1, err)
			}
			// Kora's bounds are whole seconds and may be inclusive: keep
			// [From, To) so adjacent chunks never both claim a pay-in.
			in := records[:0]
			for _, r := range records {
				if w.Contains(r.OccurredAt) {
					in = append(in, r)
				}
			}
			dup, err := sink.Save(ctx, payload, in)
			if err != nil {
				return st, fmt.Errorf("kora: saving pay-ins %s page %d: %w", cur, n+1, err)
			}
			st.Records += len(in)
			if dup {
				st.Duplicates++
			} else {
				st.Payloads++
			}
			if !page.HasMore {
				break
			}
			if seen[page.Pointer] {
				return st, fmt.Errorf("kora: pay-ins %s: pointer %q came back twice; the listing does not advance", cur, page.Pointer)
			}
			seen[page.Pointer] = true
			q.StartingAfter = page.Pointer
		}
	}
	return st, nil
}

// StatusChecker verifies charges one reference at a time: GET
// /charges/{reference}. It implements sources.StatusChecker.
type StatusChecker struct {
	Client *Client
	// Parser parses the responses (zero value: Client's zone).
	Parser *Parser
}

// Check implements sources.StatusChecker. It asks by the merchant's
// reference, else by Kora's; a reference Kora does not know (404) is not
// found and saves nothing.
func (s *StatusChecker) Check(ctx context.Context, ref sources.StatusRef, sink sources.Sink) (sources.CheckResult, error) {
	var res sources.CheckResult
	if s.Client == nil {
		return res, errors.New("kora: StatusChecker has no Client")
	}
	reference := ref.MerchantRef
	if reference == "" {
		reference = ref.ProviderRef
	}
	if reference == "" {
		return res, errors.New("kora: status check without a reference")
	}
	body, found, err := s.Client.Charge(ctx, reference)
	if err != nil || !found {
		return res, err
	}
	parser := Parser{Zone: s.Client.zone}
	if s.Parser != nil {
		parser = *s.Parser
	}
	payload, records, err := parser.Parse(body, reconcile.SourceStatus)
	if err != nil {
		return res, fmt.Errorf("kora: verifying charge %s: %w", reference, err)
	}
	dup, err := sink.Save(ctx, payload, records)
	if err != nil {
		return res, fmt.Errorf("kora: saving verification of %s: %w", reference, err)
	}
	res.Found, res.Records, res.Final = true, len(records), len(records) > 0
	for _, r := range records {
		if r.Status == reconcile.StatusPending {
			res.Final = false
		}
	}
	if dup {
		res.Duplicates = 1
	} else {
		res.Payloads = 1
	}
	return res, nil
}
