-- Benchmark data: {{N}} ledger entries and {{N}} Kopo Kopo records over 30 days
-- (March 2026, Africa/Nairobi), of which 1% are planted discrepancies, one
-- kind per residue of i mod 400:
--   0 missing_in_provider (ledger row, no record)
--   1 missing_in_ledger   (record, no ledger row)
--   2 amount_mismatch     (record 1.00 KES over)
--   3 status_mismatch     (ledger pending, provider succeeded)
INSERT INTO ledger_entries (provider, direction, reference, amount_minor, currency, status, occurred_at, account, provider_reference, customer_phone)
SELECT 'kopokopo', 'in', 'REF' || lpad(i::text, 8, '0'),
       100 + (i * 7919) % 500000,
       'KES',
       CASE WHEN i % 400 = 3 THEN 'pending' ELSE 'paid' END,
       timestamptz '2026-03-01 00:00:00+03' + ((i - 1) * 2592000000 / {{N}}) * interval '1 millisecond',
       '000000', '', '+2547' || lpad((i % 100000000)::text, 8, '0')
FROM generate_series(1::bigint, {{N}}) AS i
WHERE i % 400 <> 1;  -- 0.25% missing in ledger

INSERT INTO provider_records (provider, kind, tx_id, merchant_ref, provider_ref, account, currency, amount_minor, status, provider_status, occurred_at, counterparty, source)
SELECT 'kopokopo', 'payment', 'TX' || i, 'REF' || lpad(i::text, 8, '0'), 'M' || upper(to_hex(i * 2654435761 % 4294967296)),
       '000000', 'KES',
       100 + (i * 7919) % 500000 + CASE WHEN i % 400 = 2 THEN 100 ELSE 0 END,  -- 0.25% amount mismatch
       'succeeded', 'Received',
       timestamptz '2026-03-01 00:00:00+03' + ((i - 1) * 2592000000 / {{N}}) * interval '1 millisecond' + interval '5 seconds',
       '+2547' || lpad((i % 100000000)::text, 8, '0'), 'poll'
FROM generate_series(1::bigint, {{N}}) AS i
WHERE i % 400 <> 0;  -- 0.25% missing in provider
ANALYZE ledger_entries; ANALYZE provider_records;
