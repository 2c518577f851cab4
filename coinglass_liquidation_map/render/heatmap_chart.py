"""A liquidation heatmap drawn as CoinGlass draws it, as PNG bytes: time on x, price on y, each
cell coloured by its value on a perceptual colormap (dark where there is nothing, bright where
there is most), the closes drawn over it, a line at the current price, and the hot zones
labelled. The grid is filled with numpy and drawn as one mesh, whatever the number of cells.
"""

from __future__ import annotations

import numpy as np
from matplotlib import rc_context
from matplotlib.colors import PowerNorm
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

from coinglass_liquidation_map.formatting import format_compact, format_price, format_utc
from coinglass_liquidation_map.render.figure import PRICE_COLOUR, STYLE, new_figure, png_of, spaced
from coinglass_liquidation_map.schemas.heatmaps import LiquidationHeatmapItem

COLORMAP = "inferno"
# A square root scale, so the many small cells still show beside a few large ones.
GAMMA = 0.5
CLOSE_COLOUR = "#9fd3ff"
LABELLED_ZONES = 5
MIN_LABEL_GAP = 0.035  # of the price axis, so two labels never overlap


def render_heatmap(item: LiquidationHeatmapItem) -> bytes:
    """The heatmap of ``item`` as a 1600 × 900 PNG."""
    summary, data = item.summary, item.data
    if data is None:
        raise ValueError("a heatmap is drawn from its data, which this item has stored apart")
    title = (
        f"{item.symbol} · {item.range} · {item.model} liquidation heatmap ·"
        f" {format_utc(summary.end_time)}"
    )
    times = np.array([candle[0] for candle in data.price_candlesticks], dtype="datetime64[s]")
    prices = np.asarray(data.y_axis, dtype=float)
    grid = np.zeros((len(prices), len(times)))
    cells = np.asarray(data.liquidation_leverage_data, dtype=float).reshape(-1, 3)
    grid[cells[:, 1].astype(int), cells[:, 0].astype(int)] = cells[:, 2]
    with rc_context(STYLE):
        figure = new_figure(title)
        axes = figure.add_subplot()
        mesh = axes.pcolormesh(
            _edges(times),
            _edges(prices),
            grid,
            cmap=COLORMAP,
            norm=PowerNorm(GAMMA, vmin=0, vmax=float(grid.max()) or 1.0),
            shading="flat",
            rasterized=True,
        )
        closes = [candle[4] for candle in data.price_candlesticks]
        axes.plot(times, closes, color=CLOSE_COLOUR, linewidth=1.4, label="Close")
        if summary.current_price is not None:
            price = float(summary.current_price)
            axes.axhline(price, color="white", linestyle="--", linewidth=1.2)
            axes.annotate(
                f"Current price {format_price(price)}",
                xy=(0, price),
                xycoords=("axes fraction", "data"),
                xytext=(8, 6),
                textcoords="offset points",
                color=PRICE_COLOUR,
                fontsize=13,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none"},
            )
        zones = summary.hot_zones
        span = float(prices[-1] - prices[0])
        labelled = spaced([zone.peak_price for zone in zones], span, MIN_LABEL_GAP)
        for zone in (zones[index] for index in labelled[:LABELLED_ZONES]):
            axes.annotate(
                f"{format_price(zone.peak_price)} · {format_compact(zone.total)}",
                xy=(1, float(zone.peak_price)),
                xycoords=("axes fraction", "data"),
                xytext=(-8, 0),
                textcoords="offset points",
                ha="right",
                va="center",
                fontsize=12,
                color="white",
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "#00000099", "edgecolor": "none"},
            )
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        axes.yaxis.set_major_formatter(lambda value, _: format_price(value))
        axes.set_ylabel("Price")
        axes.set_xlabel("Time (UTC)")
        bar = figure.colorbar(mesh, ax=axes, pad=0.01)
        bar.set_label("Liquidation value per cell")
        bar.formatter = lambda value, _: format_compact(value)  # type: ignore[assignment]
        bar.update_ticks()
        return png_of(figure)


def _edges(centres: np.ndarray) -> np.ndarray:
    """The cell edges around ``centres`` (times or prices): halfway between neighbours, and as
    far out again at both ends; a lone centre gets a cell one percent of itself wide (a price),
    or five minutes wide (a time)."""
    if len(centres) == 1:
        step = np.timedelta64(150, "s") if centres.dtype.kind == "M" else abs(centres) * 0.005
        return np.concatenate([centres - step, centres + step])
    middles = centres[:-1] + (centres[1:] - centres[:-1]) / 2
    first = centres[0] - (middles[0] - centres[0])
    last = centres[-1] + (centres[-1] - middles[-1])
    return np.concatenate([[first], middles, [last]])
