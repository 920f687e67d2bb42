"""runner/transport.py, the lean HTTP/1.1 transport of the Midtrans client,
against a real server on loopback that misbehaves on purpose: keep-alive and
its limits, the bound on open connections, timeouts, a cancelled request,
servers that close connections (idle, mid-answer, before answering), chunked
and gzip bodies, the body cap, TLS verification, and proxies (which keep
httpx's own transport)."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import ssl
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from runner.midtrans import Found, MidtransClient
from runner.transport import MAX_BODY, LeanTransport


class Server:
    """A small HTTP/1.1 server on 127.0.0.1 in its own thread and event loop.

    Paths: /ok (JSON, keep-alive), /slow/MS (answers after MS ms), /close
    ("Connection: close"), /drop (answers, then closes the idle connection
    silently), /doom (answers; the next request on that connection is read and
    the connection closed without an answer), /gzip (chunked, gzip), /big (one
    byte over the client's cap), /midway (closes halfway through the body),
    /garbage (not HTTP), /until-close (no length: the body ends at close).
    Anything else: a Midtrans-like status answer naming the request target."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.requests: list[tuple[str, str]] = []
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Server:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()
        server.close()
        pending = asyncio.all_tasks(self.loop)   # connections still open: end them before the loop
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        doomed = False
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in
                           (line.split(":", 1) for line in lines[1:] if ":" in line)}
                if int(headers.get("content-length", "0")):
                    await reader.readexactly(int(headers["content-length"]))
                self.requests.append((method, target))
                if doomed:
                    return
                if not await self._answer(method, target, writer):
                    return
                doomed = target == "/doom"
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.open -= 1
            writer.close()

    async def _answer(self, method: str, target: str, writer: asyncio.StreamWriter) -> bool:
        """Writes the answer; False when the connection is to be closed after it."""
        def send(status: str, body: bytes, *extra: str) -> None:
            head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Content-Type: application/json",
                    *extra]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)

        if target.startswith("/slow/"):
            await asyncio.sleep(int(target.rsplit("/", 1)[1]) / 1000)
        if target == "/close":
            send("200 OK", b'{"closing": true}', "Connection: close")
            return False
        if target == "/drop":
            send("200 OK", b'{"dropping": true}')
            await writer.drain()
            return False
        if target == "/408-later":   # answers, then says 408 on the idle connection and closes it
            send("200 OK", b'{"first": true}')
            await writer.drain()
            await asyncio.sleep(0.05)
            send("408 Request Timeout", b"", "Connection: close")
            await writer.drain()
            return False
        if target == "/trailing":   # an answer with a second one stuck to its end
            send("200 OK", b'{"answer": true}')
            send("200 OK", b'{"extra": true}')
            return True
        if target == "/upgrade":
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: other\r\nConnection: Upgrade\r\n\r\n")
            await writer.drain()
            return False
        if target == "/gzip":
            body = gzip.compress(json.dumps({"transaction_status": "settlement"}).encode())
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n")
            for piece in (body[:10], body[10:]):
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            writer.write(b"0\r\n\r\n")
            return True
        if target == "/big":
            send("200 OK", b"x" * (MAX_BODY + 1))
            return True
        if target == "/midway":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
            await writer.drain()
            return False
        if target == "/garbage":
            writer.write(b"NOT HTTP AT ALL\r\n\r\n")
            await writer.drain()
            return False
        if target == "/until-close":
            writer.write(b'HTTP/1.1 200 OK\r\n\r\n{"until": "close"}')
            await writer.drain()
            return False
        if target == "/ok" or target.startswith(("/slow/", "/doom")):
            send("200 OK", json.dumps({"target": target, "n": len(self.requests)}).encode())
            return True
        send("200 OK", json.dumps({"status_code": "200", "transaction_status": "settlement",
                                   "target": target}).encode())
        return True


@contextmanager
def server(tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    with Server(tls) as s:
        yield s


def run(coroutine):
    return asyncio.run(coroutine)


def client(base: str, **transport_args) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, transport=LeanTransport(**transport_args), timeout=5.0)


def test_keep_alive_reuses_one_connection() -> None:
    with server() as s:
        async def main() -> list[dict]:
            async with client(s.url) as c:
                return [(await c.get("/ok")).json() for _ in range(20)]
        answers = run(main())
    assert [a["n"] for a in answers] == list(range(1, 21))
    assert s.connections == 1


def test_at_most_max_connections_are_open() -> None:
    with server() as s:
        async def main() -> list[int]:
            async with client(s.url, max_connections=3) as c:
                answers = await asyncio.gather(*(c.get("/slow/100") for _ in range(12)))
                return [a.status_code for a in answers]
        assert run(main()) == [200] * 12
    assert s.most_open == 3
    assert s.connections == 3
    assert len(s.requests) == 12


def test_a_request_waiting_past_the_pool_timeout_fails() -> None:
    with server() as s:
        async def main() -> tuple[int, BaseException | httpx.Response]:
            async with httpx.AsyncClient(base_url=s.url, transport=LeanTransport(max_connections=1),
                                         timeout=httpx.Timeout(5.0, pool=0.1)) as c:
                slow = asyncio.create_task(c.get("/slow/600"))
                await asyncio.sleep(0.05)
                waiting = await asyncio.gather(c.get("/ok"), return_exceptions=True)
                return (await slow).status_code, waiting[0]
        status, waiting = run(main())
    assert status == 200
    assert isinstance(waiting, httpx.PoolTimeout)
    assert ("GET", "/ok") not in s.requests


def test_a_read_timeout_drops_the_connection() -> None:
    with server() as s:
        async def main() -> dict:
            async with httpx.AsyncClient(base_url=s.url, transport=LeanTransport(),
                                         timeout=httpx.Timeout(5.0, read=0.1)) as c:
                with pytest.raises(httpx.ReadTimeout):
                    await c.get("/slow/400")
                return (await c.get("/ok")).json()
        answer = run(main())
    # the late answer to /slow/400 is never read as the answer to /ok
    assert answer["target"] == "/ok"
    assert s.connections == 2


def test_a_cancelled_request_does_not_leave_its_answer_for_the_next_one() -> None:
    with server() as s:
        async def main() -> dict:
            async with client(s.url, max_connections=1) as c:
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(c.get("/slow/300"), 0.05)
                await asyncio.sleep(0.4)   # the slow answer arrives meanwhile, on the old connection
                return (await c.get("/ok")).json()
        answer = run(main())
    assert answer["target"] == "/ok"
    assert s.connections == 2


def test_connection_close_and_a_body_ended_by_close_are_not_reused() -> None:
    with server() as s:
        async def main() -> list[dict]:
            async with client(s.url) as c:
                return [(await c.get(path)).json() for path in ("/close", "/until-close", "/ok")]
        answers = run(main())
    assert answers == [{"closing": True}, {"until": "close"}, {"target": "/ok", "n": 3}]
    assert s.connections == 3


def test_a_connection_the_server_closed_while_idle_is_not_used() -> None:
    with server() as s:
        async def main() -> dict:
            async with client(s.url) as c:
                await c.get("/drop")
                await asyncio.sleep(0.2)   # the server's FIN has arrived
                return (await c.get("/ok")).json()
        answer = run(main())
    assert answer["target"] == "/ok"
    assert s.connections == 2
    assert s.requests == [("GET", "/drop"), ("GET", "/ok")]   # not sent on the closed one


def test_a_get_on_a_connection_closed_before_answering_is_sent_again_a_post_is_not() -> None:
    with server() as s:
        async def main() -> tuple[dict, BaseException | httpx.Response]:
            async with client(s.url) as c:
                await c.get("/doom")
                got = (await c.get("/ok")).json()
                await c.post("/doom", json={"a": 1})
                posted = await asyncio.gather(c.post("/ok", json={"a": 2}), return_exceptions=True)
                return got, posted[0]
        got, posted = run(main())
    assert got["target"] == "/ok"
    assert isinstance(posted, httpx.RemoteProtocolError)
    counts = Counter(s.requests)
    assert counts[("GET", "/ok")] == 2       # once on the closed connection, once on a new one
    assert counts[("POST", "/ok")] == 1      # never twice: the server may have acted on it


def test_chunked_gzip_answers_are_decoded() -> None:
    with server() as s:
        async def main() -> dict:
            async with client(s.url) as c:
                first = (await c.get("/gzip")).json()
                assert (await c.get("/ok")).status_code == 200
                return first
        assert run(main()) == {"transaction_status": "settlement"}
    assert s.connections == 1


@pytest.mark.parametrize("path, message", [("/big", "over"), ("/midway", "closed"),
                                           ("/garbage", "malformed")])
def test_broken_answers_are_protocol_errors(path: str, message: str) -> None:
    with server() as s:
        async def main() -> dict:
            async with client(s.url) as c:
                with pytest.raises(httpx.RemoteProtocolError, match=message):
                    await c.get(path)
                return (await c.get("/ok")).json()
        assert run(main())["target"] == "/ok"


def test_nothing_listening_is_a_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]   # bound, not listening: connections are refused

        async def main() -> None:
            async with client(f"http://127.0.0.1:{port}") as c:
                await c.get("/ok")
        with pytest.raises(httpx.ConnectError):
            run(main())


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_tls_is_verified(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))
    with server(tls=served) as s:
        async def main() -> tuple[dict, BaseException | httpx.Response]:
            async with client(s.url, ssl_context=trusting) as c:
                first = (await c.get("/ok")).json()
                second = (await c.get("/ok")).json()
                assert second["n"] == first["n"] + 1
            async with client(s.url) as c:   # the default roots do not know this certificate
                refused = await asyncio.gather(c.get("/ok"), return_exceptions=True)
            return first, refused[0]
        first, refused = run(main())
    assert first["target"] == "/ok"
    assert isinstance(refused, httpx.ConnectError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused)


def test_midtrans_client_uses_the_lean_transport_and_a_proxy_when_one_is_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with server() as s:
        async def ask(base: str) -> Found:
            async with MidtransClient(base, "SB-Mid-server-test", timeout=5, retries=0) as c:
                return await c.status("ORDER-1")

        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        direct = run(ask(s.url))
        assert direct.body["target"] == "/v2/ORDER-1/status"

        # with HTTP_PROXY set, the request goes to the proxy in absolute form
        monkeypatch.setenv("HTTP_PROXY", s.url)
        proxied = run(ask("http://api.midtrans.invalid"))
        assert proxied.body["target"] == "http://api.midtrans.invalid/v2/ORDER-1/status"


def test_ssl_cert_file_replaces_the_ca_bundle(certificate: tuple[Path, Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = certificate
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with server(tls=served) as s:
        async def main() -> dict:
            async with client(s.url) as c:
                return (await c.get("/ok")).json()
        assert run(main())["target"] == "/ok"


def test_bytes_received_on_an_idle_connection_are_never_the_next_answer() -> None:
    with server() as s:
        async def main() -> tuple[dict, httpx.Response]:
            async with client(s.url) as c:
                first = (await c.get("/408-later")).json()
                await asyncio.sleep(0.3)   # the 408 and the close arrive while the connection is idle
                return first, await c.post("/ok", json={"refund": 1})
        first, answer = run(main())
    assert first == {"first": True}
    assert answer.status_code == 200 and answer.json()["target"] == "/ok"
    assert s.requests == [("GET", "/408-later"), ("POST", "/ok")]
    assert s.connections == 2


def test_bytes_past_the_end_of_an_answer_close_the_connection() -> None:
    with server() as s:
        async def main() -> list[dict]:
            async with client(s.url) as c:
                return [(await c.get(path)).json() for path in ("/trailing", "/ok")]
        assert run(main()) == [{"answer": True}, {"target": "/ok", "n": 2}]
    assert s.connections == 2


def test_a_switch_of_protocols_is_an_error_not_a_hang() -> None:
    with server() as s:
        async def main() -> None:
            async with client(s.url) as c:
                await c.get("/upgrade", headers={"Upgrade": "other", "Connection": "Upgrade"})
        with pytest.raises(httpx.RemoteProtocolError, match="switched protocols"):
            run(asyncio.wait_for(main(), 10))


def test_idle_connections_left_by_a_burst_are_closed_once_expired() -> None:
    with server() as s:
        async def main() -> int:
            transport = LeanTransport(keepalive_expiry=0.3)
            async with httpx.AsyncClient(base_url=s.url, transport=transport, timeout=5.0) as c:
                await asyncio.gather(*(c.get("/slow/100") for _ in range(6)))   # six connections
                for _ in range(6):   # steady traffic reuses the top one; the five below it expire
                    await c.get("/ok")
                    await asyncio.sleep(0.1)
                await asyncio.sleep(0.2)   # the closes reach the server
                return s.open
        assert run(main()) == 1   # the five expired ones were closed, not kept until the next burst
