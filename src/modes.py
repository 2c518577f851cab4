"""What each mode does, from a validated request to its result item, over one CoinGlass client.

No Apify here: the pair list comes from an ``InstrumentSource`` (cached by the caller), and each
function returns one item or raises an ``ActorError``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from pydantic_core import to_json

from src import liqmap, markets, symbols
from src.coinglass import DEFAULT_BASE_URL, CoinGlassClient
from src.errors import (
    CoinGlassError,
    InvalidApiKey,
    InvalidParameter,
    MissingApiKey,
    NoData,
    UnknownSymbol,
)
from src.inputs import ActorInput, MapTarget, SearchSymbolsInput, header_safe_key
from src.outputs import (
    MAP_SUCCESS_MESSAGE,
    Instrument,
    LiquidationMapItem,
    PriceKeyedMap,
    SearchSymbolsItem,
    record,
)

API_KEY_ENV = "COINGLASS_API_KEY"
# Apify stores a dataset item of up to 9 MB; only maps this many rows long come near it.
MAX_ITEM_BYTES = 9_000_000
LARGE_MAP_ROWS = 20_000
# The fewest bytes a row of ``data`` and a level take as JSON (``[1,1,1,""]``, and a level of
# one-digit numbers and null side), so a map these alone put past the limit is known too big.
MIN_ROW_BYTES = 10
MIN_LEVEL_BYTES = 94
BASE_URL_ENV = "COINGLASS_BASE_URL"


class InstrumentSource(Protocol):
    """Every supported instrument; ``fresh=True`` asks CoinGlass again instead of a cache."""

    def __call__(self, *, fresh: bool = False) -> Awaitable[list[Instrument]]: ...


def open_client(request: ActorInput, log: logging.Logger) -> CoinGlassClient:
    """A client with the user's key, or the publisher's; raises MissingApiKey before any request."""
    if request.api_key:
        api_key = request.api_key.get_secret_value()
    elif publishers_key := os.environ.get(API_KEY_ENV, "").strip():
        try:
            api_key = header_safe_key(publishers_key)
        except ValueError:
            raise InvalidApiKey(
                f"The CoinGlass key configured for this actor ({API_KEY_ENV}) is malformed."
                " Enter your own key in the apiKey input, or tell the actor's publisher."
            ) from None
    else:
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
        log=log,
    )


async def search_symbols(
    request: SearchSymbolsInput, instruments: InstrumentSource
) -> SearchSymbolsItem:
    """The supported instruments matching the keyword and filters, best matches first."""
    candidates = symbols.filtered(
        await instruments(), exchange=request.exchange, quote_asset=request.quote_asset
    )
    matches = symbols.search(candidates, request.keyword)[: request.max_results]
    return SearchSymbolsItem(keyword=request.keyword, data=matches)


class MarketPrices:
    """Each coin's ``pairs-markets``, fetched once per request and shared by all its maps."""

    def __init__(self, client: CoinGlassClient) -> None:
        self._client = client
        self._fetches: dict[str, asyncio.Task[markets.PairsMarkets]] = {}

    async def __call__(self, coin: str) -> markets.PairsMarkets:
        if coin not in self._fetches:
            self._fetches[coin] = asyncio.ensure_future(
                self._client.get(markets.MARKETS_PATH, {"symbol": coin}, markets.PairsMarkets)
            )
        # shield: a map that fails and stops waiting must not cancel its neighbours' price
        return await asyncio.shield(self._fetches[coin])

    def close(self) -> None:
        """Stop fetches no map waits for any more, before their client is closed."""
        for fetch in self._fetches.values():
            fetch.cancel()


@dataclass(frozen=True)
class Upstream:
    """What the maps of one request share: the client, the instrument list, the prices."""

    client: CoinGlassClient
    instruments: InstrumentSource
    prices: MarketPrices


async def liquidation_map(
    upstream: Upstream, target: MapTarget, bucketing: liqmap.Bucketing
) -> LiquidationMapItem:
    """One map (an instrument's, or a coin's across exchanges), its summary and its levels."""
    if target.is_coin:
        return await _coin_map(upstream, target, bucketing)
    return await _pair_map(upstream, target, bucketing)


async def _pair_map(
    upstream: Upstream, target: MapTarget, bucketing: liqmap.Bucketing
) -> LiquidationMapItem:
    client, prices = upstream.client, upstream.prices
    instrument = await _instrument(upstream.instruments, target.symbol)
    exchange, instrument_id = instrument.exchange, symbols.instrument_id(instrument)
    # The price is fetched alongside the map, so it costs no extra wait.
    pricing = asyncio.create_task(
        _current_price(
            prices,
            instrument.base_asset,
            lambda rows: markets.pair_price(rows, exchange, instrument_id),
        )
    )
    try:
        payload = await _fetch_map(
            client,
            liqmap.MAP_PATH,
            {"exchange": exchange, "symbol": instrument_id, "range": target.range},
            liqmap.PairMapPayload,
        )
    except BaseException:
        pricing.cancel()
        raise
    price, missing = await pricing
    data = liqmap.normalise(payload.data)
    return map_item(
        instrument.symbol,
        target,
        data,
        price=price,
        missing=missing,
        bucketing=bucketing,
        skipped_rows=payload.skipped_rows,
    )


async def _coin_map(
    upstream: Upstream, target: MapTarget, bucketing: liqmap.Bucketing
) -> LiquidationMapItem:
    candidates = await upstream.instruments()
    coin = symbols.resolve_coin(candidates, target.symbol)
    if coin is None:
        close = symbols.coin_suggestions(candidates, target.symbol)
        raise UnknownSymbol(
            f"CoinGlass has no futures on a coin named {target.symbol!r}.{_did_you_mean(close)}"
            " Run mode search_symbols to list the supported instruments."
        )
    payload = await _fetch_map(
        upstream.client,
        liqmap.COIN_MAP_PATH,
        {"symbol": coin, "range": target.range},
        liqmap.CoinMapPayload,
    )
    coin_map = liqmap.merge_coin_map(payload)
    if coin_map.last_price:  # zero is no price
        price: markets.CurrentPrice | None = markets.CurrentPrice(
            coin_map.last_price, "aggregated-map last_price"
        )
        missing = ""
    else:
        price, missing = await _current_price(upstream.prices, coin, markets.coin_price)
    return map_item(
        coin,
        target,
        coin_map.data,
        price=price,
        missing=missing,
        bucketing=bucketing,
        by_exchange=coin_map.by_exchange,
        skipped_rows=coin_map.skipped_rows,
    )


def map_item(
    symbol: str,
    target: MapTarget,
    data: PriceKeyedMap,
    *,
    price: markets.CurrentPrice | None,
    missing: str,
    bucketing: liqmap.Bucketing,
    by_exchange: dict[str, float] | None = None,
    skipped_rows: int = 0,
) -> LiquidationMapItem:
    """A fetched map as the item delivered: its summary, its levels and what the user should
    know. No I/O: the benchmark times exactly this."""
    if not data:
        raise NoData(
            f"CoinGlass returned an empty liquidation map for {symbol} over {target.range}, so"
            " there is nothing to deliver and nothing was charged. Try a documented range"
            f" ({', '.join(liqmap.DOCUMENTED_RANGES)}) or a more traded instrument."
        )
    summary, placement = liqmap.analyse(
        data,
        price.price if price else None,
        bucketing,
        price_source=price.source if price else None,
        by_exchange=by_exchange,
    )
    message = MAP_SUCCESS_MESSAGE
    if skipped_rows:
        message += f" {skipped_rows} unreadable row(s) from CoinGlass were left out."
    if price is None:
        message += f" The current price is unavailable ({missing}), so sides are not computed."
        if bucketing.price_percent_step is not None and bucketing.price_step is None:
            message += " pricePercentStep needs it too, so CoinGlass's own buckets are kept."
    # Every part was validated where it was made; validating 100,000 rows again buys nothing.
    item = LiquidationMapItem.model_construct(
        message=message, symbol=symbol, range=target.range, data=data, summary=summary, levels=None
    )
    return _with_levels(item, placement)


def _with_levels(item: LiquidationMapItem, placement: liqmap.Placement) -> LiquidationMapItem:
    """The item with its levels, unless they would take it past the platform's item limit,
    which refuses the item: then it keeps its map and summary, and says why."""
    rows, level_count = item.summary.level_count, len(placement.rows)  # fewer, if re-bucketed
    if rows * MIN_ROW_BYTES + level_count * MIN_LEVEL_BYTES <= MAX_ITEM_BYTES:
        complete = item.model_copy(update={"levels": placement.levels()})
        # data holds every row however few the levels are: its size counts as much.
        if rows <= LARGE_MAP_ROWS or len(to_json(record(complete))) <= MAX_ITEM_BYTES:
            return complete
    # Levels that could not be delivered are not even built: a map that big is all work.
    return item.model_copy(
        update={
            "message": f"{item.message} The levels were left out: with them the item would"
            f" exceed the platform's {MAX_ITEM_BYTES // 1_000_000} MB item limit;"
            " set priceStep to re-bucket them."
        }
    )


async def _instrument(instruments: InstrumentSource, symbol: str) -> Instrument:
    """The instrument ``symbol`` names (case and spaces forgiven), checked against a fresh list
    before it is called unknown, since a stored list may predate a new listing."""
    for fresh in (False, True):
        candidates = await instruments(fresh=fresh)
        instrument = symbols.resolve(candidates, symbol)
        if instrument is not None:
            return instrument
    close = symbols.suggestions(candidates, symbol)
    raise UnknownSymbol(
        f"CoinGlass has no futures instrument {symbol!r}.{_did_you_mean(close)} Run mode"
        " search_symbols to list the supported ones."
    )


def _did_you_mean(close: list[str]) -> str:
    return f" Did you mean {', '.join(close)}?" if close else ""


async def _current_price(
    prices: MarketPrices,
    coin: str,
    pick: Callable[[markets.PairsMarkets], markets.CurrentPrice | None],
) -> tuple[markets.CurrentPrice | None, str]:
    """The current price, or None and why not: a missing price never fails the map."""
    try:
        rows = await prices(coin)
    except CoinGlassError as error:
        return None, f"pairs-markets failed: {error.type}"
    price = pick(rows)
    return price, "" if price else "pairs-markets does not list this instrument"


async def _fetch_map(
    client: CoinGlassClient, path: str, params: dict[str, str], payload: type[liqmap.MapPayloadT]
) -> liqmap.MapPayloadT:
    try:
        return await client.get(path, params, payload, salvage=payload.salvaged)
    except InvalidParameter as error:
        if params["range"] not in liqmap.DOCUMENTED_RANGES:
            error.message += (
                f" CoinGlass documents only the ranges {', '.join(liqmap.DOCUMENTED_RANGES)}"
                f" for this map; it may not accept {params['range']}."
            )
        raise
