"""Where the SQL that ships with the runner lives.

Everything is found through ``importlib.resources`` on the ``runner`` package:

- an installed package (``pip install .``, the wheel) carries the SQL in
  ``runner/sql/`` (migrations, functions, views, grants.sql), copied from the
  repository's ``db/`` at build time by setup.py;
- an editable install (``pip install -e .``, scripts/setup) has no
  ``runner/sql/``: the checkout's ``db/`` beside the package is used;
- ``PAYMENTS_DB_DIR`` overrides both.

The named queries (``queries.sql``, ``reports.sql``) sit in the package itself.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def _package_dir() -> Path:
    # a regular (unzipped) install: the Traversable is a filesystem path
    return Path(str(resources.files("runner")))


def package_file(name: str) -> Path:
    """A file shipped inside the runner package (e.g. ``queries.sql``)."""
    return _package_dir() / name


def db_dir() -> Path:
    """The folder holding ``migrations/``, ``functions/``, ``views/`` and ``grants.sql``."""
    override = os.environ.get("PAYMENTS_DB_DIR")
    if override:
        candidates = [Path(override)]
    else:
        package = _package_dir()
        candidates = [package / "sql", package.parent / "db"]
    for path in candidates:
        if (path / "migrations").is_dir():
            return path
    where = " or ".join(str(p) for p in candidates)
    hint = "" if override else " (reinstall the package, or set PAYMENTS_DB_DIR to a db/ folder)"
    raise FileNotFoundError(f"no migrations under {where}{hint}")
