-- Some providers send an amount without a currency (Pixel callbacks): the
-- record's currency is that of the ledger entry it belongs to, known only
-- when the ledger is. amount_sent keeps the amount exactly as sent (major
-- units, text) until then; store.Records reads it in the ledger entry's
-- currency, and an amount more precise than that currency allows stays
-- unread and is reported, never rounded. NULL: the amount was read when
-- stored (amount_minor), or none was sent.

-- +goose Up
ALTER TABLE provider_records ADD COLUMN amount_sent text;

-- +goose Down
ALTER TABLE provider_records DROP COLUMN amount_sent;
