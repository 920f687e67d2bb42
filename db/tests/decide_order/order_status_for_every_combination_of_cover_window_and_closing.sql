-- payments_private.order_status_for(covered, window_closed, closed_as), every
-- combination: an order covered by its standing payments is paid whatever its
-- window; not covered, it is pending while the payment window is open and
-- otherwise closed the way the window closed (failed / expired / refunded).
BEGIN;
SELECT plan(13);

CREATE TEMP TABLE expected (covered boolean, window_closed boolean, closed_as text, status text) ON COMMIT DROP;
INSERT INTO expected VALUES
    (true,  false, 'failed',   'paid'),
    (true,  false, 'expired',  'paid'),
    (true,  false, 'refunded', 'paid'),
    (true,  true,  'failed',   'paid'),
    (true,  true,  'expired',  'paid'),
    (true,  true,  'refunded', 'paid'),
    (false, false, 'failed',   'pending'),
    (false, false, 'expired',  'pending'),
    (false, false, 'refunded', 'pending'),
    (false, true,  'failed',   'failed'),
    (false, true,  'expired',  'expired'),
    (false, true,  'refunded', 'refunded');

SELECT is(payments_private.order_status_for(c.covered, w.closed, a.closed_as),
          (SELECT e.status FROM expected AS e
            WHERE e.covered = c.covered AND e.window_closed = w.closed AND e.closed_as = a.closed_as),
          format('covered %s, window %s, closes as %s', c.covered, CASE WHEN w.closed THEN 'closed' ELSE 'open' END,
                 a.closed_as))
  FROM (VALUES (true), (false)) AS c (covered)
 CROSS JOIN (VALUES (true), (false)) AS w (closed)
 CROSS JOIN (VALUES ('failed'), ('expired'), ('refunded')) AS a (closed_as)
 ORDER BY c.covered DESC, w.closed, a.closed_as;

SELECT is((SELECT provolatile FROM pg_proc
            WHERE oid = 'payments_private.order_status_for(boolean, boolean, text)'::regprocedure),
          'i', 'order_status_for is declared IMMUTABLE');

SELECT * FROM finish();
ROLLBACK;
