-- Mizani initial schema. Amounts are BIGINT minor units beside an ISO 4217
-- currency code; every instant is timestamptz.

-- +goose Up

-- The merchant's own books (SPEC §5). One row per provider, direction and reference.
CREATE TABLE ledger_entries (
    id                 bigserial PRIMARY KEY,
    provider           text        NOT NULL,
    direction          text        NOT NULL DEFAULT 'in' CHECK (direction IN ('in', 'out')),
    reference          text        NOT NULL,
    amount_minor       bigint      NOT NULL,
    currency           text        NOT NULL,
    status             text        NOT NULL CHECK (status IN ('paid', 'pending', 'failed', 'cancelled', 'refunded')),
    occurred_at        timestamptz NOT NULL,
    account            text        NOT NULL DEFAULT '',
    provider_reference text        NOT NULL DEFAULT '',
    customer_phone     text        NOT NULL DEFAULT '',
    description        text        NOT NULL DEFAULT '',
    imported_at        timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, direction, reference)
);
CREATE INDEX ledger_entries_time ON ledger_entries (provider, direction, occurred_at);
CREATE INDEX ledger_entries_provider_reference ON ledger_entries (provider, provider_reference) WHERE provider_reference <> '';

-- Every payload a provider sent, verbatim (SPEC §4). body keeps the exact
-- bytes; doc is the same JSON, queryable.
CREATE TABLE raw_payloads (
    id          bigserial PRIMARY KEY,
    provider    text        NOT NULL,
    source      text        NOT NULL CHECK (source IN ('webhook', 'poll', 'status', 'import')),
    kind        text        NOT NULL,
    dedup_key   text        NOT NULL,
    body        text        NOT NULL,
    doc         jsonb       NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, dedup_key)
);

-- Normalized provider records (SPEC §4). The same transaction seen again
-- (webhook, poll, status query) updates its row by status precedence.
CREATE TABLE provider_records (
    id              bigserial PRIMARY KEY,
    provider        text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('payment', 'payout', 'reversal', 'settlement', 'fee')),
    tx_id           text        NOT NULL,
    merchant_ref    text        NOT NULL DEFAULT '',
    provider_ref    text        NOT NULL DEFAULT '',
    related_tx_id   text        NOT NULL DEFAULT '',
    account         text        NOT NULL DEFAULT '',
    currency        text        NOT NULL,
    amount_minor    bigint,     -- NULL: the provider did not report an amount
    fee_minor       bigint,     -- NULL: the provider did not report a fee
    vat_minor       bigint,
    status          text        NOT NULL CHECK (status IN ('succeeded', 'pending', 'failed', 'reversed', 'cancelled', 'expired')),
    provider_status text        NOT NULL DEFAULT '',
    occurred_at     timestamptz NOT NULL,
    counterparty    text        NOT NULL DEFAULT '',
    method          text        NOT NULL DEFAULT '',
    source          text        NOT NULL,
    raw_payload_id  bigint      REFERENCES raw_payloads (id),
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, kind, tx_id)
);
CREATE INDEX provider_records_time ON provider_records (provider, occurred_at);
CREATE INDEX provider_records_merchant_ref ON provider_records (provider, merchant_ref) WHERE merchant_ref <> '';
CREATE INDEX provider_records_provider_ref ON provider_records (provider, provider_ref) WHERE provider_ref <> '';

-- Every sighting of a record, so a status that was overwritten is not forgotten.
CREATE TABLE record_history (
    id              bigserial PRIMARY KEY,
    record_id       bigint      NOT NULL REFERENCES provider_records (id) ON DELETE CASCADE,
    status          text        NOT NULL,
    provider_status text        NOT NULL DEFAULT '',
    amount_minor    bigint,
    source          text        NOT NULL,
    raw_payload_id  bigint      REFERENCES raw_payloads (id),
    seen_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX record_history_record ON record_history (record_id);

-- Bank statement lines (SPEC §7, three-way settlement).
CREATE TABLE bank_lines (
    id           bigserial PRIMARY KEY,
    dedup_key    text        NOT NULL UNIQUE,
    account      text        NOT NULL DEFAULT '',
    value_date   date        NOT NULL,
    amount_minor bigint      NOT NULL,
    currency     text        NOT NULL,
    reference    text        NOT NULL DEFAULT '',
    description  text        NOT NULL DEFAULT '',
    provider     text        NOT NULL DEFAULT '',
    imported_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bank_lines_date ON bank_lines (value_date);

-- Run history: every pull, run and settle job, by hand or by schedule (SPEC §12).
CREATE TABLE runs (
    id           bigserial PRIMARY KEY,
    job          text        NOT NULL,
    window_from  timestamptz NOT NULL,
    window_to    timestamptz NOT NULL,
    params       jsonb       NOT NULL DEFAULT '{}',
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    outcome      text        NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'succeeded', 'failed')),
    counts       jsonb       NOT NULL DEFAULT '{}',
    error        text        NOT NULL DEFAULT ''
);
CREATE INDEX runs_job_window ON runs (job, window_from, window_to);

-- A pull's finished chunks, so a crashed pull resumes without re-fetching them.
CREATE TABLE pull_checkpoints (
    provider     text        NOT NULL,
    scope        text        NOT NULL,
    chunk_from   timestamptz NOT NULL,
    chunk_to     timestamptz NOT NULL,
    records      integer     NOT NULL DEFAULT 0,
    completed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, scope, chunk_from, chunk_to)
);

-- What a run found. Rows belong to their run; re-running a window writes a new run.
CREATE TABLE run_matches (
    run_id                  bigint      NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    provider                text        NOT NULL,
    direction               text        NOT NULL,
    account                 text        NOT NULL DEFAULT '',
    ledger_reference        text        NOT NULL,
    provider_reference      text        NOT NULL DEFAULT '',
    provider_transaction_id text        NOT NULL DEFAULT '',
    currency                text        NOT NULL,
    amount_minor            bigint      NOT NULL,
    fee_minor               bigint,
    ledger_occurred_at      timestamptz NOT NULL,
    provider_occurred_at    timestamptz NOT NULL
);
CREATE INDEX run_matches_run ON run_matches (run_id);

CREATE TABLE run_discrepancies (
    run_id                  bigint      NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind                    text        NOT NULL,
    provider                text        NOT NULL,
    direction               text        NOT NULL DEFAULT '',
    account                 text        NOT NULL DEFAULT '',
    ledger_reference        text        NOT NULL DEFAULT '',
    provider_reference      text        NOT NULL DEFAULT '',
    provider_transaction_id text        NOT NULL DEFAULT '',
    currency                text        NOT NULL DEFAULT '',
    ledger_amount_minor     bigint,
    provider_amount_minor   bigint,
    difference_minor        bigint,
    ledger_status           text        NOT NULL DEFAULT '',
    provider_status         text        NOT NULL DEFAULT '',
    occurred_at             timestamptz NOT NULL,
    detail                  text        NOT NULL
);
CREATE INDEX run_discrepancies_run ON run_discrepancies (run_id);

CREATE TABLE run_settlements (
    run_id             bigint  NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    provider           text    NOT NULL,
    account            text    NOT NULL DEFAULT '',
    currency           text    NOT NULL,
    business_day       date    NOT NULL,
    transactions       integer NOT NULL,
    gross_minor        bigint  NOT NULL,
    fees_minor         bigint  NOT NULL,
    reversals_minor    bigint  NOT NULL,
    payouts_minor      bigint  NOT NULL,
    net_expected_minor bigint  NOT NULL,
    settled_minor      bigint  NOT NULL,
    variance_minor     bigint  NOT NULL,
    unsettled_minor    bigint  NOT NULL
);
CREATE INDEX run_settlements_run ON run_settlements (run_id);

-- +goose Down
DROP TABLE run_settlements;
DROP TABLE run_discrepancies;
DROP TABLE run_matches;
DROP TABLE pull_checkpoints;
DROP TABLE runs;
DROP TABLE bank_lines;
DROP TABLE record_history;
DROP TABLE provider_records;
DROP TABLE raw_payloads;
DROP TABLE ledger_entries;
