"""The map ranges CoinGlass refused, kept between runs as the pair list is.

CoinGlass documents its maps for 1d, 7d and 30d only, and answers a longer range with a
refusal (a "500" body, or a "400"). Once it has refused a range, later runs within
``symbolCacheTtlSecs`` go straight to its heatmap of that range instead of asking again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

from coinglass_liquidation_map.run.pairs import STORE_NAME, keep, kept_copy
from coinglass_liquidation_map.run.storage import StoreOpener, named_store, store_key

MapKind = Literal["pair", "coin"]


class Refusal(BaseModel):
    """What CoinGlass said when it refused a map range."""

    reason: str


class RefusedRanges:
    """The map ranges CoinGlass refused, per kind of map (an instrument's, a coin's)."""

    def __init__(
        self,
        ttl_secs: int,
        *,
        store: StoreOpener = named_store(STORE_NAME),  # noqa: B008 - opens nothing until called
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl_secs = ttl_secs
        self._store = store
        self._clock = clock

    async def refused(self, kind: MapKind, range_: str) -> bool:
        """Whether CoinGlass refused this kind of map over ``range_`` within the TTL."""
        stored = await kept_copy(
            await self._store(),
            refusal_key(kind, range_),
            Refusal,
            ttl_secs=self._ttl_secs,
            clock=self._clock,
        )
        return stored is not None

    async def remember(self, kind: MapKind, range_: str, reason: str) -> None:
        """Keep CoinGlass's refusal of this kind of map over ``range_`` for the TTL."""
        await keep(
            await self._store(),
            refusal_key(kind, range_),
            Refusal,
            Refusal(reason=reason),
            ttl_secs=self._ttl_secs,
            clock=self._clock,
        )


def refusal_key(kind: MapKind, range_: str) -> str:
    """The record of a refused map range: ``map-range-refused-pair-90d``."""
    return store_key(f"map-range-refused-{kind}-{range_}")
