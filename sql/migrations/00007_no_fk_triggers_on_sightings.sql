-- The store of provider data is append-only: nothing ever deletes a
-- payload or a record, and every writer (Save, SaveGroup, Import) inserts
-- a payload and the records and history rows that point to it in the same
-- statement or transaction, with the ids it has just taken. The foreign
-- keys from records and history to them guarded nothing those writers can
-- break, and cost most of a bulk write: each is a trigger per row that
-- queries and share-locks the row it points to. Measured on an import of
-- 100,000 Kopo Kopo payloads (issue 12): 8.3 s with them, 6.4 s without.
-- TestNoOrphanSightings checks the writers still leave none behind.

-- +goose Up
ALTER TABLE provider_records DROP CONSTRAINT provider_records_raw_payload_id_fkey;
ALTER TABLE record_history DROP CONSTRAINT record_history_raw_payload_id_fkey,
    DROP CONSTRAINT record_history_record_id_fkey;

-- +goose Down
ALTER TABLE provider_records ADD CONSTRAINT provider_records_raw_payload_id_fkey
    FOREIGN KEY (raw_payload_id) REFERENCES raw_payloads (id);
ALTER TABLE record_history ADD CONSTRAINT record_history_raw_payload_id_fkey
    FOREIGN KEY (raw_payload_id) REFERENCES raw_payloads (id),
    ADD CONSTRAINT record_history_record_id_fkey
    FOREIGN KEY (record_id) REFERENCES provider_records (id) ON DELETE CASCADE;
