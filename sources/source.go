// Package sources defines how provider adapters hand their data to Mizani.
//
// Each provider lives in its own sub-package (kopokopo, pixel, ikhokha, kora,
// bank) with an API client, webhook verification, payload mapping and a
// simulator. They meet the rest of the product only through the small
// interfaces here, so adding a provider touches neither the matchers nor the
// reports. The conformance suite in sources/sourcetest checks every adapter
// against its simulator.
package sources

import (
	"context"
	"errors"

	"github.com/mizani/reconcile"
)

// Sink stores what a source fetched or received. The store implements it.
type Sink interface {
	// Save stores payload and the records parsed from it in one transaction.
	// A payload whose (Provider, DedupKey) is already stored is a duplicate:
	// nothing changes and dup is true. A record already stored under the same
	// (Provider, Kind, TxID) is updated by status precedence, its earlier
	// status kept in the history. Save returns only after commit.
	Save(ctx context.Context, payload reconcile.RawPayload, records []reconcile.Record) (dup bool, err error)
}

// Parser turns one payload, exactly as the provider sent it, into the
// normalized records it carries. It is used for webhooks, callbacks, API
// responses and `reconcile import` alike. A payload that carries no
// transaction (a customer_created webhook, an unknown topic) yields no records
// and no error, so that it is stored raw and reported rather than lost.
type Parser interface {
	// Parse returns the payload (Body set to body, Provider, Source, Kind and
	// DedupKey filled in; ID and ReceivedAt left zero) and its records.
	// Malformed input returns an error wrapping ErrMalformed that names the
	// offending field.
	Parse(body []byte, src reconcile.Source) (reconcile.RawPayload, []reconcile.Record, error)
}

// Verifier checks that a webhook or callback really came from the provider.
type Verifier interface {
	// Verify checks the signature of the request as received: its raw
	// body, headers and path (a provider may sign the path). It returns an
	// error wrapping ErrBadSignature or ErrNotSigned, and must compare in
	// constant time. The error never repeats a signature or a key.
	Verify(req Request) error
}

// Sentinel errors shared by every source.
var (
	// ErrNotSigned means the request carried no signature at all.
	ErrNotSigned = errors.New("webhook not signed")
	// ErrBadSignature means the signature did not match the body.
	ErrBadSignature = errors.New("webhook signature does not match")
	// ErrMalformed means the payload is not valid JSON or lacks a field the
	// provider always sends.
	ErrMalformed = errors.New("malformed payload")
)
