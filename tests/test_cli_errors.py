"""A database URL that libpq or Python cannot parse: every command ends with one
line, no traceback, and the password is not in it (libpq quotes the malformed
percent-encoded token, or the whole URI, in its message)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.servers import ROOT

PASSWORD = "s3cr%ZZet-hunter2"          # a literal % is common in passwords
MALFORMED = {
    "percent": f"postgresql://shop:{PASSWORD}@127.0.0.1:1/shop",
    "ipv6": f"postgresql://shop:{PASSWORD}@[127.0.0.1/shop",
}
COMMANDS = [["migrate"], ["runs"], ["audit"], ["alerts"], ["order", "X-1"], ["sync", "--once"],
            ["reconcile", "--once"], ["prune"], ["schedule-cron", "--list"], ["serve"], ["demo"]]


@pytest.mark.parametrize("kind", sorted(MALFORMED))
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_malformed_url_gives_one_line_without_the_password(kind: str, command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYMENTS_", "PG"))}
    env.update(PAYMENTS_DATABASE_URL=MALFORMED[kind], MIDTRANS_SERVER_KEY="SB-Mid-server-test",
               MIDTRANS_API_BASE_URL="http://127.0.0.1:1")
    result = subprocess.run([sys.executable, "-m", "runner.cli", *command], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode in (1, 2), output
    assert "Traceback" not in output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in (PASSWORD, "s3cr", "hunter2"):
        assert fragment not in output, output


def test_log_lines_never_carry_the_database_password_whoever_logs_them(monkeypatch) -> None:
    """psycopg's pool logs libpq's message as is; the handler's filter removes the
    password (as written and decoded), a quoted URI and a malformed token."""
    import io
    import logging

    from runner import logs

    monkeypatch.setenv("PAYMENTS_DATABASE_URL", "postgresql://shop:p%40ss-hunter2@db:5432/shop")
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        logs.configure("json", "INFO", stream)
        pool_log = logging.getLogger("psycopg.pool")
        pool_log.warning("error connecting in %r: %s", "pool-1", 'password "p@ss-hunter2" rejected')
        pool_log.warning("bad URI: %s", '"postgresql://shop:p%40ss-hunter2@[db/shop"')
        pool_log.warning("invalid percent-encoded token: \"zz%ZZ\"")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    output = stream.getvalue()
    assert len(output.splitlines()) == 3
    assert "hunter2" not in output and "zz%ZZ" not in output, output
