-- Rule: the partial indexes that keep reconciliation, alerts and sync cheap
-- index exactly the orders that need attention: their predicates are the
-- repair column, the repairs of paid orders, the shortfalls and the pending orders.
BEGIN;
SELECT plan(5);

CREATE TEMP TABLE predicates AS
SELECT c.relname::text COLLATE "default" AS index,
       pg_get_expr(i.indpred, i.indrelid) COLLATE "default" AS predicate,
       pg_get_indexdef(i.indexrelid) AS def
  FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'payments.orders'::regclass;

SELECT is((SELECT predicate FROM predicates WHERE index = 'orders_repair_idx'), '(repair IS NOT NULL)',
          'orders_repair_idx: every order whose repair column is set');
SELECT is((SELECT predicate FROM predicates WHERE index = 'orders_repair_since_idx'),
          '(repair = ANY (ARRAY[''fix_ticket_issued''::text, ''fix_pickup_code''::text]))',
          'orders_repair_since_idx: paid orders whose goods are not out');
SELECT is((SELECT predicate FROM predicates WHERE index = 'orders_shortfall_idx'), '(shortfall_at IS NOT NULL)',
          'orders_shortfall_idx: orders short of capacity / stock');
SELECT is((SELECT predicate FROM predicates WHERE index = 'orders_pending_expires_idx'),
          '((status)::text = ''pending''::text)', 'orders_pending_expires_idx: pending orders');
SELECT results_eq($$SELECT index, substring(def FROM ' USING btree \((\w+)\)') FROM predicates
                    WHERE index IN ('orders_repair_idx', 'orders_repair_since_idx', 'orders_shortfall_idx',
                                    'orders_pending_expires_idx') ORDER BY index$$,
                  $$VALUES ('orders_pending_expires_idx', 'expires_at'), ('orders_repair_idx', 'id'),
                           ('orders_repair_since_idx', 'paid_at'), ('orders_shortfall_idx', 'paid_at')$$,
                  'keyed by what their queries order by');

SELECT * FROM finish();
ROLLBACK;
