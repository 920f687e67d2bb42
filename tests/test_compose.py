"""docker-compose.yml cannot run here (no Docker engine), so check that it is
consistent with the code and with what a production-like deployment needs:
commands and options exist, environment names are settings the runner reads,
ports and URLs line up, migrations run once as the owner, serve connects as a
payments_runner login, secrets come from files, the database is bound to
127.0.0.1 and checked over TCP, restart policies, pinned images.

The database side of the compose file is also run for real: db/initdb's role
script on a fresh database of the test server, `payments migrate` as the
owner it creates, and `payments serve` as the login it creates."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click
import httpx
import psycopg
import pytest
import yaml

from runner.cli import main
from runner.settings import ENVIRONMENT, SECRET_VARIABLES, SettingsError, load
from tests.pgserver import free_port, with_database
from tests.servers import wait_http

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
RUNNER_IMAGE_SERVICES = ("migrate", "simulator", "serve", "demo")
# variables read by something else than the runner's settings
FOREIGN_VARIABLES = {
    "db": {"POSTGRES_PASSWORD_FILE", "POSTGRES_DB", "PAYMENTS_OWNER_PASSWORD_FILE",
           "PAYMENTS_APP_PASSWORD_FILE"},
}
ROLE_SCRIPT = ROOT / "db/initdb/20-roles.sh"


def payments_invocations(command: list[str]) -> list[list[str]]:
    """The `payments ...` command lines inside a service command (also inside `sh -c`)."""
    if command[:2] == ["sh", "-c"]:
        parts = [shlex.split(p.strip().removeprefix("exec ")) for p in command[2].split("&&")]
    else:
        parts = [command]
    return [p for p in parts if p and p[0] == "payments"]


def option_names(cmd: click.Command) -> set[str]:
    return {opt for param in cmd.params for opt in getattr(param, "opts", [])}


def secret_path(service: str, name: str) -> str:
    assert name in SERVICES[service].get("secrets", []), f"{service} does not mount secret {name}"
    return f"/run/secrets/{name}"


def test_expected_services_with_healthchecks() -> None:
    assert set(SERVICES) == {"db", "migrate", "simulator", "serve", "demo"}
    for name in ("db", "simulator", "serve"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert SERVICES["demo"]["profiles"] == ["demo"], "the demo is not part of a plain `docker compose up`"


@pytest.mark.parametrize("service", RUNNER_IMAGE_SERVICES)
def test_commands_and_options_exist(service: str) -> None:
    invocations = payments_invocations(SERVICES[service]["command"])
    assert invocations, f"{service} runs no payments command"
    for argv in invocations:
        sub = main.commands.get(argv[1])
        assert sub is not None, f"{service}: no command payments {argv[1]}"
        used = {a for a in argv[2:] if a.startswith("--")}
        assert used <= option_names(sub), f"{service}: unknown options {used - option_names(sub)}"


@pytest.mark.parametrize("service", RUNNER_IMAGE_SERVICES)
def test_environment_names_are_settings(service: str) -> None:
    env = SERVICES[service].get("environment", {})
    known = set(ENVIRONMENT) | {f"{var}_FILE" for var in SECRET_VARIABLES}
    unknown = set(env) - known
    assert not unknown, f"{service} sets variables the runner never reads: {unknown}"


def test_migrations_run_once_as_the_owner_before_serve() -> None:
    migrate = SERVICES["migrate"]
    assert payments_invocations(migrate["command"]) == [["payments", "migrate"]]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    owner = urlsplit(migrate["environment"]["PAYMENTS_DATABASE_URL"])
    assert owner.username == "payments_owner" and owner.password is None
    # the owner's password from its secret file (libpq reads PGPASSWORD); `$$` is compose's `$`
    assert f'PGPASSWORD="$$(cat {secret_path("migrate", "owner_password")})"' in migrate["command"][2]

    serve = SERVICES["serve"]
    assert serve["command"] == ["payments", "serve"], "serve never migrates"
    assert serve["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert serve["depends_on"]["db"]["condition"] == "service_healthy"


def test_serve_connects_as_a_payments_runner_login_with_a_password_file() -> None:
    env = SERVICES["serve"]["environment"]
    url = urlsplit(env["PAYMENTS_DATABASE_URL"])
    assert url.username == "payments_app" and url.password is None
    assert env["PAYMENTS_DATABASE_PASSWORD_FILE"] == secret_path("serve", "app_password")
    script = ROLE_SCRIPT.read_text()
    assert "app_role=${PAYMENTS_APP_ROLE:-payments_app}" in script
    assert "GRANT payments_runner TO %I', :'app_role'" in script
    assert "owner_role=${PAYMENTS_OWNER_ROLE:-payments_owner}" in script
    db_env = SERVICES["db"]["environment"]
    assert db_env["PAYMENTS_APP_PASSWORD_FILE"] == secret_path("db", "app_password")
    assert db_env["PAYMENTS_OWNER_PASSWORD_FILE"] == secret_path("db", "owner_password")
    mounts = SERVICES["db"]["volumes"]
    assert "./db/initdb:/docker-entrypoint-initdb.d:ro" in mounts
    assert os.access(ROLE_SCRIPT, os.X_OK), "the entrypoint runs an executable .sh in a shell of its own"


def test_secrets_come_from_files_and_no_password_is_written_down() -> None:
    declared = COMPOSE["secrets"]
    for name, spec in declared.items():
        assert spec["file"].startswith("./secrets/"), name
    assert "/secrets/" in (ROOT / ".gitignore").read_text().splitlines()
    for name, service in SERVICES.items():
        assert set(service.get("secrets", [])) <= set(declared), name
        for var, value in (service.get("environment") or {}).items():
            assert not re.search(r"PASSWORD$|SERVER_KEY$", var), f"{name}: {var} set directly, use {var}_FILE"
            if var.endswith("_FILE"):
                assert str(value).startswith("/run/secrets/"), f"{name}: {var}"
            if "DATABASE_URL" in var:
                assert urlsplit(str(value)).password is None, f"{name}: a password in {var}"
    assert SERVICES["db"]["environment"]["POSTGRES_PASSWORD_FILE"] == secret_path("db", "postgres_password")
    assert SERVICES["serve"]["environment"]["MIDTRANS_SERVER_KEY_FILE"] == secret_path(
        "serve", "midtrans_server_key")
    assert SERVICES["simulator"]["environment"]["MIDTRANS_SERVER_KEY_FILE"] == secret_path(
        "simulator", "midtrans_server_key")
    # the documented way to create them
    assert "openssl rand -hex 24 > secrets/$f" in (ROOT / "docker-compose.yml").read_text()


def test_ports_bound_to_loopback_and_urls_line_up() -> None:
    for name, service in SERVICES.items():
        for mapping in service.get("ports", []):
            assert str(mapping).startswith("127.0.0.1:"), f"{name} publishes {mapping} on every interface"
    assert SERVICES["db"]["ports"] == ["127.0.0.1:5432:5432"]

    serve_env = SERVICES["serve"]["environment"]
    port = serve_env["PAYMENTS_PORT"]
    assert f"127.0.0.1:{port}:{port}" in SERVICES["serve"]["ports"]
    assert serve_env["PAYMENTS_HOST"] == "0.0.0.0", "inside a container serve must listen on all interfaces"

    sim_cmd = SERVICES["simulator"]["command"]
    sim_port = sim_cmd[sim_cmd.index("--port") + 1]
    assert f"127.0.0.1:{sim_port}:{sim_port}" in SERVICES["simulator"]["ports"]
    assert urlsplit(serve_env["MIDTRANS_API_BASE_URL"]).netloc == f"simulator:{sim_port}"
    notify = urlsplit(sim_cmd[sim_cmd.index("--notify-url") + 1])
    assert notify.netloc == f"serve:{port}" and notify.path == "/midtrans/notification"

    shop = SERVICES["db"]["environment"]["POSTGRES_DB"]
    for service in ("migrate", "serve"):
        url = urlsplit(SERVICES[service]["environment"]["PAYMENTS_DATABASE_URL"])
        assert (url.hostname, url.port, url.path) == ("db", 5432, f"/{shop}")
    demo_db = urlsplit(SERVICES["demo"]["environment"]["PAYMENTS_DATABASE_URL"]).path.lstrip("/")
    init = (ROOT / "db/initdb/10-demo-database.sql").read_text()
    assert f"CREATE DATABASE {demo_db};" in init, "the demo's database is created at db init"


def test_healthchecks_over_tcp_and_http() -> None:
    db_check = SERVICES["db"]["healthcheck"]["test"]
    assert db_check[:2] == ["CMD", "pg_isready"]
    # TCP, not the socket: the entrypoint's init server listens on the socket only
    assert db_check[db_check.index("-h") + 1] == "127.0.0.1"
    assert db_check[db_check.index("-p") + 1] == "5432"
    assert db_check[db_check.index("-d") + 1] == SERVICES["db"]["environment"]["POSTGRES_DB"]
    serve_check = SERVICES["serve"]["healthcheck"]["test"]
    assert serve_check[:3] == ["CMD", "python", "-c"]
    port = SERVICES["serve"]["environment"]["PAYMENTS_PORT"]
    assert f"http://127.0.0.1:{port}/healthz" in serve_check[3]
    compile(serve_check[3], "healthcheck", "exec")  # a valid one-liner (urlopen raises on a 503)


def test_restart_policies() -> None:
    for name in ("db", "serve", "simulator"):
        assert SERVICES[name]["restart"] == "unless-stopped", name
    for name in ("migrate", "demo"):
        assert SERVICES[name]["restart"] == "no", name


def test_images_pinned_and_built_without_the_demo_extra() -> None:
    for name, service in SERVICES.items():
        if "image" in service:
            assert re.search(r":\d+\.\d+", service["image"]), f"{name}: unpinned image {service['image']}"
    runner_froms = re.findall(r"^FROM\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    db_froms = re.findall(r"^FROM\s+(\S+)", (ROOT / "db/Dockerfile").read_text(), re.M)
    for image in runner_froms + db_froms:
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+(\.\d+)?-[\w.-]+", image), f"not an exact tag: {image}"
    assert db_froms == [db_froms[0]] and db_froms[0].startswith("postgres:15.")

    runner_dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^COPY constraints\.txt ", runner_dockerfile, re.M)
    # a non-editable install carries the SQL only through setup.py's build step
    copied = " ".join(re.findall(r"^COPY (.+)$", runner_dockerfile, re.M))
    for needed in ("pyproject.toml", "setup.py", "MANIFEST.in", "runner", "db"):
        assert re.search(rf"(^|\s){re.escape(needed)}(\s|$)", copied), f"the image build lacks {needed}"
    installs = re.findall(r"pip install ([^\n\\&]+)", runner_dockerfile)
    assert installs == ["-c constraints.txt . "], installs  # no extras, no editable install
    instructions = "\n".join(line for line in runner_dockerfile.splitlines() if not line.startswith("#"))
    assert "embedded" not in instructions and "[demo]" not in instructions
    assert 'CMD ["payments", "serve"]' in runner_dockerfile
    assert re.search(r"^USER payments$", runner_dockerfile, re.M), "the runner does not run as root"


def test_build_contexts_exist_and_db_image_has_the_extensions() -> None:
    for name, service in SERVICES.items():
        build = service["build"]
        context = build["context"] if isinstance(build, dict) else build
        dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
        assert (ROOT / context / dockerfile).exists(), name
    db_dockerfile = (ROOT / SERVICES["db"]["build"]["context"] / "Dockerfile").read_text()
    assert "postgresql-15-pgtap" in db_dockerfile and "postgresql-15-cron" in db_dockerfile
    assert "shared_preload_libraries=pg_cron" in db_dockerfile


# -- the database side, for real ------------------------------------------------------------------

def test_role_script_then_migrate_as_owner_then_serve_as_the_login(pg_server, tmp_path: Path) -> None:
    """db/initdb/20-roles.sh (twice: idempotent), `payments migrate` as the owner it
    creates (no superuser, no CREATEROLE), then `payments serve` as its login with
    the password and server key read from files: healthy, and the login can do
    what payments_runner may and nothing more."""
    if not shutil.which("psql"):
        if os.environ.get("CI") == "true":   # in CI the role script must really run
            pytest.fail("psql is not installed")
        pytest.skip("psql is not installed")
    suffix = os.getpid()
    name = f"compose_shop_{suffix}"
    owner, app = f"payments_owner_{suffix}", f"payments_app_{suffix}"
    pg_server.drop_database(name)
    pg_server.create_database(name)
    (tmp_path / "owner").write_text("owner-secret-1\n")
    (tmp_path / "app").write_text("app-secret-1\n")
    (tmp_path / "key").write_text("SB-Mid-server-compose-test\n")
    env = {**os.environ, **pg_server.conninfo, "POSTGRES_USER": pg_server.conninfo["PGUSER"],
           "POSTGRES_DB": name, "PAYMENTS_OWNER_ROLE": owner, "PAYMENTS_APP_ROLE": app,
           "PAYMENTS_OWNER_PASSWORD_FILE": str(tmp_path / "owner"),
           "PAYMENTS_APP_PASSWORD_FILE": str(tmp_path / "app")}
    try:
        for _ in range(2):
            done = subprocess.run([str(ROLE_SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            assert "secret" not in done.stdout + done.stderr
        with pg_server.admin() as conn:
            flags = conn.execute("SELECT rolsuper, rolcreaterole, rolcanlogin FROM pg_roles"
                                 " WHERE rolname = %s", (owner,)).fetchone()
            assert flags == (False, False, True)
            # the passwords were set from the files (psql reads them; never on a command line)
            hashes = conn.execute("SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN (%s, %s)",
                                  (owner, app)).fetchall()
            assert len(hashes) == 2 and all(h and h.startswith("SCRAM-SHA-256$") for _, h in hashes), hashes
            assert conn.execute("SELECT pg_has_role(%s, 'payments_runner', 'USAGE')", (app,)).fetchone()[0]
            assert conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                                (name,)).fetchone()[0] == owner

        url = urlsplit(with_database(pg_server.admin_url, name))
        owner_url = url._replace(netloc=f"{owner}@{url.hostname}:{url.port}").geturl()
        app_url = url._replace(netloc=f"{app}@{url.hostname}:{url.port}").geturl()
        migrated = subprocess.run([sys.executable, "-m", "runner.cli", "migrate"], cwd=ROOT,
                                  env={**os.environ, "PAYMENTS_DATABASE_URL": owner_url,
                                       "PGPASSWORD": "owner-secret-1"},
                                  capture_output=True, text=True, timeout=120)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr

        port = free_port()
        serve_env = {**os.environ, "PAYMENTS_DATABASE_URL": app_url,
                     "PAYMENTS_DATABASE_PASSWORD_FILE": str(tmp_path / "app"),
                     "MIDTRANS_SERVER_KEY_FILE": str(tmp_path / "key"),
                     "MIDTRANS_API_BASE_URL": f"http://127.0.0.1:{free_port()}",
                     "PAYMENTS_PORT": str(port), "PAYMENTS_LOG_FORMAT": "json",
                     "PAYMENTS_SYNC_INTERVAL": "1h", "PAYMENTS_RECONCILE_INTERVAL": "1h"}
        serve_env.pop("PGPASSWORD", None)
        proc = subprocess.Popen([sys.executable, "-m", "runner.cli", "serve"], cwd=ROOT, env=serve_env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["database"] == "ok"
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            assert "payments_database_up 1.0" in metrics
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        output = proc.stdout.read()
        for secret in ("app-secret-1", "owner-secret-1", "SB-Mid-server-compose-test"):
            assert secret not in output
        with psycopg.connect(app_url, password="app-secret-1") as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == app
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT * FROM payments.orders")
    finally:
        pg_server.drop_database(name)
        with pg_server.admin() as conn:
            for role in (app, owner):
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')



# -- secrets from files (*_FILE) ------------------------------------------------------------------

def test_secret_variables_read_from_files(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("SB-Mid-server-from-file\n")
    (tmp_path / "url").write_text("postgresql://app:pw@db:5432/shop\n")
    settings = load({"MIDTRANS_SERVER_KEY_FILE": str(tmp_path / "key"),
                     "PAYMENTS_DATABASE_URL_FILE": str(tmp_path / "url")})
    assert settings.require_server_key() == "SB-Mid-server-from-file"
    assert settings.database_url == "postgresql://app:pw@db:5432/shop"
    assert "pw" not in repr(settings) and "from-file" not in repr(settings)

    (tmp_path / "password").write_text("p@ss:w/rd #1\n")
    settings = load({"PAYMENTS_DATABASE_URL": "postgresql://payments_app@db:5432/shop",
                     "PAYMENTS_DATABASE_PASSWORD_FILE": str(tmp_path / "password")})
    url = urlsplit(settings.database_url)
    assert (url.username, url.hostname, url.port, url.path) == ("payments_app", "db", 5432, "/shop")
    assert unquote(url.password) == "p@ss:w/rd #1"
    assert "p@ss" not in repr(settings)


@pytest.mark.parametrize(("env", "message"), [
    ({"MIDTRANS_SERVER_KEY": "k", "MIDTRANS_SERVER_KEY_FILE": "{dir}/key"},
     "MIDTRANS_SERVER_KEY and MIDTRANS_SERVER_KEY_FILE are both set; set only one"),
    ({"PAYMENTS_DATABASE_URL_FILE": "{dir}/missing"},
     "PAYMENTS_DATABASE_URL_FILE: cannot read '{dir}/missing'"),
    ({"MIDTRANS_SERVER_KEY_FILE": "{dir}"}, "MIDTRANS_SERVER_KEY_FILE: cannot read '{dir}'"),
    ({"MIDTRANS_SERVER_KEY_FILE": "{dir}/empty"}, "MIDTRANS_SERVER_KEY_FILE: '{dir}/empty' is empty"),
    ({"PAYMENTS_DATABASE_URL": "postgresql://u:inline@db/shop",
      "PAYMENTS_DATABASE_PASSWORD_FILE": "{dir}/key"},
     "PAYMENTS_DATABASE_PASSWORD is set but the database URL has a password too"),
])
def test_secret_file_errors_are_one_line_naming_the_variable(tmp_path: Path, env: dict, message: str) -> None:
    (tmp_path / "key").write_text("SB-Mid-server-secret-content\n")
    (tmp_path / "empty").write_text("")
    env = {k: v.format(dir=tmp_path) for k, v in env.items()}
    with pytest.raises(SettingsError) as err:
        load(env)
    assert str(err.value).startswith(message.format(dir=tmp_path))
    assert "\n" not in str(err.value) and "secret-content" not in str(err.value)

    # and on the command line: one line, exit 2, no traceback
    done = subprocess.run([sys.executable, "-m", "runner.cli", "sync", "--once"], cwd=ROOT,
                          env={k: v for k, v in os.environ.items()
                               if k not in ("MIDTRANS_SERVER_KEY", "PAYMENTS_DATABASE_URL")} | env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == f"configuration error: {err.value}"
