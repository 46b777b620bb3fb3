-- The yardstick of SPEC §13: PostgreSQL alone, one FULL OUTER JOIN on the
-- match key writing the discrepancy rows and one join writing the match rows,
-- both with COPY ... TO STDOUT, over the window 2026-03-01..2026-03-30
-- (Africa/Nairobi) of bench_seed.sql.
COPY (
  SELECT CASE WHEN r.id IS NULL THEN 'missing_in_provider'
              WHEN l.id IS NULL THEN 'missing_in_ledger'
              WHEN l.currency <> r.currency THEN 'currency_mismatch'
              WHEN l.amount_minor <> r.amount_minor THEN 'amount_mismatch'
              ELSE 'status_mismatch' END AS kind,
         coalesce(l.provider, r.provider), coalesce(l.direction, 'in'), coalesce(l.account, r.account),
         l.reference, r.provider_ref, r.tx_id, coalesce(l.currency, r.currency),
         l.amount_minor, r.amount_minor, r.amount_minor - l.amount_minor, l.status, r.status,
         coalesce(l.occurred_at, r.occurred_at)
  FROM (SELECT * FROM ledger_entries WHERE occurred_at >= '2026-03-01T00:00:00+03' AND occurred_at < '2026-03-31T00:00:00+03') l
  FULL OUTER JOIN (SELECT * FROM provider_records WHERE kind = 'payment' AND occurred_at >= '2026-03-01T00:00:00+03' AND occurred_at < '2026-03-31T00:00:00+03') r
    ON l.provider = r.provider AND l.reference = r.merchant_ref
  WHERE l.id IS NULL OR r.id IS NULL OR l.amount_minor <> r.amount_minor OR l.currency <> r.currency
     OR (l.status = 'paid') <> (r.status = 'succeeded')
) TO STDOUT WITH CSV;
COPY (
  SELECT l.provider, l.direction, l.account, l.reference, r.provider_ref, r.tx_id, l.currency, l.amount_minor,
         r.fee_minor, l.amount_minor - coalesce(r.fee_minor, 0), l.occurred_at, r.occurred_at
  FROM ledger_entries l JOIN provider_records r ON l.provider = r.provider AND l.reference = r.merchant_ref
  WHERE l.occurred_at >= '2026-03-01T00:00:00+03' AND l.occurred_at < '2026-03-31T00:00:00+03'
    AND r.kind = 'payment' AND l.amount_minor = r.amount_minor AND l.currency = r.currency
    AND (l.status = 'paid') = (r.status = 'succeeded')
) TO STDOUT WITH CSV;
