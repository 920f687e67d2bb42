"""A real PgBouncer in transaction mode in front of the test server.

Transaction pooling is what Supabase's pooler (port 6543) and most managed
poolers do: each transaction (each autocommit statement) may run on another
server connection, so nothing tied to a session survives between two
statements: prepared statements, session advisory locks, SET. The runner must
work through it; tests/test_pooler.py and tests/test_leases.py prove it.

Debian's ``pgbouncer`` package (installed by scripts/setup); without it the
pooler tests skip with that reason. PgBouncer refuses to run as root, so it
drops to the ``postgres`` user then (``-u``), like the test server.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.pgserver import Server, free_port

DEFAULT_POOL_SIZE = 40      # server connections per (database, user): the tests' bursts queue on these
MAX_CLIENT_CONN = 2000


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(p, os.X_OK)), None)


@dataclass
class PgBouncer:
    host: str
    port: int
    log_file: Path

    def url_for(self, url: str) -> str:
        """``url`` (a database on the test server) through this pooler: same user,
        password and database, the pooler's host and port."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{self.host}:{self.port}" if userinfo else f"{self.host}:{self.port}"
        query = "&".join(p for p in parts.query.split("&") if p and not p.startswith(("host=", "port=")))
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _wait_port(host: str, port: int, proc: subprocess.Popen, log_file: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            log = log_file.read_text(errors="replace") if log_file.exists() else ""
            raise RuntimeError(f"pgbouncer exited with {proc.returncode}: {log}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        if time.monotonic() > deadline:
            raise RuntimeError("pgbouncer did not start listening")
        time.sleep(0.05)


def prepared_statements_off(binary: str) -> str:
    """PgBouncer 1.21+ can track prepared statements in transaction mode
    (max_prepared_statements, on by default from 1.22); the tests are about a
    pooler that does not, as Supabase's and most deployed ones, so it is off."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"PgBouncer (\d+)\.(\d+)", out)
    if match and (int(match.group(1)), int(match.group(2))) >= (1, 21):
        return "max_prepared_statements = 0\n"
    return ""


@contextlib.contextmanager
def start_pgbouncer(server: Server, binary: str) -> Iterator[PgBouncer]:
    """PgBouncer, pool_mode=transaction, on 127.0.0.1 and a free port, in front
    of ``server`` (every database: ``*``), stopped and removed at the end."""
    env = server.conninfo
    base = Path(tempfile.mkdtemp(prefix="payments-pgbouncer-"))
    user, password = env["PGUSER"], env.get("PGPASSWORD", "")
    port = free_port()
    log_file = base / "pgbouncer.log"
    (base / "userlist.txt").write_text(f'"{user}" "{password}"\n')
    (base / "pgbouncer.ini").write_text(f"""\
[databases]
* = host={env["PGHOST"]} port={env["PGPORT"]}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
pool_mode = transaction
auth_type = trust
auth_file = {base / "userlist.txt"}
admin_users = {user}
max_client_conn = {MAX_CLIENT_CONN}
default_pool_size = {DEFAULT_POOL_SIZE}
reserve_pool_size = 0
server_lifetime = 3600
server_idle_timeout = 60
ignore_startup_parameters = extra_float_digits,options
logfile = {log_file}
pidfile = {base / "pgbouncer.pid"}
log_connections = 0
log_disconnections = 0
{prepared_statements_off(binary)}""")
    cmd = [binary, str(base / "pgbouncer.ini")]
    if _is_root():  # it refuses to run as root
        for path in (base, *base.iterdir()):
            shutil.chown(path, "postgres")
        cmd = [binary, "-u", "postgres", str(base / "pgbouncer.ini")]
    # -q: its log goes to logfile only
    proc = subprocess.Popen([*cmd[:-1], "-q", cmd[-1]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port("127.0.0.1", port, proc, log_file)
        yield PgBouncer(host="127.0.0.1", port=port, log_file=log_file)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(base, ignore_errors=True)
