"""`payments demo`: the main job, end to end, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
from psycopg.types.json import Jsonb

from tests.servers import ROOT

EXPECTED_LINES = [
    "1/7  The webhook is lost, although the customer paid",
    "ok DEMO-T1 is paid and Ayu has her 2 tickets",
    "ok DEMO-T2 expired and its 3 seats are free again",
    "Decisions logged for DEMO-T3: paid, noop, noop, noop, stale_ignored",
    "ok both are pending again, no ticket, no pickup code",
    "ok DEMO-T4, which Midtrans says is paid, is paid and Hana has her ticket",
    "ok DEMO-P4, which nobody paid, stays pending and holds its shirt until it expires",
    "ok DEMO-T5 keeps the money fact (paid) and is flagged paid_after_release for a person",
    "ok DEMO-T5 is refunded at Midtrans and in the shop, and nothing is left for a person to decide",
    "ok one order, one Snap transaction, 2 seats held while Midtrans' window is open",
    "ok Midtrans holds exactly the expiry the shop computed from the order's hold",
    "check_invariants(): 0 violation(s) -- the books are right",
    "All seven scenarios held",
]


def demo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner.cli", "demo", *args], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def test_demo_against_a_given_database(empty_db_url: str, tmp_path) -> None:
    result = demo("--workdir", str(tmp_path), env={"PAYMENTS_DATABASE_URL": empty_db_url})
    assert result.returncode == 0, result.stdout + result.stderr
    for line in EXPECTED_LINES:
        assert line in result.stdout
    assert "FAIL" not in result.stdout
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT count(*) FROM payments.check_invariants()").fetchone()[0] == 0
        corrected = conn.execute("SELECT order_number, outcome FROM payments.webhook_logs"
                                 " WHERE event_type LIKE 'reconcile\\_fix%' ORDER BY order_number").fetchall()
        assert corrected == [("DEMO-P4", "corrected"), ("DEMO-T4", "corrected")]
    # a second run on the same database starts over from its own demo data
    again = demo("--workdir", str(tmp_path), env={"PAYMENTS_DATABASE_URL": empty_db_url})
    assert again.returncode == 0, again.stdout + again.stderr


def test_demo_refuses_a_database_with_real_orders(db, db_url: str, tmp_path) -> None:
    db.execute("SELECT payments.create_ticket_slot('REAL', 5)")
    db.execute("SELECT payments.create_ticket_order('SHOP-0001', %s, now() + interval '1 hour', 10)",
               (Jsonb([{"slot": "REAL", "quantity": 1}]),))
    result = demo("--workdir", str(tmp_path), env={"PAYMENTS_DATABASE_URL": db_url})
    assert result.returncode == 2
    assert "holds 1 non-demo orders" in result.stderr
    assert db.execute("SELECT count(*) FROM payments.orders").fetchone()[0] == 1, "nothing was touched"


def test_demo_on_the_embedded_postgres(tmp_path) -> None:
    """The README's first command: no database URL, an embedded PostgreSQL."""
    env = {k: v for k, v in os.environ.items() if k != "PAYMENTS_DATABASE_URL"}
    result = subprocess.run([sys.executable, "-m", "runner.cli", "demo", "--workdir", str(tmp_path)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Database: embedded PostgreSQL" in result.stdout
    for line in EXPECTED_LINES:
        assert line in result.stdout
