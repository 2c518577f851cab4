"""The catalog of modes: the one place that lists them.

Each entry says what a mode is at every door of the actor: its input and item models, the event
it is charged as, its Standby route and MCP tool, the request fields its failures echo, its
dataset views, and the module of its pipeline. Billing, Standby's routes, ``/openapi.json``, the
MCP tools and the failure items all read it; no other module names the modes.

A mode's models and pipeline are named here and imported when first needed, so a run loads its
own mode's and no other's.
"""

from __future__ import annotations

import importlib
import typing
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Union

from pydantic import SecretStr, ValidationError

from coinglass_liquidation_map.errors import ActorError, InvalidInput
from coinglass_liquidation_map.inputs import (
    InputModel,
    ToolArguments,
    aliases,
    invalid_input,
    quoted,
    shown,
)
from coinglass_liquidation_map.outputs import FailureItem, SuccessItem, failure_item
from coinglass_liquidation_map.plans import Plan, Reach, refusal_note

if TYPE_CHECKING:
    from coinglass_liquidation_map.schemas.heatmaps import LiquidationHeatmapInput
    from coinglass_liquidation_map.schemas.maps import LiquidationMapInput
    from coinglass_liquidation_map.schemas.positions import HyperliquidPositionsInput
    from coinglass_liquidation_map.schemas.scans import MarketScanInput
    from coinglass_liquidation_map.schemas.search import SearchSymbolsInput

ActorInput = Union[
    "SearchSymbolsInput",
    "LiquidationMapInput",
    "LiquidationHeatmapInput",
    "MarketScanInput",
    "HyperliquidPositionsInput",
]
"""Every mode's input: what ``parse_input`` returns."""


def _holds(annotation: object, kind: type) -> bool:
    """Whether ``annotation`` is ``kind``, or a union or annotation of it."""
    return annotation is kind or any(_holds(arg, kind) for arg in typing.get_args(annotation))


@dataclass(frozen=True)
class Tool:
    """A mode as an MCP tool: its name, what it tells an agent, and the model of its
    parameters (in the mode's schemas module)."""

    name: str
    description: str
    arguments: str


@dataclass(frozen=True)
class Mode:
    """One mode, as every door of the actor sees it."""

    name: str
    schemas: str  # the module of its boundary models
    input_model: str  # its input's model there
    item_model: str  # its item's model there
    event: str  # the pay-per-event name a success is charged as
    route: str  # Standby's GET route
    summary: str  # the route's summary in /openapi.json
    tool: Tool
    echoed: tuple[str, ...]  # the request fields (or a result's) a failure item echoes
    views: tuple[str, ...]  # its views in .actor/dataset_schema.json
    pipeline: str  # the module of its pipeline, imported by the runs of this mode only
    reach: tuple[Reach, ...]
    """What it does from each plan up, the lowest plan first, from CoinGlass's plan table of the
    endpoints it calls: what a key is told its plan runs when CoinGlass refuses it."""
    batch_only: frozenset[str] = field(default_factory=frozenset)
    """Input fields a scheduled run takes and a Standby answer refuses."""
    listed: bool = False
    """Standby answers it with a JSON array, however many results (a scan's rows)."""
    add_on: str | None = None
    """The event a result is charged as besides its own when it carries its add-on (a scan
    row's coin map)."""

    @property
    def input(self) -> type[InputModel]:
        """Its input's model."""
        model: type[InputModel] = getattr(self._schemas(), self.input_model)
        return model

    @property
    def item(self) -> type[SuccessItem]:
        """Its item's model."""
        model: type[SuccessItem] = getattr(self._schemas(), self.item_model)
        return model

    @property
    def tool_arguments(self) -> type[ToolArguments]:
        """The model of its MCP tool's parameters."""
        model: type[ToolArguments] = getattr(self._schemas(), self.tool.arguments)
        return model

    def load_pipeline(self) -> ModuleType:
        """The pipeline's module, imported now if it was not yet."""
        return importlib.import_module(self.pipeline)

    def _schemas(self) -> ModuleType:
        return importlib.import_module(self.schemas)

    def charges(self, request: InputModel) -> dict[str, int]:
        """The most results of each event ``request`` can be charged for: its own first."""
        wanted = {self.event: request.result_count()}
        if self.add_on is not None:
            wanted[self.add_on] = request.add_ons()
        return wanted

    def failure(self, error: ActorError, source: object) -> FailureItem:
        """The failure of one result, echoing the request fields ``source`` (an input, a
        target or the item the failure replaces) holds."""
        return failure_item(
            error, self.name, **{name: getattr(source, name, None) for name in self.echoed}
        )


MODES = (
    Mode(
        name="search_symbols",
        schemas="coinglass_liquidation_map.schemas.search",
        input_model="SearchSymbolsInput",
        item_model="SearchSymbolsItem",
        event="SEARCH_SYMBOLS",
        route="/symbols",
        summary="Search futures symbols",
        tool=Tool(
            "search_symbols",
            "Futures instruments CoinGlass supports whose asset, exchange or id matches keyword.",
            "SearchToolArguments",
        ),
        echoed=("keyword",),
        views=("symbols",),
        pipeline="coinglass_liquidation_map.modes.search",
        reach=(Reach("HOBBYIST", "searches"),),
    ),
    Mode(
        name="liquidation_map",
        schemas="coinglass_liquidation_map.schemas.maps",
        input_model="LiquidationMapInput",
        item_model="LiquidationMapItem",
        event="LIQUIDATION_MAP",
        route="/liquidation-map",
        summary="Liquidation maps with summary and levels",
        tool=Tool(
            "liquidation_map",
            "Where leveraged positions on symbol (Exchange_INSTRUMENT, or a coin such as BTC)\n"
            "would be liquidated: current price, long/short totals, clusters; levels on request.",
            "MapToolArguments",
        ),
        echoed=("symbol", "range"),
        views=("maps", "levels", "alerts"),
        pipeline="coinglass_liquidation_map.modes.maps",
        reach=(Reach("PROFESSIONAL", "liquidation maps"),),
        # Settings of a scheduled run's own, which a Standby answer, polled by many, cannot take.
        batch_only=frozenset(
            {
                "historyDataset",
                "trackChanges",
                "snapshotStore",
                "clusterMatchPct",
                "alerts",
                "alertCooldownMins",
                "webhookUrl",
                "webhookFormat",
                "telegramBotToken",
                "telegramChatId",
            }
        ),
    ),
    Mode(
        name="liquidation_heatmap",
        schemas="coinglass_liquidation_map.schemas.heatmaps",
        input_model="LiquidationHeatmapInput",
        item_model="LiquidationHeatmapItem",
        event="LIQUIDATION_HEATMAP",
        route="/liquidation-heatmap",
        summary="Liquidation heatmaps (time × price) with a summary of their latest column",
        tool=Tool(
            "liquidation_heatmap",
            "CoinGlass's liquidation heatmap (time × price) of symbol (Exchange_INSTRUMENT, or a\n"
            "coin such as BTC) under model1, model2 or model3, read at its latest column: totals\n"
            "above and below the price, top levels, hot zones; the raw grid on request.",
            "HeatmapToolArguments",
        ),
        echoed=("symbol", "range", "model"),
        views=("heatmap_levels",),
        pipeline="coinglass_liquidation_map.modes.heatmaps",
        reach=(Reach("PROFESSIONAL", "liquidation heatmaps"),),
    ),
    Mode(
        name="market_scan",
        schemas="coinglass_liquidation_map.schemas.scans",
        input_model="MarketScanInput",
        item_model="MarketScanItem",
        event="SCAN_ROW",
        route="/market-scan",
        summary="Every coin's max pain and market, ranked, with the top coins' maps",
        tool=Tool(
            "market_scan",
            "Which coins have liquidation fuel close to the price: every coin's long and short\n"
            "max pain with its distance, open interest, funding, long/short ratio and 24h\n"
            "liquidations, ranked (sort_by), the top map_coins with their map's fuel within 2%.",
            "ScanToolArguments",
        ),
        echoed=("coin",),
        views=("scan",),
        pipeline="coinglass_liquidation_map.modes.scans",
        reach=(
            Reach("STANDARD", "the market scan's market columns"),
            Reach("PROFESSIONAL", "the whole market scan"),
        ),
        batch_only=frozenset(
            {
                "snapshotStore",
                "alerts",
                "alertCooldownMins",
                "webhookUrl",
                "webhookFormat",
                "telegramBotToken",
                "telegramChatId",
            }
        ),
        listed=True,
        add_on="LIQUIDATION_MAP",
    ),
    Mode(
        name="hyperliquid_positions",
        schemas="coinglass_liquidation_map.schemas.positions",
        input_model="HyperliquidPositionsInput",
        item_model="HyperliquidPositionsItem",
        event="HYPERLIQUID_POSITIONS",
        route="/hyperliquid-positions",
        summary="A coin's open Hyperliquid positions by liquidation price, measured, with coverage",
        tool=Tool(
            "hyperliquid_positions",
            "Where real positions on a coin (BTC) sit on Hyperliquid, which is on-chain: open\n"
            "positions binned by their liquidation price and leverage (observed, not modelled),\n"
            "read as a liquidation map's summary, with how much of Hyperliquid's open interest\n"
            "they cover and the top_clusters positions nearest to liquidation.",
            "PositionsToolArguments",
        ),
        echoed=("symbol",),
        views=("positions", "closest_positions"),
        pipeline="coinglass_liquidation_map.modes.positions",
        reach=(Reach("STANDARD", "Hyperliquid positions"),),
    ),
)
BY_NAME = {mode.name: mode for mode in MODES}
DEFAULT_MODE = "liquidation_map"
BATCH_ONLY_FIELDS: frozenset[str] = frozenset().union(*(mode.batch_only for mode in MODES))
"""Settings of a scheduled run's own, which no Standby answer takes, whatever its route."""


def plan_refusal(mode: Mode, plan: Plan | None) -> str:
    """What a key on ``plan`` (None when unknown) is told when CoinGlass refuses ``mode`` its
    data with "Upgrade plan": what the plan runs with this actor, and what ``mode`` needs."""
    return refusal_note(mode.reach[0], plan, [each.reach for each in MODES])


def known_fields() -> frozenset[str]:
    """Every input field some mode takes (which loads every mode's input model)."""
    return frozenset().union(*(aliases(mode.input) for mode in MODES))


def secret_fields() -> frozenset[str]:
    """Input fields that hold a secret, never echoed back (which loads every mode's input
    model)."""
    return frozenset(
        field.alias or name
        for mode in MODES
        for name, field in mode.input.model_fields.items()
        if _holds(field.annotation, SecretStr)
    )


def mode_of(source: ActorInput | SuccessItem) -> Mode:
    """The mode a validated input or a success item belongs to."""
    return BY_NAME[source.mode]


def parse_input(raw: object) -> ActorInput:
    """Validate the run's input, or raise InvalidInput naming each bad field and what it accepts.

    A Console form sends every field, so the other modes' fields are accepted and ignored;
    a field no mode knows is refused, since it is most likely a misspelt one. A null field
    takes its default.
    """
    if not isinstance(raw, dict):
        raise InvalidInput(f"The input must be a JSON object, not {type(raw).__name__}.")
    # A null is how API clients leave a field unset: it means the default.
    raw = {key: value for key, value in raw.items() if value is not None}
    name = raw.get("mode", DEFAULT_MODE)
    if not isinstance(name, str) or name not in BY_NAME:
        raise InvalidInput(
            f"Input field 'mode' must be one of {quoted(BY_NAME)}, not {shown(name)}."
        )
    model = BY_NAME[name].input
    # The other modes' models load only for a field this one does not take.
    if not raw.keys() <= aliases(model):
        known = known_fields()
        unknown = sorted(shown(key) for key in raw if key not in known)
        if unknown:
            raise InvalidInput(
                f"Unknown input field(s) {', '.join(unknown)}; accepted fields are"
                f" {quoted(sorted(known))}."
            )
    try:
        request: ActorInput = model.model_validate({**raw, "mode": name})  # type: ignore[assignment]
    except ValidationError as error:
        raise invalid_input(error, model, secret_fields()) from error
    return request


def input_failure(error: ActorError, raw_input: object) -> FailureItem:
    """The failure item for a run's input as a whole, echoing its fields as the user gave them."""
    raw = raw_input if isinstance(raw_input, dict) else {}
    given = {name: value for name, value in raw.items() if value is not None}
    name = given.get("mode", DEFAULT_MODE)
    mode = BY_NAME.get(name) if isinstance(name, str) else None
    if mode is None:
        return failure_item(error, None)
    fields = mode.input.model_fields
    echoed = {
        # A field only each result has (a scan row's coin) echoes what the input gave, if any.
        field: _echo(given.get(field, fields[field].default if field in fields else None))
        for field in mode.echoed
    }
    return failure_item(error, mode.name, **echoed)


def request_failure(error: ActorError, source: ActorInput | SuccessItem) -> FailureItem:
    """The failure of a validated request, or the one that replaces its result, echoing the
    request's own fields."""
    return mode_of(source).failure(error, source)


def _echo(value: Any) -> str | None:
    return value if isinstance(value, str) and len(value) <= 200 else None
