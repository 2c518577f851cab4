"""A liquidation map drawn as CoinGlass's own page draws it, as PNG bytes.

Bars per price bucket stacked by leverage tier, the cumulative long and short curves on a second
axis, the current price and the biggest clusters marked. Rows are summed per bucket and tier
with numpy before anything is drawn, so a map of 50,000 rows costs a few hundred artists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt
from matplotlib import rc_context
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from coinglass_liquidation_map.formatting import (
    format_compact,
    format_imbalance,
    format_price,
    format_tier,
    format_utc,
    leverage_name,
)
from coinglass_liquidation_map.market_data import Number, PriceKeyedMap
from coinglass_liquidation_map.outputs import Side
from coinglass_liquidation_map.render.figure import (
    MUTED_COLOUR,
    PRICE_COLOUR,
    STYLE,
    new_figure,
    png_of,
    spaced,
)
from coinglass_liquidation_map.schemas.maps import LiquidationLevel, LiquidationMapItem, Summary

FloatArray = npt.NDArray[np.floating]

# More bars than this would be thinner than two pixels: neighbouring buckets are summed.
# It keeps CoinGlass's own buckets for every documented range (about 470 for 30 days).
MAX_BARS = 500
BAR_FILL = 0.8  # of each bucket's slot, leaving CoinGlass's thin gap between bars
MAX_LABELLED_CLUSTERS = 5
# Cluster labels closer than this (in parts of the price axis) would overlap each other.
MIN_LABEL_GAP = 0.07
BAR_HEADROOM = 1.3  # room above the tallest bar for its label
PRICE_TICKS = 9

LONG_COLOUR = "#d93f44"
SHORT_COLOUR = "#1f9d5c"
GRID_COLOUR = "#e6eaf0"
UNKNOWN_TIER_COLOUR = "#8e9cb0"
# Neither red nor green: those belong to the long and short curves.
TIER_COLOURS = (
    "#f0b429",
    "#3e7bfa",
    "#9b59d0",
    "#22b8cf",
    "#f76707",
    "#c2255c",
    "#5c940d",
    "#364fc7",
    "#a0785a",
    "#0c8599",
)
# The cumulative curves: CoinGlass's red for longs, green for shorts.
CURVES: tuple[tuple[Side, str, str], ...] = (
    ("long", LONG_COLOUR, "Cumulative longs"),
    ("short", SHORT_COLOUR, "Cumulative shorts"),
)


class Charted(Protocol):
    """What a chart is drawn from: a map's data, summary and levels (a liquidation map's, or
    the positions of a coin binned as one)."""

    @property
    def data(self) -> PriceKeyedMap | None: ...

    @property
    def summary(self) -> Summary: ...

    @property
    def levels(self) -> list[LiquidationLevel] | None: ...


def render_chart(item: LiquidationMapItem, fetched_at: datetime) -> bytes:
    """The map of ``item`` as a 1600 × 900 PNG, titled with its fetch time in UTC."""
    return render_levels(item, _title(item, fetched_at))


def render_levels(item: Charted, title: str, measure: str = "Liquidation level") -> bytes:
    """``item``'s rows drawn as a liquidation map, as a 1600 × 900 PNG titled ``title``, its
    levels named ``measure`` on the axes."""
    with rc_context(STYLE):
        figure = new_figure(title)
        bars = _bars(item)
        if bars is None:
            _draw_empty(figure, item)
        else:
            _draw_map(figure, item, bars, measure)
        return png_of(figure)


def _title(item: LiquidationMapItem, fetched_at: datetime) -> str:
    return f"{item.symbol} · {item.range} liquidation map · {format_utc(fetched_at)}"


# ---------------------------------------------------------------- aggregation


@dataclass(frozen=True)
class _Bars:
    """Stacked bars: one column per bucket, one row of heights per leverage tier."""

    centres: FloatArray
    slot: float  # the price distance from one bucket to the next
    tiers: list[str]
    heights: FloatArray
    coarsened: bool = False

    @property
    def totals(self) -> FloatArray:
        totals: FloatArray = self.heights.sum(axis=0)
        return totals


def _bars(item: Charted) -> _Bars | None:
    """The item's rows summed per bucket and tier; None for a map without rows."""
    prices, leverages, levels = _priced_rows(item)
    if not leverages:
        return None
    # The summary's tiers in its order, so the legend reads as the report's "By leverage".
    tier_of = {name: index for index, name in enumerate(item.summary.by_leverage)}
    centres, bucket_of = np.unique(prices, return_inverse=True)
    heights = np.zeros((len(tier_of), len(centres)))
    tier_rows = np.array([tier_of[leverage_name(tier)] for tier in leverages])
    np.add.at(heights, (tier_rows, bucket_of), levels)
    slot = item.summary.bucket_width or _typical_spacing(centres)
    names = [format_tier(name) for name in tier_of]
    return _coarsened(_Bars(centres, slot, names, heights))


def _priced_rows(
    item: Charted,
) -> tuple[FloatArray, list[Number | None], FloatArray]:
    """Each row's bar position, leverage and level."""
    width = item.summary.bucket_width
    if width is None:
        # CoinGlass's bucket key is where its bar stands; rows scatter a little around it.
        data = item.data or {}  # a chart is drawn from the map with all its data
        rows = [(float(key), row[2], row[1]) for key, bucket in data.items() for row in bucket]
    else:
        # Re-bucketed levels are priced at their bucket's centre, where the bar stands.
        rows = [(level["price"], level["leverage"], level["level"]) for level in item.levels or []]
    prices = np.array([row[0] for row in rows], dtype=np.float64)
    levels = np.array([row[2] for row in rows], dtype=np.float64)
    return prices, [row[1] for row in rows], levels


def _typical_spacing(centres: FloatArray) -> float:
    if len(centres) > 1:
        return float(np.median(np.diff(centres)))
    # A single bucket has no neighbour: any visible width will do.
    return abs(float(centres[0])) * 0.01 or 1.0


def _coarsened(bars: _Bars) -> _Bars:
    """At most ``MAX_BARS`` bars, each summing a whole number of neighbouring slots."""
    first = float(bars.centres[0]) - bars.slot / 2
    slots = math.ceil((float(bars.centres[-1]) - first) / bars.slot)
    factor = math.ceil(slots / MAX_BARS)
    if factor <= 1:
        return bars
    slot = bars.slot * factor
    group = np.floor((bars.centres - first) / slot).astype(np.intp)
    count = int(group[-1]) + 1
    heights = np.array([np.bincount(group, tier, count) for tier in bars.heights])
    centres = first + (np.arange(count) + 0.5) * slot
    return _Bars(centres, slot, bars.tiers, heights, coarsened=True)


# ---------------------------------------------------------------- drawing


def _draw_empty(figure: Figure, item: Charted) -> None:
    figure.text(0.5, 0.55, "No liquidation levels", ha="center", va="center", fontsize=34)
    price = item.summary.current_price
    note = "Current price unavailable" if price is None else f"Current price {format_price(price)}"
    figure.text(0.5, 0.45, note, ha="center", va="center", fontsize=18, color=MUTED_COLOUR)


def _draw_map(figure: Figure, item: Charted, bars: _Bars, measure: str) -> None:
    axes = figure.add_subplot()
    handles: list[Artist] = [*_draw_bars(axes, bars)]
    xlim = _price_limits(bars)
    axes.set_xlim(*xlim)
    # A map of zero levels still gets an axis to stand on.
    axes.set_ylim(0, float(bars.totals.max()) * BAR_HEADROOM or 1.0)
    _format_price_axis(axes, xlim)
    _format_level_axis(axes, _bars_label(bars, measure))
    # Labels go on the topmost axes, so no curve crosses them.
    top = axes
    price = item.summary.current_price
    if price is not None:
        top = axes.twinx()
        _format_level_axis(top, f"Cumulative {measure[0].lower()}{measure[1:]}")
        handles += _draw_curves(top, item, price)
        _mark_price(top, price, xlim)
    _label_clusters(top, axes, item, bars)
    axes.set_title(_subtitle(item), loc="left", color=MUTED_COLOUR)
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)


def _draw_bars(axes: Axes, bars: _Bars) -> list[Patch]:
    """One polygon collection per tier, stacked in tier order; the legend's patches."""
    half = bars.slot * BAR_FILL / 2
    bottom = np.zeros(len(bars.centres))
    handles = []
    for name, heights, colour in zip(bars.tiers, bars.heights, _colours(bars.tiers), strict=True):
        top = bottom + heights
        shown = heights > 0
        left, right = bars.centres[shown] - half, bars.centres[shown] + half
        low, high = bottom[shown], top[shown]
        corners = [(left, low), (left, high), (right, high), (right, low)]
        polygons = np.stack([np.column_stack(corner) for corner in corners], axis=1)
        axes.add_collection(PolyCollection(list(polygons), facecolors=colour, linewidths=0))
        handles.append(Patch(facecolor=colour, label=name))
        bottom = top
    return handles


def _colours(tiers: list[str]) -> list[str]:
    return [
        UNKNOWN_TIER_COLOUR if name == "unknown" else TIER_COLOURS[index % len(TIER_COLOURS)]
        for index, name in enumerate(tiers)
    ]


def _price_limits(bars: _Bars) -> tuple[float, float]:
    # Only the bars set the price axis: a current price far off the map must not squash it.
    return float(bars.centres[0]) - bars.slot, float(bars.centres[-1]) + bars.slot


def _format_price_axis(axes: Axes, xlim: tuple[float, float]) -> None:
    locator = MaxNLocator(nbins=PRICE_TICKS, steps=[1, 2, 5, 10])
    step = float(np.diff(locator.tick_values(*xlim)[:2])[0])
    # As many decimals as the tick step has, and no "1e-5" offset text over the axis.
    decimals = max(0, -math.floor(math.log10(step)))
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.{decimals}f}"))
    axes.set_xlabel("Price")
    axes.grid(axis="y", color=GRID_COLOUR, linewidth=1)
    axes.set_axisbelow(True)


def _format_level_axis(axes: Axes, label: str) -> None:
    axes.yaxis.set_major_locator(MaxNLocator(nbins=6))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: format_compact(value)))
    axes.set_ylabel(label)


def _bars_label(bars: _Bars, measure: str) -> str:
    if bars.coarsened:
        return f"{measure} per {format_price(bars.slot)} of price"
    return f"{measure} per bucket"


def _draw_curves(curves: Axes, item: Charted, price: Number) -> list[Line2D]:
    """The cumulative curves, each rising from zero at the price outwards; one when one-sided."""
    lines = []
    tops = [0.0]
    for side, colour, label in CURVES:
        x, y = _cumulative(item, side, price)
        if len(x) <= 1:
            continue
        (line,) = curves.plot(x, y, color=colour, linewidth=2.6, label=label)
        curves.fill_between(x, y, color=colour, alpha=0.07, linewidth=0)
        lines.append(line)
        tops.append(float(y.max()))
    curves.set_ylim(0, max(tops) * 1.08 or 1.0)
    return lines


def _cumulative(item: Charted, side: Side, price: Number) -> tuple[FloatArray, FloatArray]:
    points = [
        (level["price"], level["cumulative_level"])
        for level in item.levels or []
        if level["side"] == side and level["cumulative_level"] is not None
    ]
    # Anchored at the current price, where CoinGlass's curves start from zero.
    points.append((float(price), 0.0))
    x = np.array([point[0] for point in points], dtype=np.float64)
    y = np.array([point[1] for point in points], dtype=np.float64)
    order = np.argsort(x, kind="stable")
    return x[order], y[order]


def _mark_price(top: Axes, price: Number, xlim: tuple[float, float]) -> None:
    label = f"Current price {format_price(price)}"
    box = {"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": PRICE_COLOUR}
    if xlim[0] <= price <= xlim[1]:
        top.axvline(float(price), color=PRICE_COLOUR, linestyle="--", linewidth=1.8)
        top.annotate(
            label,
            xy=(float(price), 1),
            xycoords=top.get_xaxis_transform(),
            xytext=(0, -6),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=15,
            bbox=box,
        )
        return
    # Off the map: say which way the price lies rather than stretch the axis to reach it.
    right = price > xlim[1]
    top.annotate(
        f"{label} →" if right else f"← {label}",
        xy=(1 if right else 0, 1),
        xycoords="axes fraction",
        xytext=(-8 if right else 8, -6),
        textcoords="offset points",
        ha="right" if right else "left",
        va="top",
        fontsize=15,
        bbox=box,
    )


def _label_clusters(top: Axes, axes: Axes, item: Charted, bars: _Bars) -> None:
    """The biggest clusters' levels over their bars, skipping those too close to a labelled one.

    Drawn on the topmost axes, so no curve crosses a label, but placed in the bars' coordinates.
    """
    lo, hi = axes.get_xlim()
    totals = bars.totals
    clusters = item.summary.top_clusters
    labelled = spaced([cluster.price for cluster in clusters], hi - lo, MIN_LABEL_GAP)
    for cluster in (clusters[index] for index in labelled[:MAX_LABELLED_CLUSTERS]):
        x = cluster.price
        bar = int(np.argmin(np.abs(bars.centres - x)))
        top.annotate(
            f"{format_compact(cluster.level)}\n{format_price(cluster.price)}",
            xy=(float(bars.centres[bar]), float(totals[bar])),
            xycoords=axes.transData,
            xytext=(0, 5),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=13,
            linespacing=1.1,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.85, "lw": 0},
        )


def _subtitle(item: Charted) -> str:
    summary = item.summary
    if summary.current_price is None:
        return (
            f"Current price unavailable · {summary.level_count:,} rows · "
            f"total level {format_compact(sum(summary.by_leverage.values()))}"
        )
    return (
        f"Longs below {format_compact(summary.long_level_total or 0)} · "
        f"Shorts above {format_compact(summary.short_level_total or 0)} · "
        f"Imbalance {format_imbalance(summary.imbalance)}"
    )
