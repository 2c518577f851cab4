"""What the results of one request share upstream: the CoinGlass endpoints, the instrument list,
the coins' current prices and the key's plan."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from coinglass_liquidation_map.analysis import markets
from coinglass_liquidation_map.coinglass.endpoints import Endpoints
from coinglass_liquidation_map.errors import CoinGlassError
from coinglass_liquidation_map.market_data import Instrument, Markets
from coinglass_liquidation_map.plans import Plan


class InstrumentSource(Protocol):
    """Every supported instrument; ``fresh=True`` asks CoinGlass again instead of a cache."""

    def __call__(self, *, fresh: bool = False) -> Awaitable[list[Instrument]]: ...


class PlanSource(Protocol):
    """The key's CoinGlass plan, or None when it is not known."""

    def __call__(self) -> Awaitable[Plan | None]: ...


class MarketPrices:
    """Each coin's ``pairs-markets``, fetched once per request and shared by all its results."""

    def __init__(self, endpoints: Endpoints) -> None:
        self._endpoints = endpoints
        self._fetches: dict[str, asyncio.Task[Markets]] = {}

    async def __call__(self, coin: str) -> Markets:
        if coin not in self._fetches:
            self._fetches[coin] = asyncio.ensure_future(self._endpoints.pairs_markets(coin))
        # Shielded, so that a result which fails and stops waiting does not cancel the price
        # its neighbours still wait for.
        return await asyncio.shield(self._fetches[coin])

    def close(self) -> None:
        """Stop fetches no result waits for any more, before their client is closed."""
        for fetch in self._fetches.values():
            fetch.cancel()


@dataclass(frozen=True)
class Upstream:
    """What the results of one request share: the endpoints, the instrument list, the prices
    and the key's plan."""

    endpoints: Endpoints
    instruments: InstrumentSource
    prices: MarketPrices
    plan: PlanSource


async def current_price(
    prices: MarketPrices,
    coin: str,
    pick: Callable[[Markets], markets.CurrentPrice | None],
) -> tuple[markets.CurrentPrice | None, str]:
    """The current price, or None and why not: a missing price never fails the result."""
    try:
        rows = await prices(coin)
    except CoinGlassError as error:
        return None, f"pairs-markets failed: {error.type}"
    price = pick(rows)
    return price, "" if price else "pairs-markets does not list this instrument"
