"""Standby's answer cache: identical requests close together share one upstream fetch."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from coinglass_liquidation_map.outputs import ResultItem

Answer = list[ResultItem]


class AnswerCache:
    """Identical requests within ``ttl_secs`` get one answer; concurrent ones share one fetch.

    Answers holding a failure are not kept, so a transient upstream error is retried by the
    next caller instead of being repeated for the whole window.
    """

    def __init__(self, ttl_secs: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_secs = ttl_secs
        self._clock = clock
        self._entries: dict[str, tuple[asyncio.Task[Answer], list[float]]] = {}

    async def get(self, key: str, fetch: Callable[[], Awaitable[Answer]]) -> Answer:
        """The answer for ``key``: shared if one is in flight or fresh, else fetched now."""
        now = self._clock()
        self._entries = {k: e for k, e in self._entries.items() if self._alive(e, now)}
        if key not in self._entries:
            task = asyncio.ensure_future(fetch())
            finished_at: list[float] = []
            task.add_done_callback(lambda done: self._settle(key, done, finished_at))
            self._entries[key] = (task, finished_at)
        # Shielded, so that one caller hanging up does not cancel the fetch the others wait for.
        return await asyncio.shield(self._entries[key][0])

    def _alive(self, entry: tuple[asyncio.Task[Answer], list[float]], now: float) -> bool:
        task, finished_at = entry
        return not task.done() or (bool(finished_at) and now - finished_at[0] < self._ttl_secs)

    def _settle(self, key: str, task: asyncio.Task[Answer], finished_at: list[float]) -> None:
        finished_at.append(self._clock())
        failed = task.cancelled() or task.exception() is not None
        # Only this fetch's own entry: a newer one for the same key may be in flight.
        mine = self._entries.get(key, (None,))[0] is task
        if mine and (failed or any(not item.success for item in task.result())):
            del self._entries[key]
