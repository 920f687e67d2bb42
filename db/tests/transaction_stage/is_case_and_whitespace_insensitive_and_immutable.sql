-- payments.transaction_stage compares status and fraud_status trimmed and
-- case-insensitively (Midtrans bodies are lower case, people typing in psql
-- are not), and is declared IMMUTABLE: the same status always has the same
-- stage.
BEGIN;
SELECT plan(7);

SELECT is(payments.transaction_stage(' Settlement ', NULL), 22::smallint, 'settlement, padded and capitalised');
SELECT is(payments.transaction_stage('CAPTURE', ' Challenge '), 20::smallint, 'CAPTURE / Challenge');
SELECT is(payments.transaction_stage('capture', 'DENY'), 30::smallint, 'capture / DENY');
SELECT is(payments.transaction_stage('Partial_Refund'), 40::smallint, 'fraud_status defaults to accept');
SELECT is(payments.transaction_stage('settlement', '  '), 22::smallint, 'a blank fraud_status is accept');
SELECT is(payments.transaction_stage('settle ment'), NULL, 'inner spaces are not ignored');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'payments.transaction_stage(text, text)'::regprocedure),
          'i', 'transaction_stage is declared IMMUTABLE');

SELECT * FROM finish();
ROLLBACK;
