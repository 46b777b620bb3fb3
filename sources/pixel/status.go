package pixel

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/apiclient"
)

// StatusChecker asks Pixel's status method about one order_id and stores
// each answer verbatim with its record (Source status). Pixel has no
// history endpoint, so this is how Pixel is pulled: the jobs ask about
// every order of the window without a final status. It implements
// sources.StatusChecker.
type StatusChecker struct {
	client *Client
	parser Parser
}

// NewStatusChecker returns a checker configured by cfg and opts.
func NewStatusChecker(cfg sources.Config, opts sources.ClientOptions) (*StatusChecker, error) {
	client, err := NewClient(cfg, opts)
	if err != nil {
		return nil, err
	}
	p, err := NewParser(cfg)
	if err != nil {
		return nil, err
	}
	p.Merchant = client.MerchantID()
	return &StatusChecker{client: client, parser: *p}, nil
}

// Check asks the status of ref.MerchantRef (the order_id). An order Pixel
// does not know is found false, nothing saved. The record is a payout when
// ref.Direction is out (the answer does not say), and takes ref.Currency
// when no PIXEL_CURRENCY is set (the answer names none).
func (s *StatusChecker) Check(ctx context.Context, ref sources.StatusRef, sink sources.Sink) (sources.CheckResult, error) {
	var res sources.CheckResult
	if ref.MerchantRef == "" {
		return res, fmt.Errorf("pixel: status of %s: Pixel is asked by order_id, and the reference has none", ref)
	}
	resp, err := s.client.Status(ctx, ref.MerchantRef)
	var apiErr *apiclient.APIError
	if errors.As(err, &apiErr) && apiErr.Code == strconv.Itoa(CodeNotFound) {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("pixel: status of %s: %w", ref, err)
	}
	kind := reconcile.KindPayment
	if ref.Direction == reconcile.Out {
		kind = reconcile.KindPayout
	}
	payload, records, err := s.parser.ParseStatus(resp.Body, reconcile.SourceStatus, kind)
	if err != nil {
		return res, fmt.Errorf("pixel: status of %s: %w", ref, err)
	}
	for i := range records {
		if records[i].Amount.Currency == "" && ref.Currency != "" {
			records[i].Amount.Currency = ref.Currency
		}
	}
	dup, err := sink.Save(ctx, payload, records)
	if err != nil {
		return res, err
	}
	res.Found, res.Final, res.Records = true, Final(resp.Status), len(records)
	if dup {
		res.Duplicates = 1
	} else {
		res.Payloads = 1
	}
	return res, nil
}
