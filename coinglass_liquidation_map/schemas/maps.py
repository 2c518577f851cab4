"""Mode ``liquidation_map``'s boundary models: the input that asks for maps, the item that
answers one, and the parameters of its MCP tool."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    computed_field,
    field_validator,
)
from typing_extensions import TypedDict

from coinglass_liquidation_map.formatting import (
    format_price,
    heavier_first,
    placed,
    sentence_of,
)
from coinglass_liquidation_map.inputs import (
    SYMBOL_HELP,
    InputModel,
    StorageName,
    Symbol,
    Target,
    ToolArguments,
    TopClusters,
    each_once,
)
from coinglass_liquidation_map.market_data import Number, PriceKeyedMap
from coinglass_liquidation_map.outputs import Side, SuccessItem
from coinglass_liquidation_map.schemas.alerts import (
    CHANGE_RULES,
    RULE_TYPES,
    Alert,
    AlertChannels,
    AlertRule,
    CooldownMins,
    TelegramBotTokenField,
    TelegramChatIdField,
    WebhookFormatField,
    WebhookUrlField,
)

MAP_SUCCESS_MESSAGE = "Liquidation map data fetched successfully."
MAP_SOURCE = "liquidation map"
Range = Literal["1d", "7d", "30d", "90d", "180d", "365d"]


@dataclass(frozen=True)
class MapTarget(Target):
    """One map a run fetches: an instrument or coin, and a range."""

    range: Range

    @property
    def identity(self) -> tuple[str, ...]:
        return (*super().identity, self.range)


class LiquidationMapInput(InputModel, AlertChannels):
    """Fetch CoinGlass's liquidation maps: one instrument and range, or every pair of lists."""

    LOCATION_TAGS = RULE_TYPES

    mode: Literal["liquidation_map"]
    symbol: Symbol = "Binance_BTCUSDT"
    range: Range = "1d"
    symbols: list[Symbol] | None = Field(default=None, max_length=50)
    ranges: list[Range] | None = Field(default=None, max_length=6)
    max_concurrency: int = Field(default=4, alias="maxConcurrency", ge=1, le=16)
    top_clusters: TopClusters = Field(default=10, alias="topClusters")
    price_step: float | None = Field(default=None, alias="priceStep", gt=0)
    price_percent_step: float | None = Field(default=None, alias="pricePercentStep", gt=0, le=50)
    chart: bool = False
    history_dataset: StorageName | None = Field(default=None, alias="historyDataset")
    track_changes: bool = Field(default=True, alias="trackChanges")
    snapshot_store: StorageName = Field(default="liquidation-map-snapshots", alias="snapshotStore")
    cluster_match_pct: float = Field(default=0.25, alias="clusterMatchPct", ge=0, le=100)
    alerts: list[AlertRule] = Field(default_factory=list, max_length=50)
    alert_cooldown_mins: CooldownMins = 60
    webhook_url: WebhookUrlField = None
    webhook_format: WebhookFormatField = "json"
    telegram_bot_token: TelegramBotTokenField = None
    telegram_chat_id: TelegramChatIdField = None

    @field_validator("alerts")
    @classmethod
    def _changes_tracked_for_change_rules(
        cls, alerts: list[AlertRule], info: ValidationInfo
    ) -> list[AlertRule]:
        if info.data.get("track_changes", True):
            return alerts
        for index, rule in enumerate(alerts):
            if rule.type in CHANGE_RULES:
                msg = (
                    f"rule {index} ({rule.type}) reads what changed since the last run, so it"
                    " needs trackChanges: true"
                )
                raise ValueError(msg)
        return alerts

    @property
    def watched(self) -> bool:
        """Whether each map is compared with the last run's and remembered for the next."""
        return self.track_changes or bool(self.alerts)

    def targets(self) -> list[MapTarget]:
        """Every symbol × range map, in input order, each once."""
        return each_once(
            MapTarget(symbol, range_)
            for symbol in self.symbols or [self.symbol]
            for range_ in self.ranges or [self.range]
        )

    def result_count(self) -> int:
        return len(self.targets())


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


class Realized(BaseModel):
    """USD CoinGlass counted as liquidated, on each side, in its liquidation history's buckets
    of ``interval`` from ``from`` (the start of the bucket the last run's map was taken in) to
    ``to`` (this run's map)."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    interval: str
    long_liquidations_usd: float
    short_liquidations_usd: float


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
    realized: Realized | None = None
    """What was liquidated in between, when clusters were swept; null otherwise, and when
    CoinGlass's liquidation history could not be had (``realized_note`` says why)."""
    realized_note: str | None = None


class LiquidationMapItem(SuccessItem):
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
    alerts: list[Alert] = Field(default_factory=list)  # empty when no rule fired, or none is set
    # CoinGlass models every map from open positions; it calls the levels relative intensities.
    provenance: Literal["modeled"] = "modeled"
    source: str = MAP_SOURCE  # CoinGlass's map, or "heatmap model1, latest column" for a range
    # its maps refuse

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary_text(self) -> str:
        """One plain sentence for people and agents: the price, the heavier side first, and
        the largest cluster."""
        return map_sentence(self.symbol, self.range, self.summary)

    def json_ready(self) -> dict[str, Any]:
        return {"data": self.data, "levels": self.levels}


def map_sentence(subject: str, range_: str, summary: Summary, *more: str) -> str:
    """A map's summary in one sentence: the price, the heavier side first with both totals and
    the imbalance, the largest cluster, and ``more`` clauses; without a price, the span of its
    levels."""
    price, longs, shorts = (
        summary.current_price,
        summary.long_level_total,
        summary.short_level_total,
    )
    if price is None or longs is None or shorts is None:
        span = (
            f" between {format_price(summary.price_min)} and {format_price(summary.price_max)}"
            if summary.price_min is not None and summary.price_max is not None
            else ""
        )
        return sentence_of(
            f"{subject} {range_}: {summary.level_count:,} liquidation levels{span}",
            "no current price, so no side is known",
            *more,
        )
    sides = [(shorts, "of shorts above"), (longs, "of longs below")]
    largest = summary.top_clusters[0] if summary.top_clusters else None
    return sentence_of(
        f"{subject} at {format_price(price)}: {heavier_first(sides, summary.imbalance)}",
        ""
        if largest is None
        else placed("the largest cluster", largest.level, largest.price, largest.distance_pct),
        *more,
    )


class MapToolArguments(ToolArguments):
    """What an agent may ask of a map: its symbol and range, how many top clusters, and whether
    the levels come too. The tool's description is the catalog's."""

    symbol: str = Field(default="Binance_BTCUSDT", description=SYMBOL_HELP)
    range: Range = Field(default="1d", description="The period the modelled map covers.")
    include_levels: bool = Field(
        default=False,
        description=(
            "Also answer every level as a flat row (price, level, leverage, side, distance_pct);"
            " without it the answer is the summary only."
        ),
    )
    top_clusters: TopClusters = Field(
        default=10,
        description=(
            "How many of the largest price buckets (liquidation clusters) the summary lists,"
            " overall and per side."
        ),
    )

    def fields(self) -> dict[str, object]:
        return {"symbol": self.symbol, "range": self.range, "topClusters": self.top_clusters}

    def left_out(self) -> set[str]:
        return {"data"} if self.include_levels else {"data", "levels"}
