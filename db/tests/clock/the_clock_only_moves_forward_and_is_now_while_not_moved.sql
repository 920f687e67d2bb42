-- Rule: at offset 0 the product's clock is now() (wall_clock() is
-- clock_timestamp()); advance_clock moves it forward only (PM016 for NULL,
-- zero or negative), moves add up, each move is recorded with who made it,
-- and a rollback undoes the move.
BEGIN;
SELECT plan(11);

SELECT is(payments.clock_now(), now(), 'offset 0: clock_now() is now()');
SELECT is(payments_private.clock(), now(), 'and the internal clock() too');
SELECT ok(payments_private.wall_clock() >= clock_timestamp() - interval '1 second'
          AND payments_private.wall_clock() <= clock_timestamp(), 'wall_clock() is clock_timestamp()');

SELECT throws_ok($$SELECT payments.advance_clock(NULL)$$, 'PM016', NULL, 'NULL raises PM016');
SELECT throws_ok($$SELECT payments.advance_clock('0 seconds')$$, 'PM016', NULL, 'zero raises PM016');
SELECT throws_ok($$SELECT payments.advance_clock('-1 minute')$$, 'PM016', NULL,
                 'backwards raises PM016: the clock never moves back');

SAVEPOINT moved;
SELECT payments.advance_clock('30 minutes');
SELECT payments.advance_clock('1 day');
SELECT is(payments.clock_now(), now() + interval '1 day 30 minutes', 'moves add up');
SELECT ok(payments_private.wall_clock() > clock_timestamp() + interval '1 day 29 minutes',
          'wall_clock() moved with it');
SELECT ok((SELECT ahead_by = interval '1 day 30 minutes' AND moved_by = session_user FROM payments.clock),
          'payments.clock records the offset and who moved it');
DELETE FROM payments.clock;   -- by hand: the offset in effect stays the base
SELECT payments.advance_clock('1 minute');
SELECT ok((SELECT ahead_by = interval '1 day 31 minutes' FROM payments.clock)
          AND payments.clock_now() = now() + interval '1 day 31 minutes',
          'a deleted clock row is recreated from the offset in effect: never backwards');
ROLLBACK TO SAVEPOINT moved;
SELECT is(payments.clock_now(), now(), 'a rolled-back move never happened');

SELECT * FROM finish();
ROLLBACK;
