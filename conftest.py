"""Test harness shared by pytest tests and pgTAP files.

One PostgreSQL server per session (see tests/pgserver.py), one migrated
template database, and a fresh clone of it for every test. Each pgTAP file in
db/tests/ is one pytest test (tests/test_pgtap.py), so it counts in pytest's
summary.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from runner.migrate import migrate
from tests.pgserver import Server, provision, wait_until_ready
from tests.pooler import PgBouncer, pgbouncer_binary, start_pgbouncer

ROOT = Path(__file__).resolve().parent
PGTAP_DIR = ROOT / "db" / "tests"
TEMPLATE = f"payments_template_{os.getpid()}"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    server = provision()
    try:
        wait_until_ready(server)
        yield server
    finally:
        server.stop()


def _available_extensions(server: Server) -> set[str]:
    with server.admin() as conn:
        return {row[0] for row in conn.execute("SELECT name FROM pg_available_extensions")}


@pytest.fixture(scope="session")
def has_pgtap(pg_server: Server) -> bool:
    """Whether the server can CREATE EXTENSION pgtap (the template then has it)."""
    return "pgtap" in _available_extensions(pg_server)


@pytest.fixture(scope="session")
def pg_cron(pg_server: Server) -> None:
    """Skips the test unless the server preloads pg_cron (only the pg_cron tests use this)."""
    with pg_server.admin() as conn:
        loaded = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()[0]
        installed = conn.execute("SELECT true FROM pg_available_extensions WHERE name = 'pg_cron'"
                                 ).fetchone()
    if not installed or "pg_cron" not in loaded:
        pytest.skip("pg_cron not installed on this server" if not installed
                    else "pg_cron not preloaded on this server (shared_preload_libraries)")


@pytest.fixture(scope="session")
def template_db(pg_server: Server, has_pgtap: bool) -> Iterator[str]:
    """A database migrated with `payments migrate`, plus pgTAP (when the server
    has it) and the test helpers (plain SQL; the pytest tests use them too)."""
    pg_server.drop_database(TEMPLATE)
    url = pg_server.create_database(TEMPLATE)
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        if has_pgtap:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap")
        conn.execute((PGTAP_DIR / "test_helpers.sql").read_text())
    try:
        yield TEMPLATE
    finally:
        pg_server.drop_database(TEMPLATE)


@pytest.fixture()
def db_url(pg_server: Server, template_db: str) -> Iterator[str]:
    """URL of a fresh database cloned from the migrated template."""
    name = f"t_{os.getpid()}_{next(_counter)}"
    url = pg_server.create_database(name, template=template_db)
    try:
        yield url
    finally:
        pg_server.drop_database(name)


@pytest.fixture()
def db(db_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection (superuser) to a fresh database."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    assertions = files = 0
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        for key, value in getattr(report, "user_properties", []):
            if key == "pgtap_assertions":
                files += 1
                assertions += value
    if files:
        terminalreporter.write_line(
            f"pgTAP: {files} files, {assertions} assertions (each file one pytest test, run by pg_prove)")


@pytest.fixture()
def empty_db_url(pg_server: Server) -> Iterator[str]:
    """URL of a fresh, empty database (nothing migrated)."""
    name = f"e_{os.getpid()}_{next(_counter)}"
    url = pg_server.create_database(name)
    try:
        yield url
    finally:
        pg_server.drop_database(name)


@pytest.fixture(scope="session")
def pgbouncer(pg_server: Server) -> Iterator[PgBouncer]:
    """A real PgBouncer in transaction mode in front of the test server
    (tests/pooler.py); skips, saying why, where pgbouncer is not installed."""
    binary = pgbouncer_binary()
    if binary is None:
        reason = ("pgbouncer is not installed (apt-get install pgbouncer; scripts/setup does): "
                  "the transaction-pooler tests need it")
        if os.environ.get("CI") == "true":   # in CI a missing pooler is a failure, not a skip
            pytest.fail(reason)
        pytest.skip(reason)
    with start_pgbouncer(pg_server, binary) as bouncer:
        yield bouncer


@pytest.fixture()
def pooled_db_url(db_url: str, pgbouncer: PgBouncer) -> str:
    """The fresh test database (db_url) through PgBouncer in transaction mode."""
    return pgbouncer.url_for(db_url)
