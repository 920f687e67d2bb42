-- Rule: who resolved a review is session_user (recorded on the review row as
-- resolved_by and in the log as actor), never free text: resolve_review has no
-- actor argument, and a function owner's identity is not recorded instead.
BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-1');

SELECT is((SELECT array_agg(pg_get_function_identity_arguments(oid)) FROM pg_proc
            WHERE oid::regprocedure::text LIKE 'payments.resolve_review(%'),
          ARRAY['order_number text, reason text, action text, note text, subject text'],
          'resolve_review takes the order, the reason, the action and a note: no actor');

-- an operator logged in as such (session_user changes, as with a real login)
SET LOCAL SESSION AUTHORIZATION payments_operator;
SELECT is(payments.resolve_review('T-1', 'chargeback', 'dismiss', 'I am the CEO') ->> 'actor', 'payments_operator',
          'the actor returned is the session user');
RESET SESSION AUTHORIZATION;

SELECT is((SELECT resolved_by FROM payments.order_reviews WHERE reason = 'chargeback'), 'payments_operator',
          'resolved_by is the session user');
SELECT is((SELECT detail ->> 'actor' FROM payments.webhook_logs WHERE event_type = 'review_resolved'),
          'payments_operator', 'and so is the logged actor');
SELECT is((SELECT note FROM payments.order_reviews WHERE reason = 'chargeback'), 'I am the CEO',
          'what the caller writes is only a note');

SELECT * FROM finish();
ROLLBACK;
