"""The actor in Standby mode as a real process, and the load the Standby row puts on it.

The server starts as the platform starts it (``APIFY_META_ORIGIN=STANDBY``, the port in
``ACTOR_WEB_SERVER_PORT``, the run's input holding ``standbyCacheSecs``) from the same compiled
copy of the package the cold runs use, on fresh local storage. Requests come from this process
over loopback with httpx, in bounded counts: a fixed number one after the other for latency,
and a fixed number a few at a time for throughput.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import local_run
from local_run import StandbyServer

from bench.processes import RunFailed, workdir

MAP_ROUTE = "/liquidation-map"
REQUEST_TIMEOUT_S = 30.0

Query = Mapping[str, str]


@contextmanager
def standby_server(env: Mapping[str, str], actor_input: object) -> Iterator[StandbyServer]:
    """``local_run.standby_server`` from the benchmark's compiled copy of the package, on fresh
    storage that is removed when the server stops."""
    storage = Path(tempfile.mkdtemp(prefix="bench-standby-"))
    try:
        with local_run.standby_server(actor_input, storage, env, cwd=workdir()) as server:
            yield server
    finally:
        shutil.rmtree(storage, ignore_errors=True)


def check(response: httpx.Response) -> None:
    """A measured request must be a successful map, else the numbers measure a failure."""
    body = response.json() if response.status_code == 200 else None
    if not isinstance(body, dict) or body.get("success") is not True:
        raise RunFailed(
            f"GET {response.request.url} answered {response.status_code}: {response.text[:500]}"
        )


def sequential_latencies(url: str, query: Query, count: int) -> list[float]:
    """Seconds each of ``count`` requests took, sent one after the other on one connection."""
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as http:
        for _ in range(count):
            began = time.perf_counter()
            response = http.get(MAP_ROUTE, params=dict(query))
            latencies.append(time.perf_counter() - began)
            check(response)
    return latencies


def throughput(url: str, queries: Sequence[Query], count: int) -> tuple[float, list[float]]:
    """Requests per second for ``count`` requests, ``len(queries)`` in flight at a time.

    Each of ``len(queries)`` workers sends its own query, one request after another, until
    ``count`` have been sent in all; also returns every request's latency.
    """
    return asyncio.run(_throughput(url, queries, count))


async def _throughput(url: str, queries: Sequence[Query], count: int) -> tuple[float, list[float]]:
    remaining = count
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=len(queries), max_keepalive_connections=len(queries))
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits) as http:

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
