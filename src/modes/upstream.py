"""What the results of one request share upstream, and what every mode does with it: the
CoinGlass endpoints, the instrument list and the coins' prices; symbols resolved against them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from src.analysis import markets, symbols
from src.coinglass.endpoints import CoinGlass
from src.coinglass.payloads import PairsMarkets
from src.errors import CoinGlassError, UnknownSymbol
from src.outputs import Instrument


class InstrumentSource(Protocol):
    """Every supported instrument; ``fresh=True`` asks CoinGlass again instead of a cache."""

    def __call__(self, *, fresh: bool = False) -> Awaitable[list[Instrument]]: ...


class MarketPrices:
    """Each coin's ``pairs-markets``, fetched once per request and shared by all its results."""

    def __init__(self, coinglass: CoinGlass) -> None:
        self._coinglass = coinglass
        self._fetches: dict[str, asyncio.Task[PairsMarkets]] = {}

    async def __call__(self, coin: str) -> PairsMarkets:
        if coin not in self._fetches:
            self._fetches[coin] = asyncio.ensure_future(self._coinglass.pairs_markets(coin))
        # Shielded, so that a result which fails and stops waiting does not cancel the price
        # its neighbours still wait for.
        return await asyncio.shield(self._fetches[coin])

    def close(self) -> None:
        """Stop fetches no result waits for any more, before their client is closed."""
        for fetch in self._fetches.values():
            fetch.cancel()


@dataclass(frozen=True)
class Upstream:
    """What the results of one request share: the endpoints, the instrument list, the prices."""

    coinglass: CoinGlass
    instruments: InstrumentSource
    prices: MarketPrices


async def resolve_instrument(instruments: InstrumentSource, symbol: str) -> Instrument:
    """The instrument ``symbol`` names (case and spaces forgiven), checked against a fresh list
    before it is called unknown, since a stored list may predate a new listing."""
    for fresh in (False, True):
        candidates = await instruments(fresh=fresh)
        found = symbols.resolve(candidates, symbol)
        if found is not None:
            return found
    close = symbols.suggestions(candidates, symbol)
    raise UnknownSymbol(
        f"CoinGlass has no futures instrument {symbol!r}.{_did_you_mean(close)} Run mode"
        " search_symbols to list the supported ones."
    )


async def resolve_coin(instruments: InstrumentSource, name: str) -> str:
    """The coin ``name`` names, as CoinGlass spells it (case forgiven)."""
    candidates = await instruments()
    found = symbols.resolve_coin(candidates, name)
    if found is None:
        close = symbols.coin_suggestions(candidates, name)
        raise UnknownSymbol(
            f"CoinGlass has no futures on a coin named {name!r}.{_did_you_mean(close)}"
            " Run mode search_symbols to list the supported instruments."
        )
    return found


def _did_you_mean(close: list[str]) -> str:
    return f" Did you mean {', '.join(close)}?" if close else ""


async def current_price(
    prices: MarketPrices,
    coin: str,
    pick: Callable[[PairsMarkets], markets.CurrentPrice | None],
) -> tuple[markets.CurrentPrice | None, str]:
    """The current price, or None and why not: a missing price never fails the result."""
    try:
        rows = await prices(coin)
    except CoinGlassError as error:
        return None, f"pairs-markets failed: {error.type}"
    price = pick(rows)
    return price, "" if price else "pairs-markets does not list this instrument"
