"""The webhook receiver over real HTTP against a real database: the HTTP layer
(limits, signatures, rejections, SQL error mapping, health, metrics). These
run with Status API confirmation off, so each notification is one SQL call;
tests/test_trust_boundary.py covers the default, confirmed path."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from runner import db as runner_db
from runner.settings import load
from runner.signature import signature
from runner.webhook import WebhookApp, _parse
from tests.pgserver import free_port
from tests.servers import asgi_server

SERVER_KEY = "SB-Mid-server-test-key-0123456789"


def notification(order_id: str, transaction_status: str = "settlement", *, gross_amount: str = "150000.00",
                 status_code: str = "200", transaction_id: str = "tx-1", key: str = SERVER_KEY,
                 **extra: str) -> dict:
    body = {
        "transaction_time": "2026-11-26 10:00:00", "transaction_status": transaction_status,
        "transaction_id": transaction_id, "status_message": "midtrans payment notification",
        "status_code": status_code, "payment_type": "bank_transfer", "order_id": order_id,
        "merchant_id": "G000000000", "gross_amount": gross_amount, "currency": "IDR", **extra,
    }
    body["signature_key"] = signature(order_id, status_code, gross_amount, key)
    return body


@pytest.fixture()
def shop(db: psycopg.Connection) -> psycopg.Connection:
    db.execute("SELECT payments.create_ticket_slot('GIG', 10)")
    db.execute("SELECT payments.create_ticket_order('TKT-1', %s, %s, 150000)",
               (Jsonb([{"slot": "GIG", "quantity": 2}]), datetime.now(UTC) + timedelta(hours=1)))
    return db


@pytest.fixture()
def webhook(db_url: str) -> Iterator[str]:
    settings = load({}, database_url=db_url, server_key=SERVER_KEY, confirm_with_status_api=False)
    app = WebhookApp(settings, runner_db.make_pool(db_url, max_size=4), manage_pool=True)
    with asgi_server(app) as base:
        yield base


def post(base: str, body: object) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{base}/midtrans/notification", content=content,
                      headers={"content-type": "application/json"}, timeout=10)


def logs(db: psycopg.Connection, event_type: str | None = None) -> list[tuple]:
    sql = "SELECT event_type, outcome, order_number, signature_valid FROM payments.webhook_logs"
    if event_type:
        return db.execute(sql + " WHERE event_type = %s ORDER BY id", (event_type,)).fetchall()
    return db.execute(sql + " ORDER BY id").fetchall()


def test_paid_notification_issues_tickets(shop, webhook) -> None:
    response = post(webhook, notification("TKT-1"))
    assert response.status_code == 200
    assert response.json()["decision"] == "paid"
    assert shop.execute("SELECT status FROM payments.orders").fetchone()[0] == "paid"
    assert shop.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0] == 2
    assert logs(shop) == [("gateway_status", "paid", "TKT-1", True)]
    assert shop.execute("SELECT * FROM payments.check_invariants()").fetchall() == []


def test_duplicate_notification_is_harmless(shop, webhook) -> None:
    for _ in range(5):
        assert post(webhook, notification("TKT-1")).status_code == 200
    assert shop.execute("SELECT count(*) FROM payments.tickets").fetchone()[0] == 2
    assert [row[1] for row in logs(shop)] == ["paid", "noop", "noop", "noop", "noop"]
    assert shop.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (0, 2)


def test_bad_signature_is_rejected_and_logged(shop, webhook) -> None:
    forged = notification("TKT-1", key="not-the-server-key")
    response = post(webhook, forged)
    assert response.status_code == 403
    assert shop.execute("SELECT status FROM payments.orders").fetchone()[0] == "pending"
    assert logs(shop) == [("signature_invalid", "403", "TKT-1", False)]


def test_amount_tampered_after_signing_is_rejected(shop, webhook) -> None:
    body = notification("TKT-1")
    body["gross_amount"] = "1.00"
    assert post(webhook, body).status_code == 403


def test_signature_covers_the_exact_amount_string(shop, webhook) -> None:
    """'150000' and '150000.00' are different strings to the signature."""
    body = notification("TKT-1", gross_amount="150000")
    assert post(webhook, body).status_code == 200
    body["gross_amount"] = "150000.00"
    assert post(webhook, body).status_code == 403


def test_a_signed_field_sent_as_a_json_number_is_read_as_its_exact_text(shop, webhook) -> None:
    """The body is parsed once; a signed field that came as a JSON number is read again as text."""
    body = notification("TKT-1", gross_amount="150000.00")
    raw = json.dumps(body).replace('"gross_amount": "150000.00"', '"gross_amount": 150000.00').encode()
    assert b'"gross_amount": 150000.00' in raw
    payload, exact = _parse(raw)
    assert payload["gross_amount"] == 150000.0 and exact["gross_amount"] == "150000.00"
    assert post(webhook, raw).status_code == 200


def test_a_body_of_strings_is_parsed_once() -> None:
    raw = json.dumps(notification("TKT-1") | {"nested": {"n": 1}}).encode()
    payload, exact = _parse(raw)
    assert exact is payload and payload["nested"] == {"n": 1}


def test_malformed_json_is_400_and_logged(shop, webhook) -> None:
    response = post(webhook, b"{not json")
    assert response.status_code == 400
    rows = shop.execute("SELECT outcome, detail->>'body_prefix' FROM payments.webhook_logs"
                        " WHERE event_type = 'malformed_json'").fetchall()
    assert rows == [("400", "{not json")]


def test_missing_fields_are_400_and_logged(shop, webhook) -> None:
    body = notification("TKT-1")
    del body["signature_key"]
    response = post(webhook, body)
    assert response.status_code == 400
    assert "signature_key" in response.json()["error"]
    assert logs(shop, "missing_fields") == [("missing_fields", "400", "TKT-1", None)]


def test_oversized_body_is_413_and_logged(shop, webhook) -> None:
    body = notification("TKT-1", padding="x" * (70 * 1024))
    response = post(webhook, body)
    assert response.status_code == 413
    assert logs(shop, "body_too_large") == [("body_too_large", "413", None, None)]
    assert shop.execute("SELECT status FROM payments.orders").fetchone()[0] == "pending"


def test_unknown_order_is_404_and_logged(shop, webhook) -> None:
    response = post(webhook, notification("NOPE-1"))
    assert response.status_code == 404
    assert logs(shop, "unknown_order") == [("unknown_order", "404", "NOPE-1", True)]


def test_malformed_amount_is_400_and_logged(shop, webhook) -> None:
    response = post(webhook, notification("TKT-1", gross_amount="12abc"))
    assert response.status_code == 400
    assert response.json()["sqlstate"] == "22P02"
    assert logs(shop, "rejected") == [("rejected", "400", "TKT-1", True)]


def test_wrong_method_and_path(webhook) -> None:
    assert httpx.get(f"{webhook}/midtrans/notification").status_code == 405
    assert httpx.get(f"{webhook}/nowhere").status_code == 404


def test_health_and_metrics(shop, webhook) -> None:
    assert httpx.get(f"{webhook}/healthz").json() == {"status": "ok", "database": "ok"}
    post(webhook, notification("TKT-1"))
    post(webhook, notification("TKT-1", key="wrong"))
    shop.execute("CALL payments.reconcile_local()")
    text = httpx.get(f"{webhook}/metrics").text
    assert 'payments_webhook_requests_total{outcome="applied"} 1.0' in text
    assert 'payments_webhook_requests_total{outcome="signature_invalid"} 1.0' in text
    assert "payments_webhook_signature_failures_total 1.0" in text
    assert 'payments_apply_duration_seconds_count{source="webhook"} 1.0' in text
    assert 'payments_last_run_age_seconds{kind="reconcile"}' in text
    assert "payments_database_up 1.0" in text
    assert 'payments_alert_firing{name="signature_failures"} 0.0' in text
    assert 'payments_alert_observed{name="signature_failures"} 1.0' in text
    assert SERVER_KEY not in text


def test_database_down_answers_503_and_health_says_so(caplog) -> None:
    dead_url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere?connect_timeout=1"
    settings = load({}, database_url=dead_url, server_key=SERVER_KEY, confirm_with_status_api=False)
    app = WebhookApp(settings, runner_db.make_pool(dead_url, max_size=2), manage_pool=True)
    with caplog.at_level(logging.INFO), asgi_server(app) as base:
        response = post(base, notification("TKT-1"))
        assert response.status_code == 503
        assert httpx.get(f"{base}/healthz").status_code == 503
        assert "payments_database_up 0.0" in httpx.get(f"{base}/metrics", timeout=10).text
    assert "database unavailable" in caplog.text
    assert SERVER_KEY not in caplog.text


def test_server_key_never_reaches_logs_or_database(shop, webhook, caplog) -> None:
    with caplog.at_level(logging.DEBUG):
        post(webhook, notification("TKT-1"))
        post(webhook, notification("TKT-1", key="wrong"))
        post(webhook, b"garbage")
    dumped = shop.execute("SELECT string_agg(t::text, ' ') FROM payments.webhook_logs t").fetchone()[0]
    assert SERVER_KEY not in dumped
    assert SERVER_KEY not in caplog.text


def test_unexpected_database_error_answers_503_not_500(shop, webhook) -> None:
    """Midtrans retries a 500 once and a 503 four times: an unexpected failure
    (here the ticket side-effect is missing) must get the retries."""
    shop.execute("ALTER FUNCTION payments_private.apply_ticket_payment(payments.orders)"
                 " RENAME TO apply_ticket_payment_gone")
    response = post(webhook, notification("TKT-1"))
    assert response.status_code == 503
    assert response.json()["sqlstate"] == "42883"
    assert shop.execute("SELECT status FROM payments.orders").fetchone()[0] == "pending"
    shop.execute("ALTER FUNCTION payments_private.apply_ticket_payment_gone(payments.orders)"
                 " RENAME TO apply_ticket_payment")
    retried = post(webhook, notification("TKT-1"))
    assert retried.json()["decision"] == "paid", "Midtrans' retry then applies it"


def test_status_code_that_does_not_match_the_status_is_400_and_logged(shop, webhook) -> None:
    """Signed fields are order_id, status_code and gross_amount; transaction_status
    is not. A pending body (201) relabelled settlement is refused by the SQL API."""
    body = notification("TKT-1", "pending", status_code="201")
    body["transaction_status"] = "settlement"
    response = post(webhook, body)
    assert response.status_code == 400
    assert response.json()["decision"] == "status_inconsistent"
    assert logs(shop) == [("status_inconsistent", "rejected", "TKT-1", True)]
    assert shop.execute("SELECT status FROM payments.orders").fetchone()[0] == "pending"


def test_rejected_bodies_are_stored_without_their_signature(shop, webhook) -> None:
    forged = notification("TKT-1", key="not-the-server-key")
    post(webhook, forged)
    broken = json.dumps(notification("TKT-1"))[:-1].encode()  # not JSON any more
    post(webhook, broken)
    stored = shop.execute("SELECT string_agg(l::text, ' ') FROM payments.webhook_logs AS l").fetchone()[0]
    assert forged["signature_key"] not in stored
    assert notification("TKT-1")["signature_key"] not in stored
    assert "[scrubbed]" in stored, "the malformed body's prefix keeps its shape, not its signature"


def test_a_bug_in_the_handler_is_one_logged_500_and_counted(db_url, caplog, monkeypatch) -> None:
    """An exception nothing expected still ends as one notification line (outcome
    internal_error, http_status 500), a counted outcome and a 500 Midtrans retries."""
    settings = load({}, database_url=db_url, server_key=SERVER_KEY, confirm_with_status_api=False)
    app = WebhookApp(settings, runner_db.make_pool(db_url, max_size=2), manage_pool=True)

    async def broken(scope, receive):
        raise KeyError("unexpected")

    monkeypatch.setattr(app, "_notification", broken)
    with caplog.at_level(logging.INFO, logger="payments.webhook"), asgi_server(app) as base:
        response = post(base, notification("T-1"))
        metrics = httpx.get(base + "/metrics").text
    assert response.status_code == 500 and response.json() == {"error": "internal error; retry"}
    lines = [r for r in caplog.records
             if r.name == "payments.webhook" and r.getMessage().startswith("notification")]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert (lines[0].outcome, lines[0].http_status) == ("internal_error", 500)
    assert 'payments_webhook_requests_total{outcome="internal_error"} 1.0' in metrics
