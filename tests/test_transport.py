"""The actor's HTTP/1.1 transport against a raw server on loopback that answers as scripted:
connections kept and reused, answers of every framing read whole, and every failure raised as
httpx's own error, each request sent once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from coinglass_liquidation_map import transport
from coinglass_liquidation_map.transport import AsyncioTransport, client_transport

HANG_UP = b""
"""An answer that is no answer: the server closes the connection instead."""
CLOSE = b"X-Then: close"
"""A header that has the server close the connection once it has answered."""


def sized(body: bytes, *headers: bytes) -> bytes:
    """A 200 answer with ``body``, its length and ``headers``."""
    lines = b"".join(line + b"\r\n" for line in (b"Content-Length: %d" % len(body), *headers))
    return b"HTTP/1.1 200 OK\r\n" + lines + b"\r\n" + body


@dataclass
class Server:
    """A server that counts its connections and requests, and answers the n-th request (from
    1) with ``answers(n)``."""

    answers: Callable[[int], bytes]
    url: str = ""
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(head)
                await reader.readexactly(_length(head))
                answer = self.answers(len(self.requests))
                writer.write(answer)
                await writer.drain()
                if answer == HANG_UP or CLOSE in answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed the connection
        writer.close()
        await writer.wait_closed()
        self.hung_up.set()


def _length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return int(value)
    return 0


Serve = Callable[[Callable[[int], bytes]], Awaitable[Server]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    listening: list[asyncio.Server] = []

    async def started(answers: Callable[[int], bytes]) -> Server:
        server = Server(answers)
        listening.append(await asyncio.start_server(server.handle, "127.0.0.1", 0))
        server.url = f"http://127.0.0.1:{listening[-1].sockets[0].getsockname()[1]}"
        return server

    yield started
    for each in listening:
        each.close()


async def test_requests_to_one_origin_share_one_connection(serve: Serve) -> None:
    server = await serve(lambda n: sized(b"answer %d" % n))
    async with httpx.AsyncClient(transport=AsyncioTransport()) as client:
        bodies = [(await client.get(f"{server.url}/x?n={n}")).text for n in range(3)]
        posted = await client.post(f"{server.url}/hook", json={"a": 1})
    assert bodies == ["answer 1", "answer 2", "answer 3"]
    assert posted.text == "answer 4"
    assert server.connections == 1
    assert server.requests[0].startswith(b"GET /x?n=0 HTTP/1.1\r\n")
    assert server.requests[3].startswith(b"POST /hook HTTP/1.1\r\n")


async def test_requests_at_once_each_take_a_connection(serve: Serve) -> None:
    server = await serve(lambda _: sized(b"ok"))
    async with httpx.AsyncClient(transport=AsyncioTransport()) as client:
        answers = await asyncio.gather(*(client.get(server.url) for _ in range(3)))
    assert [answer.text for answer in answers] == ["ok", "ok", "ok"]
    assert server.connections == 3


async def test_a_connection_the_server_closed_while_idle_is_left_for_a_new_one(
    serve: Serve,
) -> None:
    server = await serve(lambda n: sized(b"then close", CLOSE) if n == 1 else sized(b"new"))
    transport = AsyncioTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        # An HTTP/1.1 answer without "Connection: close" leaves the connection kept...
        assert (await client.get(server.url)).text == "then close"
        # ...until the server closes it, as an idle timeout would.
        await server.hung_up.wait()
        assert (await client.get(server.url)).text == "new"
    assert (server.connections, len(server.requests)) == (2, 2)


async def test_chunked_informational_and_close_delimited_answers_are_read_whole(
    serve: Serve,
) -> None:
    answers = {
        1: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        2: b"HTTP/1.1 100 Continue\r\n\r\n" + sized(b"after 100"),
        3: b"HTTP/1.1 200 OK\r\nConnection: close\r\n" + CLOSE + b"\r\n\r\nuntil the end",
    }
    server = await serve(answers.__getitem__)
    async with httpx.AsyncClient(transport=AsyncioTransport()) as client:
        texts = [(await client.get(server.url)).text for _ in range(3)]
    assert texts == ["hello world", "after 100", "until the end"]
    assert server.connections == 1


async def test_a_hang_up_before_any_answer_is_an_error_and_the_request_is_sent_once(
    serve: Serve,
) -> None:
    server = await serve(lambda n: sized(b"first") if n == 1 else HANG_UP)
    async with httpx.AsyncClient(transport=AsyncioTransport()) as client:
        assert (await client.get(server.url)).text == "first"
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(server.url)
    assert len(server.requests) == 2


async def test_a_silent_server_times_out_and_a_closed_port_refuses() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers, until the client gives up and closes
        writer.close()

    listening = await asyncio.start_server(silent, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}/"
    async with httpx.AsyncClient(transport=AsyncioTransport(), timeout=0.05) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(url)
    listening.close()
    await listening.wait_closed()
    async with httpx.AsyncClient(transport=AsyncioTransport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(url)


async def test_an_idle_connection_past_its_keepalive_is_left_for_a_new_one(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await serve(lambda _: sized(b"ok"))
    monkeypatch.setattr(transport, "KEEPALIVE_EXPIRY_SECS", 0.0)  # every idle one is too old
    async with httpx.AsyncClient(transport=AsyncioTransport()) as client:
        for _ in range(2):
            assert (await client.get(server.url)).text == "ok"
    assert server.connections == 2


async def test_only_http_and_https_urls_are_sent() -> None:
    async with httpx.AsyncClient(transport=AsyncioTransport()) as client:
        with pytest.raises(httpx.UnsupportedProtocol, match="not ftp:") as caught:
            await client.get("ftp://user:secret@example.com/file")
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("environment", "ours"),
    [({}, True), ({"HTTPS_PROXY": "http://proxy.test:3128"}, False), ({"all_proxy": ""}, True)],
)
def test_a_proxy_in_the_environment_is_left_to_httpx(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], ours: bool
) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert isinstance(client_transport(), AsyncioTransport) is ours
