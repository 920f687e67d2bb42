-- payments_private.random_code(n_chars)
-- A random code over an unambiguous 32-character alphabet (no 0/O, 1/I), drawn
-- from PostgreSQL's CSPRNG via gen_random_uuid() so no extension is needed.
DROP FUNCTION IF EXISTS payments.random_code(integer);
CREATE OR REPLACE FUNCTION payments_private.random_code(n_chars integer)
RETURNS text
LANGUAGE plpgsql
VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    alphabet CONSTANT text := 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    random_bytes bytea := ''::bytea;
    uuid_bytes bytea;
    code text := '';
BEGIN
    IF random_code.n_chars IS NULL OR random_code.n_chars NOT BETWEEN 1 AND 64 THEN
        RAISE EXCEPTION 'code length must be between 1 and 64, got %', random_code.n_chars
            USING ERRCODE = 'PM009';
    END IF;
    WHILE octet_length(random_bytes) < random_code.n_chars LOOP
        uuid_bytes := uuid_send(pg_catalog.gen_random_uuid());
        -- bytes 7 and 9 carry the UUID version and variant bits: skip them
        random_bytes := random_bytes || substring(uuid_bytes FROM 1 FOR 6)
                                     || substring(uuid_bytes FROM 10 FOR 7);
    END LOOP;
    FOR i IN 0 .. random_code.n_chars - 1 LOOP
        -- 256 is a multiple of 32, so `% 32` is unbiased
        code := code || substr(alphabet, get_byte(random_bytes, i) % 32 + 1, 1);
    END LOOP;
    RETURN code;
END
$$;

COMMENT ON FUNCTION payments_private.random_code(integer) IS
    'Random code over ABCDEFGHJKLMNPQRSTUVWXYZ23456789 from the CSPRNG behind gen_random_uuid()';
