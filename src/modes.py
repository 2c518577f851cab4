"""What each mode does, from a validated request to its result item, over one CoinGlass client."""

from __future__ import annotations

import os

from src import liqmap, symbols
from src.coinglass import DEFAULT_BASE_URL, CoinGlassClient
from src.errors import InvalidParameter, MissingApiKey, UnknownSymbol
from src.models import (
    ActorInput,
    Instrument,
    LiquidationMapInput,
    LiquidationMapItem,
    SearchSymbolsInput,
    SearchSymbolsItem,
)

API_KEY_ENV = "COINGLASS_API_KEY"
BASE_URL_ENV = "COINGLASS_BASE_URL"


def open_client(request: ActorInput) -> CoinGlassClient:
    """A client with the user's key, or the publisher's; raises MissingApiKey before any request."""
    api_key = request.api_key.get_secret_value().strip() if request.api_key else ""
    api_key = api_key or os.environ.get(API_KEY_ENV, "").strip()
    if not api_key:
        raise MissingApiKey(
            "No CoinGlass API key: enter yours in the apiKey input (CoinGlass account → API;"
            f" liquidation maps need the Professional plan), or set {API_KEY_ENV}."
        )
    return CoinGlassClient(
        api_key,
        base_url=os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL,
        timeout_secs=request.request_timeout_secs,
        max_retries=request.max_retries,
        max_requests_per_minute=request.max_requests_per_minute,
    )


async def search_symbols(client: CoinGlassClient, request: SearchSymbolsInput) -> SearchSymbolsItem:
    """Every supported instrument matching the keyword, best matches first."""
    matches = symbols.search(await _all_instruments(client), request.keyword)
    return SearchSymbolsItem(keyword=request.keyword, data=matches)


async def liquidation_map(
    client: CoinGlassClient, request: LiquidationMapInput
) -> LiquidationMapItem:
    """The instrument's liquidation map; an empty one is checked against the pair list."""
    symbol = request.symbol
    payload = await _fetch_map(client, symbol, request.range)
    if not payload.data:
        # CoinGlass answers an unknown instrument with an empty map, not an error.
        instrument = await _existing_instrument(client, symbol)
        if instrument.symbol != symbol:
            symbol = instrument.symbol
            payload = await _fetch_map(client, symbol, request.range)
    return LiquidationMapItem(symbol=symbol, range=request.range, data=liqmap.normalise(payload))


async def _fetch_map(client: CoinGlassClient, symbol: str, range_: str) -> liqmap.PairMapPayload:
    exchange, _, instrument_id = symbol.partition("_")
    params = {"exchange": exchange, "symbol": instrument_id, "range": range_}
    try:
        return await client.get(liqmap.MAP_PATH, params, liqmap.PairMapPayload)
    except InvalidParameter as error:
        if range_ not in liqmap.DOCUMENTED_RANGES:
            error.message += (
                f" CoinGlass documents only the ranges {', '.join(liqmap.DOCUMENTED_RANGES)}"
                f" for this map; it may not accept {range_}."
            )
        raise


async def _all_instruments(client: CoinGlassClient) -> list[Instrument]:
    return symbols.instruments(await client.get(symbols.PAIRS_PATH, {}, symbols.SupportedPairs))


async def _existing_instrument(client: CoinGlassClient, symbol: str) -> Instrument:
    candidates = await _all_instruments(client)
    instrument = symbols.resolve(candidates, symbol)
    if instrument is None:
        close = symbols.suggestions(candidates, symbol)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownSymbol(
            f"CoinGlass has no futures instrument {symbol!r}.{hint} Run mode search_symbols to"
            " list the supported ones."
        )
    return instrument
