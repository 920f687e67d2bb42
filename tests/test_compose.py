"""docker-compose.yml cannot run here (no Docker engine), so check that it is
consistent with the code: commands and options exist, environment names are
settings the runner reads, ports and URLs line up, build contexts exist."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click
import pytest
import yaml

from runner.cli import main
from runner.settings import ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def payments_invocations(command: list[str]) -> list[list[str]]:
    """The `payments ...` command lines inside a service command (also inside `sh -c`)."""
    if command[:2] == ["sh", "-c"]:
        parts = [p.strip().removeprefix("exec ").split() for p in command[2].split("&&")]
    else:
        parts = [command]
    return [p for p in parts if p and p[0] == "payments"]


def option_names(cmd: click.Command) -> set[str]:
    return {opt for param in cmd.params for opt in getattr(param, "opts", [])}


def test_expected_services_with_healthchecks() -> None:
    assert set(SERVICES) == {"db", "simulator", "runner", "demo"}
    for name in ("db", "simulator", "runner"):
        assert SERVICES[name]["healthcheck"]["test"], name


@pytest.mark.parametrize("service", ["simulator", "runner", "demo"])
def test_commands_and_options_exist(service: str) -> None:
    invocations = payments_invocations(SERVICES[service]["command"])
    assert invocations, f"{service} runs no payments command"
    for argv in invocations:
        sub = main.commands.get(argv[1])
        assert sub is not None, f"{service}: no command payments {argv[1]}"
        used = {a for a in argv[2:] if a.startswith("--")}
        assert used <= option_names(sub), f"{service}: unknown options {used - option_names(sub)}"


@pytest.mark.parametrize("service", ["simulator", "runner", "demo"])
def test_environment_names_are_settings(service: str) -> None:
    env = SERVICES[service].get("environment", {})
    unknown = set(env) - set(ENVIRONMENT)
    assert not unknown, f"{service} sets variables the runner never reads: {unknown}"


def test_ports_and_urls_line_up() -> None:
    runner_env = SERVICES["runner"]["environment"]
    runner_port = runner_env["PAYMENTS_PORT"]
    assert f"{runner_port}:{runner_port}" in SERVICES["runner"]["ports"]
    assert runner_env["PAYMENTS_HOST"] == "0.0.0.0", "inside a container serve must listen on all interfaces"

    sim_cmd = SERVICES["simulator"]["command"]
    sim_port = sim_cmd[sim_cmd.index("--port") + 1]
    assert f"{sim_port}:{sim_port}" in SERVICES["simulator"]["ports"]
    assert urlsplit(runner_env["MIDTRANS_API_BASE_URL"]).netloc == f"simulator:{sim_port}"

    notify = urlsplit(sim_cmd[sim_cmd.index("--notify-url") + 1])
    assert notify.netloc == f"runner:{runner_port}" and notify.path == "/midtrans/notification"

    db_env = SERVICES["db"]["environment"]
    for service in ("runner", "demo"):
        url = urlsplit(SERVICES[service]["environment"]["PAYMENTS_DATABASE_URL"])
        assert (url.hostname, url.port, url.password) == ("db", 5432, db_env["POSTGRES_PASSWORD"])
    assert urlsplit(runner_env["PAYMENTS_DATABASE_URL"]).path == "/" + db_env["POSTGRES_DB"]
    demo_db = urlsplit(SERVICES["demo"]["environment"]["PAYMENTS_DATABASE_URL"]).path.lstrip("/")
    init = (ROOT / "db/initdb/10-demo-database.sql").read_text()
    assert f"CREATE DATABASE {demo_db};" in init, "the demo's database is created at db init"


def test_same_server_key_for_simulator_and_runner() -> None:
    keys = {SERVICES[s]["environment"]["MIDTRANS_SERVER_KEY"] for s in ("simulator", "runner")}
    assert len(keys) == 1


def test_build_contexts_exist_and_db_image_has_the_extensions() -> None:
    assert (ROOT / "Dockerfile").exists()
    db_dockerfile = (ROOT / SERVICES["db"]["build"]["context"] / "Dockerfile").read_text()
    assert "postgresql-15-pgtap" in db_dockerfile and "postgresql-15-cron" in db_dockerfile
    assert "shared_preload_libraries=pg_cron" in db_dockerfile
    runner_dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["payments", "serve"]' in runner_dockerfile
