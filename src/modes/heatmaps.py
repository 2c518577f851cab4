"""Mode ``liquidation_heatmap``: one heatmap (time × price) of an instrument or of a coin across
exchanges, under one of CoinGlass's models, fetched and read."""

from __future__ import annotations

from typing import get_args

from src.analysis import symbols
from src.analysis.heatmap import analysed_heatmap
from src.coinglass.endpoints import Endpoints
from src.coinglass.heatmap_payloads import HeatmapPayload
from src.errors import InvalidParameter, NoData
from src.inputs import HeatmapModel, HeatmapTarget
from src.modes.resolve import resolve_coin, resolve_instrument
from src.modes.upstream import InstrumentSource
from src.outputs import HEATMAP_SUCCESS_MESSAGE, Instrument, LiquidationHeatmapItem


async def liquidation_heatmap(
    endpoints: Endpoints, instruments: InstrumentSource, target: HeatmapTarget, top: int
) -> LiquidationHeatmapItem:
    """One heatmap, its summary and its latest column's levels."""
    range_, model = target.upstream_range, target.model
    if target.is_coin:
        symbol = coin = await resolve_coin(instruments, target.symbol)
        payload = await endpoints.coin_heatmap(coin, range_, model)
    else:
        instrument = await resolve_instrument(instruments, target.symbol)
        symbol, coin = instrument.symbol, instrument.base_asset
        payload = await _pair_heatmap(endpoints, instrument, target)
    try:
        analysed = analysed_heatmap(payload, top)
    except NoData as empty:
        empty.message = (
            f"CoinGlass returned an empty {model} liquidation heatmap for {symbol} over"
            f" {target.range}, so there is nothing to deliver and nothing was charged."
            f" {_elsewhere(target, coin)}"
        )
        raise
    message = HEATMAP_SUCCESS_MESSAGE
    left_out = analysed.outside_cells + payload.skipped_cells
    if left_out:
        message += (
            f" {left_out} cell(s) from CoinGlass were left out: unreadable, or outside its own"
            " price axis or candles."
        )
    if analysed.latest_empty:
        message += (
            " Its latest candle holds no cell, so the current picture (summary.latest, levels,"
            " hot_zones) is empty; earlier columns are in data."
        )
    return analysed.item(symbol, target.range, model, message)


async def _pair_heatmap(
    endpoints: Endpoints, instrument: Instrument, target: HeatmapTarget
) -> HeatmapPayload:
    try:
        return await endpoints.pair_heatmap(
            instrument.exchange,
            symbols.instrument_id(instrument),
            target.upstream_range,
            target.model,
        )
    except InvalidParameter as refused:
        # CoinGlass refuses some pairs' heatmaps under some models while it serves the coin's.
        refused.message += f" {_elsewhere(target, instrument.base_asset)}"
        raise


def _elsewhere(target: HeatmapTarget, coin: str) -> str:
    others = [model for model in get_args(HeatmapModel) if model != target.model]
    across = "" if target.is_coin else f"the coin's heatmap across exchanges (symbol {coin}) or "
    return f"Try {across}another model ({' or '.join(others)})."
