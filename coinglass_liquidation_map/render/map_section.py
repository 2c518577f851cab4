"""A map's section of the run's report: its summary, the totals within each distance, by
leverage and exchange, what changed since the last run, its alerts, and its top clusters."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from coinglass_liquidation_map.formatting import (
    format_imbalance,
    format_level,
    format_pct,
    format_price,
    format_tier,
    format_utc,
)
from coinglass_liquidation_map.market_data import Number
from coinglass_liquidation_map.render.report import table, td, th
from coinglass_liquidation_map.schemas.maps import Cluster, LiquidationMapItem, Summary


def map_section(item: LiquidationMapItem) -> list[str]:
    return map_tables(item.summary, [_changes_table(item), _alerts_table(item)])


def map_tables(summary: Summary, extra: Sequence[str] = ()) -> list[str]:
    """A map's summary as tables, with ``extra`` ones among them, and then its clusters."""
    tables = [_summary_table(summary), _within_table(summary), _leverage_table(summary), *extra]
    if summary.by_exchange:
        tables.append(_share_table("By exchange", "Exchange", summary.by_exchange))
    return [
        '<div class="tables">',
        *(table for table in tables if table),
        "</div>",
        _clusters_table("Top clusters", summary.top_clusters),
        *(
            _clusters_table(f"Top {side} clusters", clusters)
            for side, clusters in (
                ("long", summary.top_long_clusters),
                ("short", summary.top_short_clusters),
            )
            if clusters is not None
        ),
    ]


def _summary_table(summary: Summary) -> str:
    price = summary.current_price
    rows = [
        ["Current price", _price_text(summary)],
        ["Longs below the price", _optional_level(summary.long_level_total)],
        ["Shorts above the price", _optional_level(summary.short_level_total)],
        ["Imbalance", format_imbalance(summary.imbalance)],
        ["Nearest long cluster", _cluster_text(summary.nearest_long_cluster, price)],
        ["Nearest short cluster", _cluster_text(summary.nearest_short_cluster, price)],
        ["Price range", _range_text(summary)],
        ["Rows", f"{summary.level_count:,}"],
        [
            "Buckets",
            "CoinGlass's own"
            if summary.bucket_width is None
            else f"{format_price(summary.bucket_width)} wide",
        ],
    ]
    return table("Summary", None, [[th(name), td(value)] for name, value in rows])


def _changes_table(item: LiquidationMapItem) -> str:
    """What moved since the last run's map, for a run that tracks changes."""
    changes = item.changes
    if changes is None:
        return ""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else format_pct(value)

    def prices(clusters: list[Cluster] | None) -> str:
        if clusters is None:
            return "n/a"
        return ", ".join(format_price(cluster.price) for cluster in clusters) or "none"

    then = "n/a" if changes.previous_price is None else format_price(changes.previous_price)
    imbalance = changes.imbalance_change
    rows = [
        ["Price then", f"{then} ({pct(changes.price_change_pct)} since)"],
        ["Longs total", pct(changes.long_level_total_change_pct)],
        ["Shorts total", pct(changes.short_level_total_change_pct)],
        ["Imbalance", "n/a" if imbalance is None else f"{imbalance:+.3f}"],
        ["New clusters", prices(changes.new_clusters)],
        ["Swept clusters", prices(changes.swept_clusters)],
        ["Faded clusters", prices(changes.faded_clusters)],
    ]
    caption = f"Since {format_utc(changes.previous_at)}"
    return table(caption, None, [[th(name), td(value)] for name, value in rows])


def _alerts_table(item: LiquidationMapItem) -> str:
    if not item.alerts:
        return ""
    rows = [
        [td(alert.message), td("held back" if alert.suppressed else "sent")]
        for alert in item.alerts
    ]
    return table("Alerts", ["Alert", "Cooldown"], rows)


def _price_text(summary: Summary) -> str:
    if summary.current_price is None:
        return "unavailable"
    price = format_price(summary.current_price)
    return f"{price} ({summary.price_source})" if summary.price_source else price


def _optional_level(level: float | None) -> str:
    return "n/a" if level is None else format_level(level)


def _cluster_text(cluster: Cluster | None, current_price: Number | None) -> str:
    if cluster is None:
        return "none" if current_price is not None else "n/a"
    distance = "" if cluster.distance_pct is None else f" ({format_pct(cluster.distance_pct)})"
    return f"{format_price(cluster.price)}{distance}, level {format_level(cluster.level)}"


def _range_text(summary: Summary) -> str:
    if summary.price_min is None or summary.price_max is None:
        return "n/a"
    return f"{format_price(summary.price_min)} – {format_price(summary.price_max)}"


def _within_table(summary: Summary) -> str:
    if summary.within_pct is None:
        return ""
    rows = [
        [th(f"±{pct}%"), td(format_level(totals.long)), td(format_level(totals.short))]
        for pct, totals in summary.within_pct.items()
    ]
    return table("Within a distance of the price", ["Distance", "Longs", "Shorts"], rows)


def _leverage_table(summary: Summary) -> str:
    tiers = {format_tier(name): level for name, level in summary.by_leverage.items()}
    return _share_table("By leverage", "Leverage", tiers)


def _share_table(caption: str, name: str, totals: dict[str, float]) -> str:
    if not totals:
        return ""
    whole = sum(totals.values())
    rows = [
        [th(key), td(format_level(level)), td(f"{level / whole:.1%}" if whole else "n/a")]
        for key, level in totals.items()
    ]
    return table(caption, [name, "Level", "Share"], rows)


def _clusters_table(caption: str, clusters: list[Cluster]) -> str:
    if not clusters:
        return f"<p>{escape(caption)}: none.</p>"
    rows = [
        [
            th(str(rank)),
            td(format_price(cluster.price)),
            td(format_level(cluster.level)),
            td(cluster.side or "n/a", f"text {cluster.side}" if cluster.side else "text"),
            td("n/a" if cluster.distance_pct is None else format_pct(cluster.distance_pct)),
            td(_mix_text(cluster), "text"),
        ]
        for rank, cluster in enumerate(clusters, 1)
    ]
    head = ["#", "Price", "Level", "Side", "Distance", "Leverage mix"]
    return f'<div class="scroll">{table(caption, head, rows, "clusters")}</div>'


def _mix_text(cluster: Cluster) -> str:
    """Each tier's share of the cluster, biggest first: ``25x 54%, 5x 46%``."""
    if not cluster.level:
        return ""
    shares = sorted(cluster.leverage_mix.items(), key=lambda tier: -tier[1])
    return ", ".join(f"{format_tier(name)} {level / cluster.level:.0%}" for name, level in shares)
