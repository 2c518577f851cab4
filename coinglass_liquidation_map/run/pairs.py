"""CoinGlass's pair list and each coin's markets, fetched at most once per run and kept between
runs for a while.

Every search and every map check needs the pair list; it changes rarely. A named key-value
store keeps it for ``symbolCacheTtlSecs``, so scheduled runs spend no upstream request on it.
A search for a coin ranks its instruments by open interest, from the coin's ``pairs-markets``,
kept the same way.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from coinglass_liquidation_map.market_data import Instrument, Instruments, Markets
from coinglass_liquidation_map.run.storage import RecordStore, StoreOpener, named_store, store_key

STORE_NAME = "coinglass-cache"
# However often callers ask for unknown symbols, CoinGlass is asked again at most this often.
RECHECK_SECS = 60
PAIRS_KEY = "supported-exchange-pairs"

PayloadT = TypeVar("PayloadT", bound=BaseModel)


class Kept(BaseModel, Generic[PayloadT]):
    """A payload as stored, with when CoinGlass sent it."""

    fetched_at: float
    value: PayloadT


async def kept(
    store: RecordStore,
    key: str,
    payload: type[PayloadT],
    fetch: Callable[[], Awaitable[PayloadT]],
    *,
    ttl_secs: int,
    clock: Callable[[], float],
    fresh: bool = False,
) -> Kept[PayloadT]:
    """The copy stored under ``key`` while younger than ``ttl_secs`` (and not ``fresh``), else
    fetched now and stored; ``ttl_secs`` 0 keeps nothing."""
    if not fresh:
        stored = await kept_copy(store, key, payload, ttl_secs=ttl_secs, clock=clock)
        if stored is not None:
            return stored
    return await keep(store, key, payload, await fetch(), ttl_secs=ttl_secs, clock=clock)


async def kept_copy(
    store: RecordStore,
    key: str,
    payload: type[PayloadT],
    *,
    ttl_secs: int,
    clock: Callable[[], float],
) -> Kept[PayloadT] | None:
    """The copy stored under ``key`` while younger than ``ttl_secs``, else None."""
    if ttl_secs <= 0:
        return None
    try:
        stored = Kept[payload].model_validate(await store.get_value(key))  # type: ignore[valid-type]
    except ValidationError:
        return None  # nothing stored yet, or a copy from an older layout
    return stored if clock() - stored.fetched_at < ttl_secs else None


async def keep(
    store: RecordStore,
    key: str,
    payload: type[PayloadT],
    value: PayloadT,
    *,
    ttl_secs: int,
    clock: Callable[[], float],
) -> Kept[PayloadT]:
    """``value`` as sent now, stored under ``key`` unless ``ttl_secs`` is 0."""
    record = Kept[payload](fetched_at=clock(), value=value)  # type: ignore[valid-type]
    if ttl_secs > 0:
        await store.set_value(key, record.model_dump(mode="json"))
    return record


class PairDirectory:
    """Callable source of every instrument; ``fresh=True`` asks CoinGlass, not the stored copy.

    The list in memory ages like the stored one, so a long-lived Standby process sees new
    listings too; a fresh check is made at most once a minute, however many unknown symbols
    callers ask for.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[Instruments]],
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
                self._instruments = record.value.root
                self._fetched_at = record.fetched_at
            return self._instruments

    async def _pairs(self, *, fresh: bool) -> Kept[Instruments]:
        return await kept(
            await self._store(),
            PAIRS_KEY,
            Instruments,
            self._fetch,
            ttl_secs=self._ttl_secs,
            clock=self._clock,
            fresh=fresh,
        )


class CoinMarkets:
    """Callable source of a coin's ``pairs-markets``, kept between runs as the pair list is."""

    def __init__(
        self,
        fetch: Callable[[str], Awaitable[Markets]],
        ttl_secs: int,
        *,
        store: StoreOpener = named_store(STORE_NAME),  # noqa: B008 - opens nothing until called
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch  # CoinGlass's pairs-markets of one coin
        self._ttl_secs = ttl_secs
        self._store = store
        self._clock = clock

    async def __call__(self, coin: str) -> Markets:
        record = await kept(
            await self._store(),
            markets_key(coin),
            Markets,
            lambda: self._fetch(coin),
            ttl_secs=self._ttl_secs,
            clock=self._clock,
        )
        return record.value


def markets_key(coin: str) -> str:
    """The record of a coin's markets: ``pairs-markets-BTC``."""
    return store_key(f"pairs-markets-{coin}")
