-- Rule: begin_checkout creates the order once per order number and claims the
-- Snap call for one holder at a time; the stored token is returned to every
-- retry; the Snap expiry closes no later than the hold; abandon_checkout
-- releases the goods unless a token was stored or another holder is asking Snap.
BEGIN;
SELECT plan(22);

SELECT test_helpers.slot('CK-S1', 5);

SELECT payments.begin_checkout('CK-1', 'ticket', '[{"slot": "CK-S1", "quantity": 2}]', '15 minutes',
                               100000, 'IDR', 'host-a:1:aa', '1 minute') AS r \gset first_
SELECT is((:'first_r'::jsonb) ->> 'state', 'claimed', 'a new checkout is claimed by its holder');
SELECT is((:'first_r'::jsonb) ->> 'created', 'true', 'and created the order');
SELECT is((SELECT reserved FROM payments.ticket_slots WHERE code = 'CK-S1'), 2, 'the seats are held');
SELECT is((SELECT count(*) FROM payments.orders WHERE order_number = 'CK-1'), 1::bigint, 'one order');

SELECT ok((SELECT to_timestamp(floor(extract(epoch FROM o.created_at)))
                  + make_interval(mins => (c.snap_expiry ->> 'duration')::integer) <= o.expires_at
             FROM payments.orders AS o JOIN payments.checkouts AS c ON c.order_id = o.id
            WHERE o.order_number = 'CK-1'), 'Snap''s window closes no later than the hold');
SELECT is((SELECT (c.snap_expiry ->> 'duration')::integer
             FROM payments.orders AS o JOIN payments.checkouts AS c ON c.order_id = o.id
            WHERE o.order_number = 'CK-1'), 15, 'a 15-minute hold is a 15-minute Snap expiry');
SELECT is(payments_private.snap_expiry('2026-01-02 03:00:00.75+00', '2026-01-02 03:30:00.5+00'),
          '{"start_time": "2026-01-02 10:00:00 +0700", "unit": "minute", "duration": 30}'::jsonb,
          'start_time is created_at in Jakarta time, truncated to the second');
SELECT is(payments_private.snap_expiry('2026-01-02 03:00:00+00', '2026-01-02 03:30:59+00') ->> 'duration',
          '30', 'the duration is rounded down to whole minutes');

SELECT is(payments.begin_checkout('CK-1', 'ticket', '[{"slot": "CK-S1", "quantity": 2}]', '15 minutes',
                                  100000, 'IDR', 'host-b:2:bb', '1 minute') ->> 'state', 'busy',
          'another holder is told the Snap call is in progress');
SELECT is(payments.begin_checkout('CK-1', 'ticket', '[{"slot": "CK-S1", "quantity": 2}]', '15 minutes',
                                  100000, 'IDR', 'host-b:2:bb', '1 minute') ->> 'created', 'false',
          'and creates nothing');
SELECT is((SELECT reserved FROM payments.ticket_slots WHERE code = 'CK-S1'), 2, 'the seats are held once');

SELECT is(payments.abandon_checkout('CK-1', 'host-b:2:bb', 'not mine') ->> 'state', 'busy',
          'a holder without the claim cannot release the order');

SELECT is(payments.finish_checkout('CK-1', 'host-a:1:aa', 'tok-1', 'http://snap/tok-1') ->> 'state', 'ready',
          'the token is stored');
SELECT is(payments.finish_checkout('CK-1', 'host-b:2:bb', 'tok-2', 'http://snap/tok-2') ->> 'snap_token',
          'tok-1', 'the first token stored wins');
SELECT results_eq($$SELECT r ->> 'state', r ->> 'snap_token', r ->> 'redirect_url'
                      FROM payments.begin_checkout('CK-1', 'ticket', '[{"slot": "CK-S1", "quantity": 2}]',
                                                   '15 minutes', 100000, 'IDR', 'host-c:3:cc') AS r$$,
                  $$VALUES ('ready', 'tok-1', 'http://snap/tok-1')$$, 'a retry gets the same token');
SELECT is(payments.abandon_checkout('CK-1', 'host-a:1:aa', 'late') ->> 'state', 'ready',
          'an order with a token is never released by a checkout');

SELECT throws_ok($$SELECT payments.begin_checkout('CK-1', 'product', '[{"sku": "X", "quantity": 1}]',
                                                  '15 minutes', 100000, 'IDR', 'h')$$,
                 'PM030', NULL, 'the same number as another kind of order is a conflict');
SELECT throws_ok($$SELECT payments.begin_checkout('CK-1', 'ticket', '[{"slot": "CK-S1", "quantity": 2}]',
                                                  '15 minutes', 99000, 'IDR', 'h')$$,
                 'PM030', NULL, 'so is another amount');
SELECT throws_ok($$SELECT payments.begin_checkout('CK-2', 'ticket', '[{"slot": "CK-S1", "quantity": 1}]',
                                                  '30 seconds', 50000, 'IDR', 'h')$$,
                 'PM009', NULL, 'a hold under a minute is refused');

-- Snap refused: the holder releases the order, the seats come back
SELECT payments.begin_checkout('CK-3', 'ticket', '[{"slot": "CK-S1", "quantity": 3}]', '10 minutes',
                               150000, 'IDR', 'host-a:1:aa');
SELECT is(payments.abandon_checkout('CK-3', 'host-a:1:aa', 'Snap refused') ->> 'status', 'expired',
          'a refused checkout is released');
SELECT is((SELECT reserved FROM payments.ticket_slots WHERE code = 'CK-S1'), 2, 'its seats are free again');
SELECT is(payments.begin_checkout('CK-3', 'ticket', '[{"slot": "CK-S1", "quantity": 3}]', '10 minutes',
                                  150000, 'IDR', 'host-a:1:aa') ->> 'state', 'closed',
          'a retry of a released checkout is told the order is closed');

SELECT * FROM finish();
ROLLBACK;
