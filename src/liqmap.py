"""Pure functions from CoinGlass's liquidation-map payloads to the actor's map, levels and summary.

Upstream rows come in every published variant (numbers as strings, rows shorter than four
members, a band string or null); each leaves here as exactly
``[price, level, leverage or null, band or null]``. No I/O, no clock: everything a trader reads
off the map is computed from the rows and the current price alone.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ModelWrapValidatorHandler,
    RootModel,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from src.outputs import (
    Cluster,
    LiquidationLevel,
    LiquidationRow,
    Number,
    PriceKeyedMap,
    Side,
    SideTotals,
    Summary,
)

MAP_PATH = "/api/futures/liquidation/map"
COIN_MAP_PATH = "/api/futures/liquidation/aggregated-map"
DOCUMENTED_RANGES = ("1d", "7d", "30d")
WITHIN_PCTS = (1, 2, 5, 10)
# A bucket at or above this percentile of all buckets' levels counts as a cluster ("magnet").
CLUSTER_PERCENTILE = 90


# ---------------------------------------------------------------- upstream payloads


def _four_members(row: Any) -> Any:
    """Pad a short row with nulls and drop members past the fourth, which nobody publishes."""
    if isinstance(row, list) and len(row) != 4 and len(row) >= 2:
        return [*row, None, None][:4]
    return row


def _band_text(band: Any) -> Any:
    # The band's meaning is undocumented ("h1".."h3" in one copy of the docs): keep it as text.
    return band if band is None or isinstance(band, str) else str(band)


def _price_key(key: str) -> str:
    float(key)  # a bucket key that is not a number is not a published shape
    return key


# Integers stay integers (48935, not 48935.0); anything a float cannot hold is unreadable.
FiniteNumber = (
    Annotated[int, Field(ge=-(10**15), le=10**15)] | Annotated[float, Field(allow_inf_nan=False)]
)
UpstreamRow = Annotated[
    tuple[
        FiniteNumber,
        FiniteNumber,
        FiniteNumber | None,
        Annotated[str | None, BeforeValidator(_band_text)],
    ],
    BeforeValidator(_four_members),
]
PriceKey = Annotated[str, AfterValidator(_price_key)]
UpstreamMap = dict[PriceKey, list[UpstreamRow]]
_ROW: TypeAdapter[LiquidationRow] = TypeAdapter(UpstreamRow)
_KEY: TypeAdapter[str] = TypeAdapter(PriceKey)


def _readable(key: Any, row: Any) -> bool:
    try:
        _KEY.validate_python(key)
        _ROW.validate_python(row)
    except ValidationError:
        return False
    return True


class _LenientMap(BaseModel):
    """A payload holding one map, read leniently: an absent map is empty, and rows that
    cannot be read are left out and counted in ``skipped_rows`` (one garbled row should not
    cost the user the whole map). Valid maps take the single fast pass."""

    MAP_FIELD: ClassVar[str]
    skipped_rows: int = 0

    @model_validator(mode="wrap")
    @classmethod
    def _skip_unreadable_rows(cls, value: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        field = cls.MAP_FIELD
        if value is None or value == []:
            value = {}
        if isinstance(value, dict) and value.get(field) in (None, []):
            value = {**value, field: {}}
        try:
            return handler(value)
        except ValidationError:
            buckets = value.get(field) if isinstance(value, dict) else None
            if not isinstance(buckets, dict):
                raise
        kept: dict[Any, list[Any]] = {}
        skipped = 0
        for key, bucket in buckets.items():
            rows = bucket if isinstance(bucket, list) else [bucket]
            kept[key] = [row for row in rows if _readable(key, row)]
            skipped += len(rows) - len(kept[key])
        model = handler({**value, field: {key: rows for key, rows in kept.items() if rows}})
        model.skipped_rows = skipped
        return model


class PairMapPayload(_LenientMap):
    """``data`` of the pair map, and of the merged coin map: ``{"data": {key: [row, ...]}}``."""

    MAP_FIELD = "data"
    data: UpstreamMap


# Field names in CoinGlass's own camelCase, as the list shape sends them.
class _Instrument(BaseModel):
    exName: str
    instrumentId: str


class _InstrumentMap(_LenientMap):
    MAP_FIELD = "liqMapV2"
    instrument: _Instrument
    liqMapV2: UpstreamMap


class CoinMapByInstrument(BaseModel):
    """The coin map's list shape: one map per instrument, and the coin's last price."""

    last_price: FiniteNumber | None = None
    data: list[_InstrumentMap]


class CoinMapPayload(RootModel[CoinMapByInstrument | PairMapPayload]):
    """``data`` of the coin map, in either published shape."""


@dataclass(frozen=True)
class CoinMap:
    """A coin map merged across instruments, with each exchange's share when CoinGlass gives it."""

    data: PriceKeyedMap
    last_price: Number | None
    by_exchange: dict[str, float] | None
    skipped_rows: int


def normalise(data: UpstreamMap) -> PriceKeyedMap:
    """The price-keyed map with its buckets in ascending price order."""
    return dict(sorted(data.items(), key=lambda bucket: float(bucket[0])))


def merge_coin_map(payload: CoinMapPayload) -> CoinMap:
    """One price-keyed map from either shape: rows of the same price bucket are put together."""
    shape = payload.root
    if isinstance(shape, PairMapPayload):
        return CoinMap(normalise(shape.data), None, None, shape.skipped_rows)
    merged: dict[str, list[LiquidationRow]] = defaultdict(list)
    by_exchange: dict[str, float] = defaultdict(float)
    for item in shape.data:
        for key, rows in item.liqMapV2.items():
            merged[key].extend(rows)
            by_exchange[item.instrument.exName] += sum(row[1] for row in rows)
    skipped = sum(item.skipped_rows for item in shape.data)
    return CoinMap(normalise(merged), shape.last_price, _rounded_values(by_exchange), skipped)


# ---------------------------------------------------------------- analysis


@dataclass(frozen=True)
class Bucketing:
    """How rows are grouped into price buckets: CoinGlass's own keys, or a fixed width."""

    top_clusters: int = 10
    price_step: float | None = None
    price_percent_step: float | None = None

    def width(self, current_price: Number | None) -> float | None:
        """The bucket width, if rows are re-bucketed (a percent step needs the current price)."""
        if self.price_step is not None:
            return self.price_step
        if self.price_percent_step is not None and current_price is not None:
            return current_price * self.price_percent_step / 100
        return None


@dataclass
class _Bucket:
    price: Number
    rows: list[LiquidationRow]

    @property
    def level(self) -> float:
        return sum(row[1] for row in self.rows)


def analyse(
    data: PriceKeyedMap,
    current_price: Number | None,
    bucketing: Bucketing,
    *,
    price_source: str | None = None,
    by_exchange: dict[str, float] | None = None,
) -> tuple[Summary, list[LiquidationLevel]]:
    """The summary and the levels of a map, placed against ``current_price`` (None: unknown)."""
    width = bucketing.width(current_price)
    rows = sorted((row for bucket in data.values() for row in bucket), key=lambda row: row[0])
    buckets = _buckets(data, width)
    levels = placed_levels(_rebucketed(rows, width) if width else rows, current_price)
    longs = [level for level in levels if level.side == "long"]
    shorts = [level for level in levels if level.side == "short"]
    known = current_price is not None
    long_total = sum(level.level for level in longs)
    short_total = sum(level.level for level in shorts)
    threshold = _percentile([bucket.level for bucket in buckets], CLUSTER_PERCENTILE)
    magnets = [
        cluster
        for cluster in (_cluster(bucket, current_price) for bucket in buckets)
        if cluster.level >= threshold
    ]
    ranked = sorted(buckets, key=lambda bucket: -bucket.level)[: bucketing.top_clusters]
    summary = Summary(
        current_price=current_price,
        price_source=price_source if known else None,
        long_level_total=round(long_total, 2) if known else None,
        short_level_total=round(short_total, 2) if known else None,
        imbalance=_imbalance(long_total, short_total) if known else None,
        within_pct=_within(longs, shorts, current_price) if current_price is not None else None,
        by_leverage=_by_leverage(rows),
        by_exchange=by_exchange,
        top_clusters=[_cluster(bucket, current_price) for bucket in ranked],
        nearest_long_cluster=max(
            (c for c in magnets if c.side == "long"), key=lambda c: c.price, default=None
        ),
        nearest_short_cluster=min(
            (c for c in magnets if c.side == "short"), key=lambda c: c.price, default=None
        ),
        price_min=rows[0][0] if rows else None,
        price_max=rows[-1][0] if rows else None,
        level_count=len(rows),
        bucket_width=width,
    )
    return summary, levels


def placed_levels(
    rows: list[LiquidationRow], current_price: Number | None
) -> list[LiquidationLevel]:
    """Rows (sorted by price) with side, distance and the cumulative level from the price out."""
    cumulative: list[float | None] = [None] * len(rows)
    if current_price is not None:
        # CoinGlass draws both cumulative curves from the current price outwards.
        below = [i for i, row in enumerate(rows) if row[0] < current_price]
        above = [i for i, row in enumerate(rows) if row[0] > current_price]
        for side in (reversed(below), above):
            running = 0.0
            for i in side:
                running += rows[i][1]
                cumulative[i] = round(running, 2)
    return [
        LiquidationLevel(
            price=row[0],
            level=row[1],
            leverage=row[2],
            band=row[3],
            side=side_of(row[0], current_price),
            distance_pct=distance_pct(row[0], current_price),
            cumulative_level=total,
        )
        for row, total in zip(rows, cumulative, strict=True)
    ]


def side_of(price: Number, current_price: Number | None) -> Side | None:
    """Long liquidations sit below the current price, short ones above it."""
    if current_price is None or price == current_price:
        return None
    return "long" if price < current_price else "short"


def distance_pct(price: Number, current_price: Number | None) -> float | None:
    """Signed distance from the current price, in percent of it."""
    if current_price is None:
        return None
    return round((price - current_price) / current_price * 100, 4)


def leverage_name(leverage: Number | None) -> str:
    """A leverage tier as a key: ``"25"``, ``"12.5"``, or ``"unknown"`` where none is given."""
    if leverage is None:
        return "unknown"
    return str(int(leverage)) if float(leverage).is_integer() else str(leverage)


def _number(key: str) -> Number:
    """A bucket key as the JSON number it names: ``"48935"`` → 48935, ``"0.5231"`` → 0.5231."""
    return int(key) if key.lstrip("-").isdigit() else float(key)


def _bucket_price(price: Number, width: float) -> Number:
    # round() keeps 0.1 + 0.2 from becoming a bucket named 0.30000000000000004
    return round(math.floor(price / width) * width, 12)


def _buckets(data: PriceKeyedMap, width: float | None) -> list[_Bucket]:
    buckets: dict[Number, _Bucket] = {}
    for key, rows in data.items():
        for row in rows:
            price = _bucket_price(row[0], width) if width else _number(key)
            buckets.setdefault(price, _Bucket(price, [])).rows.append(row)
    return sorted(buckets.values(), key=lambda bucket: bucket.price)


def _rebucketed(rows: list[LiquidationRow], width: float) -> list[LiquidationRow]:
    """One row per bucket and leverage tier, priced at the bucket's lower edge."""
    totals: dict[tuple[Number, Number | None], float] = defaultdict(float)
    for price, level, leverage, _ in rows:
        totals[(_bucket_price(price, width), leverage)] += level
    return sorted(
        ((price, round(level, 2), leverage, None) for (price, leverage), level in totals.items()),
        key=lambda row: (row[0], -1 if row[2] is None else row[2]),
    )


def _cluster(bucket: _Bucket, current_price: Number | None) -> Cluster:
    return Cluster(
        price=bucket.price,
        level=round(bucket.level, 2),
        side=side_of(bucket.price, current_price),
        distance_pct=distance_pct(bucket.price, current_price),
        leverage_mix=_by_leverage(bucket.rows),
    )


def _percentile(values: list[float], percent: int) -> float:
    """Linear interpolation between ranks, as numpy's default; +inf when there is nothing."""
    if len(values) < 2:
        return values[0] if values else math.inf
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def _imbalance(long_total: float, short_total: float) -> float | None:
    total = long_total + short_total
    return round((short_total - long_total) / total, 6) if total else None


def _within(
    longs: list[LiquidationLevel], shorts: list[LiquidationLevel], current_price: Number
) -> dict[str, SideTotals]:
    def within(levels: list[LiquidationLevel], pct: int) -> float:
        # From the exact distance: the rounded distance_pct would let 1.00004% count as 1%.
        reach = current_price * pct / 100
        return round(sum(lv.level for lv in levels if abs(lv.price - current_price) <= reach), 2)

    return {
        str(pct): SideTotals(long=within(longs, pct), short=within(shorts, pct))
        for pct in WITHIN_PCTS
    }


def _by_leverage(rows: Iterable[LiquidationRow]) -> dict[str, float]:
    totals: dict[Number | None, float] = defaultdict(float)
    for row in rows:
        totals[row[2]] += row[1]
    tiers = sorted(totals, key=lambda tier: math.inf if tier is None else tier)
    return {leverage_name(tier): round(totals[tier], 2) for tier in tiers}


def _rounded_values(totals: dict[str, float]) -> dict[str, float]:
    return {name: round(total, 2) for name, total in totals.items()}
