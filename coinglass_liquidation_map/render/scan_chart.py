"""A scan's picture: its top coins, each with how far its long and short max pain lie from the
price, and, for mapped coins, its long and short fuel within a few % of the price."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from matplotlib import rc_context

from coinglass_liquidation_map.formatting import format_compact, format_utc
from coinglass_liquidation_map.render.figure import MUTED_COLOUR, STYLE, new_figure, png_of
from coinglass_liquidation_map.schemas.scans import MAP_COLUMNS_PCT, MarketScanItem

TOP_COINS = 20
LONG_COLOUR = "#1f9d55"  # longs are liquidated below the price
SHORT_COLOUR = "#d64545"
# Legends sit above their axes, where no bar can be.
ABOVE: dict[str, Any] = {
    "loc": "lower center",
    "bbox_to_anchor": (0.5, 1.0),
    "ncols": 2,
    "frameon": False,
}


def render_scan(items: list[MarketScanItem], fetched_at: datetime) -> bytes:
    """The scan's top coins as a 1600 × 900 PNG: max-pain distances on the left, the mapped
    coins' fuel near the price on the right."""
    shown = sorted(items, key=lambda item: item.rank)[:TOP_COINS]
    names = [f"{item.rank}. {item.coin}" for item in shown]
    rows = range(len(shown))
    with rc_context(STYLE):
        figure = new_figure(
            f"Market scan · {shown[0].max_pain_range} max pain · by"
            f" {shown[0].sort_by.replace('_', ' ')} · {format_utc(fetched_at)}"
        )
        distances, fuel = figure.subplots(1, 2, sharey=True, width_ratios=(3, 2))
        long_distance = [item.data["long_max_pain_distance_pct"] or 0 for item in shown]
        short_distance = [item.data["short_max_pain_distance_pct"] or 0 for item in shown]
        distances.barh(rows, long_distance, color=LONG_COLOUR, label="Long max pain (below)")
        distances.barh(rows, short_distance, color=SHORT_COLOUR, label="Short max pain (above)")
        distances.axvline(0, color=MUTED_COLOUR, linewidth=1)
        distances.set_yticks(list(rows), names)
        distances.invert_yaxis()
        distances.set_xlabel("Distance from the price (%)")
        distances.legend(**ABOVE)
        longs = [item.data["long_within_2pct"] or 0 for item in shown]
        shorts = [item.data["short_within_2pct"] or 0 for item in shown]
        fuel.barh(rows, [-value for value in longs], color=LONG_COLOUR, label="Longs below")
        fuel.barh(rows, shorts, color=SHORT_COLOUR, label="Shorts above")
        fuel.axvline(0, color=MUTED_COLOUR, linewidth=1)
        fuel.set_xlabel(f"Map fuel within {MAP_COLUMNS_PCT}% of the price (mapped coins)")
        fuel.xaxis.set_major_formatter(lambda value, _: format_compact(abs(value)))
        unmapped = [
            row for row, item in zip(rows, shown, strict=True) if not item.data["map_range"]
        ]
        for row in unmapped:
            # On a white ground, so the zero line does not strike the words through.
            fuel.text(
                0,
                row,
                "not mapped",
                ha="center",
                va="center",
                color=MUTED_COLOUR,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 2},
            )
        if not unmapped or len(unmapped) < len(shown):
            fuel.legend(**ABOVE)
        return png_of(figure)
