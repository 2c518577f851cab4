"""The actor's input as pydantic models, one per mode: the single source of truth for it.

``.actor/input_schema.json`` mirrors these models; a test keeps both equal.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails, Url

from src.errors import InvalidInput

Mode = Literal["search_symbols", "liquidation_map", "liquidation_heatmap"]
Range = Literal["1d", "7d", "30d", "90d", "180d", "365d"]
# CoinGlass's heatmap ranges, after the map names, which one ``ranges`` list may serve both with.
HeatmapRange = Literal["1d", "7d", "30d", "90d", "180d", "365d", "12h", "24h", "3d", "1y"]
HEATMAP_RANGE_NAMES = {"1d": "24h", "365d": "1y"}  # the map names of two, and CoinGlass's
HeatmapModel = Literal["model1", "model2", "model3"]
TargetT = TypeVar("TargetT", bound="_Target")
DEFAULT_MODE: Mode = "liquidation_map"
COIN_PATTERN = re.compile(r"[A-Za-z0-9]{1,20}")


def header_safe_key(key: str) -> str:
    """The key without surrounding spaces, or ValueError if it could not travel in a header."""
    # Refused here, it is a clear input error; sent, httpx would fail it as a transport error.
    text = key.strip()
    if len(text) > 512 or not all(" " < char <= "~" for char in text):
        msg = "must be a CoinGlass API key: up to 512 letters, digits or punctuation, no spaces"
        raise ValueError(msg)
    return text


def _header_safe(key: SecretStr) -> SecretStr:
    return SecretStr(header_safe_key(key.get_secret_value()))


ApiKey = Annotated[SecretStr, AfterValidator(_header_safe)]


class _InputModel(BaseModel):
    # Fields of the other mode are dropped before validation (see parse_input); anything left
    # that the schema does not know is refused there, with its name.
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    api_key: ApiKey | None = Field(default=None, alias="apiKey")
    request_timeout_secs: int = Field(default=30, alias="requestTimeoutSecs", ge=1, le=300)
    max_retries: int = Field(default=3, alias="maxRetries", ge=0, le=10)
    max_requests_per_minute: int = Field(default=1000, alias="maxRequestsPerMinute", ge=1, le=6000)
    max_run_secs: int | None = Field(default=None, alias="maxRunSecs", ge=1, le=3600)
    symbol_cache_ttl_secs: int = Field(default=3600, alias="symbolCacheTtlSecs", ge=0, le=86400)
    standby_cache_secs: int = Field(default=5, alias="standbyCacheSecs", ge=0, le=300)


class SearchSymbolsInput(_InputModel):
    """Find the futures instruments CoinGlass supports."""

    mode: Literal["search_symbols"]
    keyword: str = Field(default="", max_length=100)
    exchange: str | None = Field(default=None, max_length=50)
    quote_asset: str | None = Field(default=None, alias="quoteAsset", max_length=20)
    max_results: int | None = Field(default=None, alias="maxResults", ge=1, le=10000)


def _instrument_or_coin(symbol: str) -> str:
    exchange, underscore, instrument = symbol.partition("_")
    if underscore and exchange.strip() and instrument.strip():
        return symbol
    if not underscore and COIN_PATTERN.fullmatch(symbol):
        return symbol
    msg = (
        "must be <exchange>_<instrument id> such as Binance_BTCUSDT or OKX_BTC-USDT-SWAP,"
        " or a coin such as BTC for its map across exchanges; run mode search_symbols to find one"
    )
    raise ValueError(msg)


Symbol = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_instrument_or_coin)]
# How Apify names a storage: up to 63 letters, digits and hyphens.
StorageName = Annotated[str, Field(max_length=63, pattern=r"^[a-zA-Z0-9-]+$")]


def _http_url(url: SecretStr) -> SecretStr:
    text = url.get_secret_value()
    try:
        parsed = Url(text)
    except ValueError:
        parsed = None
    if (
        len(text) > 2000
        or not all(" " < char <= "~" for char in text)  # what an HTTP client can send as is
        or parsed is None
        or parsed.scheme not in ("http", "https")
        or not parsed.host
    ):
        msg = (
            "must be an http:// or https:// URL of printable characters, such as a Slack or"
            " Discord incoming webhook"
        )
        raise ValueError(msg)
    return SecretStr(text)


WebhookUrl = Annotated[SecretStr, AfterValidator(_http_url)]
AlertSide = Literal["long", "short", "any"]
WebhookFormat = Literal["json", "slack", "discord"]
Pct = Annotated[float, Field(gt=0, le=100)]
MinLevel = Annotated[float, Field(ge=0, alias="minLevel")]


class _Rule(BaseModel):
    # A misspelt parameter is refused with its name rather than silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClusterWithinPct(_Rule):
    """A price bucket of at least ``minLevel`` within ``pct`` % of the price: the nearest one."""

    type: Literal["cluster_within_pct"]
    pct: Pct
    min_level: MinLevel = 0
    side: AlertSide = "any"


class LiquidityWithinPct(_Rule):
    """At least ``minLevel`` in total within ``pct`` % of the price, on a side."""

    type: Literal["liquidity_within_pct"]
    pct: Pct
    min_level: MinLevel
    side: AlertSide = "any"


class ImbalanceBeyond(_Rule):
    """One side outweighs the other: |imbalance| of at least ``value``."""

    type: Literal["imbalance_beyond"]
    value: float = Field(ge=0, le=1)


class ClusterSwept(_Rule):
    """The price has traded through a previous top cluster of at least ``minLevel``."""

    type: Literal["cluster_swept"]
    min_level: MinLevel = 0


class NewCluster(_Rule):
    """A new top cluster of at least ``minLevel``, within ``pct`` % of the price if given."""

    type: Literal["new_cluster"]
    min_level: MinLevel = 0
    pct: Pct | None = None


AlertRule = Annotated[
    ClusterWithinPct | LiquidityWithinPct | ImbalanceBeyond | ClusterSwept | NewCluster,
    Field(discriminator="type"),
]
_RULE_MODELS: tuple[type[_Rule], ...] = typing.get_args(typing.get_args(AlertRule)[0])
RULE_TYPES = frozenset(
    typing.get_args(rule.model_fields["type"].annotation)[0] for rule in _RULE_MODELS
)
CHANGE_RULES = frozenset({"cluster_swept", "new_cluster"})
"""Rules that read what changed since the last run, so they need ``trackChanges``."""


@dataclass(frozen=True)
class _Target:
    symbol: str  # an instrument (``Binance_BTCUSDT``) or a coin (``BTC``)

    @property
    def is_coin(self) -> bool:
        """A coin-wide result across exchanges, rather than one instrument's."""
        return "_" not in self.symbol

    @property
    def identity(self) -> tuple[str, ...]:
        """What makes two targets one result: symbols are matched ignoring case, as they
        resolve ignoring it."""
        return (self.symbol.casefold(),)


@dataclass(frozen=True)
class MapTarget(_Target):
    """One map a run fetches: an instrument or coin, and a range."""

    range: Range

    @property
    def identity(self) -> tuple[str, ...]:
        return (*super().identity, self.range)


@dataclass(frozen=True)
class HeatmapTarget(_Target):
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


def _each_once(targets: Iterable[TargetT]) -> list[TargetT]:
    """``targets`` in input order, each result once."""
    kept: dict[tuple[str, ...], TargetT] = {}
    for target in targets:
        kept.setdefault(target.identity, target)
    return list(kept.values())


class LiquidationMapInput(_InputModel):
    """Fetch CoinGlass's liquidation maps: one instrument and range, or every pair of lists."""

    mode: Literal["liquidation_map"]
    symbol: Symbol = "Binance_BTCUSDT"
    range: Range = "1d"
    symbols: list[Symbol] | None = Field(default=None, max_length=50)
    ranges: list[Range] | None = Field(default=None, max_length=6)
    max_concurrency: int = Field(default=4, alias="maxConcurrency", ge=1, le=16)
    top_clusters: int = Field(default=10, alias="topClusters", ge=0, le=100)
    price_step: float | None = Field(default=None, alias="priceStep", gt=0)
    price_percent_step: float | None = Field(default=None, alias="pricePercentStep", gt=0, le=50)
    chart: bool = False
    history_dataset: StorageName | None = Field(default=None, alias="historyDataset")
    track_changes: bool = Field(default=True, alias="trackChanges")
    snapshot_store: StorageName = Field(default="liquidation-map-snapshots", alias="snapshotStore")
    cluster_match_pct: float = Field(default=0.25, alias="clusterMatchPct", ge=0, le=100)
    alerts: list[AlertRule] = Field(default_factory=list, max_length=50)
    alert_cooldown_mins: int = Field(default=60, alias="alertCooldownMins", ge=0, le=10080)
    webhook_url: WebhookUrl | None = Field(default=None, alias="webhookUrl")
    webhook_format: WebhookFormat = Field(default="json", alias="webhookFormat")

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

    @field_validator("webhook_url")
    @classmethod
    def _rules_for_the_webhook(
        cls, url: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if url is not None and "alerts" in info.data and not info.data["alerts"]:
            msg = "is set, but alerts has no rule, so nothing would ever be sent to it"
            raise ValueError(msg)
        return url

    @property
    def watched(self) -> bool:
        """Whether each map is compared with the last run's and remembered for the next."""
        return self.track_changes or bool(self.alerts)

    def targets(self) -> list[MapTarget]:
        """Every symbol × range map, in input order, each once."""
        return _each_once(
            MapTarget(symbol, range_)
            for symbol in self.symbols or [self.symbol]
            for range_ in self.ranges or [self.range]
        )


class LiquidationHeatmapInput(_InputModel):
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
    top_clusters: int = Field(default=10, alias="topClusters", ge=0, le=100)
    chart: bool = False

    def targets(self) -> list[HeatmapTarget]:
        """Every symbol × range × model heatmap, in input order, each once (``1d`` and
        ``24h`` are one range)."""
        return _each_once(
            HeatmapTarget(symbol, range_, model)
            for model in self.models or [self.model]
            for symbol in self.symbols or [self.symbol]
            for range_ in self.ranges or [self.range]
        )


ActorInput = SearchSymbolsInput | LiquidationMapInput | LiquidationHeatmapInput
INPUT_MODELS: dict[str, type[ActorInput]] = {
    "search_symbols": SearchSymbolsInput,
    "liquidation_map": LiquidationMapInput,
    "liquidation_heatmap": LiquidationHeatmapInput,
}


def _aliases(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


SECRET_FIELDS = frozenset({"apiKey", "webhookUrl"})
COMMON_FIELDS = frozenset(_aliases(_InputModel))
"""The fields every mode shares: access and reliability settings, not what to fetch."""
KNOWN_FIELDS: frozenset[str] = frozenset().union(*(_aliases(m) for m in INPUT_MODELS.values()))
BATCH_ONLY_FIELDS = frozenset(
    {
        "historyDataset",
        "trackChanges",
        "snapshotStore",
        "clusterMatchPct",
        "alerts",
        "alertCooldownMins",
        "webhookUrl",
        "webhookFormat",
    }
)
"""Settings of a scheduled run's own, which a Standby answer, polled by many, cannot take."""


def parse_input(raw: object) -> ActorInput:
    """Validate the run's input, or raise InvalidInput naming each bad field and what it accepts.

    A Console form sends every field, so the other mode's fields are accepted and ignored;
    a field no mode knows is refused, since it is most likely a misspelt one. A null field
    takes its default.
    """
    if not isinstance(raw, dict):
        raise InvalidInput(f"The input must be a JSON object, not {type(raw).__name__}.")
    # A null is how API clients leave a field unset: it means the default.
    raw = {key: value for key, value in raw.items() if value is not None}
    mode = raw.get("mode", DEFAULT_MODE)
    if not isinstance(mode, str) or mode not in INPUT_MODELS:
        raise InvalidInput(
            f"Input field 'mode' must be one of {_quoted(INPUT_MODELS)}, not {_shown(mode)}."
        )
    unknown = sorted(_shown(key) for key in raw if key not in KNOWN_FIELDS)
    if unknown:
        raise InvalidInput(
            f"Unknown input field(s) {', '.join(unknown)}; accepted fields are"
            f" {_quoted(sorted(KNOWN_FIELDS))}."
        )
    try:
        return INPUT_MODELS[mode].model_validate({**raw, "mode": mode})
    except ValidationError as error:
        problems = "; ".join(_problem(problem) for problem in error.errors(include_url=False))
        raise InvalidInput(f"Invalid input field {problems}.") from None


def _problem(problem: ErrorDetails) -> str:
    # A rule's type is how pydantic picks its model: the user knows it as the rule's index.
    parts = [part for part in problem["loc"] if part not in RULE_TYPES]
    field = ".".join(str(part) for part in parts) or "input"
    reason = problem["msg"].removeprefix("Value error, ")
    # Never echo a secret back, not even a malformed one.
    given = "" if field in SECRET_FIELDS else f" (got {_shown(problem['input'])})"
    return f"'{field}': {reason}{given}"


def _quoted(names: object) -> str:
    return ", ".join(f"'{name}'" for name in names)  # type: ignore[attr-defined]


def _shown(value: object, limit: int = 60) -> str:
    """A short, printable rendering of a user's value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…"
