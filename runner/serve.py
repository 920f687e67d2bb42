"""`payments serve`: the webhook receiver plus the sync, reconcile and prune
(log retention) schedules in one process.

Several `serve` processes may share one database: webhooks scale out, and each
scheduled run takes its job's lease (payments.leases), so one process runs it and the others
skip that tick. SIGTERM / SIGINT stop accepting connections, finish in-flight
requests and the run in progress, then exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

import uvicorn

from runner import db
from runner.jobs import prune_once, reconcile_once, sync_once
from runner.metrics import Metrics
from runner.midtrans import MidtransClient
from runner.settings import Settings
from runner.webhook import WebhookApp

log = logging.getLogger("payments.serve")


def midtrans_client(settings: Settings, metrics: Metrics | None = None) -> MidtransClient:
    return MidtransClient(settings.midtrans_api_base_url, settings.require_server_key(),
                          timeout=settings.http_timeout, retries=settings.http_retries, metrics=metrics)


async def every(interval: float, stop: asyncio.Event, name: str,
                job: Callable[[], Awaitable[dict]]) -> None:
    """Run job now and then every interval seconds until stop is set; a run in
    progress when stop is set is finished, not cancelled."""
    while not stop.is_set():
        try:
            totals = await job()
            log.info("%s run", name, extra={"job": name, "totals": totals})
        except Exception as exc:  # a failed run is recorded in `runs`; the schedule goes on
            log.error("%s run failed: %s: %s", name, type(exc).__name__, exc,
                      extra={"job": name, "error": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def serve(settings: Settings, *, run_sync: bool = True, run_reconcile: bool = True,
                run_prune: bool = True) -> None:
    database_url = settings.require_database()
    if not settings.confirm_with_status_api:
        log.warning("PAYMENTS_CONFIRM_WITH_STATUS_API is off: notifications are applied without asking "
                    "the Status API, trusting their unsigned transaction_status and fraud_status "
                    "(a replayed, relabelled notification can refund or reverse an order; see the "
                    "runbook's trust model)")
    pool = db.make_pool(database_url, max_size=settings.db_pool_size)
    metrics = Metrics()
    metrics.watch_pool(pool)
    client = midtrans_client(settings, metrics)
    app = WebhookApp(settings, pool, metrics=metrics, client=client)
    # log_config=None: uvicorn's own lines go through the handler `payments` set
    # up (PAYMENTS_LOG_FORMAT / PAYMENTS_LOG_LEVEL) instead of uvicorn's format
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower()
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None,
                            log_level=level if level in ("debug", "info", "warning", "error") else "info",
                            lifespan="off", access_log=False, timeout_graceful_shutdown=20)
    server = uvicorn.Server(config)
    stop = asyncio.Event()

    # uvicorn re-raises the signal after its graceful shutdown; handle it here
    # so the schedules can finish their current run and the process exits 0
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))

    await pool.open(wait=False)
    schedules = []
    if run_sync:
        schedules.append(asyncio.create_task(
            every(settings.sync_interval, stop, "sync", lambda: sync_once(settings, pool, client))))
    if run_reconcile:
        schedules.append(asyncio.create_task(
            every(settings.reconcile_interval, stop, "reconcile",
                  lambda: reconcile_once(settings, pool, client))))
    if run_prune:
        schedules.append(asyncio.create_task(
            every(settings.prune_interval, stop, "prune", lambda: prune_once(settings, pool))))
    try:
        await server.serve()
    finally:
        stop.set()
        await asyncio.gather(*schedules, return_exceptions=True)
        await client.aclose()
        await pool.close()
        log.info("stopped")
