-- payments_private.decision_label(previous_status, new_status, ledger_outcome,
-- reviews_opened, attempt_failed), a representative table. The logged word:
--   gateway_disagreement  the ledger disagrees with Midtrans (whatever else)
--   status unchanged:     flagged (a review opened) > stale_ignored (a stale
--                         event) > attempt_failed (a deny / failure recorded)
--                         > noop
--   status changed:       paid (from pending) / late_payment (from a closed
--                         status), refunded, reversed (from paid), released
BEGIN;
SELECT plan(27);

SELECT is(payments_private.decision_label(x.previous, x.new, x.ledger, x.reviews_opened, x.attempt_failed),
          x.expected,
          format('%s -> %s, ledger %s, reviews opened %s, attempt failed %s: %s',
                 x.previous, x.new, x.ledger, x.reviews_opened, x.attempt_failed, x.expected))
  FROM (VALUES
    -- the ledger disagrees with Midtrans: always that word
    ('paid',     'paid',     'disagreement', true,  false, 'gateway_disagreement'),
    ('pending',  'pending',  'disagreement', false, false, 'gateway_disagreement'),
    ('refunded', 'refunded', 'disagreement', false, true,  'gateway_disagreement'),
    -- status unchanged
    ('pending',  'pending',  'new',          true,  false, 'flagged'),
    ('paid',     'paid',     'stale',        true,  false, 'flagged'),
    ('pending',  'pending',  'advance',      true,  true,  'flagged'),
    ('paid',     'paid',     'stale',        false, false, 'stale_ignored'),
    ('expired',  'expired',  'stale',        false, true,  'stale_ignored'),
    ('pending',  'pending',  'new',          false, true,  'attempt_failed'),
    ('paid',     'paid',     'advance',      false, true,  'attempt_failed'),
    ('pending',  'pending',  'new',          false, false, 'noop'),
    ('paid',     'paid',     'duplicate',    false, false, 'noop'),
    ('refunded', 'refunded', 'unknown',      false, false, 'noop'),
    -- paid
    ('pending',  'paid',     'new',          false, false, 'paid'),
    ('pending',  'paid',     'advance',      true,  false, 'paid'),
    ('expired',  'paid',     'new',          false, false, 'late_payment'),
    ('failed',   'paid',     'advance',      false, false, 'late_payment'),
    ('refunded', 'paid',     'new',          true,  false, 'late_payment'),
    -- refunded
    ('paid',     'refunded', 'advance',      false, false, 'refunded'),
    ('pending',  'refunded', 'new',          false, false, 'refunded'),
    ('expired',  'refunded', 'new',          true,  false, 'refunded'),
    -- a payment taken back
    ('paid',     'pending',  'advance',      true,  true,  'reversed'),
    ('paid',     'failed',   'advance',      false, false, 'reversed'),
    ('paid',     'expired',  'local',        false, false, 'reversed'),
    -- released
    ('pending',  'expired',  'new',          false, false, 'released'),
    ('pending',  'failed',   'advance',      false, false, 'released'),
    ('failed',   'expired',  'new',          false, false, 'released')
  ) AS x (previous, new, ledger, reviews_opened, attempt_failed, expected);

SELECT * FROM finish();
ROLLBACK;
