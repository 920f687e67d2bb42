"""Operable logs: PAYMENTS_LOG_FORMAT=json|text, PAYMENTS_LOG_LEVEL, and one line per
notification carrying order_id, outcome and http_status, never a secret.

`serve_scenario` runs a real `payments serve` (JSON logs) against a test
database and the simulator: a Status API 503 on the first call, a sync and a
reconcile run, then a valid notification, a bad signature, malformed JSON and
an unknown order. tests/test_monitoring.py uses it for /metrics too."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from runner import logs
from runner.simulator import create_app
from tests.pgserver import free_port
from tests.servers import ROOT, asgi_server
from tests.test_serve import start_serve
from tests.test_webhook import SERVER_KEY, notification


@dataclass
class Scenario:
    output: str            # everything serve wrote (stdout + stderr)
    metrics: str           # GET /metrics after the notifications
    answers: dict[str, httpx.Response]
    signatures: list[str]  # the signature_key values sent


def serve_scenario(db: psycopg.Connection, db_url: str, **env: str) -> Scenario:
    db.execute("SELECT payments.create_ticket_slot('GIG', 10)")
    for order in ("OPS-1", "OPS-2"):
        db.execute("SELECT payments.create_ticket_order(%s, %s, %s, 150000)",
                   (order, Jsonb([{"slot": "GIG", "quantity": 1}]), datetime.now(UTC) + timedelta(hours=1)))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    answers: dict[str, httpx.Response] = {}
    with asgi_server(create_app(SERVER_KEY)) as sim:
        httpx.post(f"{sim}/_sim/transactions", json={"order_id": "OPS-1", "gross_amount": 150000,
                                                     "notify": False}).raise_for_status()
        httpx.post(f"{sim}/_sim/transactions/OPS-1/settle", json={"notify": False}).raise_for_status()
        # OPS-2 stays pending through the runs at start, then is paid: its notification is confirmed
        httpx.post(f"{sim}/_sim/transactions", json={"order_id": "OPS-2", "gross_amount": 150000,
                                                     "notify": False}).raise_for_status()
        # the first Status API call answers 503 (retried): a Midtrans error sample
        httpx.post(f"{sim}/_sim/faults", json={"status_api": {"mode": "503", "count": 1}}).raise_for_status()
        forged = notification("OPS-1", key="not-the-server-key")
        unknown = notification("NO-SUCH-ORDER")
        proc = start_serve(db_url, port, sim, PAYMENTS_SYNC_INTERVAL="1h", PAYMENTS_RECONCILE_INTERVAL="1h",
                           PAYMENTS_LOG_FORMAT="json", **env)
        try:
            deadline = time.monotonic() + 30
            while db.execute("SELECT count(DISTINCT kind) FROM payments.runs WHERE finished_at IS NOT NULL"
                             " AND kind IN ('sync', 'reconcile')").fetchone()[0] < 2:
                assert time.monotonic() < deadline, "the runs at start never finished"
                time.sleep(0.1)
            httpx.post(f"{sim}/_sim/transactions/OPS-2/settle", json={"notify": False}).raise_for_status()
            valid = httpx.post(f"{sim}/_sim/notify/OPS-2",
                               json={"faults": {"drop": True}}).json()["notification"]
            url = f"{base}/midtrans/notification"
            answers["valid"] = httpx.post(url, json=valid, timeout=30)
            answers["forged"] = httpx.post(url, json=forged, timeout=30)
            answers["malformed"] = httpx.post(url, content=b'{"order_id": "OPS-1", ',
                                              headers={"content-type": "application/json"}, timeout=30)
            answers["unknown"] = httpx.post(url, json=unknown, timeout=30)
            metrics = httpx.get(f"{base}/metrics", timeout=10).text
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        output = proc.stdout.read()
    assert proc.returncode == 0, output
    return Scenario(output, metrics, answers,
                    [valid["signature_key"], forged["signature_key"], unknown["signature_key"]])


def test_json_logs_one_notification_line_with_order_outcome_status(db, db_url) -> None:
    run = serve_scenario(db, db_url)
    assert [run.answers[k].status_code for k in ("valid", "forged", "malformed", "unknown")] == [
        200, 403, 400, 404]

    lines = [line for line in run.output.splitlines() if line.strip()]
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON log line: {line!r}")
    for entry in entries:
        assert {"ts", "level", "logger", "message"} <= set(entry), entry
        datetime.fromisoformat(entry["ts"])

    notes = [e for e in entries if e["logger"] == "payments.webhook"]
    assert [(n["order_id"], n["outcome"], n["http_status"]) for n in notes] == [
        ("OPS-2", "applied", 200),
        ("OPS-1", "signature_invalid", 403),
        (None, "malformed_json", 400),
        ("NO-SUCH-ORDER", "unknown_order", 404),
    ]
    assert [n["level"] for n in notes] == ["INFO", "WARNING", "WARNING", "WARNING"]
    assert all(isinstance(n["duration_ms"], float) for n in notes)
    assert notes[0]["decision"] == "paid"

    # the scheduled runs and the Midtrans retry are structured too
    runs = {e["job"]: e for e in entries if e["logger"] == "payments.serve" and "job" in e}
    assert {"sync", "reconcile"} <= set(runs) and isinstance(runs["sync"]["totals"], dict)
    retry = [e for e in entries if e["logger"] == "payments.midtrans"]
    assert retry and retry[0]["endpoint"] == "status" and retry[0]["error_class"] == "http_5xx"
    assert any(e["logger"].startswith("uvicorn") for e in entries), "uvicorn logs through the same handler"

    assert SERVER_KEY not in run.output
    for sig in run.signatures:
        assert sig not in run.output
    assert "signature_key" not in run.output


def test_text_format_carries_the_same_fields_as_key_value() -> None:
    record = logging.LogRecord("payments.webhook", logging.WARNING, __file__, 1, "notification", None, None)
    for key, value in {"order_id": "A 1", "outcome": "signature_invalid", "http_status": 403,
                       "signature_key": "abc123"}.items():
        setattr(record, key, value)
    line = logs.TextFormatter().format(record)
    assert line.endswith('WARNING payments.webhook notification order_id="A 1" outcome=signature_invalid '
                         "http_status=403 signature_key=[redacted]")
    entry = json.loads(logs.JsonFormatter().format(record))
    assert entry["order_id"] == "A 1" and entry["http_status"] == 403
    assert entry["signature_key"] == "[redacted]" and "abc123" not in json.dumps(entry)


def test_text_is_the_default_and_the_level_comes_from_the_environment(db_url) -> None:
    port = free_port()
    with asgi_server(create_app(SERVER_KEY)) as sim:
        proc = start_serve(db_url, port, sim, PAYMENTS_SYNC_INTERVAL="1h", PAYMENTS_RECONCILE_INTERVAL="1h",
                           PAYMENTS_CONFIRM_WITH_STATUS_API="false", PAYMENTS_LOG_LEVEL="warning")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        output = proc.stdout.read()
    lines = output.splitlines()
    assert lines, "the start-up warning is logged"
    assert not [line for line in lines if " INFO " in line], output
    warning = next(line for line in lines if "PAYMENTS_CONFIRM_WITH_STATUS_API is off" in line)
    assert " WARNING payments.serve PAYMENTS_CONFIRM_WITH_STATUS_API is off" in warning
    assert not warning.startswith("{"), "text is the default format"


@pytest.mark.parametrize(("var", "value", "message"), [
    ("PAYMENTS_LOG_FORMAT", "xml", "PAYMENTS_LOG_FORMAT must be text or json (got 'xml')"),
    ("PAYMENTS_LOG_LEVEL", "loud", "PAYMENTS_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
])
def test_a_bad_log_setting_is_one_line_and_exit_2(var: str, value: str, message: str) -> None:
    env = {**os.environ, "PAYMENTS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
           "MIDTRANS_SERVER_KEY": SERVER_KEY, var: value}
    done = subprocess.run([sys.executable, "-m", "runner.cli", "sync", "--once"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr, done.stderr
