-- A provider may sign and send bytes PostgreSQL cannot hold as text or
-- jsonb: a \u0000 escape, a lone surrogate (\ud800), an invalid UTF-8 byte,
-- a number beyond numeric's range. The payload is still what the provider
-- sent, and refusing it forever (a 5xx the provider retries) loses it. So
-- raw_payloads.body keeps the exact bytes received, whatever they are
-- (bytea), and doc is the same JSON only where jsonb can hold it: NULL
-- otherwise. Readers of the verbatim payload read body, never doc::text.
--
-- mizani_jsonb_or_null is doc derived from body: NULL where jsonb cannot
-- hold it. store uses it only to retry a write the plain cast refused (an
-- EXCEPTION block costs a subtransaction a call).

-- +goose Up
ALTER TABLE raw_payloads
    ALTER COLUMN body TYPE bytea USING convert_to(body, 'UTF8'),
    ALTER COLUMN doc DROP NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION mizani_jsonb_or_null(body bytea) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN convert_from(body, 'UTF8')::jsonb;
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- A body text cannot hold is kept in bytea's escape form (lossless, but no
-- longer the bytes received); a NULL doc becomes JSON null.
ALTER TABLE raw_payloads
    ALTER COLUMN body TYPE text USING
        CASE WHEN doc IS NOT NULL THEN convert_from(body, 'UTF8') ELSE encode(body, 'escape') END;
UPDATE raw_payloads SET doc = 'null'::jsonb WHERE doc IS NULL;
ALTER TABLE raw_payloads ALTER COLUMN doc SET NOT NULL;
DROP FUNCTION mizani_jsonb_or_null(bytea);
