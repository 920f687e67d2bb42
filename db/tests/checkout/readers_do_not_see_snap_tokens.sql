-- Rule: the runner role may run a checkout but reads no table; readers see the
-- checkouts, but not the Snap token nor the redirect URL (they open the
-- customer's payment page).
BEGIN;
SELECT plan(4);

SELECT ok(has_function_privilege('payments_runner',
          'payments.begin_checkout(text,text,jsonb,interval,numeric,text,text,interval)', 'EXECUTE'),
          'the runner may begin a checkout');
SELECT ok(NOT has_table_privilege('payments_runner', 'payments.checkouts', 'SELECT'),
          'the runner reads no checkouts table');
SELECT ok(has_column_privilege('payments_readonly', 'payments.checkouts', 'snap_expiry', 'SELECT'),
          'readers see the expiry sent to Snap');
SELECT ok(NOT has_column_privilege('payments_readonly', 'payments.checkouts', 'snap_token', 'SELECT')
          AND NOT has_column_privilege('payments_readonly', 'payments.checkouts', 'redirect_url', 'SELECT'),
          'but not the token nor the redirect URL');

SELECT * FROM finish();
ROLLBACK;
