"""A lean HTTP/1.1 keep-alive transport for httpx: the runner's calls to Midtrans.

Why not httpx's own transport: every confirmed notification and every order
a sync checks makes one Status API call, and under load httpx's default
transport (httpcore's pool on anyio) spent 3.2 ms of CPU per call at 16
calls in flight, 4.4 ms at 64, against 0.7 ms through this transport (same
httpx client, same simulator on loopback; docs/BENCHMARKS.md). The pool
scans every connection twice per request and asks each idle one whether its
socket is readable, through an attribute dict anyio builds per question; the
cost grows with the calls in flight, which is when it matters.

What it does, and no more: HTTP/1.1 over asyncio streams, TLS with httpx's
default context (certifi's roots, ``SSL_CERT_FILE``) and the host name
checked, h11 (the parser httpx's own transport uses) for the framing, one
stack of idle connections per origin (the most recently used first), at most
``max_connections`` open at once (a request waits for a free one up to the
pool timeout), an idle connection dropped after ``keepalive_expiry`` or once
the server has closed it, and a GET on a reused connection that the server
closed before answering sent once more on a new connection (the race every
keep-alive client meets; a POST is never sent twice). Bodies are read whole,
at most ``MAX_BODY`` bytes: Midtrans answers are a few kilobytes. Errors are
httpx's exception classes (ConnectError, ConnectTimeout, PoolTimeout,
ReadTimeout, WriteTimeout, ReadError, WriteError, RemoteProtocolError), so a
caller handles them as it would handle httpx's own transport.

Not here: proxies (runner.midtrans keeps httpx's own transport when a proxy
environment variable applies to the Midtrans host), HTTP/2, streamed bodies,
protocol upgrades, and Happy Eyeballs: a host's addresses are tried one after
another within the connect timeout (uvloop's create_connection takes no
happy_eyeballs_delay), so a host whose first address drops packets times out
where httpx's own transport would race the next one.
"""

from __future__ import annotations

import asyncio
import ssl
import time

import h11
import httpx

#: the largest answer body read; a bigger one is a RemoteProtocolError
MAX_BODY = 4 * 1024 * 1024
READ_SIZE = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
#: methods safe to send again when a reused connection turns out closed
RESENDABLE = frozenset({"GET", "HEAD"})


class _Stale(Exception):
    """The server closed a reused connection before sending any byte of an answer."""


class _Connection:
    __slots__ = ("idle_since", "protocol", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.protocol = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0

    def reusable(self, now: float, expiry: float) -> bool:
        """Idle for less than ``expiry``, not closed by the server meanwhile
        (asyncio reads an idle socket's EOF or reset as it arrives), and with
        nothing received while idle: a server or load balancer may say
        ``408 Request Timeout`` before it closes an idle connection, and those
        bytes must never be read as the next request's answer. StreamReader
        has no public look at its buffer; a rename would fail every test."""
        return (now - self.idle_since < expiry and not self.reader._buffer
                and not self.reader.at_eof() and self.reader.exception() is None
                and not self.writer.is_closing())

    def close(self) -> None:
        self.writer.close()


class LeanTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, max_connections: int = 64, keepalive_expiry: float = 5.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._slots = asyncio.Semaphore(max_connections)
        self._keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection within the pool timeout", request=request) from None
        try:
            return await self._send(request, timeouts)
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        self._closed = True
        for stack in self._idle.values():
            for connection in stack:
                connection.close()
        self._idle.clear()

    # -- one request -----------------------------------------------------------

    async def _send(self, request: httpx.Request, timeouts: dict[str, float | None]) -> httpx.Response:
        url = request.url
        origin = (url.scheme, url.host, url.port or DEFAULT_PORTS.get(url.scheme, 80))
        if url.scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"{url.scheme!r} is not http or https", request=request)
        body = await request.aread()
        while True:
            connection = self._take_idle(origin)
            reused = connection is not None
            if connection is None:
                connection = await self._connect(request, origin, timeouts)
            try:
                status, headers, reason, content, version = await self._exchange(
                    connection, request, body, timeouts, reused)
            except _Stale:
                connection.close()
                if request.method in RESENDABLE:
                    continue   # on the next idle one, else a new one (which cannot be stale)
                raise httpx.RemoteProtocolError("the server closed a kept-alive connection without "
                                                "answering", request=request) from None
            except BaseException:
                connection.close()   # half a request or answer on it (also when cancelled)
                raise
            self._put_idle(origin, connection)
            return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content),
                                  extensions={"http_version": version, "reason_phrase": reason})

    def _take_idle(self, origin: tuple[str, str, int]) -> _Connection | None:
        stack = self._idle.get(origin)
        if not stack:
            return None
        now = time.monotonic()
        self._prune(stack, now)
        while stack:
            connection = stack.pop()
            if connection.reusable(now, self._keepalive_expiry):
                return connection
            connection.close()
        return None

    def _prune(self, stack: list[_Connection], now: float) -> None:
        """Closes the connections at the bottom of an idle stack that expired or
        were closed by the server: after a burst, steady traffic only ever takes
        the top one, and the rest would otherwise stay open until the next burst."""
        while stack and not stack[0].reusable(now, self._keepalive_expiry):
            stack.pop(0).close()

    def _put_idle(self, origin: tuple[str, str, int], connection: _Connection) -> None:
        protocol = connection.protocol
        if (self._closed or protocol.our_state is not h11.DONE or protocol.their_state is not h11.DONE
                or protocol.trailing_data[0]):
            # "Connection: close", an answer ended by closing, or bytes past the
            # answer's end (never to be read as the next request's answer)
            connection.close()
            return
        protocol.start_next_cycle()
        now = time.monotonic()
        connection.idle_since = now
        stack = self._idle.setdefault(origin, [])
        stack.append(connection)
        self._prune(stack, now)

    async def _connect(self, request: httpx.Request, origin: tuple[str, str, int],
                       timeouts: dict[str, float | None]) -> _Connection:
        scheme, host, port = origin
        tls = self._tls() if scheme == "https" else None
        try:
            async with asyncio.timeout(timeouts.get("connect")):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None, limit=READ_SIZE)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out", request=request) from None
        except (OSError, ssl.SSLError) as exc:   # refused, unreachable, DNS, certificate
            raise httpx.ConnectError(f"{host}:{port}: {exc}", request=request) from None
        return _Connection(reader, writer)

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    async def _exchange(self, connection: _Connection, request: httpx.Request, body: bytes,
                        timeouts: dict[str, float | None], reused: bool
                        ) -> tuple[int, list[tuple[bytes, bytes]], bytes, bytes, bytes]:
        protocol = connection.protocol
        try:
            data = protocol.send(h11.Request(method=request.method, target=request.url.raw_path,
                                             headers=request.headers.raw))
            if body:
                data += protocol.send(h11.Data(data=body))
            data += protocol.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc), request=request) from None
        try:
            async with asyncio.timeout(timeouts.get("write")):
                connection.writer.write(data)
                await connection.writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout("writing the request timed out", request=request) from None
        except OSError as exc:
            if reused:
                raise _Stale from None
            raise httpx.WriteError(str(exc), request=request) from None

        answer: h11.Response | None = None
        chunks: list[bytes] = []
        size = 0
        received = False
        while True:
            try:
                event = protocol.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(f"malformed answer: {exc}", request=request) from None
            if event is h11.NEED_DATA:
                data = await self._read(connection, request, timeouts.get("read"), reused and not received)
                received = received or bool(data)
                protocol.receive_data(data)   # b"" tells h11 the server closed the connection
            elif isinstance(event, h11.Response):
                answer = event
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_BODY:
                    raise httpx.RemoteProtocolError(f"answer body over {MAX_BODY} bytes", request=request)
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise httpx.RemoteProtocolError("the server closed the connection mid-answer",
                                                request=request)
            elif event is h11.PAUSED:   # 101 Switching Protocols, or a CONNECT tunnel: not for us
                raise httpx.RemoteProtocolError("the server switched protocols", request=request)
            # h11.InformationalResponse (1xx): wait for the final answer
        assert answer is not None
        return (answer.status_code, list(answer.headers.raw_items()), answer.reason, b"".join(chunks),
                b"HTTP/" + answer.http_version)

    async def _read(self, connection: _Connection, request: httpx.Request, timeout: float | None,
                    may_be_stale: bool) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                data = await connection.reader.read(READ_SIZE)
        except TimeoutError:
            raise httpx.ReadTimeout("no answer within the read timeout", request=request) from None
        except OSError as exc:
            if may_be_stale:
                raise _Stale from None
            raise httpx.ReadError(str(exc), request=request) from None
        if not data and may_be_stale:
            raise _Stale
        return data
