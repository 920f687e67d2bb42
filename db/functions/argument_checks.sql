-- payments_private.require_source(source) / payments_private.require_row_limit(value, name)
-- Argument checks shared by the API functions, one place each, so every caller
-- gets the same PM009 and message.
DROP FUNCTION IF EXISTS payments.require_source(text);
DROP FUNCTION IF EXISTS payments.require_row_limit(integer, text);
-- require_source returns the source, so a hot path checks it in an assignment
-- (a simple expression) rather than a PERFORM (a whole executor run).
DO $$
BEGIN   -- dropped only when an older release left another result type
    IF pg_get_function_result(to_regprocedure('payments_private.require_source(text)')) <> 'text' THEN
        DROP FUNCTION payments_private.require_source(text);
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION payments_private.require_source(source text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF require_source.source IS NULL
       OR require_source.source NOT IN ('webhook', 'sync', 'reconcile', 'cron', 'manual') THEN
        RAISE EXCEPTION 'source must be webhook, sync, reconcile, cron or manual, got %',
            quote_nullable(require_source.source) USING ERRCODE = 'PM009';
    END IF;
    RETURN require_source.source;
END
$$;

COMMENT ON FUNCTION payments_private.require_source(text) IS
    'Returns the source; raises PM009 unless it is webhook, sync, reconcile, cron or manual';

CREATE OR REPLACE FUNCTION payments_private.require_row_limit(value integer, name text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF require_row_limit.value IS NULL OR require_row_limit.value NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION '% must be between 1 and 100000, got %', require_row_limit.name,
            quote_nullable(require_row_limit.value) USING ERRCODE = 'PM009';
    END IF;
END
$$;

COMMENT ON FUNCTION payments_private.require_row_limit(integer, text) IS
    'Raises PM009 unless a row limit / batch size is between 1 and 100000';
