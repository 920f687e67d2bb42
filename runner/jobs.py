"""Sync and reconciliation runs: HTTP to Midtrans, decisions in SQL.

Each order is one Status API call followed by one autocommit SQL call; no
transaction is ever open while Midtrans is being asked. Every run is recorded
in ``payments.runs`` with its totals (and a ``sync_run`` / ``reconcile_run``
row in webhook_logs, written by ``payments.finish_run``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import timedelta
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from runner import db
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


def _count_error(totals: Counter[str], job: str, order_id: str, exc: Exception) -> None:
    """One order could not be settled this run: count it, say why, go on with the others."""
    totals["errors"] += 1
    if isinstance(exc, MidtransError):
        log.warning("%s %s: Midtrans unavailable: %s", job, order_id, exc)
    else:
        log.warning("%s %s: database refused the answer: %s %s", job, order_id,
                    getattr(exc, "sqlstate", None), type(exc).__name__)


def _changed(result: dict[str, Any]) -> bool:
    """Did applying the answer change the order's status?"""
    return result.get("previous_status") != result.get("new_status")


def _count_decision(totals: Counter[str], result: dict[str, Any]) -> None:
    """Totals every run reports: status changes, and answers that disagree with
    the record (the order is flagged) or were refused as inconsistent."""
    totals["changed"] += _changed(result)
    if result.get("decision") == "gateway_disagreement":
        totals["disagreements"] += 1
    elif result.get("decision") == "status_inconsistent":
        totals["rejected"] += 1


async def _start_run(pool: AsyncConnectionPool, kind: str, source: str) -> int:
    async with pool.connection() as conn:
        return (await db.fetch_one(conn, "start_run", kind=kind, source=source))["id"]


async def _finish_run(pool: AsyncConnectionPool, run_id: int, totals: dict, error: str | None) -> None:
    async with pool.connection() as conn:
        await db.fetch_one(conn, "finish_run", run_id=run_id, totals=db.jsonb(totals), error=error)


async def sync_once(settings: Settings, pool: AsyncConnectionPool, client: MidtransClient,
                    orders: list[str] | None = None) -> dict:
    """Ask Midtrans about every pending order that is due (or about exactly
    `orders`, whatever their status) and apply each answer. One sync at a time
    across processes; a second one returns ``{"skipped": True}``."""
    return await _exclusively(pool, db.SYNC_LOCK_KEY, "sync", _sync_locked(settings, pool, client, orders))


async def _exclusively(pool: AsyncConnectionPool, key: int, kind: str, work: Any) -> dict:
    """Run a job under a session advisory lock held on its own pooled connection."""
    async with pool.connection() as lock_conn:
        if not (await db.fetch_one(lock_conn, "try_lock", key=key))["locked"]:
            work.close()
            return {"skipped": True, "reason": f"another {kind} run is in progress"}
        try:
            return await work
        finally:
            try:
                await db.fetch_one(lock_conn, "unlock", key=key)
            except psycopg.Error:  # the connection died; its session lock died with it
                log.warning("%s lock connection lost; the lock was released with it", kind)


async def _sync_locked(settings: Settings, pool: AsyncConnectionPool, client: MidtransClient,
                       orders: list[str] | None) -> dict:
    run_id = await _start_run(pool, "sync", "sync")
    totals: Counter[str] = Counter(checked=0, changed=0, not_found=0, errors=0)
    try:
        if orders is not None:
            due = [{"order_number": number} for number in orders]
        else:
            async with pool.connection() as conn:
                due = await db.fetch_all(conn, "orders_due_for_sync",
                                         min_age=timedelta(seconds=settings.sync_min_age),
                                         recheck_after=timedelta(seconds=settings.sync_recheck_after),
                                         max_rows=settings.sync_batch)
        limit = asyncio.Semaphore(settings.http_concurrency)

        async def check(order_id: str) -> None:
            try:
                async with limit:
                    answer = await client.status(order_id)
                if isinstance(answer, NotFound):
                    await apply_not_found(pool, order_id, "sync", None, run_id)
                    totals["not_found"] += 1
                else:
                    _count_decision(totals, await apply_answer(pool, order_id, answer.body, "sync", run_id))
                totals["checked"] += 1
            except (MidtransError, psycopg.Error) as exc:
                _count_error(totals, "sync", order_id, exc)

        await asyncio.gather(*(check(row["order_number"]) for row in due))
    except BaseException as exc:
        await _safe_finish(pool, run_id, dict(totals), f"{type(exc).__name__}: {exc}")
        raise
    result = {"run_id": run_id, **totals}
    error = f"{totals['errors']} orders could not be checked" if totals["errors"] else None
    await _finish_run(pool, run_id, result, error)
    return result


async def _safe_finish(pool: AsyncConnectionPool, run_id: int, totals: dict, error: str) -> None:
    try:
        await _finish_run(pool, run_id, totals, error)
    except Exception:  # the database may be what failed; the run row stays unfinished
        log.exception("could not record the failed run %s", run_id)


async def reconcile_once(settings: Settings, pool: AsyncConnectionPool,
                         client: MidtransClient | None) -> dict:
    """DESIGN §7: network-free repairs (checks 1-4) in batches, then check 5
    against Midtrans. One reconciler at a time across processes (advisory
    lock); a second one returns ``{"skipped": True}`` at once."""
    return await _exclusively(pool, db.RECONCILE_LOCK_KEY, "reconcile",
                              _reconcile_locked(settings, pool, client))


async def _reconcile_locked(settings: Settings, pool: AsyncConnectionPool,
                            client: MidtransClient | None) -> dict:
    run_id = await _start_run(pool, "reconcile", "reconcile")
    totals: Counter[str] = Counter()
    try:
        for _ in range(1000):  # batches; each one transaction
            async with pool.connection() as conn:
                batch = (await db.fetch_one(conn, "reconcile_local", batch_size=settings.reconcile_batch,
                                            source="reconcile", run_id=run_id))["totals"]
            for key, value in batch.items():
                if key != "run_id" and isinstance(value, int):
                    totals[key] += value
            if batch["mismatches_found"] < settings.reconcile_batch or batch["repaired"] == 0:
                break
        if client is not None:  # check 5 counts (with the grace) what it looked at
            await _check_expired_pending(settings, pool, client, run_id, totals)
    except BaseException as exc:
        await _safe_finish(pool, run_id, dict(totals), f"{type(exc).__name__}: {exc}")
        raise
    result = {"run_id": run_id, **totals}
    error = f"{totals['errors']} errors" if totals["errors"] else None
    await _finish_run(pool, run_id, result, error)
    return result


async def _check_expired_pending(settings: Settings, pool: AsyncConnectionPool, client: MidtransClient,
                                 run_id: int, totals: Counter[str]) -> None:
    grace = timedelta(seconds=settings.expiry_grace)
    async with pool.connection() as conn:
        stale = await db.fetch_all(conn, "orders_past_expiry", expiry_grace=grace,
                                   max_rows=settings.reconcile_batch)
    totals["pending_past_expiry"] = len(stale)
    limit = asyncio.Semaphore(settings.http_concurrency)

    async def settle(order_id: str) -> None:
        try:
            evidence = "status_api"
            async with limit:
                answer: StatusResult | ExpireResult = await client.status(order_id)
                if (isinstance(answer, Found) and answer.transaction_status == "pending"
                        and settings.expire_at_midtrans):
                    # expire at Midtrans first: a late payment then cannot land on
                    # capacity we are about to release
                    expired = await client.expire(order_id)
                    totals["expired_at_midtrans"] += isinstance(expired, Found)
                    if isinstance(expired, Refused):  # it moved on meanwhile: ask again
                        answer = await client.status(order_id)
                    else:
                        answer, evidence = expired, "action"
            if isinstance(answer, NotFound):
                result = await apply_not_found(pool, order_id, "reconcile", grace, run_id)
            elif answer.transaction_status == "pending" and not settings.expire_at_midtrans:
                # a local expiry: no transaction_id, so a later payment of the
                # still-open Midtrans transaction is a late payment, never "stale"
                result = await apply_answer(pool, order_id, {
                    "order_id": order_id, "transaction_status": "expire",
                    "local_reason": "pending at Midtrans past expires_at + grace, "
                                    "PAYMENTS_EXPIRE_AT_MIDTRANS off",
                    "midtrans_transaction_id": answer.body.get("transaction_id")}, "reconcile", run_id,
                    evidence="local")
            else:
                result = await apply_answer(pool, order_id, answer.body, "reconcile", run_id, evidence)
            totals["gateway_status_applied"] += 1
            totals["gateway_status_changed"] += _changed(result)
            if result.get("decision") == "gateway_disagreement":
                totals["disagreements"] += 1
        except (MidtransError, psycopg.Error) as exc:
            _count_error(totals, "reconcile", order_id, exc)

    await asyncio.gather(*(settle(row["order_number"]) for row in stale))
