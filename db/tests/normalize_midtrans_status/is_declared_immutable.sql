BEGIN;
SELECT plan(3);

SELECT is((SELECT provolatile FROM pg_proc
            WHERE oid = 'payments.normalize_midtrans_status(text, text)'::regprocedure),
          'i'::"char", 'normalize_midtrans_status is IMMUTABLE');
SELECT is((SELECT proparallel FROM pg_proc
            WHERE oid = 'payments.normalize_midtrans_status(text, text)'::regprocedure),
          's'::"char", 'normalize_midtrans_status is PARALLEL SAFE');
SELECT lives_ok($$CREATE INDEX ON payments.webhook_logs
                   (((payments.normalize_midtrans_status(transaction_status, fraud_status)).order_status))$$,
                'usable in an index expression, which PostgreSQL allows only for IMMUTABLE functions');

SELECT * FROM finish();
ROLLBACK;
