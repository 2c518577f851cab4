"""What changed between two runs' maps of the same symbol, range and bucketing, read from the
compact snapshots each run keeps: the price, the totals and the top clusters."""

from __future__ import annotations

from datetime import datetime

from coinglass_liquidation_map.market_data import Number
from coinglass_liquidation_map.records import Snapshot
from coinglass_liquidation_map.schemas.maps import Changes, Cluster, Summary


def snapshot(summary: Summary, at: datetime) -> Snapshot:
    """The part of a map's summary the next run compares with, taken at ``at``."""
    return Snapshot(
        at=at,
        current_price=summary.current_price,
        long_level_total=summary.long_level_total,
        short_level_total=summary.short_level_total,
        imbalance=summary.imbalance,
        within_pct=summary.within_pct,
        top_clusters=summary.top_clusters,
    )


def match_tolerance(current_price: Number, match_pct: float) -> float:
    """How far apart, in price, two clusters may be and still be the same one."""
    return current_price * match_pct / 100


def near(price: Number, prices: list[Number], tolerance: float) -> bool:
    """Whether any of ``prices`` is within ``tolerance`` of ``price``."""
    return any(abs(price - other) <= tolerance for other in prices)


def changes(previous: Snapshot, current: Snapshot, match_pct: float) -> Changes:
    """``current`` against ``previous``: now minus then, and the top clusters that are new,
    swept by the price or faded. Clusters come from the snapshot they belong to."""
    then, now = previous.current_price, current.current_price
    new: list[Cluster] | None = None
    swept: list[Cluster] | None = None
    faded: list[Cluster] | None = None
    if then is not None and now is not None:
        tolerance = match_tolerance(now, match_pct)
        previous_prices = [cluster.price for cluster in previous.top_clusters]
        current_prices = [cluster.price for cluster in current.top_clusters]
        low, high = min(then, now), max(then, now)
        new = [c for c in current.top_clusters if not near(c.price, previous_prices, tolerance)]
        swept = [c for c in previous.top_clusters if low <= c.price <= high]
        faded = [
            c
            for c in previous.top_clusters
            if not low <= c.price <= high and not near(c.price, current_prices, tolerance)
        ]
    return Changes(
        previous_at=previous.at,
        elapsed_secs=round((current.at - previous.at).total_seconds(), 3),
        previous_price=then,
        price_change_pct=_change_pct(then, now),
        long_level_total_change_pct=_change_pct(
            previous.long_level_total, current.long_level_total
        ),
        short_level_total_change_pct=_change_pct(
            previous.short_level_total, current.short_level_total
        ),
        imbalance_change=(
            None
            if previous.imbalance is None or current.imbalance is None
            else round(current.imbalance - previous.imbalance, 6)
        ),
        new_clusters=new,
        swept_clusters=swept,
        faded_clusters=faded,
    )


def _change_pct(then: float | None, now: float | None) -> float | None:
    if then is None or now is None or then == 0:
        return None
    return round((now - then) / then * 100, 4)
