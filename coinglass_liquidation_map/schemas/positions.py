"""Mode ``hyperliquid_positions``' boundary models: the input that asks for one coin's open
Hyperliquid positions, the item that answers it (a map's envelope and shape, measured rather
than modelled, with its coverage and the positions nearest to liquidation), and the parameters
of its MCP tool."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, computed_field

from coinglass_liquidation_map.inputs import COIN_PATTERN, InputModel, ToolArguments, TopClusters
from coinglass_liquidation_map.market_data import Number, PriceKeyedMap
from coinglass_liquidation_map.outputs import Side, SuccessItem
from coinglass_liquidation_map.schemas.maps import LiquidationLevel, Summary, map_sentence

POSITIONS_SUCCESS_MESSAGE = "Hyperliquid positions fetched successfully."
MaxPages = Annotated[int, Field(ge=1, le=200)]
COIN_HELP = (
    "A coin as Hyperliquid names it, such as BTC or ETH (a name in lower case is read in upper"
    " case: btc is BTC)."
)


def _coin(name: str) -> str:
    if not COIN_PATTERN.fullmatch(name):
        msg = (
            "must be a coin such as BTC or ETH (up to 20 letters and digits): Hyperliquid's"
            " positions are read per coin, not per exchange pair such as Binance_BTCUSDT"
        )
        raise ValueError(msg)
    # "btc" is BTC; a name in mixed case (Hyperliquid's kPEPE) is kept as written.
    return name.upper() if name.islower() else name


HyperliquidCoin = Annotated[str, AfterValidator(_coin)]


class HyperliquidPositionsInput(InputModel):
    """Read one coin's open Hyperliquid positions and bin them by liquidation price."""

    mode: Literal["hyperliquid_positions"]
    symbol: HyperliquidCoin = "BTC"
    max_pages: MaxPages = Field(default=20, alias="maxPages")
    max_concurrency: int = Field(default=4, alias="maxConcurrency", ge=1, le=16)
    top_clusters: TopClusters = Field(default=10, alias="topClusters")
    price_step: float | None = Field(default=None, alias="priceStep", gt=0)
    price_percent_step: float | None = Field(default=None, alias="pricePercentStep", gt=0, le=50)
    chart: bool = False


class Coverage(BaseModel):
    """How much of Hyperliquid's market the positions read stand for."""

    positions: int  # wallets read, each once
    positions_without_liq_price: int  # counted here and in the notional, never binned
    pages_fetched: int
    total_pages: int
    covered_notional_usd: float  # longs and shorts read, at the mark price
    open_interest_usd: float | None  # Hyperliquid's, one side, from pairs-markets
    coverage_pct: float | None  # covered notional / (2 × open interest) × 100


class ClosestPosition(BaseModel):
    """One position among those nearest to liquidation."""

    user: str  # the wallet address
    side: Side
    size_usd: float
    leverage: Number | None
    liq_price: Number
    distance_pct: float  # signed, from the current price to the liquidation price


class HyperliquidPositionsItem(SuccessItem):
    """A coin's open Hyperliquid positions as a liquidation map of what is observed: each row
    ``[liquidation price, USD value, leverage, null]``, one per leverage in each price bucket."""

    success: Literal[True] = True
    message: str = POSITIONS_SUCCESS_MESSAGE
    mode: Literal["hyperliquid_positions"] = "hyperliquid_positions"
    symbol: str
    data: PriceKeyedMap
    summary: Summary
    levels: list[LiquidationLevel]
    coverage: Coverage
    closest_positions: list[ClosestPosition]
    chart_url: str | None = None
    # Hyperliquid is on-chain: every position and its liquidation price is a fact.
    provenance: Literal["observed"] = "observed"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary_text(self) -> str:
        """One plain sentence for people and agents: the map's, of the positions read, and
        how much of the market they cover."""
        coverage = self.coverage
        share = (
            ""
            if coverage.coverage_pct is None
            else f", {coverage.coverage_pct:.1f}% of its open interest"
        )
        return map_sentence(
            f"{self.symbol} on Hyperliquid",
            "positions",
            self.summary,
            f"measured from {coverage.positions:,} open positions{share}",
        )

    def json_ready(self) -> dict[str, Any]:
        return {"data": self.data, "levels": self.levels}


class PositionsToolArguments(ToolArguments):
    """What an agent may ask of a coin's Hyperliquid positions: the coin, how many pages, how
    many clusters and closest positions, and whether the levels come too. The tool's
    description is the catalog's."""

    symbol: HyperliquidCoin = Field(default="BTC", description=COIN_HELP)
    max_pages: MaxPages = Field(
        default=20,
        description=(
            "At most this many pages of positions are read (the largest positions come first);"
            " each page is one request from the key's per-minute budget."
        ),
    )
    include_levels: bool = Field(
        default=False,
        description=(
            "Also answer every price bucket and leverage as a flat row (price, level in USD,"
            " leverage, side, distance_pct); without it the answer is the summary, coverage"
            " and closest positions."
        ),
    )
    top_clusters: TopClusters = Field(
        default=10,
        description=(
            "How many of the largest price buckets the summary lists, and how many positions"
            " nearest to liquidation."
        ),
    )

    def fields(self) -> dict[str, object]:
        return {"symbol": self.symbol, "maxPages": self.max_pages, "topClusters": self.top_clusters}

    def left_out(self) -> set[str]:
        return {"data"} if self.include_levels else {"data", "levels"}
