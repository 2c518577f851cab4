"""Mode ``search_symbols``: the supported instruments that match a keyword and filters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from src.analysis import markets, symbols
from src.coinglass.payloads import PairsMarkets
from src.errors import CoinGlassError
from src.inputs import SearchSymbolsInput
from src.modes.upstream import InstrumentSource
from src.outputs import SEARCH_SUCCESS_MESSAGE, Instrument, SearchSymbolsItem

CoinMarketSource = Callable[[str], Awaitable[PairsMarkets]]


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
