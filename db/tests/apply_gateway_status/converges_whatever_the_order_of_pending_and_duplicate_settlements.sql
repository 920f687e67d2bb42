-- The same events (pending, settlement, settlement again) in any delivery
-- order end in the same paid order with its goods out once.
BEGIN;
SELECT plan(10);

-- the same three events (pending, settlement, settlement again) delivered in
-- three different orders, each to its own order and slot
SELECT test_helpers.slot(s, 10) FROM unnest(ARRAY['SA', 'SB', 'SC']) AS s;
SELECT test_helpers.ticket_order('T-A', 'SA', 3);
SELECT test_helpers.ticket_order('T-B', 'SB', 3);
SELECT test_helpers.ticket_order('T-C', 'SC', 3);
SELECT test_helpers.variant(v, 10) FROM unnest(ARRAY['VA', 'VB', 'VC']) AS v;
SELECT test_helpers.product_order('P-A', 'VA', 2);
SELECT test_helpers.product_order('P-B', 'VB', 2);
SELECT test_helpers.product_order('P-C', 'VC', 2);

SELECT test_helpers.gateway(o, 'pending'), test_helpers.gateway(o, 'settlement'),
       test_helpers.gateway(o, 'settlement') FROM unnest(ARRAY['T-A', 'P-A']) AS o;
SELECT test_helpers.gateway(o, 'settlement'), test_helpers.gateway(o, 'pending'),
       test_helpers.gateway(o, 'settlement') FROM unnest(ARRAY['T-B', 'P-B']) AS o;
SELECT test_helpers.gateway(o, 'settlement'), test_helpers.gateway(o, 'settlement'),
       test_helpers.gateway(o, 'pending') FROM unnest(ARRAY['T-C', 'P-C']) AS o;

SELECT is(test_helpers.fingerprint('T-A'), test_helpers.fingerprint('T-B'), 'ticket: order A = order B');
SELECT is(test_helpers.fingerprint('T-B'), test_helpers.fingerprint('T-C'), 'ticket: order B = order C');
SELECT is(test_helpers.fingerprint('T-A') ->> 'status', 'paid', 'all three end paid');
SELECT is(test_helpers.fingerprint('T-A') ->> 'active_tickets', '3', 'with exactly 3 tickets');
SELECT is(ARRAY[test_helpers.slot_counts('SA'), test_helpers.slot_counts('SB'), test_helpers.slot_counts('SC')],
          ARRAY['0/3', '0/3', '0/3'], 'every slot ends 0/3');
SELECT is(test_helpers.fingerprint('P-A'), test_helpers.fingerprint('P-B'), 'product: order A = order B');
SELECT is(test_helpers.fingerprint('P-B'), test_helpers.fingerprint('P-C'), 'product: order B = order C');
SELECT is(ARRAY[test_helpers.variant_counts('VA'), test_helpers.variant_counts('VB'),
                test_helpers.variant_counts('VC')],
          ARRAY['0/2', '0/2', '0/2'], 'every variant ends 0/2');
SELECT is((SELECT count(*) FROM payments.orders WHERE needs_review), 0::bigint, 'nothing flagged anywhere');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
