"""Mode ``liquidation_map``: one map, an instrument's or a coin's across exchanges, fetched with
its current price and analysed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from src.analysis import liqmap, markets, symbols
from src.analysis.buckets import Bucketing
from src.analysis.liqmap import AnalysedMap
from src.coinglass.endpoints import DOCUMENTED_MAP_RANGES
from src.errors import InvalidParameter, NoData
from src.inputs import MapTarget
from src.modes.resolve import resolve_coin, resolve_instrument
from src.modes.upstream import Upstream, current_price
from src.outputs import PriceKeyedMap


@dataclass(frozen=True)
class _FetchedMap:
    """A map as CoinGlass sent it, normalised, with what is known of the current price."""

    symbol: str
    data: PriceKeyedMap
    price: markets.CurrentPrice | None
    missing: str  # why there is no price, when there is none
    by_exchange: dict[str, float] | None
    skipped_rows: int


async def liquidation_map(
    upstream: Upstream, target: MapTarget, bucketing: Bucketing
) -> AnalysedMap:
    """One map, its summary and the placement of its levels."""
    try:
        fetched = await (_coin_map if target.is_coin else _pair_map)(upstream, target)
    except InvalidParameter as refused:
        if target.range not in DOCUMENTED_MAP_RANGES:
            # CoinGlass documents its heatmaps up to a year, where it documents maps to 30d.
            refused.message += (
                f" Its liquidation heatmap covers {target.range}: ask mode liquidation_heatmap"
                f" with range {target.range}."
            )
        raise
    if not fetched.data:
        raise NoData(
            f"CoinGlass returned an empty liquidation map for {fetched.symbol} over"
            f" {target.range}, so there is nothing to deliver and nothing was charged. Try a"
            f" documented range ({', '.join(DOCUMENTED_MAP_RANGES)}) or a more traded instrument."
        )
    return liqmap.analysed_map(
        fetched.symbol,
        target.range,
        fetched.data,
        price=fetched.price,
        missing=fetched.missing,
        bucketing=bucketing,
        by_exchange=fetched.by_exchange,
        skipped_rows=fetched.skipped_rows,
    )


async def _pair_map(upstream: Upstream, target: MapTarget) -> _FetchedMap:
    instrument = await resolve_instrument(upstream.instruments, target.symbol)
    exchange, instrument_id = instrument.exchange, symbols.instrument_id(instrument)
    # The price is fetched alongside the map, so it costs no extra wait.
    pricing = asyncio.create_task(
        current_price(
            upstream.prices,
            instrument.base_asset,
            lambda rows: markets.pair_price(rows, exchange, instrument_id),
        )
    )
    try:
        payload = await upstream.endpoints.pair_map(exchange, instrument_id, target.range)
    except BaseException:
        pricing.cancel()
        raise
    price, missing = await pricing
    data = liqmap.normalise(payload.data)
    return _FetchedMap(instrument.symbol, data, price, missing, None, payload.skipped_rows)


async def _coin_map(upstream: Upstream, target: MapTarget) -> _FetchedMap:
    coin = await resolve_coin(upstream.instruments, target.symbol)
    payload = await upstream.endpoints.coin_map(coin, target.range)
    coin_map = liqmap.merge_coin_map(payload)
    missing = ""
    # CoinGlass sends a last price of zero when it has none.
    price = (
        markets.CurrentPrice(coin_map.last_price, "aggregated-map last_price")
        if coin_map.last_price
        else None
    )
    if price is None:
        price, missing = await current_price(upstream.prices, coin, markets.coin_price)
    return _FetchedMap(
        coin, coin_map.data, price, missing, coin_map.by_exchange, coin_map.skipped_rows
    )
