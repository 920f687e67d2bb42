"""Prometheus metrics of one runner process.

Request outcomes, apply latency and signature failures are counted in
process; the age and totals of the last sync / reconcile runs are read from
the database (``payments.last_runs()``) when /metrics is scraped, so every
`serve` process reports the same run figures.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("payments_webhook_requests", "Webhook notifications by outcome",
                                ["outcome"], registry=self.registry)
        self.signature_failures = Counter("payments_webhook_signature_failures",
                                          "Notifications rejected for an invalid signature",
                                          registry=self.registry)
        self.apply_seconds = Histogram("payments_apply_seconds",
                                       "Time to apply one gateway status in PostgreSQL",
                                       ["source"], registry=self.registry,
                                       buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                0.5, 1, 2.5))
        self.confirmations = Counter("payments_webhook_confirmations",
                                     "Notifications confirmed with the Status API, by outcome "
                                     "(confirmed, unavailable, not_found, mismatch)",
                                     ["outcome"], registry=self.registry)
        self.midtrans_seconds = Histogram("payments_midtrans_request_seconds",
                                          "Time of one Midtrans API call, retries included",
                                          ["call"], registry=self.registry,
                                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                   5, 10))
        self.run_age = Gauge("payments_last_run_age_seconds",
                             "Seconds since the last finished run of this kind", ["kind"],
                             registry=self.registry)
        self.run_ok_age = Gauge("payments_last_successful_run_age_seconds",
                                "Seconds since the last run of this kind that finished without error",
                                ["kind"], registry=self.registry)
        self.run_totals = Gauge("payments_last_run_total", "Totals of the last finished run",
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
