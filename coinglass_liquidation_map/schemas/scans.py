"""Mode ``market_scan``'s boundary models: the input that asks for a scan of every coin, the item
that answers one coin of it (a flat, CSV-ready row), the scan's own alert rule, and the
parameters of its MCP tool."""

from __future__ import annotations

import typing
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    computed_field,
)
from typing_extensions import TypedDict

from coinglass_liquidation_map.formatting import (
    format_compact,
    format_distance,
    format_price,
    sentence_of,
)
from coinglass_liquidation_map.inputs import COIN_PATTERN, InputModel, StorageName, ToolArguments
from coinglass_liquidation_map.market_data import Number
from coinglass_liquidation_map.outputs import SuccessItem
from coinglass_liquidation_map.schemas.alerts import (
    Alert,
    AlertChannels,
    AlertSide,
    ClusterWithinPct,
    CooldownMins,
    ImbalanceBeyond,
    LiquidityWithinPct,
    Pct,
    Rule,
    TelegramBotTokenField,
    TelegramChatIdField,
    WebhookFormatField,
    WebhookUrlField,
)

SCAN_SUCCESS_MESSAGE = "Market scan row fetched successfully."
MaxPainRange = Literal["12h", "24h", "48h", "3d", "7d", "14d", "30d"]
ScanMapRange = Literal["1d", "7d", "30d"]
SortBy = Literal[
    "open_interest", "max_pain_proximity", "liquidations_24h", "funding_rate", "oi_change_24h"
]
MAP_COLUMNS_PCT = 2
"""The distance, in %, of the fuel columns a mapped coin's row carries."""


def _coin(name: str) -> str:
    if not COIN_PATTERN.fullmatch(name):
        msg = "must be a coin such as BTC or 1000PEPE: up to 20 letters and digits"
        raise ValueError(msg)
    return name


Coin = Annotated[str, AfterValidator(_coin)]


MaxCoins = Annotated[int, Field(ge=1, le=1000)]
MapCoins = Annotated[int, Field(ge=0, le=100)]


class MaxPainWithinPct(Rule):
    """A coin's max pain within ``pct`` % of its price, on a side."""

    type: Literal["max_pain_within_pct"]
    pct: Pct
    side: AlertSide = "any"


ScanAlertRule = Annotated[
    MaxPainWithinPct | ClusterWithinPct | LiquidityWithinPct | ImbalanceBeyond,
    Field(discriminator="type"),
]
SCAN_RULE_TYPES = frozenset(
    typing.get_args(rule.model_fields["type"].annotation)[0]
    for rule in typing.get_args(typing.get_args(ScanAlertRule)[0])
)


class MarketScanInput(InputModel, AlertChannels):
    """Scan every coin's max pain and market, rank the coins, and map the top ones."""

    LOCATION_TAGS = SCAN_RULE_TYPES

    mode: Literal["market_scan"]
    coins: list[Coin] | None = Field(default=None, max_length=1000)
    max_coins: MaxCoins = Field(default=50, alias="maxCoins")
    sort_by: SortBy = Field(default="open_interest", alias="sortBy")
    max_pain_range: MaxPainRange = Field(default="24h", alias="maxPainRange")
    map_coins: MapCoins = Field(default=10, alias="mapCoins")
    range: ScanMapRange = "1d"
    max_concurrency: int = Field(default=4, alias="maxConcurrency", ge=1, le=16)
    chart: bool = False
    snapshot_store: StorageName = Field(default="liquidation-map-snapshots", alias="snapshotStore")
    alerts: list[ScanAlertRule] = Field(default_factory=list, max_length=50)
    alert_cooldown_mins: CooldownMins = 60
    webhook_url: WebhookUrlField = None
    webhook_format: WebhookFormatField = "json"
    telegram_bot_token: TelegramBotTokenField = None
    telegram_chat_id: TelegramChatIdField = None

    def result_count(self) -> int:
        return min(self.max_coins, len(self.coins)) if self.coins else self.max_coins

    def add_ons(self) -> int:
        return min(self.map_coins, self.result_count())


class ScanRow(TypedDict):
    """One coin of a scan, flat for a spreadsheet: its max pain on each side (placed by price,
    whatever CoinGlass's labels say), its market, and, for a mapped coin, its map's fuel near
    the price. A figure no source gave is null."""

    price: Number | None
    long_max_pain_price: Number | None
    long_max_pain_level: Number | None
    long_max_pain_distance_pct: float | None
    short_max_pain_price: Number | None
    short_max_pain_level: Number | None
    short_max_pain_distance_pct: float | None
    open_interest_usd: Number | None
    oi_change_pct_24h: Number | None
    funding_rate: Number | None
    long_short_ratio_24h: Number | None
    long_liquidations_usd_24h: Number | None
    short_liquidations_usd_24h: Number | None
    map_range: str | None
    long_within_2pct: float | None
    short_within_2pct: float | None
    imbalance: float | None
    nearest_long_cluster_price: Number | None
    nearest_long_cluster_distance_pct: float | None
    nearest_short_cluster_price: Number | None
    nearest_short_cluster_distance_pct: float | None


class MarketScanItem(SuccessItem):
    """One coin of a scan, at its rank."""

    success: Literal[True] = True
    message: str = SCAN_SUCCESS_MESSAGE
    mode: Literal["market_scan"] = "market_scan"
    coin: str
    rank: int
    sort_by: SortBy  # the ranking used: the one asked for, or the one it fell back to
    max_pain_range: str
    data: ScanRow
    alerts: list[Alert] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary_text(self) -> str:
        """One plain sentence for people and agents: the coin at its price, and its nearer max
        pain with its distance."""
        data = self.data
        price = data["price"]
        subject = f"{self.coin} (#{self.rank})"
        if price is not None:
            subject += f" at {format_price(price)}"
        sides = [
            (side, at, level, distance)
            for side, at, level, distance in (
                (
                    "long",
                    data["long_max_pain_price"],
                    data["long_max_pain_level"],
                    data["long_max_pain_distance_pct"],
                ),
                (
                    "short",
                    data["short_max_pain_price"],
                    data["short_max_pain_level"],
                    data["short_max_pain_distance_pct"],
                ),
            )
            if at is not None and distance is not None
        ]
        if not sides:
            return sentence_of(f"{subject}: no max pain within its {self.max_pain_range} window")
        side, at, level, distance = min(sides, key=lambda found: abs(found[3]))
        return sentence_of(
            f"{subject}: the nearer max pain is {format_compact(level or 0)} of {side}s at"
            f" {format_price(at)} ({format_distance(distance)}, {self.max_pain_range})"
        )

    def carries_add_on(self) -> bool:
        """A mapped coin's row is charged for its map too."""
        return self.data["map_range"] is not None


class ScanToolArguments(ToolArguments):
    """What an agent may ask of a scan: which coins, how many, ranked how, and how many mapped.
    The tool's description is the catalog's."""

    coins: list[Coin] | None = Field(
        default=None,
        description="Only these coins (BTC, ETH, ...); left out, every coin CoinGlass lists.",
    )
    max_coins: MaxCoins = Field(
        default=20, description="How many coins to keep after ranking, one row each."
    )
    sort_by: SortBy = Field(
        default="open_interest",
        description=(
            "The ranking: open interest, the nearer max pain (nearest first), 24h liquidations,"
            " or the absolute funding rate or 24h open interest change; largest first."
        ),
    )
    max_pain_range: MaxPainRange = Field(
        default="24h", description="The window CoinGlass computes max pain over."
    )
    map_coins: MapCoins = Field(
        default=0,
        description=(
            "How many of the top coins also get their coin map's fuel within 2% of the price"
            " (each charged as a liquidation map)."
        ),
    )
    range: ScanMapRange = Field(default="1d", description="The period of the mapped coins' maps.")

    def fields(self) -> dict[str, object]:
        return {
            "coins": self.coins,
            "maxCoins": self.max_coins,
            "sortBy": self.sort_by,
            "maxPainRange": self.max_pain_range,
            "mapCoins": self.map_coins,
            "range": self.range,
        }
