"""Pure functions from CoinGlass's liquidation-map payloads to the actor's map, levels and summary.

The payloads arrive validated, every row as exactly ``[price, level, leverage or null, band or
null]``. No I/O, no clock: everything a trader reads off the map is computed from the rows and
the current price alone.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from coinglass_liquidation_map.analysis.buckets import (
    Bucket,
    Bucketing,
    bucket_level,
    by_leverage,
    by_side,
    cluster,
    distance_pct,
    percentile,
    price_buckets,
    reach,
    rebucketed,
    row_level,
    row_price,
)
from coinglass_liquidation_map.analysis.markets import CurrentPrice, unfit_price
from coinglass_liquidation_map.market_data import Heatmap, LiquidationRow, Number, PriceKeyedMap
from coinglass_liquidation_map.outputs import Side
from coinglass_liquidation_map.schemas.maps import (
    MAP_SOURCE,
    MAP_SUCCESS_MESSAGE,
    LiquidationLevel,
    LiquidationMapItem,
    SideTotals,
    Summary,
)

WITHIN_PCTS = (1, 2, 5, 10)
# A bucket at or above this percentile of all buckets' levels counts as a cluster ("magnet").
CLUSTER_PERCENTILE = 90


# ---------------------------------------------------------------- analysis


@dataclass(frozen=True)
class Placement:
    """A map's rows (re-bucketed, if asked), sorted by price and split at the current price,
    with both cumulative curves drawn from the price outwards, as CoinGlass draws them."""

    rows: list[LiquidationRow]
    current_price: Number | None
    below: int = 0  # rows[:below] are long liquidations
    above: int = 0  # rows[above:] are short ones; those between sit at the price itself
    long_curve: list[float] = field(default_factory=list)  # one per long row, nearest last
    short_curve: list[float] = field(default_factory=list)  # one per short row, nearest first

    @classmethod
    def of(cls, rows: list[LiquidationRow], current_price: Number | None) -> Placement:
        if current_price is None:
            return cls(rows, None)
        below = bisect.bisect_left(rows, current_price, key=row_price)
        above = bisect.bisect_right(rows, current_price, key=row_price)
        longs = itertools.accumulate(map(row_level, reversed(rows[:below])))
        shorts = itertools.accumulate(map(row_level, rows[above:]))
        return cls(rows, current_price, below, above, list(longs)[::-1], list(shorts))

    def within(self, pct: float) -> SideTotals:
        """The total level on each side within ``pct`` % of the price (which must be known)."""
        current_price, rows = self.current_price, self.rows
        if current_price is None:
            raise ValueError("no side is within a distance of an unknown price")
        # From exact prices: a rounded distance_pct would let 1.00004% count as 1%.
        reached = reach(current_price, pct)
        first_long = bisect.bisect_left(rows, current_price - reached, hi=self.below, key=row_price)
        last_short = bisect.bisect_right(
            rows, current_price + reached, lo=self.above, key=row_price
        )
        return SideTotals(
            long=round(self.long_curve[first_long], 2) if first_long < self.below else 0.0,
            short=round(self.short_curve[last_short - self.above - 1], 2)
            if last_short > self.above
            else 0.0,
        )

    def levels(self) -> list[LiquidationLevel]:
        """Every row with its side, distance and cumulative level (sides null without a price)."""
        rows, price = self.rows, self.current_price
        if price is None:
            return _levels(rows, None, None, itertools.repeat(None))
        return [
            *_levels(rows[: self.below], "long", price, self.long_curve),
            *_levels(rows[self.below : self.above], None, price, itertools.repeat(None)),
            *_levels(rows[self.above :], "short", price, self.short_curve),
        ]


def _levels(
    rows: list[LiquidationRow],
    side: Side | None,
    current_price: Number | None,
    cumulative: Iterable[float | None],
) -> list[LiquidationLevel]:
    # One comprehension, not a call per row, because a map can hold a hundred thousand rows.
    return [
        {
            "price": price,
            "level": level,
            "leverage": leverage,
            "band": band,
            "side": side,
            "distance_pct": distance_pct(price, current_price),
            # A float even where every level is an integer, as the schema and summary say.
            "cumulative_level": None if total is None else round(float(total), 2),
        }
        for (price, level, leverage, band), total in zip(rows, cumulative, strict=False)
    ]


def analyse(
    data: PriceKeyedMap,
    current_price: Number | None,
    bucketing: Bucketing,
    *,
    price_source: str | None = None,
    by_exchange: dict[str, float] | None = None,
    rows: list[LiquidationRow] | None = None,
) -> tuple[Summary, Placement]:
    """The summary of a map read against ``current_price`` (None: unknown), and the placement
    its levels are made from; a caller that cannot deliver the levels never pays for them.
    ``rows`` are the map's ``sorted_rows``, when the caller has them already."""
    width = bucketing.width(current_price)
    rows = sorted_rows(data) if rows is None else rows
    # Re-bucketed grids are laid from the current price, so no bucket straddles it.
    origin = current_price or 0
    placement = Placement.of(rebucketed(rows, width, origin) if width else rows, current_price)
    buckets = price_buckets(data, bucketing, current_price)
    largest = heapq.nlargest(bucketing.top_clusters, buckets, key=bucket_level)
    summary = Summary(
        current_price=current_price,
        price_source=price_source if current_price is not None else None,
        **_sides(placement),
        by_leverage=by_leverage(rows),
        by_exchange=by_exchange,
        top_clusters=[cluster(bucket, current_price) for bucket in largest],
        **_top_clusters_by_side(buckets, current_price, bucketing.top_clusters),
        **_nearest_clusters(buckets, current_price),
        price_min=rows[0][0] if rows else None,
        price_max=rows[-1][0] if rows else None,
        level_count=len(rows),
        bucket_width=width,
    )
    return summary, placement


def latest_column_map(heatmap: Heatmap) -> PriceKeyedMap:
    """The latest column as a liquidation map: each cell a row ``[price, value, null, null]``
    under its price, in ascending order; empty when the column is."""
    prices = heatmap.y_axis
    return {str(prices[y]): [(prices[y], value, None, None)] for y, value in latest_column(heatmap)}


def latest_column(heatmap: Heatmap) -> list[tuple[int, float]]:
    """The cells of the latest column inside the price axis, as (price row, value), by price:
    the current picture."""
    last, rows = len(heatmap.candles) - 1, len(heatmap.y_axis)
    return sorted((y, value) for x, y, value in heatmap.cells if x == last and y < rows)


def sorted_rows(data: PriceKeyedMap) -> list[LiquidationRow]:
    """Every row of the map, by price."""
    # Buckets come sorted and their rows share the bucket's price, so this sort is one pass.
    return sorted(itertools.chain.from_iterable(data.values()), key=row_price)


@dataclass(frozen=True)
class AnalysedMap:
    """A map's item with its levels not yet placed, and the placement they are made from: the
    caller knows whether an item of that size can be delivered, and places them only then."""

    item: LiquidationMapItem
    placement: Placement


def analysed_map(
    symbol: str,
    range_: str,
    data: PriceKeyedMap,
    *,
    price: CurrentPrice | None,
    missing: str,
    bucketing: Bucketing,
    by_exchange: dict[str, float] | None = None,
    skipped_rows: int = 0,
    source: str = MAP_SOURCE,
    origin: str = "",
) -> AnalysedMap:
    """A fetched map as its item: the summary, and a message that says what the user should
    know (where the map came from (``origin``), rows left out, a price that could not be had
    or does not fit the map). ``source`` names what the map was read from."""
    rows = sorted_rows(data)
    unfit = price and rows and unfit_price(price, rows[0][0], rows[-1][0])
    if unfit:
        price, missing = None, unfit
    summary, placement = analyse(
        data,
        price.price if price else None,
        bucketing,
        price_source=price.source if price else None,
        by_exchange=by_exchange,
        rows=rows,
    )
    message = f"{MAP_SUCCESS_MESSAGE} {origin}" if origin else MAP_SUCCESS_MESSAGE
    if skipped_rows:
        message += f" {skipped_rows} unreadable row(s) from CoinGlass were left out."
    if price is None:
        message += f" The current price is unavailable ({missing}), so sides are not computed."
        if bucketing.price_percent_step is not None and bucketing.price_step is None:
            message += " pricePercentStep needs it too, so CoinGlass's own buckets are kept."
    # Every part was validated where it was made, so validating every row again buys nothing.
    item = LiquidationMapItem.model_construct(
        message=message,
        symbol=symbol,
        range=range_,
        data=data,
        summary=summary,
        levels=None,
        source=source,
    )
    return AnalysedMap(item, placement)


def _sides(placement: Placement) -> dict[str, Any]:
    """Totals on each side, their imbalance, and the totals within each distance of the price."""
    current_price = placement.current_price
    if current_price is None:
        return dict.fromkeys(("long_level_total", "short_level_total", "imbalance", "within_pct"))
    longs = placement.rows[: placement.below]  # nearest last
    shorts = placement.rows[placement.above :]  # nearest first
    # Rounded as each level's cumulative_level is, so the summary matches the levels.
    long_total = round(placement.long_curve[0], 2) if longs else 0.0
    short_total = round(placement.short_curve[-1], 2) if shorts else 0.0

    return {
        "long_level_total": long_total,
        "short_level_total": short_total,
        "imbalance": _imbalance(long_total, short_total),
        "within_pct": {str(pct): placement.within(pct) for pct in WITHIN_PCTS},
    }


def _top_clusters_by_side(
    buckets: list[Bucket], current_price: Number | None, count: int
) -> dict[str, Any]:
    """The largest buckets of each side on their own, so a side the other dwarfs still shows."""
    if current_price is None:
        return {"top_long_clusters": None, "top_short_clusters": None}
    longs, shorts = by_side(buckets, current_price)
    return {
        f"top_{side}_clusters": [
            cluster(bucket, current_price)
            for bucket in heapq.nlargest(count, side_buckets, key=bucket_level)
        ]
        for side, side_buckets in (("long", longs), ("short", shorts))
    }


def _nearest_clusters(buckets: list[Bucket], current_price: Number | None) -> dict[str, Any]:
    """The closest bucket on each side whose level is at least the 90th percentile's."""
    if current_price is None:
        return {"nearest_long_cluster": None, "nearest_short_cluster": None}
    threshold = percentile([bucket.level for bucket in buckets], CLUSTER_PERCENTILE)
    longs, shorts = by_side([b for b in buckets if b.level >= threshold], current_price)
    return {
        "nearest_long_cluster": cluster(longs[-1], current_price) if longs else None,
        "nearest_short_cluster": cluster(shorts[0], current_price) if shorts else None,
    }


def _imbalance(long_total: float, short_total: float) -> float | None:
    total = long_total + short_total
    return round((short_total - long_total) / total, 6) if total else None
