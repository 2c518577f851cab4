"""The actor's dataset items as pydantic models: the envelope existing callers parse.

Fields are only ever added, never renamed: ``success / message / mode / <request> / data`` is
the contract, and ``summary`` and ``levels`` come after it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict
from typing_extensions import TypedDict

from src.errors import ActorError
from src.inputs import DEFAULT_MODE, INPUT_MODELS, ActorInput, HeatmapTarget, MapTarget

SEARCH_SUCCESS_MESSAGE = "Futures symbols fetched successfully."
MAP_SUCCESS_MESSAGE = "Liquidation map data fetched successfully."
HEATMAP_SUCCESS_MESSAGE = "Liquidation heatmap data fetched successfully."

Number = int | float
Side = Literal["long", "short"]


class Instrument(BaseModel):
    """One futures instrument CoinGlass supports, in the actor's ``symbol`` form.

    Extra fields some copies of the pair list carry (``max_leverage``, ``price_tick_size``, ...)
    are kept as they come.
    """

    model_config = ConfigDict(extra="allow")

    base_asset: str
    quote_asset: str
    exchange: str
    symbol: str


LiquidationRow = tuple[Number, Number, Number | None, str | None]
"""``[price, level, leverage or null, band or null]``, exactly as CoinGlass's rows, normalised."""

PriceKeyedMap = dict[str, list[LiquidationRow]]


class LiquidationLevel(TypedDict):
    """One row of the map, placed against the current price (sides null when it is unknown).

    A typed dict rather than a model: a map can hold a hundred thousand of them, and pydantic
    validates typed dicts at a fraction of the cost of building as many model instances.
    """

    price: Number
    level: Number
    leverage: Number | None
    band: str | None
    side: Side | None
    distance_pct: float | None
    cumulative_level: float | None


class Cluster(BaseModel):
    """One price bucket with its total level and how that level splits across leverage tiers."""

    price: Number
    level: float
    side: Side | None
    distance_pct: float | None
    leverage_mix: dict[str, float]


class SideTotals(BaseModel):
    """Total level on each side of the current price."""

    long: float
    short: float


class Summary(BaseModel):
    """The answers a trader reads a liquidation map for."""

    current_price: Number | None
    price_source: str | None
    long_level_total: float | None
    short_level_total: float | None
    imbalance: float | None
    within_pct: dict[str, SideTotals] | None
    by_leverage: dict[str, float]
    by_exchange: dict[str, float] | None
    top_clusters: list[Cluster]
    top_long_clusters: list[Cluster] | None
    top_short_clusters: list[Cluster] | None
    nearest_long_cluster: Cluster | None
    nearest_short_cluster: Cluster | None
    price_min: Number | None
    price_max: Number | None
    level_count: int
    bucket_width: float | None


class Changes(BaseModel):
    """What moved since the last run's map of the same symbol, range and bucketing; figures
    that need a price are null when either map lacks one."""

    previous_at: AwareDatetime
    elapsed_secs: float
    previous_price: Number | None
    price_change_pct: float | None
    long_level_total_change_pct: float | None
    short_level_total_change_pct: float | None
    imbalance_change: float | None
    new_clusters: list[Cluster] | None
    """Today's top clusters with no previous top cluster near their price."""
    swept_clusters: list[Cluster] | None
    """Previous top clusters the price has traded through since."""
    faded_clusters: list[Cluster] | None
    """Previous top clusters neither found again nor swept."""


class Alert(BaseModel):
    """One alert rule that fired on a map."""

    rule: int  # its index in the input's rules
    type: str
    symbol: str
    range: str
    side: Side | None
    price: Number | None  # the cluster's, for rules about one
    level: float | None
    distance_pct: float | None
    current_price: Number | None
    message: str
    suppressed: bool = False  # held back by the cooldown: seen, but not sent again


class SearchSymbolsItem(BaseModel):
    """A successful search: every matching instrument, best matches first."""

    success: Literal[True] = True
    message: str = SEARCH_SUCCESS_MESSAGE
    mode: Literal["search_symbols"] = "search_symbols"
    keyword: str
    data: list[Instrument]


class LiquidationMapItem(BaseModel):
    """A successful map: CoinGlass's price buckets, each with its rows, and what they say."""

    success: Literal[True] = True
    message: str = MAP_SUCCESS_MESSAGE
    mode: Literal["liquidation_map"] = "liquidation_map"
    symbol: str
    range: str
    data: PriceKeyedMap | None  # None only when it is too large: data_url links it then
    summary: Summary
    levels: list[LiquidationLevel] | None  # None only when the item would be too large
    chart_url: str | None = None
    data_url: str | None = None
    changes: Changes | None = None  # null on the first run of a watch, and when not tracked
    alerts: list[Alert] = []  # empty when no rule fired, or none is set


# ---------------------------------------------------------------- heatmaps
# Built when a heatmap is first made, so a map run never pays for them.
_DEFERRED = ConfigDict(defer_build=True)
Candle = tuple[int, Number, Number, Number, Number, Number]
"""``[time in seconds, open, high, low, close, volume in USD]``."""


class HeatmapData(BaseModel):
    """CoinGlass's heatmap as published, numbers as numbers, cells all inside the grid."""

    model_config = _DEFERRED

    y_axis: list[Number]
    liquidation_leverage_data: list[tuple[int, int, Number]]  # [x (candle), y (price), value]
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

    model_config = _DEFERRED

    above: float
    below: float


class LatestColumn(BaseModel):
    """The heatmap's current picture: its latest column, never summed with earlier ones."""

    model_config = _DEFERRED

    at: AwareDatetime  # the column's candle
    total_above: float
    total_below: float
    imbalance: float | None  # (above - below) / (above + below)
    within_pct: dict[str, HeatSides]
    top_levels: list[HeatLevel]
    nearest_above: HeatLevel | None  # the nearest cell at or above the column's 90th percentile
    nearest_below: HeatLevel | None


class HotZone(BaseModel):
    """A band of adjacent price levels of the latest column, each at or above its 90th
    percentile."""

    model_config = _DEFERRED

    price_low: Number
    price_high: Number
    total: float
    peak_price: Number
    peak_value: float
    side: Side | None  # None when the band holds the price
    distance_pct: float  # of its nearest edge


class HeatmapSummary(BaseModel):
    """The answers a trader reads a heatmap for."""

    model_config = _DEFERRED

    current_price: Number
    price_source: str
    start_time: AwareDatetime
    end_time: AwareDatetime
    columns: int
    price_levels: int
    cells: int
    latest: LatestColumn
    hot_zones: list[HotZone]


class LiquidationHeatmapItem(BaseModel):
    """A successful heatmap: CoinGlass's grid, numbers as numbers, and what it says now."""

    model_config = _DEFERRED

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


class ErrorInfo(BaseModel):
    """What went wrong, for programs: a stable type name and whether a retry can help."""

    type: str
    upstream_code: str | None
    retryable: bool


class FailureItem(BaseModel):
    """A failed request: the same envelope, ``data`` null, and an ``error`` object."""

    success: Literal[False] = False
    message: str
    mode: str | None
    keyword: str | None = None
    symbol: str | None = None
    range: str | None = None
    model: str | None = None
    data: None = None
    error: ErrorInfo


SuccessItem = SearchSymbolsItem | LiquidationMapItem | LiquidationHeatmapItem
ResultItem = SuccessItem | FailureItem


def failure_item(error: ActorError, mode: str | None, **request: str | None) -> FailureItem:
    """The failure item for ``error``, echoing the request's own fields."""
    return FailureItem.model_validate(
        {
            "success": False,
            "message": error.message,
            "mode": mode,
            **request,
            "data": None,
            "error": {
                "type": error.type,
                "upstream_code": error.upstream_code,
                "retryable": error.retryable,
            },
        }
    )


def map_failure(error: ActorError, target: MapTarget) -> FailureItem:
    """The failure item of one map of a run."""
    return failure_item(error, "liquidation_map", symbol=target.symbol, range=target.range)


def heatmap_failure(error: ActorError, target: HeatmapTarget) -> FailureItem:
    """The failure item of one heatmap of a run."""
    return failure_item(
        error,
        "liquidation_heatmap",
        symbol=target.symbol,
        range=target.range,
        model=target.model,
    )


_REQUEST_FIELDS: dict[str, tuple[str, ...]] = {
    "search_symbols": ("keyword",),
    "liquidation_map": ("symbol", "range"),
    "liquidation_heatmap": ("symbol", "range", "model"),
}


def input_failure(error: ActorError, raw_input: object) -> FailureItem:
    """The failure item for a run's input as a whole, echoing its fields as the user gave them."""
    raw = raw_input if isinstance(raw_input, dict) else {}
    given = {name: value for name, value in raw.items() if value is not None}
    mode = given.get("mode", DEFAULT_MODE)
    model = INPUT_MODELS.get(mode) if isinstance(mode, str) else None
    if model is None:
        return failure_item(error, None)
    echoed = {
        name: _echo(given.get(name, model.model_fields[name].default))
        for name in _REQUEST_FIELDS[mode]
    }
    return failure_item(error, mode, **echoed)


def request_failure(error: ActorError, source: ActorInput | SuccessItem) -> FailureItem:
    """The failure of a validated request, or the one that replaces its result, echoing the
    request's own fields."""
    own = {name: getattr(source, name) for name in _REQUEST_FIELDS[source.mode]}
    return failure_item(error, source.mode, **own)


def record(item: ResultItem, exclude: set[str] | None = None) -> dict[str, Any]:
    """An item as the dataset holds it: a failure carries only its own request's fields."""
    ready = _json_ready(item)
    if not ready:
        return item.model_dump(
            mode="json", exclude_unset=isinstance(item, FailureItem), exclude=exclude
        )
    excluded = exclude or set()
    dumped = item.model_dump(mode="json", exclude=excluded | ready.keys())
    return {
        name: ready[name] if name in ready else dumped[name]
        for name in type(item).model_fields
        if name not in excluded
    }


def _json_ready(item: ResultItem) -> dict[str, Any]:
    """The parts of an item that are JSON-ready as built (validated numbers, text and null in
    lists, tuples and dicts): walking every row or cell through the serializer again buys
    nothing."""
    if isinstance(item, LiquidationMapItem):
        return {"data": item.data, "levels": item.levels}
    if isinstance(item, LiquidationHeatmapItem):
        return {"data": item.data and dict(item.data), "levels": item.levels}
    return {}


def _echo(value: object) -> str | None:
    return value if isinstance(value, str) and len(value) <= 200 else None
