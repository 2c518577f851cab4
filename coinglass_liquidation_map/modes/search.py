"""Mode ``search_symbols``'s pipeline: one job, the supported instruments that match a keyword
and filters."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial

from coinglass_liquidation_map.analysis import markets, symbols
from coinglass_liquidation_map.catalog import mode_of
from coinglass_liquidation_map.errors import CoinGlassError
from coinglass_liquidation_map.market_data import Instrument, Markets
from coinglass_liquidation_map.run.billing import Budget
from coinglass_liquidation_map.run.pairs import CoinMarkets
from coinglass_liquidation_map.run.pipeline import Job, Steps
from coinglass_liquidation_map.run.upstream import InstrumentSource, Upstream
from coinglass_liquidation_map.schemas.search import (
    SEARCH_SUCCESS_MESSAGE,
    SearchSymbolsInput,
    SearchSymbolsItem,
)

CoinMarketSource = Callable[[str], Awaitable[Markets]]


def pipeline(
    request: SearchSymbolsInput, upstream: Upstream, *, remember: bool, log: logging.Logger
) -> SearchPipeline:
    """The one search ``request`` asks for."""
    return SearchPipeline(request, upstream)


class SearchPipeline(Steps):
    """A search: one job, nothing after it."""

    concurrency = 1

    def __init__(self, request: SearchSymbolsInput, upstream: Upstream) -> None:
        self._request = request
        self._upstream = upstream

    async def jobs(self, budget: Budget) -> list[Job]:
        request, upstream = self._request, self._upstream
        coin_markets = CoinMarkets(upstream.endpoints.pairs_markets, request.symbol_cache_ttl_secs)
        searching = partial(search_symbols, request, upstream.instruments, coin_markets)
        return [Job(searching, partial(mode_of(request).failure, source=request))]


async def search_symbols(
    request: SearchSymbolsInput, instruments: InstrumentSource, coin_markets: CoinMarketSource
) -> SearchSymbolsItem:
    """The supported instruments matching the keyword and filters, best matches first: when
    the keyword names a coin, its instruments by open interest, the most traded first."""
    candidates = symbols.filtered(
        await instruments(), exchange=request.exchange, quote_asset=request.quote_asset
    )
    message = SEARCH_SUCCESS_MESSAGE
    open_interest: Callable[[Instrument], float] | None = None
    coin = symbols.resolve_coin(candidates, request.keyword)
    if coin is not None:
        try:
            rows = await coin_markets(coin)
        except CoinGlassError as error:
            message += (
                f" Open interest is unavailable (pairs-markets failed: {error.type}), so {coin}'s"
                " instruments are in alphabetical order."
            )
        else:

            def open_interest(instrument: Instrument) -> float:
                return markets.open_interest(
                    rows, instrument.exchange, symbols.instrument_id(instrument)
                )

    matches = symbols.search(candidates, request.keyword, open_interest)[: request.max_results]
    return SearchSymbolsItem(message=message, keyword=request.keyword, data=matches)
