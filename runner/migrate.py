"""Schema migrations (yoyo) and re-application of the SQL API.

``migrate`` applies pending yoyo migrations under yoyo's lock, then re-applies
every ``db/functions/*.sql`` file in name order, every ``db/views/*.sql`` (views
may use functions) and ``db/grants.sql``, all in one transaction, serialised by
an advisory lock. Running it again changes nothing.

It needs no superuser: a database owner with CREATEROLE creates the four
roles; an owner without it needs them created beforehand (``precheck`` names
the statements, one line, before anything is changed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

from runner import db
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


# the roles the migrations create when missing (0002, 0004) and db/grants.sql grants
ROLES = ("payments_runner", "payments_readonly", "payments_operator", "payments_bearer_codes")


class PrivilegeError(RuntimeError):
    """The login may not do what migrate needs; the message names the statements to run."""



def required_statements(conn: psycopg.Connection) -> list[str]:
    """What a superuser must run before this login can migrate; [] when it can.

    Creating a role needs CREATEROLE. ``GRANT payments_readonly TO
    payments_operator`` (db/grants.sql, skipped once it holds) needs, on
    PostgreSQL 15, CREATEROLE or ADMIN OPTION on payments_readonly; on 16+,
    ADMIN OPTION only, which a CREATEROLE login holds implicitly on the roles
    it created itself. The statements give the login ADMIN OPTION on every role
    it lacks it on, so it can also grant the roles to its login roles later.
    """
    user, is_super, createrole = conn.execute(
        "SELECT rolname, rolsuper, rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = current_user"
    ).fetchone()
    if is_super:
        return []
    owner = sql.Identifier(user).as_string(conn)
    statements: list[str] = []
    # the schema and yoyo's tables (in the first schema of the search_path) are created on first use
    db_name, schema_missing, may_create_schema, yoyo_missing, may_create_yoyo = conn.execute(
        "SELECT current_database(), to_regnamespace('payments') IS NULL,"
        " has_database_privilege(current_database(), 'CREATE'),"
        " to_regclass('_yoyo_migrations') IS NULL,"
        " coalesce(has_schema_privilege(current_schema(), 'CREATE'), false)").fetchone()
    if schema_missing and not may_create_schema:
        statements.append(f"GRANT CREATE ON DATABASE {sql.Identifier(db_name).as_string(conn)} TO {owner}")
    if yoyo_missing and not may_create_yoyo:
        statements.append(f"GRANT CREATE ON SCHEMA public TO {owner}")
    existing = {name for (name,) in conn.execute(
        "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY(%s)", (list(ROLES),))}
    admin = {name for name in existing if conn.execute(
        "SELECT pg_has_role(current_user, %s, 'MEMBER WITH ADMIN OPTION')", (name,)).fetchone()[0]}
    missing = [name for name in ROLES if name not in existing]
    pg16 = conn.info.server_version >= 160000
    # after the migrations ran: ADMIN OPTION (or, on 15, CREATEROLE) on payments_readonly?
    if createrole and not pg16:
        readonly_grantable = True
    else:
        readonly_grantable = "payments_readonly" in admin or (createrole and "payments_readonly" in missing)
    operator_member = {"payments_operator", "payments_readonly"} <= existing and conn.execute(
        "SELECT pg_has_role('payments_operator', 'payments_readonly', 'USAGE')").fetchone()[0]
    if (missing and not createrole) or not (operator_member or readonly_grantable):
        if not createrole:
            statements += [f"CREATE ROLE {name} NOLOGIN" for name in missing]
        lacking = [name for name in ROLES if name not in admin
                   and not (createrole and (not pg16 or name in missing))]
        if lacking:
            statements.append(f"GRANT {', '.join(lacking)} TO {owner} WITH ADMIN OPTION")
    return statements


def precheck(database_url: str) -> None:
    """Raises PrivilegeError (one line naming the statements) when migrate would fail
    for want of a privilege."""
    with db.connect(database_url, autocommit=True) as conn:
        user, createrole, schema_owner = conn.execute(
            "SELECT r.rolname, r.rolcreaterole,"
            " (SELECT n.nspowner::regrole::text FROM pg_catalog.pg_namespace AS n"
            "  WHERE n.nspname = 'payments' AND NOT pg_has_role(current_user, n.nspowner, 'USAGE'))"
            " FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user").fetchone()
        if schema_owner:
            raise PrivilegeError(f"migrate runs as the owner of schema payments ({schema_owner}) or a member"
                                 f" of it; login {user} is neither")
        statements = required_statements(conn)
    if statements:
        why = "is not a superuser" + ("" if createrole else " and has no CREATEROLE")
        raise PrivilegeError(f"login {user} {why} (runbook: Supabase / managed PostgreSQL); "
                             "a superuser must first run: " + "; ".join(statements) + ";")


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
    url = yoyo_url(database_url)  # refuses another scheme before connecting
    if not rollback:
        precheck(database_url)
    backend = get_backend(url)
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
    with db.connect(database_url, autocommit=True) as conn:
        result.function_files, result.functions_changed = apply_functions(conn)
    return result
