-- One order, several Midtrans transactions: a customer who abandons a bank
-- transfer and pays by card pays the order; the abandoned transfer expiring
-- later is recorded in its own ledger row and changes nothing.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'pending', NULL, 'tx-va');   -- bank transfer started

SELECT is(test_helpers.gateway('T-1', 'capture', 'accept', 'tx-card') ->> 'decision', 'paid',
          'the customer switching to a card and paying pays the order');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order is paid');
SELECT is(test_helpers.ledger('T-1'), 'tx-card:21,tx-va:10', 'both transactions are in the ledger');
CREATE TEMP TABLE r ON COMMIT DROP AS SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-va') AS r;
SELECT is((SELECT r ->> 'decision' FROM r), 'noop',
          'the abandoned bank transfer expiring later changes nothing');
SELECT is((SELECT r ->> 'ledger' FROM r), 'advance', 'it only advances its own ledger row');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.active_tickets('T-1') || ' ' || test_helpers.slot_counts('S1'),
          'paid 2 0/2', 'the order stays paid with its tickets');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
