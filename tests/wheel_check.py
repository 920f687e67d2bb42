"""The built wheel, installed outside the checkout, migrates a fresh database.

Used by tests/test_package.py and by scripts/check-wheel (CI). Steps: build
the wheel (``pip wheel --no-deps``), install it into a new virtualenv in a
temporary folder, then from another temporary folder -- so nothing of the
checkout is importable or readable -- run ``payments migrate``, ``payments
runs`` and ``payments migrate`` again against a new, empty database.

Two ways to give that virtualenv the dependencies:

- ``full``: ``pip install -c constraints.txt <wheel>`` from the package index,
  exactly what a shop does (CI, scripts/check-wheel);
- ``offline``: ``pip install --no-deps <wheel>`` plus a ``.pth`` line pointing
  at the running interpreter's site-packages for the dependencies (the test
  suite; no network). A ``.pth`` line adds the folder to ``sys.path`` without
  running that folder's own ``.pth`` files, so the checkout's editable install
  is not activated: ``runner`` comes from the wheel.

Run as ``python -m tests.wheel_check [--offline]``: one server from
tests/pgserver.py, a database on it, the checks, everything removed after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"


class WheelCheckError(AssertionError):
    """A step of the check did not do what a shop would expect."""


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def _checked(cmd: list[str], what: str, **kw) -> subprocess.CompletedProcess:
    proc = _run(cmd, **kw)
    if proc.returncode != 0:
        raise WheelCheckError(f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


# what a build needs; left out: the virtualenv, git, caches, earlier build output
_NOT_BUILT = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__",
                                    ".hypothesis", ".payments", ".pgdata", ".pytest_cache", ".ruff_cache",
                                    "tests", "bench")


def build_wheel(out_dir: Path) -> Path:
    """Build the project's wheel into `out_dir` (no dependencies), from a copy of
    the source, so no stale build/ folder leaks in and parallel builds do not collide."""
    source = out_dir / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_BUILT)
    _checked([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out_dir), str(source)],
             "pip wheel", cwd=out_dir)
    shutil.rmtree(source)
    wheels = sorted(out_dir.glob("midtrans_payment_finality-*.whl"))
    if not wheels:
        raise WheelCheckError(f"pip wheel produced no wheel in {out_dir}")
    return wheels[-1]


def install_wheel(wheel: Path, venv: Path, *, offline: bool) -> Path:
    """A new virtualenv at `venv` with the wheel installed; returns its bin folder."""
    _checked([sys.executable, "-m", "venv", str(venv)], "python -m venv")
    bin_dir = venv / "bin"
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if offline:
        _checked([*pip, "--no-deps", "--no-index", str(wheel)], "pip install --no-deps <wheel>")
        purelib = Path(_checked([str(bin_dir / "python"), "-c",
                                 "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                "locating the virtualenv's site-packages").stdout.strip())
        deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        (purelib / "zz_payments_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    else:
        constraints = ["-c", str(CONSTRAINTS)] if CONSTRAINTS.exists() else []
        _checked([*pip, *constraints, str(wheel)], "pip install <wheel>")
    return bin_dir


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PAYMENTS_DB_DIR", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, **extra}


@dataclass
class WheelResult:
    db_dir: str
    first: str
    runs: str
    second: str


def check_installed(bin_dir: Path, database_url: str, workdir: Path) -> WheelResult:
    """Run the installed `payments` from `workdir` against an empty database."""
    env = _clean_env({"PAYMENTS_DATABASE_URL": database_url})
    where = _checked([str(bin_dir / "python"), "-c",
                      "import runner, runner.paths as p; print(runner.__file__); print(p.db_dir())"],
                     "import runner from the installed wheel", cwd=workdir, env=env).stdout.split()
    if str(ROOT) in " ".join(where):
        raise WheelCheckError(f"the installed package resolves into the checkout: {where}")
    payments = str(bin_dir / "payments")
    first = _checked([payments, "migrate"], "payments migrate", cwd=workdir, env=env).stdout
    if "applied 0001.create-schema" not in first:
        raise WheelCheckError(f"first migrate applied nothing: {first}")
    runs = _checked([payments, "runs"], "payments runs", cwd=workdir, env=env).stdout
    second = _checked([payments, "migrate"], "payments migrate (again)", cwd=workdir, env=env).stdout
    if "no migration pending" not in second or "(unchanged)" not in second:
        raise WheelCheckError(f"second migrate was not a no-op: {second}")
    return WheelResult(db_dir=where[1], first=first.strip(), runs=runs.strip(), second=second.strip())


def main(argv: list[str] | None = None) -> int:
    from tests.pgserver import provision, wait_until_ready

    parser = argparse.ArgumentParser(prog="scripts/check-wheel", description=__doc__.split("\n")[0])
    parser.add_argument("--offline", action="store_true",
                        help="install the wheel with --no-deps, dependencies from this interpreter")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="payments-wheel-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "dist").mkdir()
        (tmp_path / "work").mkdir()
        wheel = build_wheel(tmp_path / "dist")
        print(f"check-wheel: built {wheel.name}", flush=True)
        bin_dir = install_wheel(wheel, tmp_path / "venv", offline=args.offline)
        print(f"check-wheel: installed into {tmp_path / 'venv'}"
              f" ({'offline, --no-deps' if args.offline else 'dependencies from the index, constrained'})",
              flush=True)
        server = provision()
        try:
            wait_until_ready(server)
            name = f"wheel_check_{os.getpid()}"
            server.drop_database(name)
            url = server.create_database(name)
            try:
                result = check_installed(bin_dir, url, tmp_path / "work")
            finally:
                server.drop_database(name)
        finally:
            server.stop()
    print(f"check-wheel: SQL read from {result.db_dir}")
    print(f"check-wheel: migrate: {result.first}")
    print(f"check-wheel: runs: {result.runs or '(none yet)'}")
    print(f"check-wheel: migrate again: {result.second}")
    print(f"check-wheel: ok in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except WheelCheckError as exc:
        print(f"check-wheel: FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
