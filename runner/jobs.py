"""Sync, reconciliation and retention runs: HTTP to Midtrans, decisions in SQL.

Each order is one Status API call followed by one autocommit SQL call; no
transaction is ever open while Midtrans is being asked, and no session state
is relied on (a lease row, not an advisory lock, makes a job single-leader),
so all of it works through a transaction pooler. Every run is a row in
``payments.runs`` whose counters the SQL functions doing the work keep (a run
finishes ok only when it did its work), and a ``sync_run`` / ``reconcile_run``
/ ``prune_run`` row in webhook_logs, written by ``payments.finish_run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from runner import db
from runner.actions import auto_capture
from runner.midtrans import (
    ExpireResult,
    Found,
    MidtransClient,
    MidtransError,
    NotFound,
    Refused,
    StatusResult,
)
from runner.settings import Settings
from runner.signature import scrub

log = logging.getLogger("payments.jobs")

def answer_params(order_id: str, body: dict[str, Any], source: str, run_id: int | None, *,
                  evidence: str = "status_api", trigger_only: bool = False) -> dict:
    """Parameters of apply_gateway_status for a Midtrans body: a notification, a
    Status API answer or an action call's answer (``evidence``)."""
    body = scrub(body)
    return {
        "order_id": str(body.get("order_id") or order_id),
        "transaction_status": body.get("transaction_status"),
        "fraud_status": body.get("fraud_status"),
        "gross_amount": body.get("gross_amount"),
        "transaction_id": body.get("transaction_id"),
        "status_code": None if body.get("status_code") is None else str(body.get("status_code")),
        "source": source,
        "payload": db.jsonb(body),
        "run_id": run_id,
        "evidence": evidence,
        "trigger_only": trigger_only,
    }


async def apply_answer(pool: AsyncConnectionPool, order_id: str, body: dict[str, Any], source: str,
                       run_id: int | None, evidence: str = "status_api") -> dict[str, Any]:
    async with pool.connection() as conn:
        row = await db.fetch_one(conn, "apply_gateway_status",
                                 **answer_params(order_id, body, source, run_id, evidence=evidence))
    return row["result"]


async def apply_not_found(pool: AsyncConnectionPool, order_id: str, source: str,
                          expiry_grace: timedelta | None, run_id: int | None) -> dict[str, Any]:
    async with pool.connection() as conn:
        row = await db.fetch_one(conn, "apply_status_not_found", order_id=order_id, source=source,
                                 expiry_grace=expiry_grace, run_id=run_id)
    return row["result"]


async def _run_failed(pool: AsyncConnectionPool, run_id: int, job: str, order_id: str,
                      exc: Exception) -> None:
    """One order could not be settled this run: say why, and count it in the run (so the
    run cannot finish clean), then go on with the others."""
    if isinstance(exc, MidtransError):
        reason = f"Midtrans unavailable: {exc}"
        log.warning("%s %s: %s", job, order_id, reason)
    else:
        reason = f"database refused the answer: {getattr(exc, 'sqlstate', None)} {type(exc).__name__}"
        log.warning("%s %s: %s", job, order_id, reason)
    try:
        async with pool.connection() as conn:
            await db.fetch_one(conn, "run_failed", run_id=run_id, order_id=order_id, reason=reason[:500])
    except psycopg.Error as db_exc:  # the database is what failed: finish_run will say so too
        log.warning("%s %s: could not count the failure: %s", job, order_id, type(db_exc).__name__)


async def _finish_run(pool: AsyncConnectionPool, run_id: int, extra: dict, error: str | None) -> dict:
    async with pool.connection() as conn:
        row = await db.fetch_one(conn, "finish_run", run_id=run_id, extra=db.jsonb(extra), error=error)
    return row


async def _safe_finish(pool: AsyncConnectionPool, run_id: int, extra: dict, error: str) -> None:
    try:
        await _finish_run(pool, run_id, extra, error)
    except Exception:  # the database may be what failed; the run row stays unfinished
        log.exception("could not record the failed run %s", run_id)


def _result(run: dict, extra: dict) -> dict:
    """What a job reports: the run's own totals (its counters), its id, ok and error."""
    totals = {**extra, **(run["totals"] or {})}
    result = {"run_id": run["id"], **totals, "ok": run["ok"]}
    if run["error"]:
        result["error"] = run["error"]
    return result


async def sync_once(settings: Settings, pool: AsyncConnectionPool, client: MidtransClient,
                    orders: list[str] | None = None) -> dict:
    """Ask Midtrans about every pending order that is due (or about exactly
    `orders`, whatever their status) and apply each answer. One sync at a time
    across processes (the ``sync`` lease); a second one returns
    ``{"skipped": True, "holder": ..., "until": ...}`` at once."""
    return await _exclusively(settings, pool, "sync",
                              lambda lease: _sync_locked(settings, pool, client, orders, lease))


def lease_holder() -> str:
    """Who takes a lease: host, process and a token new for every run, so two
    runs in one process are two holders too."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(4)}"


class Lease:
    """A job's lease (payments.leases) held by this run: renewed every ttl/3
    while the run lasts. ``lost`` says why the run was stopped, when it was."""

    def __init__(self, pool: AsyncConnectionPool, job: str, ttl: float) -> None:
        self.pool, self.job, self.ttl = pool, job, ttl
        self.holder = lease_holder()
        self.lost: str | None = None

    def _params(self) -> dict[str, Any]:
        return {"job": self.job, "holder": self.holder, "ttl": timedelta(seconds=self.ttl)}

    async def acquire(self) -> dict[str, Any]:
        # taken or renewed on the server no earlier than this: it expires no
        # earlier than ttl after it
        self.asked = time.monotonic()
        async with self.pool.connection() as conn:
            return await db.fetch_one(conn, "acquire_lease", **self._params())

    async def keep(self, run: asyncio.Task) -> None:
        """Renew until cancelled. Another holder took it over, or it could not be
        renewed before it would expire: stop the run (it records why). A renewal
        that hangs (a pool or pooler queue, a slow server) is given up at the
        deadline, a margin before the lease can expire on the server."""
        interval = self.ttl / 3
        margin = min(1.0, self.ttl / 10)
        valid_until = self.asked + self.ttl
        while True:
            await asyncio.sleep(interval)
            asked = time.monotonic()
            try:
                async with asyncio.timeout(max(0.0, valid_until - margin - asked)):
                    async with self.pool.connection() as conn:
                        renewed = (await db.fetch_one(conn, "renew_lease", **self._params()))["renewed"]
            except TimeoutError:
                self.lost = f"{self.job} lease could not be renewed before it expired; run stopped"
            except (psycopg.Error, PoolTimeout) as exc:
                log.warning("%s lease %s: renewal failed: %s", self.job, self.holder, type(exc).__name__)
                if time.monotonic() + interval < valid_until - margin:
                    continue
                self.lost = f"{self.job} lease could not be renewed before it expired; run stopped"
            else:
                if renewed:
                    valid_until = asked + self.ttl
                    continue
                self.lost = f"{self.job} lease was taken over by another holder; run stopped"
            log.error("%s (holder %s)", self.lost, self.holder)
            run.cancel()
            return

    async def release(self) -> None:
        """Free the lease; bounded (a release that cannot get through leaves the
        lease to expire), so a stuck release never holds the run's caller."""
        try:
            async with asyncio.timeout(max(1.0, min(self.ttl, 5.0))):
                async with self.pool.connection() as conn:
                    await db.fetch_one(conn, "release_lease", job=self.job, holder=self.holder)
        except (psycopg.Error, PoolTimeout, TimeoutError) as exc:
            log.warning("%s lease %s not released (%s); it expires after %gs", self.job, self.holder,
                        type(exc).__name__, self.ttl)


async def _exclusively(settings: Settings, pool: AsyncConnectionPool, job: str,
                       work: Callable[[Lease], Coroutine[Any, Any, dict]]) -> dict:
    """Run a job under its lease: one autocommit statement takes it, a task
    renews it while the run lasts, and it is released at the end. No session
    state, so this holds through a transaction pooler; a holder that dies keeps
    it until it expires (PAYMENTS_LEASE_TTL). Held by another: skipped."""
    lease = Lease(pool, job, settings.lease_ttl)
    taken = await lease.acquire()
    if not taken["acquired"]:
        until = taken["expires_at"]
        return {"skipped": True, "reason": f"another {job} run holds the lease", "holder": taken["holder"],
                "until": until.isoformat() if until else None}
    run = asyncio.create_task(work(lease))
    keeper = asyncio.create_task(lease.keep(run))
    try:
        return {"skipped": False, **(await run)}
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if lease.lost is None or (current is not None and current.cancelling()):
            raise
        return {"skipped": False, "ok": False, "error": lease.lost}
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        await lease.release()


def _failure(exc: BaseException, lease: Lease) -> str:
    """What a run that stopped on an exception records as its error."""
    return lease.lost or f"{type(exc).__name__}: {exc}"


async def _sync_locked(settings: Settings, pool: AsyncConnectionPool, client: MidtransClient,
                       orders: list[str] | None, lease: Lease) -> dict:
    async with pool.connection() as conn:
        rows = await db.fetch_all(conn, "start_sync", min_age=timedelta(seconds=settings.sync_min_age),
                                  recheck_after=timedelta(seconds=settings.sync_recheck_after),
                                  max_rows=max(settings.sync_batch, len(orders or [])), orders=orders)
    run_id = rows[0]["run_id"]
    due = [row["order_number"] for row in rows if row["order_number"] is not None]
    extra: Counter[str] = Counter()
    try:
        # at most http_concurrency orders in flight, each from its Status API call to
        # its answer applied: an answer waiting for the database keeps its place, so
        # the pool (and the lease renewal sharing it) never has more than that queued
        limit = asyncio.Semaphore(settings.http_concurrency)

        async def check(order_id: str) -> None:
            async with limit:
                try:
                    answer = await client.status(order_id)
                    if isinstance(answer, NotFound):
                        await apply_not_found(pool, order_id, "sync", None, run_id)
                    else:
                        result = await apply_answer(pool, order_id, answer.body, "sync", run_id)
                        _count_decision(extra, result)
                        if settings.auto_capture:
                            await _auto_capture(order_id, answer.body)
                except (MidtransError, psycopg.Error) as exc:
                    await _run_failed(pool, run_id, "sync", order_id, exc)

        async def _auto_capture(order_id: str, body: dict[str, Any]) -> None:
            """A card authorisation close to running out (PAYMENTS_AUTO_CAPTURE):
            captured at Midtrans, and the capture's answer applied (evidence action).
            Called with the order's place in ``limit`` held."""
            captured = await auto_capture(settings, client, order_id, body)
            if captured is not None:
                extra["auto_captured"] += captured[1] == "action"
                _count_decision(extra, await apply_answer(pool, order_id, captured[0], "sync", run_id,
                                                          captured[1]))

        await asyncio.gather(*(check(order_id) for order_id in due))
    except BaseException as exc:
        await _safe_finish(pool, run_id, dict(extra), _failure(exc, lease))
        raise
    return _result(await _finish_run(pool, run_id, dict(extra), None), dict(extra))


def _count_decision(extra: Counter[str], result: dict[str, Any]) -> None:
    """What a run reports beyond its counters: answers that disagree with the record
    (the order is flagged) or were refused as inconsistent."""
    if result.get("decision") == "gateway_disagreement":
        extra["disagreements"] += 1
    elif result.get("decision") == "status_inconsistent":
        extra["rejected"] += 1


async def reconcile_once(settings: Settings, pool: AsyncConnectionPool,
                         client: MidtransClient | None) -> dict:
    """Network-free repairs (checks 1-4), then check 5 against Midtrans. One
    reconciler at a time across processes (the ``reconcile`` lease); a second
    one returns ``{"skipped": True, ...}`` at once."""
    return await _exclusively(settings, pool, "reconcile",
                              lambda lease: _reconcile_locked(settings, pool, client, lease))


async def _reconcile_locked(settings: Settings, pool: AsyncConnectionPool,
                            client: MidtransClient | None, lease: Lease) -> dict:
    async with pool.connection() as conn:
        run_id = (await db.fetch_one(conn, "start_run", kind="reconcile", source="reconcile"))["id"]
    extra: Counter[str] = Counter()
    try:
        for _ in range(1000):  # batches; one transaction per repair inside each
            async with pool.connection() as conn:
                batch = (await db.fetch_one(conn, "reconcile_local", batch_size=settings.reconcile_batch,
                                            source="reconcile", run_id=run_id))["totals"]
            # found / repaired / corrected / flagged are the run's own counters
            # (reconcile_step keeps them); the batch's figures only say when to stop
            if (batch["mismatches_found"] < settings.reconcile_batch
                    or batch["repaired"] + batch["corrected"] == 0):
                break
        if client is not None:
            await _check_expired_pending(settings, pool, client, run_id, extra)
    except BaseException as exc:
        await _safe_finish(pool, run_id, dict(extra), _failure(exc, lease))
        raise
    return _result(await _finish_run(pool, run_id, dict(extra), None), dict(extra))


async def _check_expired_pending(settings: Settings, pool: AsyncConnectionPool, client: MidtransClient,
                                 run_id: int, extra: Counter[str]) -> None:
    """Check 5: pending orders past expires_at + grace. Ask Midtrans; a still
    pending payment is expired there first (PAYMENTS_EXPIRE_AT_MIDTRANS), so a
    late payment cannot land on capacity about to be released; the answer is
    applied, and then the order's payment window is closed in SQL unless a
    payment attempt is still live there (expire_order decides)."""
    grace = timedelta(seconds=settings.expiry_grace)
    async with pool.connection() as conn:
        stale = await db.fetch_all(conn, "orders_past_expiry", expiry_grace=grace,
                                   max_rows=settings.reconcile_batch)
    extra["pending_past_expiry"] = len(stale)
    limit = asyncio.Semaphore(settings.http_concurrency)

    async def settle(order_id: str) -> None:
        try:
            evidence = "status_api"
            async with limit:
                answer: StatusResult | ExpireResult = await client.status(order_id)
                if (isinstance(answer, Found) and answer.transaction_status == "pending"
                        and settings.expire_at_midtrans):
                    expired = await client.expire(order_id)
                    extra["expired_at_midtrans"] += isinstance(expired, Found)
                    if isinstance(expired, Refused):  # it moved on meanwhile: ask again
                        answer = await client.status(order_id)
                    else:
                        answer, evidence = expired, "action"
            if isinstance(answer, NotFound):
                await apply_not_found(pool, order_id, "reconcile", grace, run_id)
            else:
                result = await apply_answer(pool, order_id, answer.body, "reconcile", run_id, evidence)
                _count_decision(extra, result)
                if result.get("new_status") == "pending":
                    # still open: close the window unless Midtrans still holds a live
                    # attempt (with PAYMENTS_EXPIRE_AT_MIDTRANS off, even then: a later
                    # payment of it is a late payment, re-acquired if there is room)
                    await expire_order(pool, order_id, grace,
                                       even_if_live=not settings.expire_at_midtrans, run_id=run_id)
        except (MidtransError, psycopg.Error) as exc:
            await _run_failed(pool, run_id, "reconcile", order_id, exc)

    await asyncio.gather(*(settle(row["order_number"]) for row in stale))


async def expire_order(pool: AsyncConnectionPool, order_id: str, grace: timedelta, *, even_if_live: bool,
                       run_id: int | None) -> dict[str, Any]:
    async with pool.connection() as conn:
        row = await db.fetch_one(conn, "expire_order", order_id=order_id, source="reconcile",
                                 expiry_grace=grace, even_if_live=even_if_live, run_id=run_id, payload=None)
    return row["result"]


async def prune_once(settings: Settings, pool: AsyncConnectionPool, client: Any = None) -> dict:
    """Retention: delete webhook_logs rows past their retention in steps of
    PAYMENTS_PRUNE_BATCH until none is left (at most 100 steps per run). One
    pruner at a time across processes (the ``prune`` lease)."""
    return await _exclusively(settings, pool, "prune", lambda lease: _prune_locked(settings, pool))


async def _prune_locked(settings: Settings, pool: AsyncConnectionPool) -> dict:
    deleted: Counter[str] = Counter(steps=0)
    for _ in range(100):
        async with pool.connection() as conn:
            step = (await db.fetch_one(conn, "prune_logs", max_rows=settings.prune_batch,
                                       source="reconcile"))["result"]
        deleted["steps"] += 1
        deleted["deleted_noise"] += step["deleted_noise"]
        deleted["deleted_decisions"] += step["deleted_decisions"]
        deleted["deleted_runs"] += step["deleted_runs"]
        if not step["more"]:
            break
    return dict(deleted)
