"""A map's summary as one flat row of a history: what scheduled runs append, run after run."""

from __future__ import annotations

from coinglass_liquidation_map.outputs import Side
from coinglass_liquidation_map.records import HistoryRow
from coinglass_liquidation_map.schemas.maps import LiquidationMapItem


def history_row(item: LiquidationMapItem, at: str) -> HistoryRow:
    """The row of ``item``, taken at ``at`` (ISO 8601, UTC); figures that need the current
    price are null without one."""
    summary = item.summary
    within = summary.within_pct or {}

    def total(pct: str, side: Side) -> float | None:
        sides = within.get(pct)
        return None if sides is None else sides.long if side == "long" else sides.short

    longs, shorts = summary.nearest_long_cluster, summary.nearest_short_cluster
    top = summary.top_clusters[0] if summary.top_clusters else None
    return HistoryRow(
        at=at,
        symbol=item.symbol,
        range=item.range,
        current_price=summary.current_price,
        long_level_total=summary.long_level_total,
        short_level_total=summary.short_level_total,
        imbalance=summary.imbalance,
        within_1_long=total("1", "long"),
        within_1_short=total("1", "short"),
        within_2_long=total("2", "long"),
        within_2_short=total("2", "short"),
        within_5_long=total("5", "long"),
        within_5_short=total("5", "short"),
        within_10_long=total("10", "long"),
        within_10_short=total("10", "short"),
        nearest_long_price=longs.price if longs else None,
        nearest_long_level=longs.level if longs else None,
        nearest_long_distance_pct=longs.distance_pct if longs else None,
        nearest_short_price=shorts.price if shorts else None,
        nearest_short_level=shorts.level if shorts else None,
        nearest_short_distance_pct=shorts.distance_pct if shorts else None,
        top_cluster_price=top.price if top else None,
        top_cluster_level=top.level if top else None,
        top_cluster_side=top.side if top else None,
    )
