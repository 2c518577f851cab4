"""Mode ``search_symbols``: the supported instruments that match a keyword and filters."""

from __future__ import annotations

from src.analysis import symbols
from src.inputs import SearchSymbolsInput
from src.modes.upstream import InstrumentSource
from src.outputs import SearchSymbolsItem


async def search_symbols(
    request: SearchSymbolsInput, instruments: InstrumentSource
) -> SearchSymbolsItem:
    """The supported instruments matching the keyword and filters, best matches first."""
    candidates = symbols.filtered(
        await instruments(), exchange=request.exchange, quote_asset=request.quote_asset
    )
    matches = symbols.search(candidates, request.keyword)[: request.max_results]
    return SearchSymbolsItem(keyword=request.keyword, data=matches)
