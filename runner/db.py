"""Database access: the named queries of runner/queries.sql and a pool.

The runner never builds SQL by concatenation and never holds a transaction
open across an HTTP call: every query here is one autocommit statement that
calls the SQL API.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from runner.paths import package_file

QUERIES_FILE = package_file("queries.sql")
REPORTS_FILE = package_file("reports.sql")

# Never server-side prepared statements. psycopg prepares a query after 5
# executions on one connection (prepare_threshold=5); behind a transaction
# pooler (PgBouncer pool_mode=transaction, Supabase's pooler on port 6543) the
# next execution may land on another server connection, where that statement
# does not exist (26000) or another one has its name (42P05). Every
# connection the runner opens goes through connect() or make_pool().
CONNECT_OPTIONS: dict[str, Any] = {"prepare_threshold": None}

# SQLSTATEs of the SQL API (docs/SQL_API.md)
UNKNOWN_ORDER = "PM001"
BAD_ARGUMENT = "PM009"
PAYLOAD_TOO_LARGE = "PM015"


@cache
def named_queries(path: Path = QUERIES_FILE) -> dict[str, str]:
    """Parse a named-query file: '-- name: x' starts a query, '--' lines after it describe it."""
    found: dict[str, str] = {}
    name = None
    lines: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^--\s*name:\s*(\w+)\s*$", line)
        if header:
            if name:
                found[name] = "\n".join(lines).strip()
            name, lines = header.group(1), []
        elif name and not line.startswith("--"):
            lines.append(line)
    if name:
        found[name] = "\n".join(lines).strip()
    return found


def queries() -> dict[str, str]:
    """The runner's queries (runner/queries.sql)."""
    return named_queries(QUERIES_FILE)


def query(name: str, path: Path = QUERIES_FILE) -> str:
    try:
        return named_queries(path)[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in {path.name}") from None


def jsonb(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value)


async def fetch_one(conn: psycopg.AsyncConnection, name: str, **params: Any) -> dict[str, Any]:
    cur = await conn.execute(query(name), params)
    row = await cur.fetchone()
    assert row is not None
    return row


async def fetch_all(conn: psycopg.AsyncConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    cur = await conn.execute(query(name), params)
    return await cur.fetchall()


def connect(url: str, **kwargs: Any) -> psycopg.Connection:
    """A connection safe behind a transaction pooler (no prepared statements)."""
    return psycopg.connect(url, **{**CONNECT_OPTIONS, **kwargs})


def make_pool(database_url: str, max_size: int = 10, min_size: int = 1) -> AsyncConnectionPool:
    """An autocommit, dict-row pool without prepared statements; open it with
    ``await pool.open()``."""

    async def configure(conn: psycopg.AsyncConnection) -> None:
        await conn.set_autocommit(True)

    return AsyncConnectionPool(
        database_url, min_size=min_size, max_size=max_size, open=False, configure=configure,
        kwargs={"row_factory": dict_row, "application_name": "payments-runner", **CONNECT_OPTIONS},
        reconnect_timeout=30, timeout=10,
    )
