"""The actor in Standby mode as a real process, and the load the Standby row puts on it.

The server starts as the platform starts it (``APIFY_META_ORIGIN=STANDBY``, the port in
``ACTOR_WEB_SERVER_PORT``, the run's input holding ``standbyCacheSecs``) from the same compiled
copy of ``src`` the cold runs use, on fresh local storage. Requests come from this process
over loopback with httpx, in bounded counts: a fixed number one after the other for latency,
and a fixed number a few at a time for throughput.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.processes import RunFailed, workdir

READINESS = {"x-apify-container-server-readiness-probe": "1"}
MAP_ROUTE = "/liquidation-map"
READY_WITHIN_S = 60.0
REQUEST_TIMEOUT_S = 30.0

Query = Mapping[str, str]


@dataclass(frozen=True)
class StandbyServer:
    """A Standby process that answered its readiness probe."""

    url: str
    ready_s: float  # from spawn to the first 200 of the readiness probe


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def standby_server(
    env: Mapping[str, str], actor_input: object, *, python: str = sys.executable
) -> Iterator[StandbyServer]:
    """``python -m src`` in Standby mode on a free loopback port, stopped on exit.

    Raises RunFailed if it exits, or does not answer the readiness probe within
    ``READY_WITHIN_S``; the message carries the end of its log.
    """
    storage = Path(tempfile.mkdtemp(prefix="bench-standby-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    store = storage / "key_value_stores" / "default"
    store.mkdir(parents=True)
    (store / "INPUT.json").write_text(json.dumps(actor_input))
    log_path = storage / "standby.log"
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [python, "-m", "src"],
            cwd=workdir(),
            env={
                **env,
                "APIFY_LOCAL_STORAGE_DIR": str(storage),
                "APIFY_META_ORIGIN": "STANDBY",
                "ACTOR_WEB_SERVER_PORT": str(port),
            },
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        ready_s = _wait_ready(process, url, started, log_path)
        yield StandbyServer(url, ready_s)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        shutil.rmtree(storage, ignore_errors=True)


def _wait_ready(process: subprocess.Popen[bytes], url: str, started: float, log: Path) -> float:
    """Seconds from spawn to readiness; polls every 50 ms for at most ``READY_WITHIN_S``."""
    with httpx.Client(timeout=1) as http:
        while time.perf_counter() - started < READY_WITHIN_S:
            try:
                if http.get(url, headers=READINESS).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass  # not listening yet
            if process.poll() is not None:
                break
            time.sleep(0.05)
    tail = log.read_text(errors="replace")[-2000:]
    code = process.poll()
    why = f"exited with code {code}" if code is not None else f"not ready in {READY_WITHIN_S:g} s"
    raise RunFailed(f"Standby server {why}\n{tail}")


def check(response: httpx.Response) -> None:
    """A measured request must be a successful map, else the numbers measure a failure."""
    body = response.json() if response.status_code == 200 else None
    if not isinstance(body, dict) or body.get("success") is not True:
        raise RunFailed(
            f"GET {response.request.url} answered {response.status_code}: {response.text[:500]}"
        )


def sequential_latencies(url: str, query: Query, count: int, headers: Query) -> list[float]:
    """Seconds each of ``count`` requests took, sent one after the other on one connection."""
    latencies: list[float] = []
    with httpx.Client(base_url=url, headers=dict(headers), timeout=REQUEST_TIMEOUT_S) as http:
        for _ in range(count):
            began = time.perf_counter()
            response = http.get(MAP_ROUTE, params=dict(query))
            latencies.append(time.perf_counter() - began)
            check(response)
    return latencies


def throughput(
    url: str, queries: Sequence[Query], count: int, headers: Query
) -> tuple[float, list[float]]:
    """Requests per second for ``count`` requests, ``len(queries)`` in flight at a time.

    Each of ``len(queries)`` workers sends its own query, one request after another, until
    ``count`` have been sent in all; also returns every request's latency.
    """
    return asyncio.run(_throughput(url, queries, count, headers))


async def _throughput(
    url: str, queries: Sequence[Query], count: int, headers: Query
) -> tuple[float, list[float]]:
    remaining = count
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=len(queries), max_keepalive_connections=len(queries))
    async with httpx.AsyncClient(
        base_url=url, headers=dict(headers), timeout=REQUEST_TIMEOUT_S, limits=limits
    ) as http:

        async def worker(query: Query) -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                began = time.perf_counter()
                response = await http.get(MAP_ROUTE, params=dict(query))
                latencies.append(time.perf_counter() - began)
                check(response)

        began = time.perf_counter()
        await asyncio.gather(*(worker(query) for query in queries))
        took = time.perf_counter() - began
    return count / took, latencies
