package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// ProviderPresence is which providers have data in a window: provider
// records, ledger entries, or both.
type ProviderPresence struct {
	Records map[reconcile.Provider]int
	Ledger  map[reconcile.Provider]int
}

// Presence counts the provider records and ledger entries of each provider
// whose time lies in w.
func (s *Store) Presence(ctx context.Context, w reconcile.Window) (ProviderPresence, error) {
	out := ProviderPresence{Records: map[reconcile.Provider]int{}, Ledger: map[reconcile.Provider]int{}}
	for _, q := range []struct {
		table string
		into  map[reconcile.Provider]int
	}{{"provider_records", out.Records}, {"ledger_entries", out.Ledger}} {
		rows, err := s.db.QueryContext(ctx, `SELECT provider, count(*) FROM `+q.table+`
			WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY provider`, w.From, w.To)
		if err != nil {
			return out, fmt.Errorf("counting %s by provider: %w", q.table, err)
		}
		for rows.Next() {
			var p string
			var n int
			if err := rows.Scan(&p, &n); err != nil {
				rows.Close()
				return out, err
			}
			q.into[reconcile.Provider(p)] = n
		}
		if err := rows.Close(); err != nil {
			return out, err
		}
		if err := rows.Err(); err != nil {
			return out, err
		}
	}
	return out, nil
}

// StatusRefs returns the references of provider in w whose provider status
// is not final, to ask the provider about (SPEC §12 status checks): ledger
// entries with no provider record of a final status (none matching their
// reference as merchant reference, nor their provider_reference as provider
// reference), and records still pending. Each reference is listed once, in
// time order; a reference checked to a final status is not listed again, so
// a re-run asks only what is still open.
func (s *Store) StatusRefs(ctx context.Context, provider reconcile.Provider, w reconcile.Window) ([]sources.StatusRef, error) {
	rows, err := s.db.QueryContext(ctx, `
WITH open_ledger AS (
	SELECT l.reference AS merchant_ref, l.provider_reference AS provider_ref, l.direction, l.account, l.currency, l.occurred_at
	FROM ledger_entries l
	WHERE l.provider = $1 AND l.occurred_at >= $2 AND l.occurred_at < $3
	  AND NOT EXISTS (SELECT 1 FROM provider_records r
		WHERE r.provider = l.provider AND r.status <> 'pending'
		  AND (r.merchant_ref = l.reference OR r.provider_ref = l.reference
		       OR (l.provider_reference <> '' AND r.provider_ref = l.provider_reference)))
), pending AS (
	SELECT r.merchant_ref, r.provider_ref,
		CASE WHEN r.kind IN ('payout', 'reversal') THEN 'out' ELSE 'in' END AS direction,
		r.account, r.currency, r.occurred_at
	FROM provider_records r
	WHERE r.provider = $1 AND r.status = 'pending' AND r.occurred_at >= $2 AND r.occurred_at < $3
	  AND (r.merchant_ref <> '' OR r.provider_ref <> '')
	  AND NOT EXISTS (SELECT 1 FROM provider_records f
		WHERE f.provider = r.provider AND f.status <> 'pending' AND f.id <> r.id
		  AND ((r.merchant_ref <> '' AND f.merchant_ref = r.merchant_ref)
		       OR (r.provider_ref <> '' AND f.provider_ref = r.provider_ref)))
)
SELECT DISTINCT ON (merchant_ref, provider_ref) merchant_ref, provider_ref, direction, account, currency, occurred_at
FROM (SELECT * FROM open_ledger UNION ALL SELECT * FROM pending) u
ORDER BY merchant_ref, provider_ref, occurred_at`, string(provider), w.From, w.To)
	if err != nil {
		return nil, fmt.Errorf("listing %s references to check: %w", provider, err)
	}
	defer rows.Close()
	var out []sources.StatusRef
	for rows.Next() {
		var r sources.StatusRef
		var dir, cur string
		var at time.Time
		if err := rows.Scan(&r.MerchantRef, &r.ProviderRef, &dir, &r.Account, &cur, &at); err != nil {
			return nil, err
		}
		r.Direction, r.Currency, r.At = reconcile.Direction(dir), reconcile.Currency(cur), at.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortRefs(out)
	return out, nil
}

// sortRefs orders references by time, then reference, so checks run oldest first.
func sortRefs(refs []sources.StatusRef) {
	slices.SortFunc(refs, func(a, b sources.StatusRef) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		if a.MerchantRef != b.MerchantRef {
			if a.MerchantRef < b.MerchantRef {
				return -1
			}
			return 1
		}
		switch {
		case a.ProviderRef < b.ProviderRef:
			return -1
		case a.ProviderRef > b.ProviderRef:
			return 1
		}
		return 0
	})
}
