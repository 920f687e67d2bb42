-- Rule: a rejection keeps what the runner saw (order number, even of an
-- unknown order, the transaction status and status_code claimed, detail and
-- payload) in one appended row whose id is returned; over-long fields are cut
-- to their column's bound.
BEGIN;
SELECT plan(6);

CREATE TEMP TABLE result AS
    SELECT payments.log_rejection('signature_invalid', 'T-404', '{"reason": "bad signature"}',
                                  '{"order_id": "T-404"}', 'settlement', '200') AS id;
CREATE TEMP TABLE row AS SELECT * FROM payments.webhook_logs WHERE id = (SELECT id FROM result);

SELECT is((SELECT count(*) FROM row), 1::bigint, 'one row is appended, its id returned');
SELECT is((SELECT order_number || ' ' || transaction_status || ' ' || status_code FROM row),
          'T-404 settlement 200', 'order, status and status_code kept even for an unknown order');
SELECT is((SELECT detail ->> 'reason' FROM row), 'bad signature', 'detail kept');
SELECT is((SELECT payload FROM row), '{"order_id": "T-404"}'::jsonb, 'payload kept');

CREATE TEMP TABLE long AS
    SELECT payments.log_rejection('unknown_order', repeat('n', 500), '{}', NULL, repeat('s', 500), repeat('c', 500)) AS id;
SELECT is((SELECT length(order_number) || '/' || length(transaction_status) || '/' || length(status_code)
             FROM payments.webhook_logs WHERE id = (SELECT id FROM long)), '100/64/16',
          'a garbage order number, status and status_code are cut to 100 / 64 / 16 characters');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
