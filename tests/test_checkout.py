"""Checkout (runner/checkout.py): `POST /checkout` on a real `serve` process and
`payments checkout`, against the real simulator over HTTP and a real database,
serve connecting as a login that is only in payments_runner."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from runner.settings import SettingsError, load
from runner.signature import basic_auth
from runner.simulator import create_app
from tests.pgserver import free_port
from tests.servers import ROOT, asgi_server, wait_http
from tests.test_security import runner_url  # noqa: F401  (fixture: a login only in payments_runner)
from tests.test_webhook import SERVER_KEY

API_TOKEN = "shop-token-" + "7f3a9c" * 6
JAKARTA = timedelta(hours=7)


@contextlib.contextmanager
def serve(url: str, sim: str, log: Path, **extra: str) -> Iterator[str]:
    """`payments serve` (no schedules) with the shop API token; yields its base URL.
    Its output (JSON log lines) goes to `log`."""
    port = free_port()
    env = {**os.environ, "PAYMENTS_DATABASE_URL": url, "MIDTRANS_SERVER_KEY": SERVER_KEY,
           "MIDTRANS_API_BASE_URL": sim, "PAYMENTS_PORT": str(port), "PAYMENTS_LOG_FORMAT": "json",
           "PAYMENTS_SHOP_API_TOKEN": API_TOKEN, "PAYMENTS_HTTP_RETRIES": "1", "PAYMENTS_HTTP_TIMEOUT": "5s",
           **extra}
    env = {k: v for k, v in env.items() if v != ""}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "runner.cli", "serve", "--no-sync", "--no-reconcile",
                                 "--no-prune"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def sim() -> Iterator[str]:
    with asgi_server(create_app(SERVER_KEY)) as base:
        yield base


@pytest.fixture
def shop(db: psycopg.Connection) -> psycopg.Connection:
    db.execute("SELECT payments.create_ticket_slot('GIG', 5), payments.create_product_variant('TEE-M', 3)")
    return db


def order(number: str, quantity: int = 2, **extra: Any) -> dict[str, Any]:
    return {"order_number": number, "kind": "ticket",
            "items": [{"slot": "GIG", "quantity": quantity, "unit_price": 75000}],
            "gross_amount": 75000 * quantity, "hold": "15m",
            "customer_details": {"first_name": "Ayu", "email": "ayu@example.com", "phone": "+628111222333"},
            **extra}


def post(base: str, body: Any, token: str | None = API_TOKEN, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}".strip()} if token is not None else {}
    if isinstance(body, bytes | str):
        return httpx.post(f"{base}/checkout", content=body, headers=headers, timeout=60, **kwargs)
    return httpx.post(f"{base}/checkout", json=body, headers=headers, timeout=60, **kwargs)


def sim_order(sim: str, number: str) -> dict[str, Any] | None:
    orders = httpx.get(f"{sim}/_sim/transactions").json()["orders"]
    return next((o for o in orders if o["order_id"] == number), None)


def reserved(db: psycopg.Connection) -> int:
    return db.execute("SELECT reserved FROM payments.ticket_slots WHERE code = 'GIG'").fetchone()[0]


def orders(db: psycopg.Connection) -> list[tuple[str, str]]:
    return db.execute("SELECT order_number, status FROM payments.orders ORDER BY id").fetchall()


# ------------------------------------------------------------------------------- happy path

def test_checkout_creates_the_order_and_a_snap_transaction_whose_expiry_is_the_hold(
        shop: psycopg.Connection, runner_url: str, sim: str, tmp_path: Path) -> None:  # noqa: F811
    with serve(runner_url, sim, tmp_path / "serve.log") as base:
        answer = post(base, order("CK-1001"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["order_number"] == "CK-1001" and body["kind"] == "ticket" and body["status"] == "pending"
    assert body["created"] is True and body["replayed"] is False
    assert body["token"] and body["redirect_url"].endswith(body["token"])

    created_at, expires_at = shop.execute("SELECT created_at, expires_at FROM payments.orders"
                                          " WHERE order_number = 'CK-1001'").fetchone()
    assert expires_at - created_at == timedelta(minutes=15)   # the hold asked for
    assert reserved(shop) == 2

    at_snap = sim_order(sim, "CK-1001")
    assert at_snap is not None
    assert (at_snap["snap_token"], at_snap["snap_requests"]) == (body["token"], 1)
    assert at_snap["custom_fields"] == {"custom_field1": "ticket"}
    start = created_at.astimezone(UTC).replace(microsecond=0)
    assert at_snap["expiry"] == {"start_time": (start + JAKARTA).strftime("%Y-%m-%d %H:%M:%S") + " +0700",
                                 "unit": "minute", "duration": 15}
    # Midtrans' window = start_time + duration: it ends with the hold, never after it
    snap_end = start + timedelta(minutes=15)
    assert expires_at - timedelta(seconds=1) < snap_end <= expires_at
    assert datetime.fromisoformat(body["snap_expires_at"]) == snap_end
    assert shop.execute("SELECT snap_expiry FROM payments.checkouts").fetchone()[0] == at_snap["expiry"]

    # the customer pays on the page the token opens: the Snap transaction is that order's
    paid = httpx.post(body["redirect_url"], data={"choice": "pay", "payment_type": "gopay"})
    assert paid.status_code == 200
    status = httpx.get(f"{sim}/v2/CK-1001/status", headers={"Authorization": basic_auth(SERVER_KEY)}).json()
    assert (status["transaction_status"], status["gross_amount"], status["custom_field1"]) == \
        ("settlement", "150000.00", "ticket")


def test_a_retry_gets_the_same_token_and_creates_nothing(shop: psycopg.Connection, runner_url: str,  # noqa: F811
                                                         sim: str, tmp_path: Path) -> None:
    with serve(runner_url, sim, tmp_path / "serve.log") as base:
        first = post(base, order("CK-2001"))
        again = post(base, order("CK-2001"))
    assert first.status_code == again.status_code == 200, again.text
    assert again.json()["token"] == first.json()["token"]
    assert again.json()["redirect_url"] == first.json()["redirect_url"]
    assert (again.json()["created"], again.json()["replayed"]) == (False, True)
    assert orders(shop) == [("CK-2001", "pending")]
    assert reserved(shop) == 2
    assert sim_order(sim, "CK-2001")["snap_requests"] == 1


def test_concurrent_retries_make_one_order_and_one_snap_transaction(
        shop: psycopg.Connection, runner_url: str, sim: str, tmp_path: Path) -> None:  # noqa: F811
    answers: list[httpx.Response] = []
    with serve(runner_url, sim, tmp_path / "serve.log") as base:
        start = threading.Barrier(8)

        def buy() -> None:
            start.wait()
            answers.append(post(base, order("CK-3001")))

        threads = [threading.Thread(target=buy) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    assert len({a.json()["token"] for a in answers}) == 1
    assert sum(a.json()["created"] for a in answers) == 1
    assert orders(shop) == [("CK-3001", "pending")]
    assert reserved(shop) == 2
    assert sim_order(sim, "CK-3001")["snap_requests"] == 1


def test_a_first_attempt_that_died_before_snap_answered_is_finished_by_the_retry(
        shop: psycopg.Connection, runner_url: str, sim: str, tmp_path: Path) -> None:  # noqa: F811
    # the first attempt created the order and claimed the Snap call, then its process died
    first = shop.execute("SELECT payments.begin_checkout('CK-4001', 'ticket', %s, '15 minutes', 150000,"
                         " 'IDR', 'dead-host:1:dead', '1 second')",
                         (Jsonb(order("CK-4001")["items"]),)).fetchone()[0]
    assert (first["state"], first["created"]) == ("claimed", True)
    assert sim_order(sim, "CK-4001") is None   # Snap never heard of it
    with serve(runner_url, sim, tmp_path / "serve.log") as base:
        retry = post(base, order("CK-4001"))
    assert retry.status_code == 200, retry.text
    assert retry.json()["created"] is False and retry.json()["token"]
    assert orders(shop) == [("CK-4001", "pending")]
    assert reserved(shop) == 2
    assert sim_order(sim, "CK-4001")["snap_requests"] == 1
    assert shop.execute("SELECT attempts, snap_token FROM payments.checkouts").fetchone() == \
        (2, retry.json()["token"])


# --------------------------------------------------------------------- Snap says no / is down

def test_snap_refusing_releases_the_hold_at_once(shop: psycopg.Connection, runner_url: str,  # noqa: F811
                                                 sim: str, tmp_path: Path) -> None:
    # Snap already holds a session for this order_id (e.g. the shop's old checkout used it)
    taken = httpx.post(f"{sim}/snap/v1/transactions", headers={"Authorization": basic_auth(SERVER_KEY)},
                       json={"transaction_details": {"order_id": "CK-5001", "gross_amount": 1000}})
    assert taken.status_code == 201
    with serve(runner_url, sim, tmp_path / "serve.log") as base:
        refused = post(base, order("CK-5001", quantity=4))
        assert refused.status_code == 502, refused.text
        assert refused.json()["reason"] == "snap_refused"
        assert refused.json()["released"] is True and refused.json()["status"] == "expired"
        assert "already been taken" in refused.json()["error"]
        assert orders(shop) == [("CK-5001", "expired")]
        assert reserved(shop) == 0                        # the 4 seats are back on sale
        other = post(base, order("CK-5002", quantity=4))  # and someone else can buy them
        assert other.status_code == 200, other.text
        again = post(base, order("CK-5001", quantity=4))
    assert again.status_code == 409 and again.json()["reason"] == "order_closed"
    assert reserved(shop) == 4
    logged = shop.execute("SELECT source, outcome, payload ->> 'checkout' FROM payments.webhook_logs"
                          " WHERE order_number = 'CK-5001'").fetchall()
    assert logged == [("manual", "released", "abandoned")]


def test_snap_unreachable_releases_the_hold_at_once(shop: psycopg.Connection, runner_url: str,  # noqa: F811
                                                    sim: str, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"   # nothing listens there
    with serve(runner_url, sim, tmp_path / "serve.log", MIDTRANS_SNAP_BASE_URL=closed) as base:
        down = post(base, order("CK-6001", quantity=5))
    assert down.status_code == 503, down.text
    assert (down.json()["reason"], down.json()["released"]) == ("snap_unavailable", True)
    assert orders(shop) == [("CK-6001", "expired")]
    assert reserved(shop) == 0


# ------------------------------------------------------------------------ who may call it

def test_without_a_configured_token_the_endpoint_does_not_exist(shop: psycopg.Connection,
                                                                runner_url: str,  # noqa: F811
                                                                sim: str, tmp_path: Path) -> None:
    with serve(runner_url, sim, tmp_path / "serve.log", PAYMENTS_SHOP_API_TOKEN="") as base:
        for token in (None, API_TOKEN, ""):
            assert post(base, order("CK-7001"), token=token).status_code == 404
    assert orders(shop) == []
    assert sim_order(sim, "CK-7001") is None


def test_a_missing_or_wrong_token_is_401_and_creates_nothing_and_no_secret_is_logged(
        shop: psycopg.Connection, runner_url: str, sim: str, tmp_path: Path) -> None:  # noqa: F811
    wrong = "not-the-shop-token-" + "x" * 20
    log = tmp_path / "serve.log"
    with serve(runner_url, sim, log) as base:
        for token in (None, wrong, API_TOKEN[:-1], API_TOKEN + "x", ""):
            refused = post(base, order("CK-8001"), token=token)
            assert refused.status_code == 401, token
            assert refused.headers["www-authenticate"].startswith("Bearer")
        basic = httpx.post(f"{base}/checkout", json=order("CK-8001"),
                           headers={"Authorization": f"Basic {API_TOKEN}"})
        assert basic.status_code == 401
        assert orders(shop) == [] and sim_order(sim, "CK-8001") is None
        get = httpx.get(f"{base}/checkout", headers={"Authorization": f"Bearer {API_TOKEN}"})
        assert get.status_code == 405
        ok = post(base, order("CK-8002"))
        assert ok.status_code == 200
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    checkouts = [line for line in lines if line.get("logger") == "payments.checkout"]
    assert [line["http_status"] for line in checkouts] == [401] * 6 + [405, 200]
    assert checkouts[-1]["order_id"] == "CK-8002" and checkouts[-1]["outcome"] == "created"
    for secret in (API_TOKEN, wrong, SERVER_KEY, ok.json()["token"], "ayu@example.com", "+628111222333"):
        assert secret not in text


def test_bad_input_is_400_and_creates_nothing(shop: psycopg.Connection, runner_url: str,  # noqa: F811
                                              sim: str, tmp_path: Path) -> None:
    with serve(runner_url, sim, tmp_path / "serve.log") as base:
        cases = {
            b"{not json": "malformed_json",
            b"[1, 2]": "bad_request",
            json.dumps({**order("CK-9001"), "kind": "voucher"}): "bad_request",
            json.dumps({**order("CK-9001"), "hold": "20s"}): "bad_request",
            json.dumps({**order("CK-9001"), "surprise": 1}): "bad_request",
            json.dumps({**order("CK-9001"), "items": [{"slot": "NOPE", "quantity": 1}]}): "unknown_slot",
            json.dumps({**order("CK-9001"), "gross_amount": 1}): "bad_order",     # items do not add up
            json.dumps({**order("CK-9001"), "hold": "3d"}): "hold_too_long",     # beyond max_hold
        }
        for raw, reason in cases.items():
            answer = post(base, raw)
            assert (answer.status_code, answer.json()["reason"]) == (400, reason), raw
        full = post(base, order("CK-9002", quantity=6))
        assert (full.status_code, full.json()["reason"], full.json()["sqlstate"]) == \
            (409, "no_capacity", "PM003")
        conflict = post(base, {**order("CK-9003"), "gross_amount": 150000})
        assert conflict.status_code == 200
        other = post(base, {**order("CK-9003", quantity=1)})
        assert (other.status_code, other.json()["reason"]) == (409, "order_conflict")
    assert orders(shop) == [("CK-9003", "pending")]
    assert [o["order_id"] for o in httpx.get(f"{sim}/_sim/transactions").json()["orders"]] == ["CK-9003"]


# ----------------------------------------------------------------------------------- the CLI

def cli(db_url: str, sim: str, *args: str, stdin: str | None = None,
        **extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAYMENTS_DATABASE_URL": db_url, "MIDTRANS_SERVER_KEY": SERVER_KEY,
           "MIDTRANS_API_BASE_URL": sim, "PAYMENTS_HTTP_RETRIES": "1", **extra}
    return subprocess.run([sys.executable, "-m", "runner.cli", "checkout", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_the_cli_prints_the_token_replays_it_and_fails_in_one_line(
        shop: psycopg.Connection, runner_url: str, sim: str, tmp_path: Path) -> None:  # noqa: F811
    product = {"order_number": "CK-P1", "kind": "product", "items": [{"sku": "TEE-M", "quantity": 1}],
               "gross_amount": 120000, "hold": 600}
    first = cli(runner_url, sim, json.dumps(product), "--json")
    assert first.returncode == 0, first.stderr
    made = json.loads(first.stdout)
    assert made["kind"] == "product" and made["token"] and made["created"] is True
    assert sim_order(sim, "CK-P1")["custom_fields"] == {"custom_field1": "product"}
    assert sim_order(sim, "CK-P1")["expiry"]["duration"] == 10

    path = tmp_path / "order.json"
    path.write_text(json.dumps(product))
    again = cli(runner_url, sim, f"@{path}")
    assert again.returncode == 0, again.stderr
    assert made["token"] in again.stdout and "earlier checkout" in again.stdout
    from_stdin = cli(runner_url, sim, "-", "--json", stdin=json.dumps(product))
    assert json.loads(from_stdin.stdout)["token"] == made["token"]

    down = cli(runner_url, sim, json.dumps({**product, "order_number": "CK-P2"}),
               MIDTRANS_SNAP_BASE_URL=f"http://127.0.0.1:{free_port()}")
    assert down.returncode == 1
    assert down.stderr.count("\n") == 1 and "(snap_unavailable)" in down.stderr
    assert down.stdout == ""
    bad = cli(runner_url, sim, "{nope")
    assert (bad.returncode, bad.stderr.count("\n")) == (1, 1)
    assert shop.execute("SELECT order_number, status FROM payments.orders ORDER BY id").fetchall() == \
        [("CK-P1", "pending"), ("CK-P2", "expired")]
    assert shop.execute("SELECT reserved_stock FROM payments.product_variants").fetchone()[0] == 1


# ------------------------------------------------------------------------------- settings

def test_the_shop_token_is_a_secret_setting(tmp_path: Path) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text(API_TOKEN + "\n")
    settings = load({"PAYMENTS_SHOP_API_TOKEN_FILE": str(secret_file)})
    assert settings.shop_api_token.reveal() == API_TOKEN
    assert API_TOKEN not in repr(settings)
    with pytest.raises(SettingsError) as short:
        load({"PAYMENTS_SHOP_API_TOKEN": "tiny-secret"})
    assert "tiny-secret" not in str(short.value)
    with pytest.raises(SettingsError):
        load({"PAYMENTS_SHOP_API_TOKEN": API_TOKEN, "PAYMENTS_SHOP_API_TOKEN_FILE": str(secret_file)})
    assert load({}).midtrans_snap_base_url == "https://app.sandbox.midtrans.com"
    assert load({"MIDTRANS_ENV": "production"}).midtrans_snap_base_url == "https://app.midtrans.com"
    assert load({"MIDTRANS_API_BASE_URL": "http://127.0.0.1:8900"}).midtrans_snap_base_url == \
        "http://127.0.0.1:8900"
    assert load({"MIDTRANS_API_BASE_URL": "http://127.0.0.1:8900",
                 "MIDTRANS_SNAP_BASE_URL": "http://127.0.0.1:8901/"}).midtrans_snap_base_url == \
        "http://127.0.0.1:8901"


# ---------------------------------------------------------------- through a transaction pooler

def test_checkouts_through_pgbouncer_in_transaction_mode(shop: psycopg.Connection, pooled_db_url: str,
                                                         sim: str) -> None:
    """The Python function over a pool behind PgBouncer (pool_mode=transaction): 6 orders,
    each asked for 3 times at once (18 checkouts, more than psycopg's prepare threshold per
    connection), no error, one order and one Snap request per number, retries replayed."""
    import asyncio

    from runner import db as runner_db
    from runner.checkout import checkout
    from runner.midtrans import MidtransClient

    shop.execute("UPDATE payments.ticket_slots SET capacity = 100")
    settings = load({"PAYMENTS_DATABASE_URL": pooled_db_url, "MIDTRANS_SERVER_KEY": SERVER_KEY,
                     "MIDTRANS_API_BASE_URL": sim})

    async def go() -> list[dict[str, Any]]:
        pool = runner_db.make_pool(pooled_db_url, max_size=4)
        client = MidtransClient(settings.midtrans_api_base_url, SERVER_KEY, timeout=10, retries=1)
        try:
            await pool.open(wait=True, timeout=15)
            return await asyncio.gather(*(checkout(settings, pool, client, order(f"CK-PB{n}", quantity=1))
                                          for n in range(6) for _ in range(3)))
        finally:
            await client.aclose()
            await pool.close()

    results = asyncio.run(go())
    assert len(results) == 18
    tokens: dict[str, set[str]] = {}
    for r in results:
        tokens.setdefault(r["order_number"], set()).add(r["token"])
    assert all(len(t) == 1 for t in tokens.values()) and len(tokens) == 6
    assert sum(r["created"] for r in results) == 6
    assert shop.execute("SELECT count(*) FROM payments.orders").fetchone()[0] == 6
    assert reserved(shop) == 6
    assert [sim_order(sim, f"CK-PB{n}")["snap_requests"] for n in range(6)] == [1] * 6
