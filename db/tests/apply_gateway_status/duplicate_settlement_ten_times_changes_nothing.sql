-- A settlement delivered ten times issues the goods once: same tickets, same
-- pickup code, markers untouched, each repeat logged as a no-op.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.gateway('T-1', 'settlement');
SELECT test_helpers.gateway('P-1', 'settlement');
SELECT test_helpers.backdate('T-1');
CREATE TEMP TABLE before AS
    SELECT test_helpers.ticket_codes('T-1') AS codes, (test_helpers.ord('P-1')).pickup_code AS pickup,
           (test_helpers.ord('T-1')).tickets_issued_at AS issued;

SELECT test_helpers.gateway('T-1', 'settlement') FROM generate_series(1, 10);
SELECT test_helpers.gateway('P-1', 'settlement') FROM generate_series(1, 10);

SELECT is(test_helpers.ticket_codes('T-1'), (SELECT codes FROM before), 'the same 3 tickets, same codes');
SELECT is(test_helpers.all_tickets('T-1'), 3::bigint, 'no extra (even voided) tickets');
SELECT is(test_helpers.slot_counts('S1'), '0/3', 'capacity finalized once');
SELECT is((test_helpers.ord('T-1')).tickets_issued_at, (SELECT issued FROM before),
          'tickets_issued_at untouched');
SELECT is((test_helpers.ord('P-1')).pickup_code, (SELECT pickup FROM before), 'the same pickup code');
SELECT is(test_helpers.variant_counts('V1'), '0/2', 'stock confirmed once');
SELECT is(test_helpers.decisions('T-1'),
          array_cat(ARRAY['paid'], array_fill('noop'::text, ARRAY[10])), 'each duplicate is logged as noop');
SELECT is((SELECT count(*) FROM payments.orders WHERE needs_review), 0::bigint, 'nothing flagged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
