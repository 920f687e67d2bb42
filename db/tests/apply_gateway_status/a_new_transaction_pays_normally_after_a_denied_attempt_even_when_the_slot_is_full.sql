-- Issue 10, "a denied attempt ends the order too early": a deny (or a
-- failure) of one attempt while the payment window is open keeps the order
-- pending with its seats reserved, so a new transaction paying afterwards is
-- an ordinary payment: it takes the order's own reservation (no late payment,
-- no paid_after_release), even when no other seat is free.
BEGIN;
SELECT plan(12);

SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.variant('V1', 1);
SELECT test_helpers.product_order('P-1', 'V1', 1);

SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-1') ->> 'decision', 'attempt_failed',
          'the first attempt is denied');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.slot_counts('S1'), 'pending 2/0',
          'the order stays pending, holding the only 2 seats');
SELECT throws_ok($$SELECT test_helpers.ticket_order('T-2', 'S1', 1)$$, 'PM003', NULL,
                 'nobody else can take them');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2') ->> 'decision', 'paid',
          'a new transaction paying is an ordinary payment, not a late one');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'all tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'from the order''s own reservation');
SELECT is(test_helpers.review('T-1'), NULL, 'no paid_after_release, nothing to review');
SELECT is((test_helpers.ord('T-1')).shortfall_at, NULL, 'no shortfall');

SELECT is(test_helpers.gateway('P-1', 'failure', NULL, 'tx-1') ->> 'decision', 'attempt_failed',
          'a failed attempt of a product order');
SELECT is(test_helpers.gateway('P-1', 'capture', 'accept', 'tx-2') ->> 'decision', 'paid',
          'is followed by an ordinary payment too');
SELECT is(test_helpers.variant_counts('V1') || ' ' || ((test_helpers.ord('P-1')).pickup_code IS NOT NULL),
          '0/1 true', 'the reserved stock is sold, a pickup code issued');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
