BEGIN;
SELECT plan(4);

CREATE TEMP TABLE result AS
    SELECT payments.log_event('webhook', repeat('e', 500), repeat('o', 500), repeat('n', 500)) AS id;

SELECT is((SELECT length(event_type) FROM payments.webhook_logs WHERE id = (SELECT id FROM result)), 64,
          'event_type is cut to 64 characters');
SELECT is((SELECT length(outcome) FROM payments.webhook_logs WHERE id = (SELECT id FROM result)), 64,
          'outcome is cut to 64 characters');
SELECT is((SELECT length(order_number) FROM payments.webhook_logs WHERE id = (SELECT id FROM result)), 100,
          'a garbage order number is cut to 100 characters');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
