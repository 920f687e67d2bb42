"""Schema migrations (yoyo) and re-application of the SQL API.

``migrate`` applies pending yoyo migrations under yoyo's lock, then re-applies
every ``db/functions/*.sql`` file in name order, every ``db/views/*.sql`` (views
may use functions) and ``db/grants.sql``, all in one transaction, serialised by
an advisory lock. Running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import psycopg
from yoyo import get_backend, read_migrations

from runner.paths import db_dir

# pg_advisory_xact_lock key for "functions are being (re)applied"
FUNCTIONS_LOCK_KEY = 0x7061796D_6D696772  # "paymmigr"

_FINGERPRINT_SQL = """
SELECT md5(coalesce(string_agg(
           pg_get_functiondef(p.oid)
           || coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(p.proacl) AS a), ''),
           E'\\n' ORDER BY p.oid::regprocedure::text), ''))
  FROM pg_proc AS p
  JOIN pg_namespace AS n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('payments', 'payments_private')
"""


@dataclass
class MigrateResult:
    applied: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    function_files: int = 0
    functions_changed: bool = False

    def summary(self) -> str:
        parts = []
        if self.rolled_back:
            parts.append("rolled back " + ", ".join(self.rolled_back))
        elif self.applied:
            parts.append("applied " + ", ".join(self.applied))
        else:
            parts.append("no migration pending")
        if self.function_files:
            state = "changed" if self.functions_changed else "unchanged"
            parts.append(f"{self.function_files} SQL API files re-applied ({state})")
        return "; ".join(parts)


def yoyo_url(database_url: str) -> str:
    """yoyo needs the ``postgresql+psycopg`` scheme to use psycopg 3."""
    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise ValueError("database URL must start with postgresql:// (got another scheme)")
    return urlunsplit(("postgresql+psycopg", *parts[1:]))


def function_files() -> list:
    """Everything re-applied after migrations, in order: functions, views, grants."""
    return [*sorted((db_dir() / "functions").glob("*.sql")), *sorted((db_dir() / "views").glob("*.sql")),
            db_dir() / "grants.sql"]


def apply_functions(conn: psycopg.Connection) -> tuple[int, bool]:
    """Re-apply db/functions/*.sql, db/views/*.sql and db/grants.sql in one transaction."""
    files = function_files()
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (FUNCTIONS_LOCK_KEY,))
        conn.execute("SET LOCAL check_function_bodies = off")
        before = conn.execute(_FINGERPRINT_SQL).fetchone()[0]
        for path in files:
            try:
                conn.execute(path.read_text(encoding="utf-8"))
            except psycopg.Error as exc:
                raise RuntimeError(f"{path.name}: {exc}") from exc
        after = conn.execute(_FINGERPRINT_SQL).fetchone()[0]
    return len(files), before != after


def migrate(database_url: str, rollback: bool = False) -> MigrateResult:
    result = MigrateResult()
    backend = get_backend(yoyo_url(database_url))
    try:
        migrations = read_migrations(str(db_dir() / "migrations"))
        with backend.lock():
            if rollback:
                latest = backend.to_rollback(migrations)[:1]
                backend.rollback_migrations(latest)
                result.rolled_back = [m.id for m in latest]
                return result
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
            result.applied = [m.id for m in pending]
    finally:
        backend.connection.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        result.function_files, result.functions_changed = apply_functions(conn)
    return result
