"""What every picture of the actor shares: its size, style and colours, the figure it is drawn
on, the PNG it becomes, and which price labels it has room for. Only the Agg canvas is used,
never pyplot, so no figure outlives its call; the style is set in an ``rc_context``, which is
process-wide: draw one picture at a time.
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.typing import RcKeyType

from coinglass_liquidation_map.market_data import Number

FIGSIZE = (16.0, 9.0)
DPI = 100  # 1600 × 900 pixels
EDGE_PAD = 0.15  # inches
PRICE_COLOUR = "#1c2430"
MUTED_COLOUR = "#5a6675"

# Sizes in points at 100 dpi: tick labels of 14 pt are 19 px, readable on a phone.
STYLE: dict[RcKeyType, Any] = {
    "font.size": 14,
    "axes.titlesize": 16,
    "axes.labelsize": 15,
    "xtick.labelsize": 14,
    "ytick.labelsize": 14,
    "legend.fontsize": 14,
    "figure.titlesize": 22,
    "figure.titleweight": "bold",
    "axes.edgecolor": "#b8c2cf",
    "axes.spines.top": False,
    "axes.labelcolor": PRICE_COLOUR,
    "xtick.color": MUTED_COLOUR,
    "ytick.color": MUTED_COLOUR,
}


def new_figure(title: str) -> Figure:
    """A 1600 × 900 figure titled ``title``; call within ``rc_context(STYLE)``."""
    # The padding keeps the last tick label and the axes' frame off the picture's edge.
    figure = Figure(figsize=FIGSIZE, dpi=DPI, layout=ConstrainedLayoutEngine(w_pad=EDGE_PAD))
    figure.suptitle(title)
    return figure


def png_of(figure: Figure) -> bytes:
    """``figure`` as PNG bytes."""
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    # Fast compression: a third less time for a slightly larger file.
    figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def spaced(prices: list[Number], span: float, gap: float) -> list[int]:
    """The indices of ``prices`` (most important first) whose labels sit at least ``gap`` of
    ``span`` from every one kept before them, so no two labels overlap."""
    kept: list[int] = []
    for index, price in enumerate(prices):
        if all(abs(price - prices[other]) >= gap * span for other in kept):
            kept.append(index)
    return kept
