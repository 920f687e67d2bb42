"""Monitoring and audit: every alert firing and not firing, every audit view
finding exactly the seeded problem, and the operator commands' output."""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.test_migrate import payments

ALERTS = ["last_reconcile_age_seconds", "last_sync_age_seconds", "mismatches_found",
          "oldest_unfulfilled_paid_seconds", "open_reviews", "repairs", "signature_failures",
          "stale_pending"]


def firing(db: psycopg.Connection) -> dict[str, bool]:
    return {name: fires for name, fires in db.execute("SELECT name, firing FROM payments.alerts()")}


def fresh_runs(db: psycopg.Connection, age: str = "1 minute") -> None:
    for kind in ("sync", "reconcile"):
        db.execute("INSERT INTO payments.runs (kind, source, started_at, finished_at, totals, ok)"
                   " VALUES (%s, %s, now() - %s::interval, now() - %s::interval, '{}', true)",
                   (kind, kind, age, age))


def paid_without_goods(db: psycopg.Connection, number: str) -> None:
    """The payment is in the ledger and the order paid, but its side-effect never
    ran (a crash between the two, in an older release): what reconciliation repairs."""
    db.execute("INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status,"
               " stage, gross_amount, seen_paid) SELECT id, 'tx-' || order_number, 'settlement', 22,"
               " gross_amount, true FROM payments.orders WHERE order_number = %s", (number,))
    db.execute("UPDATE payments.orders SET status = 'paid', paid_at = now() WHERE order_number = %s",
               (number,))


def closed_without_release(db: psycopg.Connection, number: str, status: str = "expired") -> None:
    """The payment window closed but the release never ran."""
    db.execute("UPDATE payments.orders SET status = %s, expired_locally_at = now() WHERE order_number = %s",
               (status, number))


def order(db: psycopg.Connection, number: str, slot: str = "S", quantity: int = 1) -> None:
    db.execute("SELECT payments.create_ticket_slot(%s, 10)"
               " WHERE NOT EXISTS (SELECT 1 FROM payments.ticket_slots WHERE code = %s)", (slot, slot))
    db.execute("SELECT payments.create_ticket_order(%s, %s, now() + interval '1 hour', 10)",
               (number, Jsonb([{"slot": slot, "quantity": quantity}])))


@pytest.fixture()
def healthy(db: psycopg.Connection) -> psycopg.Connection:
    fresh_runs(db)
    assert firing(db) == dict.fromkeys(ALERTS, False)
    return db


def test_a_healthy_shop_fires_nothing_and_the_cli_exits_zero(healthy, db_url) -> None:
    result = payments("alerts", "--database-url", db_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FIRING" not in result.stdout
    parsed = json.loads(payments("alerts", "--json", "--database-url", db_url).stdout)
    assert sorted(a["name"] for a in parsed) == ALERTS


def test_signature_failures(healthy) -> None:
    for _ in range(5):
        healthy.execute("SELECT payments.log_rejection('signature_invalid')")
    assert firing(healthy)["signature_failures"] is False, "5 is the threshold, not above it"
    healthy.execute("SELECT payments.log_rejection('signature_invalid')")
    assert firing(healthy)["signature_failures"] is True


def test_mismatches_and_repairs(healthy) -> None:
    healthy.execute("UPDATE payments.alert_thresholds SET threshold = 1"
                    " WHERE name IN ('mismatches_found', 'repairs')")
    order(healthy, "A-1")
    paid_without_goods(healthy, "A-1")
    healthy.execute("CALL payments.reconcile_local()")
    assert firing(healthy)["mismatches_found"] is False and firing(healthy)["repairs"] is False
    order(healthy, "A-2")
    closed_without_release(healthy, "A-2")
    healthy.execute("CALL payments.reconcile_local()")
    state = firing(healthy)
    assert state["mismatches_found"] is True and state["repairs"] is True


def test_oldest_unfulfilled_paid_order(healthy) -> None:
    order(healthy, "U-1")
    paid_without_goods(healthy, "U-1")
    healthy.execute("UPDATE payments.orders SET paid_at = now() - interval '5 minutes'")
    assert firing(healthy)["oldest_unfulfilled_paid_seconds"] is False
    healthy.execute("UPDATE payments.orders SET paid_at = now() - interval '20 minutes'")
    assert firing(healthy)["oldest_unfulfilled_paid_seconds"] is True


def test_open_reviews(healthy) -> None:
    order(healthy, "R-1")
    healthy.execute("SELECT payments.apply_gateway_status('R-1', 'capture', 'challenge', 10, 'tx', '201',"
                    " 'webhook')")
    assert firing(healthy)["open_reviews"] is True
    healthy.execute("SELECT payments.resolve_review('R-1', 'fraud_challenge', 'dismiss',"
                    " 'checked with the customer')")
    assert firing(healthy)["open_reviews"] is False


def test_stale_pending(healthy) -> None:
    order(healthy, "P-1")
    healthy.execute("UPDATE payments.orders SET expires_at = now() - interval '10 minutes'")
    assert firing(healthy)["stale_pending"] is False, "still inside the 30 minute window"
    healthy.execute("UPDATE payments.orders SET expires_at = now() - interval '40 minutes'")
    assert firing(healthy)["stale_pending"] is True


def test_last_runs_too_old_or_never(db, db_url) -> None:
    state = firing(db)
    assert state["last_sync_age_seconds"] and state["last_reconcile_age_seconds"], "never ran fires"
    fresh_runs(db, "3 hours")
    state = firing(db)
    assert state["last_sync_age_seconds"] and state["last_reconcile_age_seconds"]
    db.execute("INSERT INTO payments.runs (kind, source, finished_at, error, ok) VALUES"
               " ('sync', 'sync', now(), 'Midtrans down', false)")
    assert firing(db)["last_sync_age_seconds"] is True, "a failed run is not a successful one"
    result = payments("alerts", "--database-url", db_url)
    assert result.returncode == 1
    assert "FIRING  last_sync_age_seconds" in result.stdout


AUDIT_CASES = {
    "audit_paid_orders_missing_tickets": lambda db: paid_without_goods(db, "BAD"),
    "audit_released_orders_holding_capacity": lambda db: closed_without_release(db, "BAD"),
    "audit_counter_drift": lambda db: db.execute("UPDATE payments.ticket_slots SET reserved = reserved + 1"),
    "audit_open_reviews": lambda db: db.execute(
        "SELECT payments.apply_gateway_status('BAD', 'capture', 'challenge', 10, 'tx', '201', 'webhook')"),
    "audit_paid_products_missing_pickup_code": lambda db: paid_without_goods(db, "BADP"),
    "audit_stock_held_by_dead_orders": lambda db: closed_without_release(db, "BADP", "failed"),
}


@pytest.mark.parametrize("view", [*AUDIT_CASES, "audit_recent_repairs"])
def test_each_audit_view_finds_exactly_the_seeded_problem(db, view: str) -> None:
    order(db, "GOOD")
    order(db, "BAD")
    db.execute("SELECT payments.create_product_variant('V', 5)")
    for number in ("GOODP", "BADP"):
        db.execute("SELECT payments.create_product_order(%s, %s, now() + interval '1 hour', 10)",
                   (number, Jsonb([{"sku": "V", "quantity": 1}])))
    views = [r[0] for r in db.execute("SELECT viewname FROM pg_views WHERE schemaname = 'payments'"
                                      " AND viewname LIKE 'audit\\_%' ORDER BY 1")]
    assert all(db.execute(f"SELECT count(*) FROM payments.{v}").fetchone()[0] == 0 for v in views)

    if view in AUDIT_CASES:
        AUDIT_CASES[view](db)
    else:
        paid_without_goods(db, "BAD")
        db.execute("CALL payments.reconcile_local()")
    rows = db.execute(f"SELECT * FROM payments.{view}").fetchall()
    assert len(rows) == 1, rows
    others = [v for v in views
              if v != view and db.execute(f"SELECT count(*) FROM payments.{v}").fetchone()[0]]
    # a status written without its side-effects leaves the counters consistent
    # (the order still holds what it held), and a repair leaves nothing behind:
    # only the seeded view lists anything
    assert others == [], others


def test_readonly_role_reads_the_audit_views(db) -> None:
    db.execute("SET ROLE payments_readonly")
    try:
        for view in ("audit_counter_drift", "audit_open_reviews", "audit_recent_repairs"):
            db.execute(f"SELECT * FROM payments.{view}")
        assert db.execute("SELECT count(*) FROM payments.alerts()").fetchone()[0] == len(ALERTS)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.execute("UPDATE payments.orders SET status = 'paid'")
    finally:
        db.execute("RESET ROLE")


def test_audit_command_renders_views_and_fails_on_violations(db, db_url) -> None:
    order(db, "AUD-1")
    ok = payments("audit", "--database-url", db_url)
    assert ok.returncode == 0, ok.stderr
    assert "== Open reviews (payments.audit_open_reviews): 0 row(s)" in ok.stdout
    paid_without_goods(db, "AUD-1")
    bad = payments("audit", "--database-url", db_url)
    assert bad.returncode == 1
    assert ("Paid ticket orders missing tickets (payments.audit_paid_orders_missing_tickets): 1 row(s)"
            in bad.stdout)
    assert "AUD-1" in bad.stdout


def test_order_command_shows_the_timeline(db, db_url) -> None:
    order(db, "TL-1", quantity=2)
    for status, code, source in (("pending", "201", "webhook"), ("settlement", "200", "webhook"),
                                 ("pending", "201", "webhook")):
        db.execute("SELECT payments.apply_gateway_status('TL-1', %s, NULL, 10, 'tx-9', %s, %s)",
                   (status, code, source))
    result = payments("order", "TL-1", "--database-url", db_url)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Order TL-1 (ticket): paid")
    lines = [line for line in out.splitlines() if "gateway_status" in line and "tx-9" in line]
    assert [line.split()[-2] if "{" in line.split()[-1] else line.split()[-1] for line in lines] == [
        "noop", "paid", "stale_ignored"]
    assert "S     2         2                   2" in out
    as_json = json.loads(payments("order", "TL-1", "--json", "--database-url", db_url).stdout)
    assert [e["outcome"] for e in as_json["timeline"]] == ["noop", "paid", "stale_ignored"]
    missing = payments("order", "NOPE", "--database-url", db_url)
    assert missing.returncode == 1 and "unknown order NOPE" in missing.stderr


def test_runs_command_lists_totals(db, db_url) -> None:
    order(db, "RUN-1")
    closed_without_release(db, "RUN-1")
    db.execute("CALL payments.reconcile_local()")
    result = payments("runs", "--database-url", db_url)
    assert result.returncode == 0
    assert "reconcile" in result.stdout and '"reconcile_release_capacity":1' in result.stdout


def test_prune_command_deletes_in_batches_until_nothing_is_past_retention(db, db_url) -> None:
    order(db, "PRN-1")
    db.execute("SELECT payments.log_rejection('malformed_json', 'N-' || n) FROM generate_series(1, 25) AS n")
    db.execute("SELECT payments.apply_gateway_status('PRN-1', 'settlement', NULL, 10, 'tx-p', '200', 'sync')")
    db.execute("UPDATE payments.webhook_logs SET created_at = now() - interval '31 days'")
    result = payments("prune", "--json", "--database-url", db_url, env={"PAYMENTS_PRUNE_BATCH": "10"})
    assert result.returncode == 0, result.stderr
    totals = json.loads(result.stdout)
    assert totals["deleted_noise"] == 25 and totals["deleted_decisions"] == 0
    assert totals["steps"] == 3
    kept = db.execute("SELECT event_type, outcome FROM payments.webhook_logs WHERE event_type <> 'prune_run'"
                      " ORDER BY id").fetchall()
    assert kept == [("gateway_status", "paid")]   # a decision that changed an order stays 400 days
    assert db.execute("SELECT count(*) FROM payments.runs WHERE kind = 'prune' AND ok").fetchone()[0] == 3
