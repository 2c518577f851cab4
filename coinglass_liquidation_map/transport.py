"""HTTP/1.1 for httpx on asyncio's own streams, the protocol spoken by h11: the transport every
client of the actor sends through (CoinGlass's, the webhook's).

httpx's default transport runs on httpcore, whose locks, events and sockets come from anyio;
loading those is most of what a cold run adds to the memory of the SDK itself. This transport
keeps httpx as the client (its requests, responses, timeouts and errors) and h11 as the HTTP/1.1
parser and serializer, and adds only what the actor's requests need: connections kept alive per
origin, TLS, and whole bodies read before the response is returned. It speaks no HTTP/2 and
reads no proxy settings.
"""

from __future__ import annotations

import asyncio
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


class AsyncioTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over asyncio streams, with idle connections kept for the next request to the
    same origin."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        """``ssl_context`` verifies the servers' certificates; ``tls_context()`` by default."""
        self._ssl_context = ssl_context
        self._idle: defaultdict[Origin, list[_Connection]] = defaultdict(list)

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
        if connection.ready_for_next():
            self._idle[origin].append(connection)
        else:
            connection.close()
        return response

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

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
        except (OSError, ssl.SSLError) as error:
            raise httpx.ConnectError(
                f"{type(error).__name__} connecting to {host}:{port}."
            ) from error
        return _Connection(reader, writer)

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:  # made when first needed: plain HTTP never needs one
            self._ssl_context = tls_context()
        return self._ssl_context

    def _kept(self, origin: Origin) -> _Connection | None:
        """An idle connection to ``origin`` the server has not closed meanwhile, if any."""
        while self._idle[origin]:
            connection = self._idle[origin].pop()
            if connection.open():
                return connection
            connection.close()
        return None


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
        chunks: list[bytes] = []
        event = await self._next(request, timeouts.get("read"))
        while not isinstance(event, h11.EndOfMessage):
            if isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            event = await self._next(request, timeouts.get("read"))
        if not isinstance(head, h11.Response):
            raise httpx.RemoteProtocolError("The server answered out of turn.", request=request)
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
        poller = select.poll()
        poller.register(self._writer.get_extra_info("socket"), select.POLLIN)
        return not poller.poll(0)

    def ready_for_next(self) -> bool:
        """Whether the next request may use this connection, which is then readied for it."""
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
            return True
        return False

    def close(self) -> None:
        self._writer.close()

    async def _send(self, request: httpx.Request, body: bytes, timeout: float | None) -> None:
        head = h11.Request(
            method=request.method,
            target=request.url.raw_path,
            headers=list(request.headers.raw),
        )
        data = self._h11.send(head) or b""
        if body:
            data += self._h11.send(h11.Data(data=body)) or b""
        data += self._h11.send(h11.EndOfMessage()) or b""
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
    return (url.scheme, url.host, url.port or DEFAULT_PORTS[url.scheme])


async def _within(timeout: float | None, work: Awaitable[ResultT]) -> ResultT:
    async with asyncio.timeout(timeout):
        return await work
