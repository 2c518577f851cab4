"""Price buckets: how a map's rows are grouped by price, placed against the current price and
read as clusters. Pure, shared by the map's summary and the alert rules."""

from __future__ import annotations

import bisect
import math
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from coinglass_liquidation_map.formatting import leverage_name
from coinglass_liquidation_map.market_data import LiquidationRow, Number, PriceKeyedMap
from coinglass_liquidation_map.outputs import Side
from coinglass_liquidation_map.schemas.maps import Cluster


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


@dataclass(slots=True)
class Bucket:
    price: Number
    rows: list[LiquidationRow]
    level: float


row_price: Callable[[LiquidationRow], Number] = operator.itemgetter(0)
row_level: Callable[[LiquidationRow], float] = operator.itemgetter(1)
bucket_price_of: Callable[[Bucket], Number] = operator.attrgetter("price")
bucket_level: Callable[[Bucket], float] = operator.attrgetter("level")


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


def reach(price: Number, pct: float) -> float:
    """How far ``pct`` % of ``price`` reaches, a level exactly that far away included,
    whatever float rounding makes of the edge."""
    return price * pct / 100 * (1 + 1e-12)


def key_number(key: str) -> Number:
    """A bucket key as the JSON number it names: ``"48935"`` → 48935, ``"0.5231"`` → 0.5231."""
    return int(key) if key.lstrip("-").isdigit() else float(key)


def bucket_centre(price: Number, width: float, origin: Number) -> Number:
    """The centre of the ``width``-wide bucket holding ``price``, on a grid through ``origin``."""
    # Twelve significant digits keep 0.1 + 0.2 from becoming a bucket named
    # 0.30000000000000004, and 67387.335 from 67387.33499999999.
    return float(f"{origin + (math.floor((price - origin) / width) + 0.5) * width:.12g}")


def price_buckets(
    data: PriceKeyedMap, bucketing: Bucketing, current_price: Number | None
) -> list[Bucket]:
    """Price buckets in ascending order: CoinGlass's own keys, or fixed-width ones laid from
    the current price, so no bucket straddles it."""
    width, origin = bucketing.width(current_price), current_price or 0
    if width:
        grouped: dict[Number, list[LiquidationRow]] = defaultdict(list)
        for rows in data.values():
            for row in rows:
                grouped[bucket_centre(row[0], width, origin)].append(row)
        data_by_price = [(price, grouped[price]) for price in sorted(grouped)]
    else:
        data_by_price = [(key_number(key), rows) for key, rows in data.items()]  # already sorted
    return [Bucket(price, rows, sum(map(row_level, rows))) for price, rows in data_by_price]


def rebucketed(rows: list[LiquidationRow], width: float, origin: Number) -> list[LiquidationRow]:
    """One row per bucket and leverage tier, priced at the bucket's centre."""
    totals: dict[tuple[Number, Number | None], float] = defaultdict(float)
    for price, level, leverage, _ in rows:
        totals[(bucket_centre(price, width, origin), leverage)] += level
    return sorted(
        ((price, round(level, 2), leverage, None) for (price, leverage), level in totals.items()),
        key=lambda row: (row[0], -1 if row[2] is None else row[2]),
    )


def cluster(bucket: Bucket, current_price: Number | None) -> Cluster:
    return Cluster(
        price=bucket.price,
        level=round(bucket.level, 2),
        side=side_of(bucket.price, current_price),
        distance_pct=distance_pct(bucket.price, current_price),
        leverage_mix=by_leverage(bucket.rows),
    )


def percentile(values: list[float], percent: int) -> float:
    """Linear interpolation between ranks, as numpy's default; +inf when there is nothing.

    The arithmetic of ``statistics.quantiles(values, n=100, method="inclusive")``, to the bit:
    importing that module for this one formula would cost a cold run more memory than the
    summary itself uses.
    """
    if len(values) < 2:
        return values[0] if values else math.inf
    ordered = sorted(values)
    last = len(ordered) - 1
    rank, weight = divmod(percent * last, 100)
    return (ordered[rank] * (100 - weight) + ordered[rank + 1] * weight) / 100


def by_leverage(rows: Iterable[LiquidationRow]) -> dict[str, float]:
    totals: dict[Number | None, float] = defaultdict(float)
    for row in rows:
        totals[row[2]] += row[1]
    tiers = sorted(totals, key=lambda tier: math.inf if tier is None else tier)
    return {leverage_name(tier): round(totals[tier], 2) for tier in tiers}


def by_side(buckets: list[Bucket], current_price: Number) -> tuple[list[Bucket], list[Bucket]]:
    """Buckets below the price and above it, from buckets sorted by price; one at it in neither."""
    below = bisect.bisect_left(buckets, current_price, key=bucket_price_of)
    above = bisect.bisect_right(buckets, current_price, key=bucket_price_of)
    return buckets[:below], buckets[above:]
