"""Where the SQL that ships with the runner lives."""

from __future__ import annotations

import os
from pathlib import Path


def db_dir() -> Path:
    """The ``db/`` folder: migrations, functions, grants and pgTAP tests.

    ``PAYMENTS_DB_DIR`` overrides it; by default it sits next to the package
    (the project is installed editable from its checkout).
    """
    override = os.environ.get("PAYMENTS_DB_DIR")
    path = Path(override) if override else Path(__file__).resolve().parent.parent / "db"
    if not (path / "migrations").is_dir():
        raise FileNotFoundError(f"no db/migrations under {path} (set PAYMENTS_DB_DIR)")
    return path
