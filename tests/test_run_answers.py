"""The answers of one run against a real PostgreSQL: they do not wait for each
other, and finishing the run waits for every answer still open and counts it.

An answer counted in a run (payments_private.answer_in_run, through
apply_gateway_status / expire_order / apply_status_not_found / run_failed with
a run_id) locks the run's row FOR SHARE and writes one row of
payments_private.run_answers; finish_run locks the row FOR NO KEY UPDATE and
folds those rows into it. The two scenarios below are also run against the
two wrong locks (a mutation check): FOR NO KEY UPDATE, the lock count_in_run
took before migration 0010, makes the second answer wait for the first; FOR
KEY SHARE does not conflict with finish_run's lock, so an answer open while
the run finishes is lost.

A wait is made an error, not a hang: the connections that must not wait run
with a short lock_timeout (55P03 when they do), and every wait the scenario
expects is bounded.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

import psycopg
import pytest

from tests.test_lock_mutations import Checks, Edit, patched

ANSWER_IN_RUN = "payments_private.answer_in_run(bigint,text,text,boolean,boolean)"
SHARED_LOCK = "\n        FOR SHARE;"
# long enough never to fire on a lock that is free (lock_timeout counts only waiting)
LOCK_TIMEOUT = "1s"
_prefix = itertools.count(1)


def open_run(db: psycopg.Connection, orders: int) -> tuple[int, list[str]]:
    """A sync run with `orders` pending ticket orders due, each in its own slot
    (so two answers share no slot lock, only the run)."""
    prefix = f"RA{next(_prefix)}"
    numbers = [f"{prefix}-{k}" for k in range(1, orders + 1)]
    for number in numbers:
        db.execute("SELECT test_helpers.slot(%s, 5)", (f"S-{number}",))
        db.execute("SELECT test_helpers.ticket_order(%s, %s, 1)", (number, f"S-{number}"))
    run_id = db.execute("SELECT DISTINCT run_id FROM payments.start_sync('0', '0', 200, %s)",
                        (numbers,)).fetchone()[0]
    return run_id, numbers


def answer(conn: psycopg.Connection, order: str, run_id: int) -> str:
    """A sync answer: Midtrans has a pending payment for the order (decision
    noop: the order stays pending; the new ledger row is logged under the run,
    and the answer counted in it)."""
    return conn.execute(
        "SELECT payments.apply_gateway_status(%s, 'pending', NULL, 100000, %s, '201', 'sync', NULL, %s)"
        " ->> 'decision'", (order, f"tx-{order}", run_id)).fetchone()[0]


def outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except psycopg.Error as exc:
        return f"error:{exc.sqlstate}"


def waiting_on_a_lock(db: psycopg.Connection, pid: int) -> bool:
    return db.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                      (pid,)).fetchone()[0] is True


def wait_until(predicate: Callable[[], bool], seconds: float = 30) -> bool:
    """Poll until predicate() holds or `seconds` pass (a bound, not a timing claim)."""
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def scenario_answers_do_not_wait(db_url: str) -> list[str]:
    """Two answers of one open run, for different orders, each in its own
    transaction: the second completes while the first is still open."""
    check = Checks()
    with psycopg.connect(db_url, autocommit=True) as db:
        run_id, (first, second) = open_run(db, 2)
        with psycopg.connect(db_url) as a, psycopg.connect(db_url, autocommit=True) as b:
            b.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            check.that("the first answer is applied (transaction left open)",
                       answer(a, first, run_id) == "noop", first)
            got = outcome(lambda: answer(b, second, run_id))
            check.that("the second answer completes while the first is open", got == "noop", got)
            a.commit()
        logged = db.execute("SELECT count(*) FROM payments.webhook_logs WHERE run_id = %s",
                            (run_id,)).fetchone()[0]
        check.that("both are logged under the run (each log row's foreign key locks the run's row too)",
                   logged == 2, logged)
        finished = db.execute("SELECT ok, checked, answered FROM payments.finish_run(%s)",
                              (run_id,)).fetchone()
        check.that("both are counted in the run", finished == (True, 2, sorted([first, second])), finished)
    return check.failed


def scenario_finish_waits_for_an_open_answer(db_url: str) -> list[str]:
    """finish_run issued while an answer's transaction is open waits for it and
    counts it; after the run is finished a new answer is refused (PM009)."""
    check = Checks()
    with psycopg.connect(db_url, autocommit=True) as db:
        run_id, (early, late) = open_run(db, 2)
        check.that("an answer committed before", answer(db, early, run_id) == "noop")
        finished: dict[str, object] = {}
        with psycopg.connect(db_url) as a, psycopg.connect(db_url, autocommit=True) as f:
            check.that("an answer applied, its transaction left open",
                       answer(a, late, run_id) == "noop")
            finisher = threading.Thread(target=lambda: finished.update(row=outcome(lambda: f.execute(
                "SELECT ok, checked, answered, error FROM payments.finish_run(%s)", (run_id,)).fetchone())))
            finisher.start()
            waited = wait_until(lambda: not finisher.is_alive() or waiting_on_a_lock(db, f.info.backend_pid))
            check.that("finish_run waits for the open answer",
                       waited and finisher.is_alive(), finished.get("row", "no wait seen"))
            a.commit()
            finisher.join(timeout=60)
        check.that("finish_run counts the answer it waited for",
                   finished.get("row") == (True, 2, sorted([early, late]), None), finished.get("row"))
        left = db.execute("SELECT count(*) FROM payments_private.run_answers WHERE run_id = %s",
                          (run_id,)).fetchone()[0]
        check.that("no answer of the finished run is left behind", left == 0, left)
        refused = outcome(lambda: answer(db, early, run_id))
        check.that("a new answer (an order asked again) after finish_run: PM009", refused == "error:PM009",
                   refused)
    return check.failed


def test_answers_of_one_run_do_not_wait_for_each_other(db_url: str) -> None:
    assert scenario_answers_do_not_wait(db_url) == []


def test_finish_run_waits_for_an_open_answer_and_counts_it(db_url: str) -> None:
    assert scenario_finish_waits_for_an_open_answer(db_url) == []


def test_an_answer_while_finish_run_is_open_waits_then_is_refused(db: psycopg.Connection,
                                                                  db_url: str) -> None:
    """The other order: finish_run holds the run's row (its transaction open),
    an answer arrives. It waits, finds the run finished, PM009, and its whole
    transaction rolls back: the order is not touched, nothing is logged."""
    run_id, (order,) = open_run(db, 1)
    got: dict[str, object] = {}
    with psycopg.connect(db_url) as f, psycopg.connect(db_url, autocommit=True) as b:
        f.execute("SELECT * FROM payments.finish_run(%s)", (run_id,))
        answering = threading.Thread(
            target=lambda: got.update(answer=outcome(lambda: answer(b, order, run_id))))
        answering.start()
        assert wait_until(lambda: not answering.is_alive() or waiting_on_a_lock(db, b.info.backend_pid))
        assert answering.is_alive(), f"the answer did not wait for finish_run: {got}"
        f.commit()
        answering.join(timeout=60)
    assert got == {"answer": "error:PM009"}
    assert db.execute("SELECT gateway_checked_at, status FROM payments.orders WHERE order_number = %s",
                      (order,)).fetchone() == (None, "pending")
    assert db.execute("SELECT count(*) FROM payments.webhook_logs WHERE order_number = %s",
                      (order,)).fetchone()[0] == 0
    assert db.execute("SELECT checked, answered FROM payments.runs WHERE id = %s",
                      (run_id,)).fetchone() == (0, [])


def test_finish_run_refuses_to_run_at_repeatable_read(db: psycopg.Connection, db_url: str) -> None:
    """At REPEATABLE READ finish_run's snapshot predates the answers that
    committed while it waited for its lock: it would miss them, so it refuses."""
    run_id, (order,) = open_run(db, 1)
    answer(db, order, run_id)
    with psycopg.connect(db_url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with pytest.raises(psycopg.Error) as refused:
            conn.execute("SELECT * FROM payments.finish_run(%s)", (run_id,))
        assert refused.value.sqlstate == "25000"
    assert db.execute("SELECT ok, checked FROM payments.finish_run(%s)", (run_id,)).fetchone() == (True, 1)


@pytest.mark.parametrize(("lock", "scenario"), [
    ("FOR NO KEY UPDATE", scenario_answers_do_not_wait),
    ("FOR KEY SHARE", scenario_finish_waits_for_an_open_answer),
], ids=["no-key-update", "key-share"])
def test_a_wrong_lock_on_the_run_is_detected(db: psycopg.Connection, db_url: str, lock: str,
                                             scenario: Callable[[str], list[str]]) -> None:
    """Mutation check: answer_in_run with another lock on the run's row fails
    the scenario that lock breaks (the real lock passes it: the tests above)."""
    with patched(db, [Edit(ANSWER_IN_RUN, SHARED_LOCK, f"\n        {lock};")]):
        detected = scenario(db_url)
    print(f"\nanswer_in_run {lock}: detected by {detected}")
    assert detected, f"answer_in_run taking {lock} survived its scenario"
