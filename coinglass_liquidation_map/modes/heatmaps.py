"""Mode ``liquidation_heatmap``'s pipeline: one job per heatmap (time × price) of an instrument
or of a coin across exchanges, under one of CoinGlass's models, fetched and read; then drawn, as
the input asks, and fitted to the item limit. The report is saved once every heatmap is
delivered."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import get_args

from coinglass_liquidation_map.analysis.heatmap import analysed_heatmap
from coinglass_liquidation_map.catalog import mode_of
from coinglass_liquidation_map.coinglass.endpoints import Endpoints
from coinglass_liquidation_map.errors import NoData
from coinglass_liquidation_map.modes.resolve import resolved_heatmap
from coinglass_liquidation_map.run import item_limit
from coinglass_liquidation_map.run.billing import Budget
from coinglass_liquidation_map.run.gallery import Gallery, Picture, picture_key
from coinglass_liquidation_map.run.pipeline import Job, Steps, per_target
from coinglass_liquidation_map.run.storage import StoreOpener, run_store
from coinglass_liquidation_map.run.upstream import InstrumentSource, Upstream
from coinglass_liquidation_map.schemas.heatmaps import (
    HEATMAP_SUCCESS_MESSAGE,
    HeatmapData,
    HeatmapModel,
    HeatmapTarget,
    LiquidationHeatmapInput,
    LiquidationHeatmapItem,
)


def pipeline(
    request: LiquidationHeatmapInput, upstream: Upstream, *, remember: bool, log: logging.Logger
) -> HeatmapPipeline:
    """The heatmaps ``request`` asks for; nothing of them is kept between runs."""
    return HeatmapPipeline(request, upstream, log)


class HeatmapPipeline(Steps):
    """Every heatmap of one request, and its picture."""

    def __init__(
        self, request: LiquidationHeatmapInput, upstream: Upstream, log: logging.Logger
    ) -> None:
        self._request = request
        self._upstream = upstream
        self.concurrency = request.max_concurrency
        self._gallery = Gallery(run_store(), log) if request.chart else None

    async def jobs(self, budget: Budget) -> list[Job]:
        return per_target(mode_of(self._request), self._request.targets(), self._heatmap)

    async def _heatmap(self, target: HeatmapTarget) -> LiquidationHeatmapItem:
        upstream = self._upstream
        top = self._request.top_clusters
        item = await liquidation_heatmap(upstream.endpoints, upstream.instruments, target, top)
        if self._gallery is not None:
            # Drawn from every cell, whatever is stored apart.
            item = await self._gallery.add(item, picture(item))
        return await fitted_heatmap(item, run_store())

    async def finish(self) -> None:
        """Save the report."""
        if self._gallery is not None:
            await self._gallery.save_report()


# The most a level of a heatmap's latest column takes (price, value, side, distance), and its
# summary with a hundred top levels and hot zones.
HEAT_LEVEL_BYTES = 120
HEATMAP_SUMMARY_BYTES = 100 * (HEAT_LEVEL_BYTES + 250) + 5_000


async def fitted_heatmap(
    item: LiquidationHeatmapItem, store: StoreOpener
) -> LiquidationHeatmapItem:
    """The heatmap's item as the platform takes it: whole, or, when its data would take it past
    the item limit, with the data in a record of its own that ``data_url`` links."""
    if item.data is None:
        return item
    return await item_limit.with_data_apart(
        item,
        store,
        bound=_heatmap_bytes_at_most(item.data),
        key_of=lambda data: item_limit.map_key(
            f"heatmap-{item.symbol}", f"{item.range}-{item.model}", data
        ),
        counted=f"{item.summary.cells:,} cells",
    )


def _heatmap_bytes_at_most(data: HeatmapData) -> int:
    """A bound on a heatmap item's size as JSON, from its counts alone: each number at a
    double's longest, the latest column's levels at most one per price, and the summary's
    lists at their longest."""
    number = 24
    cells = len(data.liquidation_leverage_data) * (3 * number + 4)
    candles = len(data.price_candlesticks) * (6 * number + 7)
    prices = len(data.y_axis) * (number + 1)
    return cells + candles + prices * (1 + HEAT_LEVEL_BYTES) + HEATMAP_SUMMARY_BYTES


def heatmap_key(symbol: str, range_: str, model: str) -> str:
    """The key of a heatmap's picture: ``heatmap-Binance_BTCUSDT-24h-model1.png``."""
    return picture_key(f"heatmap-{symbol}-{range_}-{model}")


def picture(item: LiquidationHeatmapItem) -> Picture:
    """How a heatmap is drawn and shown in the report."""

    def render(_: datetime) -> bytes:
        # Imported here, so that matplotlib loads only when charts are asked for.
        from coinglass_liquidation_map.render.heatmap_chart import render_heatmap  # noqa: PLC0415

        return render_heatmap(item)

    def section() -> list[str]:
        from coinglass_liquidation_map.render.heatmap_section import heatmap_section  # noqa: PLC0415 - see render()

        return heatmap_section(item)

    symbol, range_, model = item.symbol, item.range, item.model
    return Picture(
        kind="heatmap",
        name=f"{symbol} {range_} {model}",
        heading=f"{symbol} · {range_} · {model}",
        alt=f"Liquidation heatmap chart of {symbol}, range {range_}",
        key=heatmap_key(symbol, range_, model),
        render=render,
        section=section,
    )


async def liquidation_heatmap(
    endpoints: Endpoints, instruments: InstrumentSource, target: HeatmapTarget, top: int
) -> LiquidationHeatmapItem:
    """One heatmap, its summary and its latest column's levels."""
    model = target.model
    symbol, coin, heatmap = await resolved_heatmap(
        endpoints,
        instruments,
        target,
        target.upstream_range,
        model,
        # CoinGlass refuses some pairs' heatmaps under some models while it serves the coin's.
        pair_refused=lambda coin: _elsewhere(target, coin),
    )
    try:
        analysed = analysed_heatmap(heatmap, top)
    except NoData as empty:
        raise NoData(
            f"CoinGlass returned an empty {model} liquidation heatmap for {symbol} over"
            f" {target.range}, so there is nothing to deliver and nothing was charged."
            f" {_elsewhere(target, coin)}",
            upstream_code=empty.upstream_code,
        ) from empty
    message = HEATMAP_SUCCESS_MESSAGE
    left_out = analysed.outside_cells + heatmap.skipped_cells
    if left_out:
        message += (
            f" {left_out} cell(s) from CoinGlass were left out: unreadable, or outside its own"
            " price axis or candles."
        )
    if analysed.unfit_price:
        message += (
            f" The current price is unavailable ({analysed.unfit_price}), so sides are not"
            " computed."
        )
    if analysed.latest_empty:
        message += (
            " Its latest candle holds no cell, so the current picture (summary.latest, levels,"
            " hot_zones) is empty; earlier columns are in data."
        )
    return analysed.item(symbol, target.range, model, message)


def _elsewhere(target: HeatmapTarget, coin: str) -> str:
    others = [model for model in get_args(HeatmapModel) if model != target.model]
    across = "" if target.is_coin else f"the coin's heatmap across exchanges (symbol {coin}) or "
    return f"Try {across}another model ({' or '.join(others)})."
