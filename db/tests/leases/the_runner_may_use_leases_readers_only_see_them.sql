-- Rule: payments_runner may acquire, renew and release leases (through the
-- functions only: it cannot write payments.leases); payments_readonly sees
-- who holds what but can call none of the lease functions.
BEGIN;
SELECT plan(9);

SET LOCAL ROLE payments_runner;
SELECT is((SELECT acquired FROM payments.acquire_lease('prune', 'host-a:1:aaaa', '1 minute')), true,
          'the runner acquires a lease');
SELECT is(payments.renew_lease('prune', 'host-a:1:aaaa', '1 minute'), true, 'renews it');
SELECT throws_ok($$UPDATE payments.leases SET holder = 'me'$$, '42501', NULL,
                 'but cannot write the table directly');
SELECT throws_ok($$SELECT * FROM payments.leases$$, '42501', NULL, 'nor read it');
RESET ROLE;

SET LOCAL ROLE payments_readonly;
SELECT is((SELECT holder FROM payments.leases WHERE job = 'prune'), 'host-a:1:aaaa',
          'a reader sees who holds a lease');
SELECT throws_ok($$SELECT * FROM payments.acquire_lease('prune', 'host-b:2:bbbb', '1 minute')$$, '42501', NULL,
                 'a reader cannot acquire a lease');
SELECT throws_ok($$SELECT payments.renew_lease('prune', 'host-a:1:aaaa', '1 minute')$$, '42501', NULL,
                 'nor renew one');
SELECT throws_ok($$SELECT payments.release_lease('prune', 'host-a:1:aaaa')$$, '42501', NULL,
                 'nor release one');
RESET ROLE;

SET LOCAL ROLE payments_runner;
SELECT is(payments.release_lease('prune', 'host-a:1:aaaa'), true, 'the runner releases its lease');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
