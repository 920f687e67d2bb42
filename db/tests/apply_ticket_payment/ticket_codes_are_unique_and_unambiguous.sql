-- Rule: ticket codes are unique and drawn from the unambiguous alphabet
-- (16 characters, no 0/O, 1/I), over 500 tickets issued by settlements.
BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 1000);
SELECT test_helpers.ticket_order('T-' || n, 'S1', 100) FROM generate_series(1, 5) AS n;
SELECT test_helpers.gateway('T-' || n, 'settlement') FROM generate_series(1, 5) AS n;

SELECT is((SELECT count(*) FROM payments.tickets WHERE status = 'active'), 500::bigint, '500 tickets issued');
SELECT is((SELECT count(DISTINCT code) FROM payments.tickets), 500::bigint, 'all 500 codes are distinct');
SELECT is_empty($$SELECT code FROM payments.tickets WHERE code !~ '^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{16}$'$$,
                'every code is 16 characters of the unambiguous alphabet (no 0/O, 1/I)');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
