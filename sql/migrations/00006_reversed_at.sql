-- When a payment was first seen reversed after it had been stored as not
-- reversed: a provider that reports a reversal only as the payment's new
-- status (a polled Kopo Kopo transaction, now Reversed) says nothing of
-- when it happened, and dating it by the payment would change a
-- settlement day already closed. reversed_at is the receipt time of the
-- first sighting that moved the record to reversed; NULL when the record
-- was never seen otherwise (reversed at first sight: dated by itself) or is
-- not reversed. first_seen_at is the receipt time of the first sighting
-- (it was the time of the write).

-- +goose Up
ALTER TABLE provider_records ADD COLUMN reversed_at timestamptz;
CREATE INDEX provider_records_reversed ON provider_records (reversed_at) WHERE reversed_at IS NOT NULL;

-- +goose Down
ALTER TABLE provider_records DROP COLUMN reversed_at;
