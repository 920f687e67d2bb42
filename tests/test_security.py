"""Security proofs: least privilege in PostgreSQL, hostile input to the SQL API,
and a fuzzed webhook endpoint.

* The runner role (a LOGIN role granted ``payments_runner``, and ``SET ROLE
  payments_runner``) cannot read or write any table or view directly, cannot
  create objects or call internal helpers, yet runs the whole flow through the
  SQL API. PUBLIC may execute nothing.
* The SQL API rejects malformed jsonb, absurd quantities and bad arguments
  with the documented SQLSTATEs (PM007 quantity, PM008 items, PM009 argument,
  ...), never with an accidental one -- also for Hypothesis-generated input.
* ``POST /midtrans/notification`` survives a fuzz run (random bytes, random
  JSON, near-valid notifications with mutated, missing, huge, unicode, nested
  and wrongly typed fields, valid signatures over weird values): no 5xx other
  than the documented 503 for a database outage, never a 403 for a valid
  signature, the books still balance, and the server key appears in no
  response, no log record and no webhook_logs row.
"""

from __future__ import annotations

import json
import logging
import os
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from psycopg import sql
from psycopg.types.json import Jsonb

from runner import db as runner_db
from runner.midtrans import MidtransClient
from runner.settings import load
from runner.signature import signature
from runner.simulator import create_app
from runner.webhook import WebhookApp
from tests.pgserver import Server, with_database
from tests.servers import asgi_server

SERVER_KEY = "SB-Mid-server-security-key-9e3b71"
EXAMPLE_DB = DirectoryBasedExampleDatabase(Path(__file__).resolve().parent / "examples")
FUZZ_EXAMPLES = int(os.environ.get("PAYMENTS_FUZZ_EXAMPLES", "300"))
# internal functions (schema payments_private) and the operators' functions: the runner has none of them
INTERNAL_CALLS = [
    "SELECT payments_private.lock_order('SEC-T1')",
    "SELECT payments_private.new_pickup_code(1)",
    "SELECT payments_private.random_code(8)",
    "SELECT payments_private.validate_order_header('X', now() + interval '1 hour', 1, 'IDR')",
    "SELECT * FROM payments_private.parse_order_items('[]', 'slot', 'slot_id')",
    "SELECT payments_private.check_items_total(1, 1, 1, 1)",
    "SELECT payments_private.write_log(NULL, 'webhook', 'gateway_status', 'paid', 'SEC-T1', NULL, NULL,"
    " NULL, NULL, NULL, true, '{}', NULL, NULL)",
    "SELECT payments.resolve_review('SEC-T1', 'fraud_challenge', 'dismiss')",
    "SELECT * FROM payments.repair_counter_drift()",
    "SELECT * FROM payments.check_invariants()",
]


def in_an_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


def shop(conn: psycopg.Connection) -> None:
    """Slots, variants and a few orders, made by the owner."""
    conn.execute("SELECT payments.create_ticket_slot('GIG', 50), payments.create_ticket_slot('SMALL', 1)")
    conn.execute("SELECT payments.create_product_variant('TEE', 50),"
                 " payments.create_product_variant('CAP', 1)")
    conn.execute("SELECT payments.create_ticket_order('SEC-T1', %s, %s, 150000)",
                 (Jsonb([{"slot": "GIG", "quantity": 2}]), in_an_hour()))
    conn.execute("SELECT payments.create_product_order('SEC-P1', %s, %s, 90000)",
                 (Jsonb([{"sku": "TEE", "quantity": 1}]), in_an_hour()))


@pytest.fixture()
def runner_url(pg_server: Server, db_url: str) -> Iterator[str]:
    """URL of a LOGIN role that is only a member of payments_runner."""
    role = f"payments_app_{os.getpid()}"
    password = "app-" + os.urandom(6).hex()
    with pg_server.admin() as admin:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE payments_runner").format(
            sql.Identifier(role), sql.Literal(password)))
    parts = db_url.split("://", 1)[1].split("@", 1)[1]
    try:
        yield f"postgresql://{role}:{password}@{parts}"
    finally:
        with pg_server.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                          (role,))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture(params=["login role", "SET ROLE"])
def runner(request, db: psycopg.Connection, db_url: str, runner_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection acting as the runner: either a login role
    granted payments_runner, or the owner after SET ROLE payments_runner."""
    shop(db)
    if request.param == "login role":
        conn = psycopg.connect(runner_url, autocommit=True)
    else:
        conn = psycopg.connect(db_url, autocommit=True)
        conn.execute("SET ROLE payments_runner")
    with conn:
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert superuser == (False,)
        yield conn


def sqlstate_of(conn: psycopg.Connection, query: str, params: tuple | dict | None = None) -> str | None:
    try:
        conn.execute(query, params)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


# -- least privilege --------------------------------------------------------------------------


def relations(db: psycopg.Connection) -> list[tuple[str, str, str]]:
    """(name, kind, a column) of every table and view in schema payments."""
    return db.execute(
        "SELECT c.relname, c.relkind, (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid"
        "   AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = '' AND a.attgenerated = ''"
        "   ORDER BY a.attnum LIMIT 1)"
        "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'payments' AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1").fetchall()


def test_runner_role_cannot_touch_any_table_or_view(runner: psycopg.Connection,
                                                     db: psycopg.Connection) -> None:
    found = relations(db)
    assert {"orders", "tickets", "ticket_slots", "product_variants", "webhook_logs", "runs"} <= {
        name for name, _, _ in found}
    allowed = []
    for name, kind, column in found:
        table = sql.Identifier("payments", name)
        statements = [sql.SQL("SELECT * FROM {} LIMIT 1").format(table)]
        if kind in ("r", "p"):
            col = sql.Identifier(column)
            statements += [
                sql.SQL("INSERT INTO {} DEFAULT VALUES").format(table),
                sql.SQL("UPDATE {} SET {} = {}").format(table, col, col),
                sql.SQL("DELETE FROM {}").format(table),
                sql.SQL("TRUNCATE {}").format(table),
            ]
        for statement in statements:
            state = sqlstate_of(runner, statement)
            if state != "42501":
                allowed.append(f"{statement.as_string(runner)} -> {state}")
    assert allowed == [], "the runner role reached a table directly"
    # and nothing changed behind the API's back
    assert db.execute("SELECT count(*) FROM payments.orders").fetchone()[0] == 2


def test_runner_role_cannot_create_objects_or_call_internal_helpers(runner: psycopg.Connection) -> None:
    for statement in ("CREATE TABLE payments.evil (id int)",
                      "CREATE VIEW payments.evil AS SELECT 1",
                      "CREATE FUNCTION payments.evil() RETURNS int LANGUAGE sql AS 'SELECT 1'"):
        assert sqlstate_of(runner, statement) == "42501", statement
    for statement in INTERNAL_CALLS:
        assert sqlstate_of(runner, statement) == "42501", statement


def test_function_privileges_in_the_catalog(db: psycopg.Connection) -> None:
    rows = db.execute(
        "SELECT p.oid::regprocedure::text, p.proname, p.prosecdef, p.proconfig, p.prokind,"
        "       has_function_privilege('public', p.oid, 'EXECUTE'),"
        "       has_function_privilege('payments_runner', p.oid, 'EXECUTE')"
        "  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'payments'"
    ).fetchall()
    public = [sig for sig, _, _, _, _, pub, _ in rows if pub]
    assert public == [], "PUBLIC may execute these"
    runner = {name for _, name, _, _, _, _, run in rows if run}
    called = set(re.findall(r"payments\.(\w+)\(", "\n".join(runner_db.queries().values())))
    # (reconcile_step: the procedure reconcile_local runs with its caller's rights and calls it;
    # recent_runs: `payments runs` under the runner's login)
    extra = {"create_ticket_order", "create_product_order", "reconcile_step", "recent_runs"}
    assert runner == called | extra, \
        "the runner may execute exactly what runner/queries.sql calls, create orders and list runs"
    # what the runner may call runs as the owner (it has no table access of its own) ...
    not_definer = [sig for sig, name, secdef, _, kind, _, run in rows if run and not secdef and kind == "f"]
    assert not_definer == []
    # ... so every SECURITY DEFINER function pins its search_path (pg_temp last)
    unpinned = [sig for sig, _, secdef, config, _, _, _ in rows
                if secdef and "search_path=payments, pg_temp" not in (config or [])]
    assert unpinned == []
    # no role may use the private schema
    private = db.execute("SELECT has_schema_privilege(r, 'payments_private', 'USAGE') FROM unnest("
                         "ARRAY['payments_runner', 'payments_readonly', 'payments_operator',"
                         " 'payments_bearer_codes', 'public']) AS r").fetchall()
    assert private == [(False,)] * 5


def test_functions_added_by_hand_are_locked_by_the_next_migrate(db: psycopg.Connection,
                                                                 runner_url: str) -> None:
    """A function created in schema payments outside `payments migrate` is private
    again after the next migrate: db/grants.sql revokes EXECUTE from PUBLIC on every
    function of the schema. (PostgreSQL cannot revoke PUBLIC's default EXECUTE per
    schema; a database-wide ALTER DEFAULT PRIVILEGES would touch the owner's
    functions in every other schema too.)"""
    from runner.migrate import apply_functions

    db.execute("CREATE FUNCTION payments.zz_added_later() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    apply_functions(db)
    with psycopg.connect(runner_url, autocommit=True) as conn:
        assert sqlstate_of(conn, "SELECT payments.zz_added_later()") == "42501"
        assert sqlstate_of(conn, "SELECT * FROM payments.last_runs()") is None


def test_runner_role_runs_the_whole_flow_through_the_api(runner: psycopg.Connection,
                                                         db: psycopg.Connection) -> None:
    def call(query: str, *params: object) -> object:
        return runner.execute(query, params).fetchone()[0]

    assert call("SELECT payments.create_ticket_order('SEC-T2', %s, %s, 75000)",
                Jsonb([{"slot": "GIG", "quantity": 1}]), in_an_hour())["status"] == "pending"
    assert call("SELECT payments.create_product_order('SEC-P2', %s, %s, 45000)",
                Jsonb([{"sku": "TEE", "quantity": 1}]), in_an_hour())["status"] == "pending"
    apply = "SELECT payments.apply_gateway_status(%s, %s, NULL, %s, %s, %s, 'webhook', %s)"
    assert call(apply, "SEC-T1", "settlement", Decimal("150000.00"), "tx-1", "200", Jsonb({}))["decision"] \
        == "paid"
    assert call(apply, "SEC-T1", "settlement", Decimal("150000.00"), "tx-1", "200", Jsonb({}))["decision"] \
        == "noop"
    assert call(apply, "SEC-P1", "settlement", Decimal("90000.00"), "tx-2", "200", Jsonb({}))["decision"] \
        == "paid"
    assert call(apply, "SEC-T2", "expire", None, "tx-3", "202", Jsonb({}))["decision"] == "released"
    assert call(apply, "SEC-P2", "settlement", Decimal("1.00"), "tx-4", "200", Jsonb({}))["decision"] == \
        "flagged"
    # a person decides the amount mismatch (an operator, not the runner)
    db.execute("SET ROLE payments_operator")
    resolved = db.execute("SELECT payments.resolve_review('SEC-P2', 'amount_mismatch', 'accept',"
                          " 'checked with the bank')").fetchone()[0]
    db.execute("RESET ROLE")
    assert resolved["status"] == "paid"
    assert call("SELECT payments.apply_status_not_found('SEC-T1', 'sync')")["decision"] == "not_found"
    assert runner.execute("CALL payments.reconcile_local(100, 'manual')").fetchone()[0]["errors"] == 0
    due = runner.execute("SELECT run_id, order_number FROM payments.start_sync('0 s', '0 s', 10)").fetchall()
    assert [order for _, order in due] == [None], "nothing pending is due"
    assert runner.execute("SELECT ok FROM payments.finish_run(%s)", (due[0][0],)).fetchone() == (True,)
    call("SELECT payments.log_rejection('signature_invalid')")
    assert runner.execute("SELECT * FROM payments.last_runs()").fetchall()
    assert db.execute("SELECT * FROM payments.check_invariants()").fetchall() == []
    statuses = db.execute("SELECT order_number, status FROM payments.orders ORDER BY 1").fetchall()
    assert statuses == [("SEC-P1", "paid"), ("SEC-P2", "paid"), ("SEC-T1", "paid"), ("SEC-T2", "expired")]
    assert db.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0] == 2


# -- documented SQLSTATEs for hostile input -------------------------------------------------------

@pytest.fixture(scope="module")
def api_db(pg_server: Server, template_db: str) -> Iterator[tuple[str, str]]:
    """(owner URL, runner URL) of a module database with a small shop."""
    name = f"sec_api_{os.getpid()}"
    role = f"payments_fuzz_{os.getpid()}"
    pg_server.drop_database(name)
    url = pg_server.create_database(name, template=template_db)
    with psycopg.connect(url, autocommit=True) as conn:
        shop(conn)
    with pg_server.admin() as admin:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'fuzz' IN ROLE payments_runner").format(
            sql.Identifier(role)))
    netloc = url.split("://", 1)[1].split("@", 1)[1]
    try:
        yield url, f"postgresql://{role}:fuzz@{netloc}"
    finally:
        pg_server.drop_database(name)
        with pg_server.admin() as admin:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


TICKET = "SELECT payments.create_ticket_order(%s, %s, %s, %s, %s)"
PRODUCT = "SELECT payments.create_product_order(%s, %s, %s, %s, %s)"


def ticket(items: object, *, number: str = "NEW-1", expires: datetime | None = None,
           amount: object = Decimal(150000), currency: str | None = "IDR") -> tuple[str, tuple]:
    return TICKET, (number, None if items is None else Jsonb(items), expires or in_an_hour(), amount,
                    currency)


def product(items: object, **kw: object) -> tuple[str, tuple]:
    return PRODUCT, ticket(items, **kw)[1]  # type: ignore[arg-type]


def item(quantity: object = 1, **extra: object) -> dict:
    return {"slot": "GIG", "quantity": quantity, **extra}


BAD_INPUT = {
    # PM007: quantity must be an integer 1..100
    "quantity 0": (ticket([item(0)]), "PM007"),
    "quantity -1": (ticket([item(-1)]), "PM007"),
    "quantity 101": (ticket([item(101)]), "PM007"),
    "quantity 2^31": (ticket([item(2**31)]), "PM007"),
    "quantity 10^40": (ticket([item(10**40)]), "PM007"),
    "quantity 1.5": (ticket([item(1.5)]), "PM007"),
    "quantity 1e300": (ticket([item(1e300)]), "PM007"),
    "quantity '2'": (ticket([item("2")]), "PM007"),
    "quantity true": (ticket([item(True)]), "PM007"),
    "quantity null": (ticket([item(None)]), "PM007"),
    "quantity [2]": (ticket([item([2])]), "PM007"),
    "quantity {}": (ticket([item({"n": 2})]), "PM007"),
    "quantity missing": (ticket([{"slot": "GIG"}]), "PM007"),
    "product quantity 1000": (product([{"sku": "TEE", "quantity": 1000}]), "PM007"),
    # PM008: malformed items
    "items null": (ticket(None), "PM008"),
    "items object": (ticket({"slot": "GIG", "quantity": 1}), "PM008"),
    "items string": (ticket("GIG"), "PM008"),
    "items number": (ticket(3), "PM008"),
    "items empty": (ticket([]), "PM008"),
    "51 items": (ticket([item()] * 51), "PM008"),
    "item not an object": (ticket([1]), "PM008"),
    "item a list": (ticket([["GIG", 1]]), "PM008"),
    "no slot": (ticket([{"quantity": 1}]), "PM008"),
    "slot a number": (ticket([{"slot": 5, "quantity": 1}]), "PM008"),
    "slot_id a string": (ticket([{"slot_id": "1", "quantity": 1}]), "PM008"),
    "slot_id fractional": (ticket([{"slot_id": 1.5, "quantity": 1}]), "PM008"),
    "slot_id negative": (ticket([{"slot_id": -1, "quantity": 1}]), "PM008"),
    "slot_id 10^30": (ticket([{"slot_id": 10**30, "quantity": 1}]), "PM008"),
    "unit_price negative": (ticket([item(unit_price=-1)]), "PM008"),
    "unit_price string": (ticket([item(unit_price="75000")]), "PM008"),
    "unit_price 10^12": (ticket([item(unit_price=10**12)]), "PM008"),
    "unit_price 3 decimals": (ticket([item(unit_price=0.001)]), "PM008"),
    "unit_price rounding to 10^12": (ticket([item(unit_price=999999999999.999),
                                             {"slot": "SMALL", "quantity": 1}]), "PM008"),
    "slot twice": (ticket([item(), item()]), "PM008"),
    "no sku": (product([{"slot": "GIG", "quantity": 1}]), "PM008"),
    # PM009: bad arguments
    "order_number empty": (ticket([item()], number=""), "PM009"),
    "order_number with a space": (ticket([item()], number="A B"), "PM009"),
    "order_number 51 chars": (ticket([item()], number="A" * 51), "PM009"),
    "order_number unicode": (ticket([item()], number="ÖRDER-1"), "PM009"),
    "order_number injection": (ticket([item()], number="x'); DROP TABLE payments.orders; --"), "PM009"),
    "expires in the past": (ticket([item()], expires=datetime.now(UTC) - timedelta(minutes=1)), "PM009"),
    "held for a year": (ticket([item()], expires=datetime.now(UTC) + timedelta(days=365)), "PM014"),
    "held until 9999": (ticket([item()], expires=datetime(9999, 1, 1, tzinfo=UTC)), "PM014"),
    "amount 0": (ticket([item()], amount=Decimal(0)), "PM009"),
    "amount negative": (ticket([item()], amount=Decimal(-5)), "PM009"),
    "amount 10^12": (ticket([item()], amount=Decimal(10**12)), "PM009"),
    "amount 3 decimals": (ticket([item()], amount=Decimal("1.001")), "PM009"),
    "amount NaN": (ticket([item()], amount=Decimal("NaN")), "PM009"),
    "amount Infinity": (ticket([item()], amount=Decimal("Infinity")), "PM009"),
    "currency lower case": (ticket([item()], currency="idr"), "PM009"),
    "currency null": (ticket([item()], currency=None), "PM009"),
    "prices not adding up": (ticket([item(2, unit_price=1000)], amount=Decimal(5000)), "PM009"),
    # PM002..PM006
    "order exists": (ticket([item()], number="SEC-T1"), "PM002"),
    "no capacity": (ticket([{"slot": "SMALL", "quantity": 2}]), "PM003"),
    "no stock": (product([{"sku": "CAP", "quantity": 2}]), "PM004"),
    "unknown slot": (ticket([{"slot": "NOPE", "quantity": 1}]), "PM005"),
    "unknown variant": (product([{"sku": "NOPE", "quantity": 1}]), "PM006"),
    # the rest of the API
    "apply: unknown order": (("SELECT payments.apply_gateway_status('NOPE', 'settlement', NULL, 1, 'tx',"
                              " '200', 'webhook')", ()), "PM001"),
    "apply: bad source": (("SELECT payments.apply_gateway_status('SEC-T1', 'settlement', source => 'evil')",
                           ()), "PM009"),
    "apply: blank status": (("SELECT payments.apply_gateway_status('SEC-T1', '  ')", ()), "PM009"),
    "apply: null status": (("SELECT payments.apply_gateway_status('SEC-T1', NULL)", ()), "PM009"),
    "apply: no transaction id": (("SELECT payments.apply_gateway_status('SEC-T1', 'settlement', NULL, 1,"
                                  " NULL, '200', 'webhook')", ()), "PM009"),
    "apply: local settlement": (("SELECT payments.apply_gateway_status('SEC-T1', 'settlement')", ()),
                                "PM009"),
    "apply: payload too large": (("SELECT payments.apply_gateway_status('SEC-T1', 'pending', NULL, 1, 'tx',"
                                  " '201', 'webhook', jsonb_build_object('x', repeat('y', 70000)))", ()),
                                 "PM015"),
    "reconcile: batch 0": (("CALL payments.reconcile_local(0)", ()), "PM009"),
    "reconcile: batch 10^6": (("CALL payments.reconcile_local(1000000)", ()), "PM009"),
    "reconcile: source webhook": (("CALL payments.reconcile_local(10, 'webhook')", ()), "PM009"),
    "sync: -1 rows": (("SELECT * FROM payments.start_sync('1 m', '1 m', -1)", ()), "PM009"),
    "start_run: bad kind": (("SELECT payments.start_run('evil')", ()), "PM009"),
    "start_run: a sync without start_sync": (("SELECT payments.start_run('sync')", ()), "PM009"),
    "finish_run: unknown run": (("SELECT * FROM payments.finish_run(424242, '{}')", ()), "PM009"),
    "log_rejection: not in the vocabulary": (("SELECT payments.log_rejection('gateway_status')", ()),
                                             "PM009"),
    "log_rejection: no event_type": (("SELECT payments.log_rejection('')", ()), "PM009"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
def test_bad_input_is_refused_with_the_documented_sqlstate(case: str, api_db: tuple[str, str]) -> None:
    owner_url, runner_url = api_db
    (query, params), expected = BAD_INPUT[case]
    with psycopg.connect(runner_url, autocommit=True) as conn:
        assert sqlstate_of(conn, query, params) == expected
    with psycopg.connect(owner_url) as owner:
        assert owner.execute("SELECT count(*) FROM payments.orders").fetchone()[0] == 2
        assert owner.execute("SELECT * FROM payments.check_invariants()").fetchall() == []


# Hypothesis: arbitrary JSON for items, odd headers -> success or a documented SQLSTATE, nothing else

SAFE_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | SAFE_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(SAFE_TEXT, inner, max_size=4),
    max_leaves=12)
QUANTITY = st.one_of(st.integers(-3, 103), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                     JSON)
REFS = {"ticket": ("slot", "slot_id", ["GIG", "SMALL", "NOPE", ""]),
        "product": ("sku", "variant_id", ["TEE", "CAP", "NOPE", ""])}


@st.composite
def items_for(draw, kind: str) -> object:
    code_key, id_key, codes = REFS[kind]
    near_valid = st.fixed_dictionaries(
        {code_key: st.sampled_from(codes) | JSON, "quantity": QUANTITY},
        optional={id_key: st.integers(-2, 5) | JSON, "unit_price": st.integers(-5, 10**13) | JSON,
                  "extra": JSON})
    return draw(st.one_of(st.lists(near_valid, max_size=5), st.lists(JSON, max_size=3), JSON))


AMOUNTS = st.one_of(st.decimals(min_value=-10**13, max_value=10**13, allow_nan=False),
                    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")]))
DOCUMENTED = {"ticket": {"PM002", "PM003", "PM005", "PM007", "PM008", "PM009"},
              "product": {"PM002", "PM004", "PM006", "PM007", "PM008", "PM009"}}


@settings(max_examples=200, deadline=None, database=EXAMPLE_DB,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data(), kind=st.sampled_from(["ticket", "product"]))
def test_any_order_input_gets_a_result_or_a_documented_sqlstate(api_db: tuple[str, str], data, kind) -> None:
    _, runner_url = api_db
    number = data.draw(st.sampled_from(["NEW-1", "SEC-T1"]) | SAFE_TEXT, label="order_number")
    items = data.draw(items_for(kind), label="items")
    amount = data.draw(AMOUNTS, label="gross_amount")
    currency = data.draw(st.sampled_from(["IDR", "idr", "USD"]) | SAFE_TEXT, label="currency")
    expires = data.draw(st.sampled_from([in_an_hour(), datetime.now(UTC) - timedelta(days=1)]),
                        label="expires")
    with psycopg.connect(runner_url) as conn:
        try:
            with conn.transaction(force_rollback=True):
                conn.execute(f"SELECT payments.create_{kind}_order(%s, %s, %s, %s, %s)",
                             (number, Jsonb(items), expires, amount, currency))
        except psycopg.Error as exc:
            assert exc.sqlstate in DOCUMENTED[kind], (exc.sqlstate, str(exc))


@settings(max_examples=150, deadline=None, database=EXAMPLE_DB,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(order=st.sampled_from(["SEC-T1", "SEC-P1", "NOPE"]) | SAFE_TEXT,
       status=st.sampled_from(["settlement", "capture", "deny", "expire", "refund", "chargeback", "pending"])
       | SAFE_TEXT,
       fraud=st.none() | st.sampled_from(["accept", "challenge", "deny"]) | SAFE_TEXT,
       amount=st.none() | AMOUNTS, tx=st.none() | SAFE_TEXT, code=st.none() | SAFE_TEXT,
       source=st.sampled_from(["webhook", "sync", "reconcile", "manual"]) | SAFE_TEXT,
       payload=st.none() | JSON)
def test_any_gateway_status_gets_a_decision_or_a_documented_sqlstate(
        api_db: tuple[str, str], order, status, fraud, amount, tx, code, source, payload) -> None:
    owner_url, _ = api_db
    with psycopg.connect(owner_url) as conn:
        try:
            with conn.transaction(force_rollback=True):
                conn.execute("SET LOCAL ROLE payments_runner")
                conn.execute("SELECT payments.apply_gateway_status(%s, %s, %s, %s, %s, %s, %s, %s)",
                             (order, status, fraud, amount, tx, code, source,
                              None if payload is None else Jsonb(payload)))
                conn.execute("RESET ROLE")
                assert conn.execute("SELECT * FROM payments.check_invariants()").fetchall() == []
        except psycopg.Error as exc:
            assert exc.sqlstate in {"PM001", "PM009"}, (exc.sqlstate, str(exc))


# -- the webhook endpoint under fuzz --------------------------------------------------------------


@dataclass
class Hook:
    base: str
    db_url: str
    http: httpx.Client

    def post(self, body: bytes) -> httpx.Response:
        return self.http.post(f"{self.base}/midtrans/notification", content=body,
                              headers={"content-type": "application/json"})


@pytest.fixture(scope="module", params=[True, False], ids=["confirmed", "unconfirmed"])
def hook(request, pg_server: Server, template_db: str) -> Iterator[Hook]:
    """The webhook in both configurations: confirmed (the default; a simulator
    answers the Status API and knows the shop's two payments) and unconfirmed
    (every signed body reaches the side-effects)."""
    confirm = request.param
    name = f"sec_hook_{os.getpid()}_{int(confirm)}"
    pg_server.drop_database(name)
    url = pg_server.create_database(name, template=template_db)
    with psycopg.connect(url, autocommit=True) as conn:
        shop(conn)
    try:
        with asgi_server(create_app(SERVER_KEY)) as sim, httpx.Client(timeout=30) as http:
            for order_id, amount in (("SEC-T1", "150000.00"), ("SEC-P1", "90000.00")):
                http.post(f"{sim}/_sim/transactions", json={"order_id": order_id, "gross_amount": amount,
                                                            "notify": False}).raise_for_status()
                http.post(f"{sim}/_sim/transactions/{order_id}/settle",
                          json={"notify": False}).raise_for_status()
            settings_ = load({}, database_url=url, server_key=SERVER_KEY, midtrans_api_base_url=sim,
                             confirm_with_status_api=confirm)
            app = WebhookApp(settings_, runner_db.make_pool(url, max_size=4), manage_pool=True,
                             client=MidtransClient(sim, SERVER_KEY, timeout=5, retries=0))
            with asgi_server(app) as base:
                yield Hook(base, url, http)
    finally:
        pg_server.drop_database(name)


def signature_of(body: dict, key: str = SERVER_KEY) -> str | None:
    """The valid signature_key for the body's order_id / status_code / gross_amount, if it has one."""
    parts = [body.get(f) for f in ("order_id", "status_code", "gross_amount")]
    if not all(isinstance(p, str) for p in parts):
        return None
    try:
        return signature(*parts, key)  # type: ignore[arg-type]
    except UnicodeEncodeError:      # a lone surrogate: nobody can sign it
        return None


def signed(body: dict, key: str = SERVER_KEY) -> dict:
    """Sign whatever order_id / status_code / gross_amount the body carries (if they are strings)."""
    sig = signature_of(body, key)
    if sig is not None:
        body["signature_key"] = sig
    return body


def valid(order_id: str = "SEC-T1", status: str = "settlement", amount: str = "150000.00") -> dict:
    return signed({"transaction_time": "2026-11-26 10:00:00", "transaction_status": status,
                   "transaction_id": "tx-fuzz", "status_message": "midtrans payment notification",
                   "status_code": "200", "payment_type": "bank_transfer", "order_id": order_id,
                   "merchant_id": "G000000000", "gross_amount": amount, "currency": "IDR",
                   "fraud_status": "accept"})


WEIRD = st.one_of(
    JSON,
    st.text(max_size=40),                                              # any unicode, NUL and all
    st.integers(min_value=-(10**60), max_value=10**60).map(str),
    st.sampled_from(["", " ", "NaN", "Infinity", "-1", "1e999", "0.001", "150000", "150000.00 ",
                     "\u0000", "\ud800", "\uff33\uff25\uff23-\uff341", "SEC-T1\n",
                     "'; DROP TABLE payments.orders; --",
                     SERVER_KEY[:10], "a" * 5000]),
    st.recursive(st.just(1), lambda inner: st.lists(inner, min_size=1, max_size=1), max_leaves=300),
)
FIELDS = ["order_id", "status_code", "gross_amount", "transaction_status", "transaction_id",
          "fraud_status", "signature_key", "payment_type", "currency", "custom_field1"]


@st.composite
def notification_bodies(draw) -> tuple[bytes, bool]:
    """(raw body, whether its signature is valid for SERVER_KEY)."""
    shape = draw(st.sampled_from(["bytes", "json", "near-valid", "signed-weird", "nested"]))
    if shape == "bytes":
        return draw(st.binary(max_size=300)), False
    if shape == "json":
        return json.dumps(draw(JSON)).encode(), False
    if shape == "nested":
        depth = draw(st.integers(1, 40000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return (opener * depth + "1" + closer * depth).encode(), False
    body = valid(draw(st.sampled_from(["SEC-T1", "SEC-P1", "NOPE"])),
                 draw(st.sampled_from(["settlement", "capture", "deny", "expire", "refund", "pending",
                                       "chargeback", "authorize"])),
                 draw(st.sampled_from(["150000.00", "90000.00", "1.00"])))
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from(FIELDS))
        if draw(st.integers(0, 4)) == 0:
            body.pop(field, None)
        else:
            body[field] = draw(WEIRD)
    if shape == "signed-weird":
        body = signed(body)
    expected = signature_of(body)
    sig_ok = expected is not None and body.get("signature_key") == expected \
        and all(isinstance(body.get(f), str) and body[f].strip() for f in ("order_id", "transaction_status"))
    raw = json.dumps(body, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    return raw, sig_ok


def check_answer(response: httpx.Response, signature_valid: bool) -> None:
    assert SERVER_KEY not in response.text
    if response.status_code == 503:     # the documented DB-down / Status-API-down answers, nothing else
        assert response.json()["error"] in ("database unavailable; retry",
                                            "Midtrans Status API unavailable; retry"), response.text
        return
    assert response.status_code in (200, 400, 403, 404, 413), (response.status_code, response.text)
    if signature_valid:
        assert response.status_code != 403, response.text


# Bodies that made the endpoint answer 500 (an exception escaping the app). Hypothesis replays them first.
NESTED_ARRAYS = b"[" * 30000 + b"]" * 30000
NESTED_OBJECTS = b'{"a":' * 5000 + b"1" + b"}" * 5000
# shallow enough for json.loads, too deep for json.dumps further down the stack (a 500 the
# fuzz found once): every depth around Python's recursion limit, arrays and objects
NESTED_NEAR_THE_LIMIT = [(opener * depth + b"1" + closer * depth)
                         for depth in range(850, 1001, 10)
                         for opener, closer in ((b"[", b"]"), (b'{"a":', b"}"))]
LONE_SURROGATE = (b'{"order_id":"\\ud800","status_code":"200","gross_amount":"1",'
                  b'"signature_key":"x","transaction_status":"settlement"}')


def _signed_raw(**fields: object) -> bytes:
    body = valid()
    body.update(fields)
    return json.dumps(signed(body)).encode()


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=EXAMPLE_DB,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@example(case=(NESTED_ARRAYS, False))
@example(case=(NESTED_OBJECTS, False))
@example(case=(LONE_SURROGATE, False))
@example(case=(_signed_raw(order_id="SEC-T1\u0000"), True))
@example(case=(_signed_raw(transaction_status="settle\u0000ment"), True))
@example(case=(_signed_raw(transaction_id={"id": 1}), True))
@example(case=(_signed_raw(transaction_id=12345), True))
@example(case=(_signed_raw(fraud_status=True), True))
@example(case=(_signed_raw(fraud_status=["accept", 1]), True))
@example(case=(_signed_raw(currency="\ud800"), True))
@example(case=(json.dumps(valid("\ud800SEC"), ensure_ascii=False).encode("utf-8", "surrogatepass"), False))
@given(case=notification_bodies())
def test_webhook_survives_fuzzed_notifications(hook: Hook, caplog, case: tuple[bytes, bool]) -> None:
    raw, signature_valid = case
    with caplog.at_level(logging.DEBUG):
        response = hook.post(raw)
    check_answer(response, signature_valid)
    assert SERVER_KEY not in caplog.text


def test_nesting_near_the_recursion_limit_is_refused_not_a_500(hook: Hook) -> None:
    for raw in NESTED_NEAR_THE_LIMIT:
        response = hook.post(raw)
        assert response.status_code == 400, (len(raw), response.status_code, response.text)


def test_after_the_fuzz_the_books_balance_and_no_secret_was_stored(hook: Hook) -> None:
    """Runs after the fuzz test (same module database): whatever the fuzz did
    through valid signatures left consistent books, and no stored row holds the key."""
    hook.post(json.dumps(valid()).encode())
    with psycopg.connect(hook.db_url) as conn:
        assert conn.execute("SELECT * FROM payments.check_invariants()").fetchall() == []
        dump = conn.execute("SELECT coalesce(string_agg(t::text, ' '), '') FROM payments.webhook_logs t"
                            ).fetchone()[0]
        assert SERVER_KEY not in dump
        assert conn.execute("SELECT count(*) FROM payments.webhook_logs").fetchone()[0] > 0


def test_webhook_with_the_database_down_answers_503_and_leaks_nothing(caplog) -> None:
    dead = with_database("postgresql://postgres@127.0.0.1:9/nowhere?connect_timeout=1", "nowhere")
    settings_ = load({}, database_url=dead, server_key=SERVER_KEY, confirm_with_status_api=False)
    app = WebhookApp(settings_, runner_db.make_pool(dead, max_size=1), manage_pool=True)
    with caplog.at_level(logging.DEBUG), asgi_server(app) as base:
        response = httpx.post(f"{base}/midtrans/notification", json=valid(), timeout=30)
        assert response.status_code == 503 and "database" in response.json()["error"]
        assert SERVER_KEY not in response.text
        for path in ("/healthz", "/metrics"):
            assert SERVER_KEY not in httpx.get(f"{base}{path}", timeout=30).text
    assert SERVER_KEY not in caplog.text


def test_error_answers_never_echo_secrets_or_internals(hook: Hook) -> None:
    """A forged signature over the real key's neighbourhood, an unknown order, a
    body that is not JSON: short answers, no stack traces, no key, no SQL."""
    forged = valid()
    forged["signature_key"] = signature("SEC-T1", "200", "150000.00", SERVER_KEY + " ")
    bodies = [json.dumps(forged).encode(), json.dumps(valid("NOPE")).encode(), b"\xff\xfe{", b"[]",
              json.dumps(valid(amount="12abc")).encode()]
    for body in bodies:
        response = hook.post(body)
        assert response.status_code in (400, 403, 404), response.text
        text = response.text
        assert SERVER_KEY not in text and "Traceback" not in text and "SELECT" not in text.upper()
        assert len(text) < 300
        assert set(text) <= set(string.printable)
