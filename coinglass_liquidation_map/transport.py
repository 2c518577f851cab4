"""HTTP/1.1 for httpx on asyncio's own streams, the protocol spoken by h11: the transport every
client of the actor sends through (CoinGlass's, the webhook's).

httpx's default transport runs on httpcore, whose locks, events and sockets come from anyio;
loading those is most of what a cold run adds to the memory of the SDK itself. This transport
keeps httpx as the client (its requests, responses, timeouts and errors) and h11 as the HTTP/1.1
parser and serializer, and adds only what the actor's requests need: connections kept alive per
origin for a few seconds, as httpx keeps them, TLS, and whole bodies read before the response is
returned. It speaks no HTTP/2 and reads no proxy settings: where the environment names a proxy,
``client_transport`` leaves the choice to httpx, which honours it.
"""

from __future__ import annotations

import asyncio
import os
import select
import ssl
from collections import defaultdict
from collections.abc import Awaitable
from typing import TypeVar

import h11
import httpx

from coinglass_liquidation_map.tls import tls_context

Origin = tuple[str, str, int]
ResultT = TypeVar("ResultT")
READ_SIZE = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
# As httpx's own defaults: idle connections kept per origin, and for how long.
MAX_IDLE_PER_ORIGIN = 20
KEEPALIVE_EXPIRY_SECS = 5.0
PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})


def client_transport() -> httpx.AsyncBaseTransport | None:
    """The transport a client of the actor sends through: this one, or None where the
    environment names a proxy, so that httpx builds its own and honours the proxy."""
    proxied = any(key.lower() in PROXY_VARIABLES and value for key, value in os.environ.items())
    return None if proxied else AsyncioTransport()


class AsyncioTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over asyncio streams, with idle connections kept for the next request to the
    same origin."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        """``ssl_context`` verifies the servers' certificates; ``tls_context()`` by default."""
        self._ssl_context = ssl_context
        self._idle: defaultdict[Origin, list[tuple[float, _Connection]]] = defaultdict(list)
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        body = await request.aread()
        origin = _origin(request.url)
        connection = self._kept(origin) or await self._connect(origin, timeouts.get("connect"))
        try:
            response = await connection.exchange(request, body, timeouts)
        except BaseException:
            connection.close()  # half an exchange leaves the connection unusable
            raise
        idle = self._idle[origin]
        if connection.ready_for_next() and not self._closed and len(idle) < MAX_IDLE_PER_ORIGIN:
            idle.append((asyncio.get_running_loop().time(), connection))
        else:
            connection.close()
        return response

    async def aclose(self) -> None:
        self._closed = True  # a request still under way closes its connection when it ends
        idle = [connection for kept in self._idle.values() for _, connection in kept]
        self._idle.clear()
        for connection in idle:
            connection.close()

    def _kept(self, origin: Origin) -> _Connection | None:
        """An idle connection to ``origin`` that is neither too old nor closed by the server
        meanwhile, if any; the others are closed."""
        idle = self._idle[origin]
        kept_since = asyncio.get_running_loop().time() - KEEPALIVE_EXPIRY_SECS
        while idle:
            parked_at, connection = idle.pop()
            if parked_at >= kept_since and connection.open():
                return connection
            connection.close()
        return None

    async def _connect(self, origin: Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        tls = self._tls_context() if scheme == "https" else None
        try:
            reader, writer = await _within(
                timeout,
                asyncio.open_connection(host, port, ssl=tls, server_hostname=host if tls else None),
            )
        except TimeoutError as error:
            raise httpx.ConnectTimeout(f"Connecting to {host}:{port} timed out.") from error
        except OSError as error:  # refused, unreachable, no such host, or a TLS failure
            raise httpx.ConnectError(
                f"{type(error).__name__} connecting to {host}:{port}."
            ) from error
        return _Connection(reader, writer)

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:  # made when first needed: plain HTTP never needs one
            self._ssl_context = tls_context()
        return self._ssl_context


class _Connection:
    """One TCP (or TLS) connection and the HTTP/1.1 state h11 keeps of it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._h11 = h11.Connection(our_role=h11.CLIENT)

    async def exchange(
        self, request: httpx.Request, body: bytes, timeouts: dict[str, float | None]
    ) -> httpx.Response:
        """Send ``request`` and read its whole answer."""
        await self._send(request, body, timeouts.get("write"))
        head = await self._next(request, timeouts.get("read"))
        while isinstance(head, h11.InformationalResponse):  # 1xx: the answer is still to come
            head = await self._next(request, timeouts.get("read"))
        if not isinstance(head, h11.Response):
            raise httpx.RemoteProtocolError("The server answered out of turn.", request=request)
        chunks: list[bytes] = []
        event = await self._next(request, timeouts.get("read"))
        while not isinstance(event, h11.EndOfMessage):
            if isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            event = await self._next(request, timeouts.get("read"))
        return httpx.Response(
            head.status_code,
            headers=head.headers.raw_items(),
            stream=httpx.ByteStream(b"".join(chunks)),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
            request=request,
        )

    def open(self) -> bool:
        """Whether the server has not closed the connection, which it may while it is idle:
        anything to read on an idle connection is its close, whether or not the event loop has
        read it yet."""
        if self._reader.at_eof() or self._writer.transport.is_closing():
            return False
        readable, _, _ = select.select([self._writer.get_extra_info("socket")], [], [], 0)
        return not readable

    def ready_for_next(self) -> bool:
        """Whether the next request may use this connection, which is then readied for it."""
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
            return True
        return False

    def close(self) -> None:
        self._writer.close()

    async def _send(self, request: httpx.Request, body: bytes, timeout: float | None) -> None:
        try:
            head = h11.Request(
                method=request.method,
                target=request.url.raw_path,
                headers=list(request.headers.raw),
            )
            data = self._h11.send(head) or b""
            if body:
                data += self._h11.send(h11.Data(data=body)) or b""
            data += self._h11.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError as error:  # a request HTTP/1.1 cannot carry
            raise httpx.LocalProtocolError(str(error), request=request) from error
        try:
            self._writer.write(data)
            await _within(timeout, self._writer.drain())
        except TimeoutError as error:
            raise httpx.WriteTimeout("Sending the request timed out.", request=request) from error
        except OSError as error:
            raise httpx.WriteError(f"{type(error).__name__} sending the request.") from error

    async def _next(self, request: httpx.Request, timeout: float | None) -> object:
        """The next event of the answer, reading from the socket as h11 needs."""
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as error:
                raise httpx.RemoteProtocolError(str(error), request=request) from error
            if event is not h11.NEED_DATA:
                return event
            try:
                data = await _within(timeout, self._reader.read(READ_SIZE))
            except TimeoutError as error:
                raise httpx.ReadTimeout("Reading the answer timed out.", request=request) from error
            except OSError as error:
                raise httpx.ReadError(f"{type(error).__name__} reading the answer.") from error
            self._h11.receive_data(data)  # b"" tells h11 the server closed its side


def _origin(url: httpx.URL) -> Origin:
    """Where ``url`` is served: its scheme, its host as DNS and TLS name it (an international
    name in its ASCII form), and its port."""
    if url.scheme not in DEFAULT_PORTS:
        # The URL itself may hold a secret (a webhook's token): only its scheme is said.
        raise httpx.UnsupportedProtocol(
            f"Only http:// and https:// URLs are sent, not {url.scheme}:."
        )
    host = url.raw_host.decode("ascii")
    return (url.scheme, host, url.port or DEFAULT_PORTS[url.scheme])


async def _within(timeout: float | None, work: Awaitable[ResultT]) -> ResultT:
    async with asyncio.timeout(timeout):
        return await work
