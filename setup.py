"""Build hook: the SQL the runner applies ships inside the package.

The repository keeps its SQL at the top level (``db/migrations``,
``db/functions``, ``db/views``, ``db/grants.sql``); a regular build copies
them into ``runner/sql/`` of the built package, where ``runner.paths`` finds
them through ``importlib.resources``. An editable install copies nothing: the
runner then reads the checkout's ``db/`` directly. pgTAP tests (``db/tests``)
do not ship. Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("migrations", "functions", "views", "grants.sql")


class BuildPyWithSql(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "runner" / "sql"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in SHIPPED:
            source = ROOT / "db" / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("*~", "*.pyc"))
            else:
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildPyWithSql})
