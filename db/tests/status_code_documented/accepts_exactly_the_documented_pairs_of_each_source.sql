-- Every status x status_code cell, for each source of a status. The expected
-- sets are Midtrans' documented pairs (docs/SQL_API.md, "Trust model").
BEGIN;
SELECT plan(4 * 14 * 8);

CREATE TEMP TABLE statuses (ts text, fs text) ON COMMIT DROP;
INSERT INTO statuses VALUES
    ('settlement', NULL), ('capture', 'accept'), ('capture', 'challenge'), ('capture', 'deny'),
    ('pending', NULL), ('authorize', NULL), ('deny', NULL), ('cancel', NULL), ('expire', NULL),
    ('failure', NULL), ('refund', NULL), ('partial_refund', NULL), ('chargeback', NULL),
    ('partial_chargeback', NULL);
CREATE TEMP TABLE codes (code text) ON COMMIT DROP;
INSERT INTO codes VALUES ('200'), ('201'), ('202'), ('407'), ('404'), ('412'), ('500'), (NULL);

CREATE TEMP TABLE documented (evidence text, ts text, fs text, code text) ON COMMIT DROP;
INSERT INTO documented VALUES
    -- notifications (docs samples: "midtrans payment notification")
    ('notification', 'settlement', NULL, '200'),
    ('notification', 'capture', 'accept', '200'),
    ('notification', 'capture', 'challenge', '201'),
    ('notification', 'capture', 'deny', '202'),
    ('notification', 'pending', NULL, '201'),
    ('notification', 'authorize', NULL, '200'),
    ('notification', 'authorize', NULL, '201'),
    ('notification', 'deny', NULL, '202'),
    ('notification', 'cancel', NULL, '202'),
    ('notification', 'expire', NULL, '202'),
    ('notification', 'expire', NULL, '407'),
    ('notification', 'failure', NULL, '202'),
    ('notification', 'refund', NULL, '200'),
    ('notification', 'partial_refund', NULL, '200'),
    ('notification', 'chargeback', NULL, '200'),
    ('notification', 'partial_chargeback', NULL, '200'),
    -- GET /v2/{id}/status: mirrors the notification, plus cancel 200
    ('status_api', 'settlement', NULL, '200'),
    ('status_api', 'capture', 'accept', '200'),
    ('status_api', 'capture', 'challenge', '201'),
    ('status_api', 'capture', 'deny', '202'),
    ('status_api', 'pending', NULL, '201'),
    ('status_api', 'authorize', NULL, '200'),
    ('status_api', 'authorize', NULL, '201'),
    ('status_api', 'deny', NULL, '202'),
    ('status_api', 'cancel', NULL, '200'),
    ('status_api', 'cancel', NULL, '202'),
    ('status_api', 'expire', NULL, '202'),
    ('status_api', 'expire', NULL, '407'),
    ('status_api', 'failure', NULL, '202'),
    ('status_api', 'refund', NULL, '200'),
    ('status_api', 'partial_refund', NULL, '200'),
    ('status_api', 'chargeback', NULL, '200'),
    ('status_api', 'partial_chargeback', NULL, '200'),
    -- action answers: cancel, expire, approve / capture, deny, refund
    ('action', 'cancel', NULL, '200'),
    ('action', 'expire', NULL, '407'),
    ('action', 'capture', 'accept', '200'),
    ('action', 'deny', NULL, '200'),
    ('action', 'deny', NULL, '202'),
    ('action', 'refund', NULL, '200'),
    ('action', 'partial_refund', NULL, '200'),
    -- no Midtrans evidence: no status_code may be claimed
    ('local', 'settlement', NULL, NULL), ('local', 'capture', 'accept', NULL),
    ('local', 'capture', 'challenge', NULL), ('local', 'capture', 'deny', NULL),
    ('local', 'pending', NULL, NULL), ('local', 'authorize', NULL, NULL), ('local', 'deny', NULL, NULL),
    ('local', 'cancel', NULL, NULL), ('local', 'expire', NULL, NULL), ('local', 'failure', NULL, NULL),
    ('local', 'refund', NULL, NULL), ('local', 'partial_refund', NULL, NULL),
    ('local', 'chargeback', NULL, NULL), ('local', 'partial_chargeback', NULL, NULL);

SELECT is(payments.status_code_documented(e.evidence, s.ts, s.fs, c.code),
          EXISTS (SELECT 1 FROM documented AS d
                   WHERE d.evidence = e.evidence AND d.ts = s.ts AND d.fs IS NOT DISTINCT FROM s.fs
                     AND d.code IS NOT DISTINCT FROM c.code),
          format('%s: %s%s with status_code %s', e.evidence, s.ts, coalesce('/' || s.fs, ''),
                 coalesce(c.code, 'NULL')))
  FROM (VALUES ('notification'), ('status_api'), ('action'), ('local')) AS e (evidence)
 CROSS JOIN statuses AS s
 CROSS JOIN codes AS c
 ORDER BY e.evidence, s.ts, s.fs, c.code;

SELECT * FROM finish();
ROLLBACK;
