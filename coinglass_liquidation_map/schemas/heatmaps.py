"""Mode ``liquidation_heatmap``'s boundary models: the input that asks for heatmaps, the item
that answers one, and the parameters of its MCP tool."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, computed_field
from typing_extensions import TypedDict

from coinglass_liquidation_map.formatting import (
    format_price,
    heavier_first,
    placed,
    sentence_of,
)
from coinglass_liquidation_map.inputs import (
    HEATMAP_RANGE_NAMES,
    SYMBOL_HELP,
    InputModel,
    Symbol,
    Target,
    ToolArguments,
    TopClusters,
    each_once,
)
from coinglass_liquidation_map.market_data import Candle, HeatmapCell, Number
from coinglass_liquidation_map.outputs import DEFERRED, Side, SuccessItem

HEATMAP_SUCCESS_MESSAGE = "Liquidation heatmap data fetched successfully."
# CoinGlass's heatmap ranges, after the map names, which one ``ranges`` list may serve both with.
HeatmapRange = Literal["1d", "7d", "30d", "90d", "180d", "365d", "12h", "24h", "3d", "1y"]
HeatmapModel = Literal["model1", "model2", "model3"]


@dataclass(frozen=True)
class HeatmapTarget(Target):
    """One heatmap a run fetches: an instrument or coin, a range and one of CoinGlass's models."""

    range: HeatmapRange  # as the user wrote it
    model: HeatmapModel

    @property
    def upstream_range(self) -> str:
        """The range as CoinGlass names it."""
        return HEATMAP_RANGE_NAMES.get(self.range, self.range)

    @property
    def identity(self) -> tuple[str, ...]:
        return (*super().identity, self.upstream_range, self.model)


class LiquidationHeatmapInput(InputModel):
    """Fetch CoinGlass's liquidation heatmaps: one instrument, range and model, or every
    combination of lists."""

    mode: Literal["liquidation_heatmap"]
    symbol: Symbol = "Binance_BTCUSDT"
    range: HeatmapRange = "1d"
    model: HeatmapModel = "model1"
    symbols: list[Symbol] | None = Field(default=None, max_length=50)
    ranges: list[HeatmapRange] | None = Field(default=None, max_length=10)
    models: list[HeatmapModel] | None = Field(default=None, max_length=3)
    max_concurrency: int = Field(default=4, alias="maxConcurrency", ge=1, le=16)
    top_clusters: TopClusters = Field(default=10, alias="topClusters")
    chart: bool = False

    def targets(self) -> list[HeatmapTarget]:
        """Every symbol × range × model heatmap, in input order, each once (``1d`` and
        ``24h`` are one range)."""
        return each_once(
            HeatmapTarget(symbol, range_, model)
            for model in self.models or [self.model]
            for symbol in self.symbols or [self.symbol]
            for range_ in self.ranges or [self.range]
        )

    def result_count(self) -> int:
        return len(self.targets())


class HeatmapData(BaseModel):
    """CoinGlass's heatmap as published, numbers as numbers, cells all inside the grid."""

    model_config = DEFERRED

    y_axis: list[Number]
    liquidation_leverage_data: list[HeatmapCell]
    price_candlesticks: list[Candle]
    update_time: int | None  # milliseconds


class HeatLevel(TypedDict):
    """One cell of the latest column, placed against the current price."""

    price: Number
    value: float
    side: Side | None  # short above the price, long below
    distance_pct: float | None


class HeatSides(BaseModel):
    """A total on each side of the current price."""

    model_config = DEFERRED

    above: float
    below: float


class LatestColumn(BaseModel):
    """The heatmap's current picture: its latest column, never summed with earlier ones. Its
    sides and totals are null when the current price is unknown."""

    model_config = DEFERRED

    at: AwareDatetime  # the column's candle
    total_above: float | None
    total_below: float | None
    imbalance: float | None  # (above - below) / (above + below)
    within_pct: dict[str, HeatSides] | None
    top_levels: list[HeatLevel]
    nearest_above: HeatLevel | None  # the nearest cell at or above the column's 90th percentile
    nearest_below: HeatLevel | None


class HotZone(BaseModel):
    """A band of adjacent price levels of the latest column, each at or above its 90th
    percentile."""

    model_config = DEFERRED

    price_low: Number
    price_high: Number
    total: float
    peak_price: Number
    peak_value: float
    side: Side | None  # None when the band holds the price, or the price is unknown
    distance_pct: float | None  # of its nearest edge; None when the price is unknown


class HeatmapSummary(BaseModel):
    """The answers a trader reads a heatmap for."""

    model_config = DEFERRED

    current_price: Number | None  # None when the last close does not fit the price axis
    price_source: str | None
    start_time: AwareDatetime
    end_time: AwareDatetime
    columns: int
    price_levels: int
    cells: int
    latest: LatestColumn
    hot_zones: list[HotZone]


class LiquidationHeatmapItem(SuccessItem):
    """A successful heatmap: CoinGlass's grid, numbers as numbers, and what it says now."""

    success: Literal[True] = True
    message: str = HEATMAP_SUCCESS_MESSAGE
    mode: Literal["liquidation_heatmap"] = "liquidation_heatmap"
    symbol: str
    range: str
    model: str
    data: HeatmapData | None  # None only when it is too large: data_url links it then
    summary: HeatmapSummary
    levels: list[HeatLevel]  # the latest column, by price
    chart_url: str | None = None
    data_url: str | None = None
    # CoinGlass models every heatmap from open positions; it calls its values intensities.
    provenance: Literal["modeled"] = "modeled"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary_text(self) -> str:
        """One plain sentence for people and agents: the price, the heavier side of the latest
        column first, and its nearest hot level."""
        summary, latest = self.summary, self.summary.latest
        subject = f"{self.symbol} {self.range} {self.model} heatmap"
        price, above, below = summary.current_price, latest.total_above, latest.total_below
        if price is None or above is None or below is None:
            return sentence_of(
                f"{subject}: {summary.cells:,} cells over {summary.columns:,} candles",
                "its last close does not fit its prices, so no side is known",
            )
        sides = [(above, "above"), (below, "below")]
        totals = heavier_first(sides, latest.imbalance, " the price in its latest column")
        hot = [level for level in (latest.nearest_above, latest.nearest_below) if level]
        nearest = min(hot, key=lambda level: abs(level["distance_pct"] or 0), default=None)
        return sentence_of(
            f"{subject} at {format_price(price)}: {totals}",
            ""
            if nearest is None
            else placed(
                "the nearest hot level", nearest["value"], nearest["price"], nearest["distance_pct"]
            ),
        )

    def json_ready(self) -> dict[str, Any]:
        return {"data": self.data and dict(self.data), "levels": self.levels}


class HeatmapToolArguments(ToolArguments):
    """What an agent may ask of a heatmap: its symbol, range and model, how many top levels and
    hot zones, and whether the grid comes too. The tool's description is the catalog's."""

    symbol: str = Field(default="Binance_BTCUSDT", description=SYMBOL_HELP)
    range: HeatmapRange = Field(
        default="1d",
        description="The period the heatmap covers; 1d is read as 24h, and 365d as 1y.",
    )
    model: HeatmapModel = Field(
        default="model1", description="Which of CoinGlass's three heatmap models to read."
    )
    include_data: bool = Field(
        default=False,
        description=(
            "Also answer the raw grid (y_axis, cells, candles), which can be large; without it"
            " the answer is the summary and the latest column's levels."
        ),
    )
    top_clusters: TopClusters = Field(
        default=10,
        description="How many top levels of the latest column, and hot zones, the summary lists.",
    )

    def fields(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "range": self.range,
            "model": self.model,
            "topClusters": self.top_clusters,
        }

    def left_out(self) -> set[str] | None:
        return None if self.include_data else {"data"}
