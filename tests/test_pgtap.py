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
def test_pgtap(path: Path, pg_server: Server, db_url: str, record_property) -> None:
    assert shutil.which("pg_prove"), "pg_prove not found: install libtap-parser-sourcehandler-pgtap-perl"
    dbname = db_url.rsplit("/", 1)[1].split("?")[0]
    proc = subprocess.run(
        ["pg_prove", "--verbose", "--failures", "--dbname", dbname, str(path)],
        capture_output=True, text=True, env={**os.environ, **pg_server.conninfo}, timeout=300,
    )
    output = proc.stdout + proc.stderr
    planned = re.search(r"^\s*1\.\.(\d+)", output, re.M)
    record_property("pgtap_assertions", int(planned.group(1)) if planned else 0)
    assert planned and proc.returncode == 0, f"pg_prove {path.name}:\n{output}"
