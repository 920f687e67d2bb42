"""Prometheus metrics of one runner process.

Request outcomes, apply latency, signature failures and Midtrans calls are
counted in process; the database pool's figures are read from psycopg_pool's
``get_stats()`` at scrape time; the age and totals of the last sync /
reconcile runs and the alerts of ``payments.alerts()`` are read from the
database when /metrics is scraped, so every `serve` process reports the same
run figures.

Names follow Prometheus' conventions: counters end in ``_total`` (the client
library appends it), gauges never do, durations are ``_seconds``. Labels are
bounded sets (outcome, kind, endpoint, error class, alert name), never an
order id. docs/ARCHITECTURE.md ("Monitoring") lists every metric;
monitoring/ holds alert rules and a dashboard that use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

#: Midtrans call failures by class (the ``class`` label of payments_midtrans_errors_total)
MIDTRANS_ERROR_CLASSES = ("timeout", "connect", "transport", "rate_limited", "http_5xx", "auth",
                          "http_4xx", "refused", "bad_answer")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("payments_webhook_requests", "Webhook notifications by outcome",
                                ["outcome"], registry=self.registry)
        self.signature_failures = Counter("payments_webhook_signature_failures",
                                          "Notifications rejected for an invalid signature",
                                          registry=self.registry)
        self.apply_seconds = Histogram("payments_apply_duration_seconds",
                                       "Time to apply one gateway status in PostgreSQL",
                                       ["source"], registry=self.registry,
                                       buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                0.5, 1, 2.5))
        self.confirmations = Counter("payments_webhook_confirmations",
                                     "Notifications confirmed with the Status API, by outcome "
                                     "(confirmed, unavailable, not_found, mismatch)",
                                     ["outcome"], registry=self.registry)
        self.midtrans_seconds = Histogram("payments_midtrans_request_duration_seconds",
                                          "Time of one HTTP request to the Midtrans API (each retry "
                                          "is one request), by endpoint (status, expire)",
                                          ["endpoint"], registry=self.registry,
                                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                   5, 10))
        self.midtrans_errors = Counter("payments_midtrans_errors",
                                       "Failed Midtrans API requests by endpoint and class: "
                                       + ", ".join(MIDTRANS_ERROR_CLASSES),
                                       ["endpoint", "class"], registry=self.registry)
        self.pool_acquire_seconds = Histogram("payments_db_pool_acquire_duration_seconds",
                                              "Time the webhook waited for a pooled database connection",
                                              registry=self.registry,
                                              buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                       0.1, 0.25, 0.5, 1, 2.5))
        self.run_age = Gauge("payments_last_run_age_seconds",
                             "Seconds since the last finished run of this kind", ["kind"],
                             registry=self.registry)
        self.run_ok_age = Gauge("payments_last_successful_run_age_seconds",
                                "Seconds since the last run of this kind that finished without error",
                                ["kind"], registry=self.registry)
        self.run_totals = Gauge("payments_last_run_items",
                                "Totals of the last finished run (checked, changed, errors, ...)",
                                ["kind", "name"], registry=self.registry)
        self.run_failed = Gauge("payments_last_run_failed",
                                "1 when the last finished run of this kind recorded an error",
                                ["kind"], registry=self.registry)
        self.alert_observed = Gauge("payments_alert_observed",
                                    "Observed value of each alert (payments.alerts())",
                                    ["name"], registry=self.registry)
        self.alert_threshold = Gauge("payments_alert_threshold", "Threshold of each alert", ["name"],
                                     registry=self.registry)
        self.alert_firing = Gauge("payments_alert_firing", "1 when the alert fires", ["name"],
                                  registry=self.registry)
        self.database_up = Gauge("payments_database_up", "1 when the database answered the scrape",
                                 registry=self.registry)

    def watch_pool(self, pool: Any) -> None:
        """Export a psycopg_pool pool's get_stats() at every scrape."""
        self.registry.register(PoolCollector(pool))

    def midtrans_request(self, endpoint: str, seconds: float) -> None:
        self.midtrans_seconds.labels(endpoint).observe(seconds)

    def midtrans_error(self, endpoint: str, error_class: str) -> None:
        self.midtrans_errors.labels(endpoint, error_class).inc()

    def set_runs(self, rows: list[dict[str, Any]], now_epoch: float) -> None:
        for row in rows:
            kind = row["kind"]
            if row["finished_at"] is None:
                continue
            self.run_age.labels(kind).set(row["age_seconds"])
            self.run_failed.labels(kind).set(1 if row["error"] else 0)
            if row["last_ok_at"] is not None:
                self.run_ok_age.labels(kind).set(now_epoch - row["last_ok_at"].timestamp())
            for name, value in (row["totals"] or {}).items():
                if isinstance(value, int | float) and not isinstance(value, bool) and name != "run_id":
                    self.run_totals.labels(kind, name).set(value)

    def set_alerts(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            name = row["name"]
            if row["observed"] is not None:
                self.alert_observed.labels(name).set(float(row["observed"]))
            self.alert_threshold.labels(name).set(float(row["threshold"]))
            self.alert_firing.labels(name).set(1 if row["firing"] else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class PoolCollector(Collector):
    """psycopg_pool's get_stats() as gauges (now) and counters (since the pool opened)."""

    GAUGES = (
        ("payments_db_pool_connections", "pool_size", "Connections open or being opened"),
        ("payments_db_pool_idle_connections", "pool_available", "Connections idle in the pool"),
        ("payments_db_pool_max_connections", "pool_max", "Most connections the pool may open"),
        ("payments_db_pool_waiting_requests", "requests_waiting",
         "Requests waiting for a connection right now"),
    )
    COUNTERS = (
        ("payments_db_pool_requests", "requests_num", 1, "Connections requested from the pool"),
        ("payments_db_pool_queued_requests", "requests_queued", 1,
         "Requests that had to wait for a connection"),
        ("payments_db_pool_wait_seconds", "requests_wait_ms", 0.001,
         "Time requests spent waiting for a connection"),
        ("payments_db_pool_request_errors", "requests_errors", 1,
         "Requests that got no connection (timeout or error)"),
        ("payments_db_pool_connection_errors", "connections_errors", 1,
         "Failed attempts to open a connection"),
        ("payments_db_pool_connections_lost", "connections_lost", 1,
         "Connections found broken and discarded"),
    )

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def describe(self) -> Iterator[Any]:
        return self._families({})

    def collect(self) -> Iterator[Any]:
        return self._families(self.pool.get_stats())

    def _families(self, stats: dict[str, int]) -> Iterator[Any]:
        for name, key, text in self.GAUGES:
            yield GaugeMetricFamily(name, text, value=stats.get(key, 0))
        for name, key, scale, text in self.COUNTERS:
            yield CounterMetricFamily(name, text, value=stats.get(key, 0) * scale)
