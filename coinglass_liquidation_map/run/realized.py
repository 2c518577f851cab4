"""What CoinGlass counted as liquidated between the last run's map and this one's, read from its
liquidation history when the price swept clusters: an instrument's own history for a pair map,
the coin's across the map's exchanges for a coin map.

It is asked at the finest interval the key's plan reads that far back; an interval CoinGlass
refuses with "Upgrade plan" gives way to the next coarser one. It costs no charge and never
fails a map: when it cannot be had, the map says why instead.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial

from coinglass_liquidation_map.analysis import realized
from coinglass_liquidation_map.coinglass.endpoints import HISTORY_LIMIT
from coinglass_liquidation_map.errors import CoinGlassError, PlanTooLow
from coinglass_liquidation_map.market_data import LiquidationBucket
from coinglass_liquidation_map.run.upstream import Upstream
from coinglass_liquidation_map.schemas.maps import LiquidationMapItem, Realized

UNKNOWN = "so what was liquidated in between is not known"


class RealizedLiquidations:
    """The liquidation history of a run's maps, over the time since each one's last run."""

    def __init__(self, upstream: Upstream) -> None:
        self._upstream = upstream

    async def between(
        self, item: LiquidationMapItem, since: datetime, now: datetime
    ) -> tuple[Realized | None, str | None]:
        """What was liquidated on each side from the bucket holding ``since`` to ``now``, or
        None and why not."""
        since_ms, now_ms = _ms(since), _ms(now)
        plan = await self._upstream.plan()
        tried = realized.intervals(plan, since_ms, now_ms, HISTORY_LIMIT)
        for interval in tried:
            start_ms = realized.grid_start(since_ms, interval)
            try:
                buckets = await self._history(item, interval, start_ms, now_ms)
            except PlanTooLow:
                continue
            except CoinGlassError as error:
                return None, f"CoinGlass's liquidation history failed ({error.type}), {UNKNOWN}."
            long_usd, short_usd = realized.realized_sums(buckets, start_ms, now_ms)
            found = Realized(
                from_=datetime.fromtimestamp(start_ms / 1000, UTC),
                to=now,
                interval=interval,
                long_liquidations_usd=long_usd,
                short_liquidations_usd=short_usd,
            )
            return found, None
        return None, (
            f'CoinGlass refused its liquidation history at {", ".join(tried)} ("Upgrade plan"),'
            f" {UNKNOWN}."
        )

    async def _history(
        self, item: LiquidationMapItem, interval: str, start_ms: int, end_ms: int
    ) -> list[LiquidationBucket]:
        endpoints = self._upstream.endpoints
        exchange, _, instrument_id = item.symbol.partition("_")
        if instrument_id:
            fetch = partial(endpoints.pair_liquidations, exchange, instrument_id, interval)
        else:
            exchanges = await self._exchanges(item)
            fetch = partial(endpoints.coin_liquidations, item.symbol, exchanges, interval)
        pieces = realized.slices(start_ms, end_ms, interval, HISTORY_LIMIT)
        answers = await asyncio.gather(*(fetch(start, end) for start, end in pieces))
        return [bucket for answer in answers for bucket in answer]

    async def _exchanges(self, item: LiquidationMapItem) -> list[str]:
        """The exchanges a coin map came from: those CoinGlass split it by, or else every
        exchange that lists the coin."""
        if item.summary.by_exchange:
            return list(item.summary.by_exchange)
        listed = await self._upstream.instruments()
        return list(dict.fromkeys(i.exchange for i in listed if i.base_asset == item.symbol))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
