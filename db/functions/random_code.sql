-- payments_private.random_code(n_chars)
-- A random code over an unambiguous 32-character alphabet (no 0/O, 1/I), drawn
-- from PostgreSQL's CSPRNG via gen_random_uuid() so no extension is needed.
-- Each character takes 6 random bits (one base64 symbol), mapped two to one
-- onto the alphabet: uniform, and one UUID covers a 16-character ticket code
-- (13 random bytes; the loop per character this replaces took two).
DROP FUNCTION IF EXISTS payments.random_code(integer);
CREATE OR REPLACE FUNCTION payments_private.random_code(n_chars integer)
RETURNS text
LANGUAGE plpgsql
VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    random_bytes bytea := ''::bytea;
    uuid_bytes bytea;
BEGIN
    IF random_code.n_chars IS NULL OR random_code.n_chars NOT BETWEEN 1 AND 64 THEN
        RAISE EXCEPTION 'code length must be between 1 and 64, got %', random_code.n_chars
            USING ERRCODE = 'PM009';
    END IF;
    -- 6 random bits per character: 13 bytes per UUID give 17 characters
    WHILE octet_length(random_bytes) * 8 < random_code.n_chars * 6 LOOP
        uuid_bytes := uuid_send(pg_catalog.gen_random_uuid());
        -- bytes 7 and 9 carry the UUID version and variant bits: skip them
        random_bytes := random_bytes || substring(uuid_bytes FROM 1 FOR 6)
                                     || substring(uuid_bytes FROM 10 FOR 7);
    END LOOP;
    -- base64 spells each 6 random bits as one of 64 symbols (no line break
    -- before 76 characters, no `=` padding within the whole characters
    -- taken): A-Z, a-z, 0-9, + and /. translate turns the 8 that are neither
    -- a letter of the alphabet nor its lower case (i I o O 0 1 + /) into the
    -- digits 2-9 (i before upper, which is locale-dependent only for i), and
    -- upper folds the rest: every letter and digit of the alphabet then
    -- stands for exactly two symbols, so all 32 are equally likely. Two calls
    -- instead of a loop per character.
    RETURN upper(translate(left(encode(random_bytes, 'base64'), random_code.n_chars), 'iIoO01+/', '23456789'));
END
$$;

COMMENT ON FUNCTION payments_private.random_code(integer) IS
    'Random code over ABCDEFGHJKLMNPQRSTUVWXYZ23456789 from the CSPRNG behind gen_random_uuid()';
