-- Two facts a provider reports beside the amounts (Kora):
-- fee_on_payer: the payer paid the fee and VAT on top of the amount
-- (merchant_bears_cost false), so settlement does not subtract them;
-- partial: the provider took less than was asked (a partial voucher
-- redemption), which discrepancy details say. A later sighting never
-- clears either (they are OR-ed): a webhook may omit what a listing said.

-- +goose Up
ALTER TABLE provider_records
    ADD COLUMN fee_on_payer boolean NOT NULL DEFAULT false,
    ADD COLUMN partial      boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE provider_records DROP COLUMN fee_on_payer, DROP COLUMN partial;
