-- Rollback of 0010: the answers of runs still open are folded into their rows
-- first (the counters and arrays the previous release counts in while a run
-- is open), so a run open across the rollback loses none. The functions of
-- this release stop working until `payments migrate` runs a matching release
-- again.
UPDATE payments.runs AS x
   SET checked = x.checked + f.checked,
       not_found = x.not_found + f.not_found,
       failed = x.failed + f.failures,
       changed = x.changed + f.changed,
       answered = x.answered || f.answered,
       changed_orders = x.changed_orders || f.changed_orders
  FROM (SELECT r.id,
               count(*) FILTER (WHERE a.counted_as = 'checked' AND a.order_number <> ALL (r.answered)) AS checked,
               count(*) FILTER (WHERE a.counted_as = 'not_found' AND a.order_number <> ALL (r.answered)) AS not_found,
               sum(a.failures) AS failures,
               count(*) FILTER (WHERE a.changed AND a.order_number <> ALL (r.changed_orders)) AS changed,
               coalesce(array_agg(a.order_number ORDER BY a.order_number)
                            FILTER (WHERE a.order_number <> ALL (r.answered)), '{}') AS answered,
               coalesce(array_agg(a.order_number ORDER BY a.order_number)
                            FILTER (WHERE a.changed AND a.order_number <> ALL (r.changed_orders)), '{}')
                   AS changed_orders
          FROM payments_private.run_answers AS a
          JOIN payments.runs AS r ON r.id = a.run_id
         WHERE r.finished_at IS NULL
         GROUP BY r.id) AS f
 WHERE x.id = f.id;
DROP FUNCTION IF EXISTS payments_private.answer_in_run(bigint, text, text, boolean, boolean);
DROP FUNCTION IF EXISTS payments_private.run_so_far(payments.runs);
DROP TABLE payments_private.run_answers;
COMMENT ON SCHEMA payments_private IS
    'Internal functions of the payments schema: not granted to any role, may change without notice';
