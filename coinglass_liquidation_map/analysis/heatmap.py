"""Pure functions from CoinGlass's liquidation heatmap (time × price) to what a trader reads off
it: the latest column placed against the current price, its hot zones, and its flat levels.

The latest column is the current picture; earlier columns are history and are never summed
into it. No I/O, no clock: every figure follows from the cells and the candles alone.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from coinglass_liquidation_map.analysis.buckets import distance_pct, percentile, reach, side_of
from coinglass_liquidation_map.analysis.liqmap import CLUSTER_PERCENTILE, WITHIN_PCTS, latest_column
from coinglass_liquidation_map.analysis.markets import CurrentPrice, unfit_price
from coinglass_liquidation_map.errors import BadResponse, NoData
from coinglass_liquidation_map.market_data import Heatmap, Number
from coinglass_liquidation_map.outputs import Side
from coinglass_liquidation_map.schemas.heatmaps import (
    HEATMAP_SUCCESS_MESSAGE,
    HeatLevel,
    HeatmapData,
    HeatmapSummary,
    HeatSides,
    HotZone,
    LatestColumn,
    LiquidationHeatmapItem,
)

PRICE_SOURCE = "last candle close"


@dataclass(frozen=True)
class AnalysedHeatmap:
    """A heatmap as the item gives it: the data, its summary and the latest column's levels,
    with the count of cells left out for lying outside the grid."""

    data: HeatmapData
    summary: HeatmapSummary
    levels: list[HeatLevel]
    outside_cells: int
    latest_empty: bool  # the last candle holds no cell: the current picture is empty
    unfit_price: str | None = None  # why the last close is not read as the current price

    def item(
        self, symbol: str, range_: str, model: str, message: str = HEATMAP_SUCCESS_MESSAGE
    ) -> LiquidationHeatmapItem:
        """The heatmap's item; every part was validated where it was made."""
        return LiquidationHeatmapItem.model_construct(
            message=message,
            symbol=symbol,
            range=range_,
            model=model,
            data=self.data,
            summary=self.summary,
            levels=self.levels,
        )


def analysed_heatmap(heatmap: Heatmap, top: int) -> AnalysedHeatmap:
    """The heatmap's data (cells outside the price axis or the candles left out), summary and
    levels, with ``top`` levels and hot zones.

    Raises NoData when CoinGlass sent no cell, BadResponse when none lies inside the grid.
    """
    prices, candles, sent = heatmap.y_axis, heatmap.candles, heatmap.cells
    if not sent:
        raise NoData("CoinGlass returned a heatmap without a single cell.")
    cells = [cell for cell in sent if cell[0] < len(candles) and cell[1] < len(prices)]
    if not cells:
        raise BadResponse(
            f"None of the {len(sent)} cells CoinGlass sent lies inside its own grid"
            f" ({len(candles)} candles × {len(prices)} prices), so the heatmap cannot be read."
        )
    data = HeatmapData.model_construct(
        y_axis=prices,
        liquidation_leverage_data=cells,
        price_candlesticks=candles,
        update_time=heatmap.update_time,
    )
    last = len(candles) - 1
    close = CurrentPrice(candles[last][4], PRICE_SOURCE)
    unfit = unfit_price(close, prices[0], prices[-1])
    price = None if unfit else close.price
    latest = latest_column(heatmap)
    levels = [_level(prices[y], value, price) for y, value in latest]
    # A cell of zero is as empty as an absent one: it is never hot, nor the percentile's.
    threshold = percentile([value for _, value in latest if value > 0], CLUSTER_PERCENTILE)
    summary = HeatmapSummary(
        current_price=price,
        price_source=None if unfit else PRICE_SOURCE,
        start_time=_utc(candles[0][0]),
        end_time=_utc(candles[-1][0]),
        columns=len(candles),
        price_levels=len(prices),
        cells=len(cells),
        latest=_latest(levels, price, _utc(candles[last][0]), top, threshold),
        hot_zones=_hot_zones(latest, prices, price, top, threshold),
    )
    return AnalysedHeatmap(data, summary, levels, len(sent) - len(cells), not latest, unfit)


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _level(price: Number, value: float, current_price: Number | None) -> HeatLevel:
    return {
        "price": price,
        "value": round(value, 2),
        "side": side_of(price, current_price),
        "distance_pct": distance_pct(price, current_price),
    }


def _latest(
    levels: list[HeatLevel], price: Number | None, at: datetime, top: int, threshold: float
) -> LatestColumn:
    top_levels = heapq.nlargest(top, levels, key=lambda level: level["value"])
    if price is None:
        return LatestColumn(
            at=at,
            total_above=None,
            total_below=None,
            imbalance=None,
            within_pct=None,
            top_levels=top_levels,
            nearest_above=None,
            nearest_below=None,
        )
    above = [level for level in levels if level["side"] == "short"]  # ascending: nearest first
    below = [level for level in levels if level["side"] == "long"][::-1]  # nearest first
    total_above = round(sum(level["value"] for level in above), 2)
    total_below = round(sum(level["value"] for level in below), 2)

    def within(pct: int) -> HeatSides:
        # From exact prices, a level exactly pct away included, as the maps count it.
        reached = reach(price, pct)
        return HeatSides(
            above=round(sum(lv["value"] for lv in above if lv["price"] - price <= reached), 2),
            below=round(sum(lv["value"] for lv in below if price - lv["price"] <= reached), 2),
        )

    total = total_above + total_below
    return LatestColumn(
        at=at,
        total_above=total_above,
        total_below=total_below,
        imbalance=round((total_above - total_below) / total, 6) if total else None,
        within_pct={str(pct): within(pct) for pct in WITHIN_PCTS},
        top_levels=top_levels,
        nearest_above=next((lv for lv in above if lv["value"] >= threshold), None),
        nearest_below=next((lv for lv in below if lv["value"] >= threshold), None),
    )


def _hot_zones(
    latest: list[tuple[int, float]],
    prices: list[Number],
    price: Number | None,
    top: int,
    threshold: float,
) -> list[HotZone]:
    """Runs of adjacent price rows of the latest column at or above its 90th percentile,
    largest total first."""
    hot = [(y, prices[y], value) for y, value in latest if value >= threshold]
    # Adjacent rows differ by one: row minus position is constant along a run.
    runs = [
        [cell for _, cell in run]
        for _, run in itertools.groupby(
            enumerate(hot), key=lambda indexed: indexed[1][0] - indexed[0]
        )
    ]
    zones = [_zone(run, price) for run in runs]
    return heapq.nlargest(top, zones, key=lambda zone: zone.total)


def _zone(run: list[tuple[int, Number, float]], price: Number | None) -> HotZone:
    low, high = run[0][1], run[-1][1]
    peak = max(run, key=lambda cell: cell[2])
    side: Side | None = None
    edge = price
    if price is not None and low > price:
        side, edge = "short", low
    elif price is not None and high < price:
        side, edge = "long", high
    return HotZone(
        price_low=low,
        price_high=high,
        total=round(sum(cell[2] for cell in run), 2),
        peak_price=peak[1],
        peak_value=round(peak[2], 2),
        side=side,
        distance_pct=None if edge is None else distance_pct(edge, price),
    )
