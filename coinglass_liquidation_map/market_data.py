"""The core's own types: what CoinGlass's answers say, once the CoinGlass client has translated
them from the wire. The pure core reads these and never a wire model, so a change in CoinGlass's
published shapes stops at the client.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, RootModel

Number = int | float

LiquidationRow = tuple[Number, Number, Number | None, str | None]
"""``[price, level, leverage or null, band or null]``, exactly as CoinGlass's rows, normalised."""

PriceKeyedMap = dict[str, list[LiquidationRow]]
"""A map's rows by CoinGlass's own price bucket key, buckets in ascending price order."""

Candle = tuple[int, Number, Number, Number, Number, Number]
"""``[time in seconds, open, high, low, close, volume in USD]``."""

HeatmapCell = tuple[int, int, Number]
"""``[x, y, value]``: x indexes the candles (time), y the price axis."""


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


class Instruments(RootModel[list[Instrument]]):
    """Every instrument CoinGlass supports, as kept between runs."""


class Market(BaseModel):
    """One pair of a coin across exchanges, with its price and open interest when CoinGlass
    gives them (zero or null where it has none)."""

    exchange: str
    instrument_id: str
    price: Number | None = None
    open_interest_usd: Number | None = None


class Markets(RootModel[list[Market]]):
    """Every pair of one coin across exchanges."""


@dataclass(frozen=True)
class LiquidationMap:
    """One liquidation map: an instrument's, or a coin's merged across its instruments with
    each exchange's share when CoinGlass gives it."""

    data: PriceKeyedMap
    last_price: Number | None = None  # a coin map's, when CoinGlass sends one
    by_exchange: dict[str, float] | None = None
    skipped_rows: int = 0  # rows left out because they could not be read


@dataclass(frozen=True)
class Heatmap:
    """A liquidation heatmap (time × price): the price axis, the cells, the candles."""

    y_axis: list[float]
    cells: list[HeatmapCell]
    candles: list[Candle]
    update_time: int | None  # milliseconds
    skipped_cells: int = 0  # cells left out because they could not be read


@dataclass(frozen=True, slots=True)
class MaxPain:
    """One coin's max pain: the heaviest long and short liquidation clusters CoinGlass sees,
    labelled as CoinGlass labels them (a price or level of zero or null means none)."""

    coin: str
    price: Number | None
    long_price: Number | None
    long_level: Number | None
    short_price: Number | None
    short_level: Number | None


@dataclass(frozen=True, slots=True)
class CoinMarket:
    """One coin's futures market across exchanges, as ``coins-markets`` gives it; every figure
    may be missing."""

    coin: str
    price: Number | None = None
    open_interest_usd: Number | None = None
    oi_change_pct_24h: Number | None = None
    funding_rate: Number | None = None  # averaged over exchanges, weighted by open interest
    long_short_ratio_24h: Number | None = None
    long_liquidations_usd_24h: Number | None = None
    short_liquidations_usd_24h: Number | None = None


@dataclass(frozen=True)
class Position:
    """One wallet's open position on one Hyperliquid coin, as ``hyperliquid/position`` lists it.

    ``liq_price`` is as CoinGlass sends it, which may be unusable (missing, zero, negative, or on
    the wrong side of the mark); the core decides what it can be read as.
    """

    user: str  # the wallet address
    coin: str
    size: float  # in coins: positive long, negative short
    value_usd: float  # |size| × mark price
    leverage: Number | None
    liq_price: Number | None
    mark_price: Number | None


@dataclass(frozen=True)
class PositionPages:
    """The positions of the pages read, each wallet once, and how many pages there were."""

    positions: list[Position]
    pages_fetched: int
    total_pages: int
    skipped_rows: int = 0  # rows left out because they could not be read


@dataclass(frozen=True)
class LiquidationBucket:
    """USD liquidated in one bucket of CoinGlass's liquidation history, from its start (ms)."""

    time_ms: int
    long_usd: float
    short_usd: float
