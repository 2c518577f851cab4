"""Pacing on the key's shared window.

CoinGlass counts every request of a key in a window of a minute, from every run that uses the
key, and each answer says how much of it is used (``API-KEY-USE-LIMIT``) out of how much
(``API-KEY-MAX-LIMIT``). A run that counted only its own requests would fire into 429s when
other runs share its key, as every run on the publisher's key does.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial

import httpx

PLAN_LIMIT_HEADER = "API-KEY-MAX-LIMIT"
USE_HEADER = "API-KEY-USE-LIMIT"
WINDOW_SECS = 60.0
# A tenth of the limit is left to requests this run cannot see: other runs' requests sent
# after the last answer, and the skew between our clock and CoinGlass's window.
HEADROOM = 0.9


def allowed(limit: int) -> int:
    """How many requests of a window of ``limit`` the key may use before runs hold back."""
    return max(1, math.floor(limit * HEADROOM))


class KeyWindow:
    """What CoinGlass last said of the key's window, and the requests sent since.

    A request is sent only while the last reported use, plus the requests still unanswered,
    stays below the allowed share of the limit. Past it, requests wait until every request that
    use counted has left the window. Whenever the room is not known (before the first answer,
    after a rollover), one request goes alone and its answer tells the others; answers that do
    not say the use hold nothing back.
    """

    def __init__(
        self,
        log: logging.Logger,
        *,
        window_secs: float = WINDOW_SECS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._log = log
        self._window_secs = window_secs
        self._clock = clock
        self._sleep = sleep
        self._sent = itertools.count()
        self._used: int | None = None  # None: the room is not known
        self._limit = 0
        self._reported_by = -1  # which request's answer said the use
        self._reported_at = -math.inf
        self._silent = False  # the last answer did not say the use
        self._in_flight = 0
        self._changed = asyncio.Condition()
        self._told = False

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Callable[[httpx.Headers], None]]:
        """Hold one request until the window has room for it; yields what reads its answer."""
        request = await self._admit()
        try:
            yield partial(self._report, request)
        finally:
            # Counted off before the lock is awaited, so a request cancelled even here never
            # stays in flight.
            self._in_flight -= 1
            async with self._changed:
                self._changed.notify_all()

    async def _admit(self) -> int:
        while True:
            async with self._changed:
                wait = self._hold()
                if wait is None:
                    self._in_flight += 1
                    return next(self._sent)
                if not wait:
                    await self._changed.wait()  # an answer in flight will say more
                    continue
            self._tell(wait)
            await self._sleep(wait)

    def _hold(self) -> float | None:
        """None: send now; 0: wait for an answer in flight; else the seconds to the rollover."""
        rollover = self._reported_at + self._window_secs - self._clock()
        if self._used is not None and rollover <= 0:
            self._used = None  # what the reading counted has left the window
            self._told = False  # the next wait is news again
        if self._used is None:
            return None if self._in_flight == 0 or self._silent else 0
        if self._used + self._in_flight < allowed(self._limit):
            return None
        return 0 if self._in_flight else rollover

    def _report(self, request: int, headers: httpx.Headers) -> None:
        try:
            limit, used = int(headers[PLAN_LIMIT_HEADER]), int(headers[USE_HEADER])
        except (KeyError, ValueError):
            self._silent = self._used is None
            return
        # An answer to an earlier request, arriving late, says less than the one already read.
        if limit > 0 and request > self._reported_by:
            self._limit, self._used = limit, used
            self._reported_by, self._reported_at, self._silent = request, self._clock(), False

    def _tell(self, wait: float) -> None:
        # Once per wait: every held request would otherwise say the same.
        if self._told:
            return
        self._told = True
        self._log.warning(
            "CoinGlass says this API key has used %s of its %s requests in the current"
            " minute (runs sharing the key count too); waiting %.1f s for the window to"
            " roll over.",
            self._used,
            self._limit,
            wait,
        )
