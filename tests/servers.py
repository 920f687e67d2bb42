"""Run ASGI apps and `payments` subprocesses on loopback for integration tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tests.pgserver import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def asgi_server(app, port: int | None = None) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a background thread; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("ASGI server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def payments_process(*args: str, env: dict[str, str] | None = None,
                     ready_url: str | None = None) -> Iterator[subprocess.Popen]:
    """Start `payments ARGS` as a real process; stop it with SIGTERM at the end."""
    proc = subprocess.Popen([sys.executable, "-m", "runner.cli", *args], cwd=ROOT,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        if ready_url:
            wait_http(ready_url)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class Receiver:
    """A notification endpoint (an ASGI app) recording every request.

    ``/status/N`` answers N; ``/sleep/S`` sleeps S seconds, then 200;
    ``/r/CODE/N`` answers CODE with a relative Location to ``/r/CODE/N-1`` and
    ``/a/CODE/N`` with an absolute one, until N is 0 (then 200); anything else
    answers 200.
    """

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any],
                       send: Callable[..., Any]) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                reply = {"lifespan.startup": "lifespan.startup.complete",
                         "lifespan.shutdown": "lifespan.shutdown.complete"}[message["type"]]
                await send({"type": reply})
                if message["type"] == "lifespan.shutdown":
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        with self.lock:
            self.calls.append({"path": scope["path"], "method": scope["method"], "body": body,
                               "time": time.monotonic()})
        parts = scope["path"].strip("/").split("/")
        status, headers = 200, []
        if parts[0] == "status":
            status = int(parts[1])
        elif parts[0] == "sleep":
            await asyncio.sleep(float(parts[1]))
        elif parts[0] in ("r", "a") and len(parts) == 3 and int(parts[2]) > 0:
            status = int(parts[1])
            target = f"/{parts[0]}/{parts[1]}/{int(parts[2]) - 1}"
            if parts[0] == "a":
                host = dict(scope["headers"])[b"host"].decode()
                target = f"http://{host}{target}"
            headers = [(b"location", target.encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})
        await asyncio.sleep(0)

    def bodies(self, oid: str, prefix: str = "/") -> list[dict[str, Any]]:
        """The JSON bodies received for order ``oid`` on paths starting with ``prefix``."""
        with self.lock:
            calls = [c for c in self.calls if c["path"].startswith(prefix)]
        return [b for b in (json.loads(c["body"]) for c in calls) if b.get("order_id") == oid]
