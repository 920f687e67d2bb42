BEGIN;
SELECT plan(5);

SELECT throws_ok($$SELECT payments.reconcile_local(0)$$, 'PM009', NULL, 'batch_size 0 raises PM009');
SELECT throws_ok($$SELECT payments.reconcile_local(NULL)$$, 'PM009', NULL, 'batch_size NULL raises PM009');
SELECT throws_ok($$SELECT payments.reconcile_local(10, 'webhook')$$, 'PM009', NULL,
                 'a webhook is not a reconcile source');
SELECT throws_ok($$SELECT payments.reconcile_local(10, NULL)$$, 'PM009', NULL, 'a NULL source raises PM009');
SELECT is_empty('SELECT * FROM payments.runs', 'no run is recorded');

SELECT * FROM finish();
ROLLBACK;
