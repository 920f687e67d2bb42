"""Single-leader runs through a transaction pooler: the sync / reconcile /
prune lease (payments.leases). Two runners at once: exactly one works, the
other says skipped (exit 3, "skipped": true) and who holds the lease until
when; a SIGKILLed holder is taken over after its TTL and not before; a run
whose lease was taken over stops cleanly; nothing stays held afterwards.
Everything here goes through PgBouncer in transaction mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import psycopg
import pytest

from runner import db as runner_db
from runner.jobs import sync_once
from runner.midtrans import MidtransClient
from runner.settings import load
from runner.simulator import create_app
from tests.servers import ROOT, asgi_server
from tests.test_pooler import SERVER_KEY, Shop

SKIPPED = 3


@pytest.fixture()
def shop(db: psycopg.Connection, pooled_db_url: str) -> Iterator[Shop]:
    db.execute("SELECT payments.create_ticket_slot('GIG', 1000)")
    with asgi_server(create_app(SERVER_KEY, notify_url=None, retry_scale=0.0005)) as sim:
        yield Shop(db=db, url=pooled_db_url, sim=sim)


def _pending_at_midtrans(shop: Shop, prefix: str) -> str:
    """An order due for sync whose payment is still pending at Midtrans."""
    (number,) = shop.orders(prefix, 1)
    shop.control("/transactions", {"order_id": number, "gross_amount": 150000, "notify": False})
    return number


def _slow_status_api(shop: Shop, seconds: float) -> None:
    shop.control("/faults", {"status_api": {"mode": "ok", "count": None, "delay": seconds}})


def _spawn(shop: Shop, *args: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "PAYMENTS_DATABASE_URL": shop.url, "MIDTRANS_SERVER_KEY": SERVER_KEY,
                   "MIDTRANS_API_BASE_URL": shop.sim, "PAYMENTS_SYNC_MIN_AGE": "0s",
                   "PAYMENTS_SYNC_RECHECK_AFTER": "0s", "PAYMENTS_HTTP_TIMEOUT": "60s", **env}
    return subprocess.Popen([sys.executable, "-m", "runner.cli", *args], cwd=ROOT, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _leases(db: psycopg.Connection) -> list[tuple]:
    return db.execute("SELECT job, holder, expires_at FROM payments.leases").fetchall()


def _holder_pid(holder: str) -> int:
    host, pid, token = holder.rsplit(":", 2)
    assert host == socket.gethostname()[:120] and len(token) == 8, holder
    return int(pid)


def test_two_runners_at_once_one_works_the_other_says_skipped(shop: Shop) -> None:
    _slow_status_api(shop, 2.5)  # a run lasts longer than the other process needs to start
    for round_ in range(3):
        _pending_at_midtrans(shop, f"R{round_}")
        as_json = round_ < 2
        args = ("sync", "--once", "--json") if as_json else ("sync", "--once")
        procs = [_spawn(shop, *args) for _ in range(2)]
        outputs = [p.communicate(timeout=120) for p in procs]
        codes = [p.returncode for p in procs]
        assert sorted(codes) == [0, SKIPPED], (codes, outputs)
        worker = codes.index(0)
        out, skipped_out = outputs[worker][0], outputs[1 - worker][0]
        if as_json:
            worked, skipped = json.loads(out), json.loads(skipped_out)
            assert worked["skipped"] is False and worked["checked"] == round_ + 1, worked
            assert worked["errors"] == 0, worked
            assert skipped["skipped"] is True, skipped
            assert _holder_pid(skipped["holder"]) == procs[worker].pid, "names the process that works"
            assert datetime.fromisoformat(skipped["until"]) > datetime.fromisoformat(
                shop.db.execute("SELECT min(started_at)::text FROM payments.runs"
                                " WHERE kind = 'sync'").fetchone()[0]), skipped
        else:
            line = skipped_out.strip()
            assert line.startswith(f"sync: skipped, the sync lease is held by {socket.gethostname()[:120]}:"
                                   f"{procs[worker].pid}:") and " until " in line, line
            assert "\n" not in line
        assert _leases(shop.db) == [], "the worker released its lease"
    runs = shop.db.execute("SELECT count(*), count(*) FILTER (WHERE ok) FROM payments.runs").fetchone()
    assert runs == (3, 3), "one run per round, each ok"
    assert shop.db.execute("SELECT count(*) FROM payments.orders WHERE gateway_checked_at IS NOT NULL"
                           ).fetchone()[0] == 3


def test_a_sigkilled_holder_is_taken_over_after_its_ttl_and_not_before(shop: Shop) -> None:
    ttl = 3.0
    _pending_at_midtrans(shop, "KILL")
    _slow_status_api(shop, 60)  # the holder's run is still waiting on Midtrans when it is killed
    holder = _spawn(shop, "sync", "--every", "1h", PAYMENTS_LEASE_TTL=f"{ttl}s")
    try:
        deadline = time.monotonic() + 20
        while not _leases(shop.db):
            assert holder.poll() is None and time.monotonic() < deadline, holder.communicate()
            time.sleep(0.05)
        (job, name, first_expiry), = _leases(shop.db)
        assert job == "sync" and _holder_pid(name) == holder.pid

        time.sleep(ttl * 1.5)  # past the first expiry: only renewals (through the pooler) keep it
        (_, still, renewed_expiry), = _leases(shop.db)
        assert still == name and renewed_expiry > first_expiry, "renewed while the run lasts"
        second = _spawn(shop, "sync", "--once", "--json", PAYMENTS_LEASE_TTL=f"{ttl}s")
        out, err = second.communicate(timeout=60)
        assert second.returncode == SKIPPED, (out, err)
        assert json.loads(out)["holder"] == name

        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        holder.stdout.close()
        holder.stderr.close()

    (_, dead, expires_at), = _leases(shop.db)
    assert dead == name, "a killed holder keeps its lease until it expires"
    with runner_db.connect(shop.url, autocommit=True) as conn:  # at once, through the pooler
        taken = conn.execute("SELECT acquired, held_by, expires_at, clock_timestamp() FROM"
                             " payments.acquire_lease('sync', 'test:0:00000000', '3 seconds')").fetchone()
    assert taken[:3] == (False, name, expires_at) and taken[3] < expires_at, "not taken over before the TTL"

    _slow_status_api(shop, 0)
    attempts = []
    deadline = time.monotonic() + 30
    while True:
        run = _spawn(shop, "sync", "--once", "--json", PAYMENTS_LEASE_TTL=f"{ttl}s")
        out, err = run.communicate(timeout=60)
        attempts.append(run.returncode)
        if run.returncode == 0:
            break
        assert run.returncode == SKIPPED and json.loads(out)["holder"] == name, (out, err)
        assert time.monotonic() < deadline, "never taken over"
        time.sleep(0.3)
    result = json.loads(out)
    assert result["skipped"] is False and result["checked"] == 1 and result["errors"] == 0, result
    started = shop.db.execute("SELECT max(started_at) FROM payments.runs WHERE finished_at IS NOT NULL"
                              ).fetchone()[0]
    assert started >= expires_at, "the takeover ran only after the dead holder's lease expired"
    assert _leases(shop.db) == [], "and nothing stays held"


def _sync_while(shop: Shop, ttl: float, interfere: Callable[[], contextlib.AbstractContextManager]
                ) -> tuple[dict, float, datetime]:
    """Run a sync (one order, a Status API slower than the test) under a lease of
    `ttl`; once the lease is taken, enter `interfere()` and wait for the run to end.
    Returns the result, seconds from the interference to the end, and the lease's
    first expires_at."""
    _pending_at_midtrans(shop, "LEASE")
    _slow_status_api(shop, 30)
    settings = load({}, database_url=shop.url, server_key=SERVER_KEY, midtrans_api_base_url=shop.sim,
                    sync_min_age=0.0, lease_ttl=ttl)

    async def main() -> tuple[dict, float, datetime]:
        pool = runner_db.make_pool(shop.url, max_size=4)
        client = MidtransClient(shop.sim, SERVER_KEY, timeout=60, retries=0)
        await pool.open(wait=True)
        try:
            run = asyncio.create_task(sync_once(settings, pool, client))
            while not _leases(shop.db):
                await asyncio.sleep(0.05)
            ((_, _, expires_at),) = _leases(shop.db)
            with interfere():
                started = time.monotonic()
                result = await asyncio.wait_for(run, timeout=30)
            return result, time.monotonic() - started, expires_at
        finally:
            await client.aclose()
            await pool.close()

    return asyncio.run(main())


def test_a_run_whose_lease_is_taken_over_stops_cleanly(shop: Shop) -> None:
    """Another holder took the lease (say this run stalled past its TTL): the next
    renewal fails, the run stops at once, is recorded as failed with why, and
    the new holder's lease is left alone."""
    @contextlib.contextmanager
    def steal() -> Iterator[None]:
        shop.db.execute("UPDATE payments.leases SET holder = 'thief:1:deadbeef'")
        yield

    result, took, _ = _sync_while(shop, 1.5, steal)
    assert result["skipped"] is False and result["ok"] is False, result
    assert "taken over" in result["error"]
    assert took < 5, "stopped at the next renewal, not after Midtrans answered"
    run = shop.db.execute("SELECT finished_at IS NOT NULL, ok, error FROM payments.runs").fetchone()
    assert run[:2] == (True, False) and "taken over" in run[2], run
    assert [row[1] for row in _leases(shop.db)] == ["thief:1:deadbeef"], "the new holder keeps its lease"


def test_a_run_whose_renewal_hangs_stops_before_its_lease_can_expire(shop: Shop, db_url: str) -> None:
    """A renewal that hangs (here: another session holds the lease row) is given
    up at the lease's deadline less a margin: the run is recorded as failed
    before the server could hand the lease to anyone else."""
    @contextlib.contextmanager
    def lock_the_lease_row() -> Iterator[None]:
        with psycopg.connect(db_url) as blocker:      # direct, one open transaction
            blocker.execute("SELECT 1 FROM payments.leases FOR UPDATE")
            yield

    result, _, expires_at = _sync_while(shop, 3.0, lock_the_lease_row)
    assert result["skipped"] is False and result["ok"] is False, result
    assert "could not be renewed" in result["error"], result
    finished_at, ok, error = shop.db.execute("SELECT finished_at, ok, error FROM payments.runs").fetchone()
    assert ok is False and "could not be renewed" in error
    assert finished_at < expires_at, "the run stopped before its lease could expire on the server"


@pytest.mark.parametrize("job", ["reconcile", "prune"])
def test_reconcile_and_prune_say_skipped_while_another_holds_their_lease(shop: Shop, job: str) -> None:
    """The issue's first failure was two reconcilers at once: with the job's lease
    held by another runner, `reconcile --once` / `prune` exit 3 and say who holds
    it until when (text and JSON), change nothing, and work once it is free."""
    shop.db.execute("INSERT INTO payments.leases (job, holder, acquired_at, renewed_at, expires_at)"
                    " VALUES (%s, 'elsewhere:4242:cafebabe', now(), now(), now() + interval '1 hour')",
                    (job,))
    args = [job, "--once"] if job == "reconcile" else [job]
    runs_before = shop.db.execute("SELECT count(*) FROM payments.runs").fetchone()[0]
    for as_json in (False, True):
        proc = _spawn(shop, *args, *(["--json"] if as_json else []))
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == SKIPPED, (out, err)
        if as_json:
            result = json.loads(out.strip().splitlines()[-1])
            assert result["skipped"] is True and result["holder"] == "elsewhere:4242:cafebabe", result
            until = datetime.fromisoformat(result["until"])
            assert until > datetime.now(until.tzinfo), result
        else:
            assert out.strip().splitlines()[-1].startswith(
                f"{job}: skipped, the {job} lease is held by elsewhere:4242:cafebabe until "), out
    assert shop.db.execute("SELECT count(*) FROM payments.runs").fetchone()[0] == runs_before
    assert [row[1] for row in _leases(shop.db)] == ["elsewhere:4242:cafebabe"], "not taken, not freed"

    shop.db.execute("DELETE FROM payments.leases")
    proc = _spawn(shop, *args, "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, (out, err)
    assert json.loads(out.strip().splitlines()[-1])["skipped"] is False
    assert _leases(shop.db) == [], "released at the end"
