-- Rule: reconciliation's question "which orders need a repair" reads the
-- partial index orders_repair_idx, never a scan of all orders: on a table of
-- thousands of orders, few of them needing repair, the planner uses it.
BEGIN;
SELECT plan(3);

CREATE FUNCTION pg_temp.plan_of(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        plan := plan || line || E'\n';
    END LOOP;
    RETURN plan;
END
$$;

-- 5000 orders inserted directly (cheap); 1 in 1000 expired without release
INSERT INTO payments.orders (order_number, kind, gross_amount, expires_at, status)
SELECT 'BULK-' || n, CASE WHEN n % 2 = 0 THEN 'ticket' ELSE 'product' END, 1000, now() + interval '1 hour',
       CASE WHEN n % 1000 = 0 THEN 'expired' ELSE 'pending' END
  FROM generate_series(1, 5000) AS n;
ANALYZE payments.orders;
SELECT is((SELECT count(*) FROM payments.orders WHERE repair IS NOT NULL), 5::bigint,
          'setup: 5 of 5000 orders need a repair');

SELECT matches(pg_temp.plan_of('SELECT id FROM payments.orders WHERE repair IS NOT NULL ORDER BY id LIMIT 10'),
               'orders_repair_idx', 'the repair query uses orders_repair_idx');
SELECT doesnt_match(pg_temp.plan_of('SELECT id FROM payments.orders WHERE repair IS NOT NULL ORDER BY id LIMIT 10'),
                    'Seq Scan', 'and never scans the table');

SELECT * FROM finish();
ROLLBACK;
