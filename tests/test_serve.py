"""`payments serve` as a real process: webhooks, schedules, clean SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
from psycopg.types.json import Jsonb

from runner.simulator import create_app
from tests.pgserver import free_port
from tests.servers import ROOT, asgi_server, wait_http
from tests.test_webhook import SERVER_KEY


def start_serve(db_url: str, port: int, sim: str, **extra: str) -> subprocess.Popen:
    env = {**os.environ, "PAYMENTS_DATABASE_URL": db_url, "MIDTRANS_SERVER_KEY": SERVER_KEY,
           "MIDTRANS_API_BASE_URL": sim, "PAYMENTS_PORT": str(port), "PAYMENTS_SYNC_MIN_AGE": "0s",
           **extra}
    proc = subprocess.Popen([sys.executable, "-m", "runner.cli", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return proc


def test_sigterm_finishes_the_request_in_flight_and_exits_zero(db: psycopg.Connection, db_url: str) -> None:
    db.execute("SELECT payments.create_ticket_slot('GIG', 10)")
    db.execute("SELECT payments.create_ticket_order('SIG-1', %s, %s, 150000)",
               (Jsonb([{"slot": "GIG", "quantity": 2}]), datetime.now(UTC) + timedelta(hours=1)))
    port = free_port()
    with asgi_server(create_app(SERVER_KEY)) as sim:
        httpx.post(f"{sim}/_sim/transactions", json={"order_id": "SIG-1", "gross_amount": 150000,
                                                     "notify": False})
        httpx.post(f"{sim}/_sim/transactions/SIG-1/settle", json={"notify": False})
        # Midtrans' own signed notification; serve confirms it with the Status API
        settled = httpx.post(f"{sim}/_sim/notify/SIG-1", json={"faults": {"drop": True}}).json()
        # (the sync at start must leave the order to the webhook)
        proc = start_serve(db_url, port, sim, PAYMENTS_SYNC_INTERVAL="1h",
                           PAYMENTS_RECONCILE_INTERVAL="1h", PAYMENTS_SYNC_MIN_AGE="1h")
        try:
            # hold the order row so the webhook's apply is still running at SIGTERM
            blocker = psycopg.connect(db_url)
            blocker.execute("SELECT 1 FROM payments.orders WHERE order_number = 'SIG-1' FOR UPDATE")
            answer: dict = {}

            def send() -> None:
                answer["response"] = httpx.post(f"http://127.0.0.1:{port}/midtrans/notification",
                                                json=settled["notification"], timeout=30)

            sender = threading.Thread(target=send)
            sender.start()
            deadline = time.monotonic() + 10
            while not db.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                 " AND query LIKE '%apply_gateway_status%'").fetchone()[0]:
                assert time.monotonic() < deadline, "the webhook never reached the database"
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert proc.poll() is None, "serve must wait for the request in flight"
            blocker.rollback()
            blocker.close()
            sender.join(timeout=30)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        output = proc.stdout.read()
    assert answer["response"].status_code == 200, output
    assert answer["response"].json()["decision"] == "paid"
    assert db.execute("SELECT status FROM payments.orders").fetchone()[0] == "paid"
    assert "stopped" in output


def test_schedules_run_and_two_serve_processes_share_them(db: psycopg.Connection, db_url: str) -> None:
    """Two serve processes on one database: both answer webhooks, each sync
    tick is taken by one of them, SIGTERM stops both cleanly."""
    db.execute("SELECT payments.create_ticket_slot('GIG', 10)")
    for i in range(3):
        db.execute("SELECT payments.create_ticket_order(%s, %s, %s, 150000)",
                   (f"SCH-{i}", Jsonb([{"slot": "GIG", "quantity": 1}]),
                    datetime.now(UTC) + timedelta(hours=1)))
    sim_app = create_app(SERVER_KEY)
    with asgi_server(sim_app) as sim:
        for i in range(3):
            httpx.post(f"{sim}/_sim/transactions", json={"order_id": f"SCH-{i}", "gross_amount": 150000,
                                                         "notify": False})
            httpx.post(f"{sim}/_sim/transactions/SCH-{i}/settle", json={"notify": False})
        ports = [free_port(), free_port()]
        procs = [start_serve(db_url, port, sim, PAYMENTS_SYNC_INTERVAL="1s",
                             PAYMENTS_RECONCILE_INTERVAL="1h") for port in ports]
        try:
            deadline = time.monotonic() + 20
            while db.execute("SELECT count(*) FROM payments.orders WHERE status = 'paid'").fetchone()[0] < 3:
                assert time.monotonic() < deadline, "the scheduled sync never healed the orders"
                time.sleep(0.1)
            for port in ports:
                assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            assert [proc.wait(timeout=30) for proc in procs] == [0, 0]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
    assert db.execute("SELECT count(*) FROM payments.tickets").fetchone()[0] == 3
    overlapping = db.execute(
        "SELECT count(*) FROM payments.runs a JOIN payments.runs b ON a.id < b.id AND a.kind = b.kind"
        " AND a.started_at < b.finished_at AND b.started_at < a.finished_at").fetchone()[0]
    assert overlapping == 0, "two runs of one schedule overlapped"
    assert db.execute("SELECT count(*) FROM payments.runs WHERE finished_at IS NULL").fetchone()[0] == 0
    assert db.execute("SELECT * FROM payments.check_invariants()").fetchall() == []


def test_serve_warns_at_start_when_confirmation_is_off(db_url: str) -> None:
    port = free_port()
    with asgi_server(create_app(SERVER_KEY)) as sim:
        proc = start_serve(db_url, port, sim, PAYMENTS_SYNC_INTERVAL="1h", PAYMENTS_RECONCILE_INTERVAL="1h",
                           PAYMENTS_CONFIRM_WITH_STATUS_API="false")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        output = proc.stdout.read()
    assert "WARNING" in output and "PAYMENTS_CONFIRM_WITH_STATUS_API is off" in output
    assert SERVER_KEY not in output


def test_serve_and_the_jobs_run_on_uvloop_when_it_is_installed() -> None:
    import asyncio

    import uvloop

    from runner.cli import run_on_fast_loop

    async def loop_type() -> type:
        return type(asyncio.get_running_loop())

    assert run_on_fast_loop(loop_type()) is uvloop.Loop
