"""CoinGlass's pair list, fetched at most once per run and kept between runs for a while.

Every search and every map check needs the pair list; it changes rarely. A named key-value
store keeps it for ``symbolCacheTtlSecs``, so scheduled runs spend no upstream request on it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from pydantic import BaseModel, ValidationError

from src.analysis import symbols
from src.coinglass.payloads import SupportedPairs
from src.outputs import Instrument
from src.run.storage import StoreOpener, named_store

STORE_NAME = "coinglass-cache"
# However often callers ask for unknown symbols, CoinGlass is asked again at most this often.
RECHECK_SECS = 60
PAIRS_KEY = "supported-exchange-pairs"


class _CachedPairs(BaseModel):
    fetched_at: float
    pairs: SupportedPairs


class PairDirectory:
    """Callable source of every instrument; ``fresh=True`` asks CoinGlass, not the stored copy.

    The list in memory ages like the stored one, so a long-lived Standby process sees new
    listings too; a fresh check is made at most once a minute, however many unknown symbols
    callers ask for.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[SupportedPairs]],
        ttl_secs: int,
        *,
        store: StoreOpener = named_store(STORE_NAME),  # noqa: B008 - opens nothing until called
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch  # CoinGlass's supported-exchange-pairs
        self._ttl_secs = ttl_secs
        self._store = store
        self._clock = clock
        self._lock = asyncio.Lock()
        self._instruments: list[Instrument] = []
        self._fetched_at = -math.inf  # when CoinGlass sent the list held in memory

    async def __call__(self, *, fresh: bool = False) -> list[Instrument]:
        async with self._lock:  # the concurrent results of one run share one fetch
            age = self._clock() - self._fetched_at
            if age >= (self._ttl_secs or RECHECK_SECS) or (fresh and age >= RECHECK_SECS):
                record = await self._pairs(fresh=fresh)
                self._instruments = symbols.instruments(record.pairs)
                self._fetched_at = record.fetched_at
            return self._instruments

    async def _pairs(self, *, fresh: bool) -> _CachedPairs:
        store = await self._store()
        if not fresh and self._ttl_secs > 0:
            try:
                cached = _CachedPairs.model_validate(await store.get_value(PAIRS_KEY))
            except ValidationError:
                pass  # nothing stored yet, or a copy from an older layout
            else:
                if self._clock() - cached.fetched_at < self._ttl_secs:
                    return cached
        pairs = await self._fetch()
        record = _CachedPairs(fetched_at=self._clock(), pairs=pairs)
        if self._ttl_secs > 0:
            await store.set_value(PAIRS_KEY, record.model_dump(mode="json"))
        return record
