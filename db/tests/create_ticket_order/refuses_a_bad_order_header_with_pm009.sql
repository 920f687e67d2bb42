-- Rule: create_ticket_order refuses a malformed order number (Midtrans order_id
-- alphabet, no dot segments), expires_at, gross_amount or currency with PM009.
BEGIN;
SELECT plan(18);

SELECT test_helpers.slot('S1', 10);

SELECT throws_ok(format($$SELECT payments.create_ticket_order(%L, '[{"slot": "S1", "quantity": 1}]', %s, %s, %L)$$,
                        order_number, expires_at, amount, currency), 'PM009', NULL, why)
  FROM (VALUES
    ('T 1', $$now() + interval '1 hour'$$, '1000', 'IDR', 'an order number with a space'),
    ('', $$now() + interval '1 hour'$$, '1000', 'IDR', 'an empty order number'),
    (NULL, $$now() + interval '1 hour'$$, '1000', 'IDR', 'a NULL order number'),
    (repeat('x', 51), $$now() + interval '1 hour'$$, '1000', 'IDR', 'a 51-character order number'),
    ('T/1', $$now() + interval '1 hour'$$, '1000', 'IDR', 'a slash in the order number'),
    ('.', $$now() + interval '1 hour'$$, '1000', 'IDR', 'the dot segment "." (would change a URL path)'),
    ('..', $$now() + interval '1 hour'$$, '1000', 'IDR', 'the dot segment ".." (would reach another endpoint)'),
    ('T-1', $$now() - interval '1 second'$$, '1000', 'IDR', 'expires_at in the past'),
    ('T-1', 'NULL', '1000', 'IDR', 'a NULL expires_at'),
    ('T-1', $$now() + interval '1 hour'$$, '0', 'IDR', 'a zero gross_amount'),
    ('T-1', $$now() + interval '1 hour'$$, '-5', 'IDR', 'a negative gross_amount'),
    ('T-1', $$now() + interval '1 hour'$$, '10.005', 'IDR', 'a gross_amount with 3 decimals'),
    ('T-1', $$now() + interval '1 hour'$$, 'NULL', 'IDR', 'a NULL gross_amount'),
    ('T-1', $$now() + interval '1 hour'$$, '1e12', 'IDR', 'a gross_amount of 1e12'),
    ('T-1', $$now() + interval '1 hour'$$, '1000', 'idr', 'a lower-case currency'),
    ('T-1', $$now() + interval '1 hour'$$, '1000', 'RUPIAH', 'a currency that is not 3 letters')
  ) AS t (order_number, expires_at, amount, currency, why);
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'nothing reserved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
