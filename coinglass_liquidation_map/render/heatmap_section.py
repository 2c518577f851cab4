"""A heatmap's section of the run's report: its latest column, within each distance, and its hot
zones."""

from __future__ import annotations

from coinglass_liquidation_map.formatting import format_level, format_pct, format_price, format_utc
from coinglass_liquidation_map.render.report import table, td, th
from coinglass_liquidation_map.schemas.heatmaps import HeatLevel, LiquidationHeatmapItem


def heatmap_section(item: LiquidationHeatmapItem) -> list[str]:
    summary, latest = item.summary, item.summary.latest

    def level(found: HeatLevel | None) -> str:
        if found is None:
            return "none"
        return f"{format_price(found['price'])} ({format_pct(found['distance_pct'] or 0)})"

    def total(value: float | None) -> str:
        return "n/a" if value is None else format_level(value)

    price = summary.current_price
    rows = [
        [
            "Current price",
            "unknown" if price is None else f"{format_price(price)} ({summary.price_source})",
        ],
        ["Above the price", total(latest.total_above)],
        ["Below the price", total(latest.total_below)],
        ["Imbalance", "n/a" if latest.imbalance is None else f"{latest.imbalance:+.3f}"],
        ["Nearest above", level(latest.nearest_above)],
        ["Nearest below", level(latest.nearest_below)],
        ["Span", f"{format_utc(summary.start_time)} – {format_utc(summary.end_time)}"],
        ["Grid", f"{summary.columns:,} candles × {summary.price_levels:,} prices"],
        ["Cells", f"{summary.cells:,}"],
    ]
    within = [
        [
            th(f"±{pct}%"),
            td(format_level(sides.below)),
            td(format_level(sides.above)),
        ]
        for pct, sides in (latest.within_pct or {}).items()
    ]
    zones = [
        [
            td(f"{format_price(zone.price_low)} – {format_price(zone.price_high)}"),
            td(format_level(zone.total)),
            td(zone.side or "at the price", zone.side),
            td("n/a" if zone.distance_pct is None else format_pct(zone.distance_pct)),
        ]
        for zone in summary.hot_zones
    ]
    return [
        '<div class="tables">',
        table("Latest column", None, [[th(name), td(value)] for name, value in rows]),
        table("Within a distance of the price", ["Distance", "Below", "Above"], within),
        "</div>",
        table("Hot zones", ["Prices", "Total", "Side", "Distance"], zones),
    ]
