"""Every pgTAP file under db/tests/<function>/ as one pytest test.

Each file runs with pg_prove against its own fresh clone of the migrated
template; a failing assertion, an error or a plan mismatch fails the test and
prints pg_prove's report.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pgserver import Server

PGTAP_DIR = Path(__file__).resolve().parent.parent / "db" / "tests"
FILES = sorted(p for p in PGTAP_DIR.glob("*/*.sql"))


def test_pgtap_files_exist() -> None:
    assert len(FILES) >= 50, f"expected the pgTAP suite under {PGTAP_DIR}, found {len(FILES)} files"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_pgtap(path: Path, pg_server: Server, has_pgtap: bool, request, record_property) -> None:
    if not has_pgtap:
        pytest.skip("pgTAP not installed on this server")
    db_url: str = request.getfixturevalue("db_url")  # after the skip: no clone for a skipped file
    assert shutil.which("pg_prove"), "pg_prove not found: install libtap-parser-sourcehandler-pgtap-perl"
    dbname = db_url.rsplit("/", 1)[1].split("?")[0]
    # the psql of the server under test when the harness started it (PAYMENTS_TEST_PG)
    psql = pg_server.bin_dir / "psql" if pg_server.bin_dir else None
    psql_bin = ["--psql-bin", str(psql)] if psql and psql.exists() else []
    proc = subprocess.run(
        ["pg_prove", *psql_bin, "--verbose", "--failures", "--dbname", dbname, str(path)],
        capture_output=True, text=True, env={**os.environ, **pg_server.conninfo}, timeout=300,
    )
    output = proc.stdout + proc.stderr
    planned = re.search(r"^\s*1\.\.(\d+)", output, re.M)
    record_property("pgtap_assertions", int(planned.group(1)) if planned else 0)
    assert planned and proc.returncode == 0, f"pg_prove {path.name}:\n{output}"
