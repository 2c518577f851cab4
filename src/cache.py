"""CoinGlass's pair list, fetched at most once per run and kept between runs for a while.

Every search and every map check needs the pair list; it changes rarely. A named key-value
store keeps it for ``symbolCacheTtlSecs``, so scheduled runs spend no upstream request on it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from apify import Actor
from pydantic import BaseModel, ValidationError

from src import symbols
from src.coinglass import CoinGlassClient
from src.outputs import Instrument

STORE_NAME = "coinglass-cache"
PAIRS_KEY = "supported-exchange-pairs"


class _CachedPairs(BaseModel):
    fetched_at: float
    pairs: symbols.SupportedPairs


class PairDirectory:
    """Callable source of every instrument; ``fresh=True`` skips the stored copy."""

    def __init__(
        self, client: CoinGlassClient, ttl_secs: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self._ttl_secs = ttl_secs
        self._clock = clock
        self._lock = asyncio.Lock()
        self._instruments: list[Instrument] | None = None
        self._fetched_fresh = False

    async def __call__(self, *, fresh: bool = False) -> list[Instrument]:
        async with self._lock:  # concurrent maps of one run share one fetch
            if self._instruments is None or (fresh and not self._fetched_fresh):
                self._instruments = symbols.instruments(await self._pairs(fresh=fresh))
            return self._instruments

    async def _pairs(self, *, fresh: bool) -> symbols.SupportedPairs:
        store = await Actor.open_key_value_store(name=STORE_NAME)
        if not fresh and self._ttl_secs > 0:
            try:
                cached = _CachedPairs.model_validate(await store.get_value(PAIRS_KEY))
            except ValidationError:
                pass  # nothing stored yet, or a copy from an older layout
            else:
                if self._clock() - cached.fetched_at < self._ttl_secs:
                    return cached.pairs
        pairs = await self._client.get(symbols.PAIRS_PATH, {}, symbols.SupportedPairs)
        self._fetched_fresh = True
        if self._ttl_secs > 0:
            record = _CachedPairs(fetched_at=self._clock(), pairs=pairs)
            await store.set_value(PAIRS_KEY, record.model_dump(mode="json"))
        return pairs
