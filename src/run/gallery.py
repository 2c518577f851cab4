"""A run's pictures: a chart of each map or heatmap saved beside the dataset, and one HTML
report.

Charts are drawn only when asked for, so matplotlib is imported only then: a run without
charts pays nothing for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from src.outputs import LiquidationHeatmapItem, LiquidationMapItem
from src.run.storage import StoreOpener, store_key

if TYPE_CHECKING:
    from src.render.report import ReportEntry

REPORT_KEY = "report.html"
Drawn = TypeVar("Drawn", LiquidationMapItem, LiquidationHeatmapItem)


def chart_key(symbol: str, range_: str) -> str:
    """The key-value store key of a map's chart: ``chart-Binance_BTCUSDT-1d.png``."""
    return store_key(f"chart-{symbol}-{range_}", ".png")


def heatmap_key(symbol: str, range_: str, model: str) -> str:
    """The key of a heatmap's picture: ``heatmap-Binance_BTCUSDT-24h-model1.png``."""
    return store_key(f"heatmap-{symbol}-{range_}-{model}", ".png")


class Gallery:
    """Draws, stores and remembers the charts of one run."""

    def __init__(
        self,
        store: StoreOpener,
        log: logging.Logger,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._log = log
        self._clock = clock
        self._entries: list[ReportEntry] = []
        # Agg renders one figure at a time safely; the map fetches around it stay concurrent.
        self._drawing = asyncio.Lock()

    async def add(
        self, item: LiquidationMapItem, drawn: LiquidationMapItem | None = None
    ) -> LiquidationMapItem:
        """The item with ``chart_url`` set to the chart of ``drawn`` (the same map with what the
        item had to leave out; the item itself by default); a chart that fails is reported in
        the message, never at the cost of the map."""
        # Imported here, so that matplotlib loads only when charts are asked for.
        from src.render.chart import render_chart  # noqa: PLC0415

        drawn = drawn or item
        fetched_at = self._clock()
        key = chart_key(item.symbol, item.range)
        return await self._drawn(item, drawn, key, lambda: render_chart(drawn, fetched_at))

    async def add_heatmap(self, item: LiquidationHeatmapItem) -> LiquidationHeatmapItem:
        """The heatmap with ``chart_url`` set to its picture; one that fails is reported in the
        message, never at the cost of the heatmap."""
        from src.render.heatmap_chart import render_heatmap  # noqa: PLC0415 - see add()

        key = heatmap_key(item.symbol, item.range, item.model)
        return await self._drawn(item, item, key, lambda: render_heatmap(item))

    async def _drawn(
        self, item: Drawn, drawn: Drawn, key: str, render: Callable[[], bytes]
    ) -> Drawn:
        from src.render.report import ReportEntry  # noqa: PLC0415 - see add()

        try:
            async with self._drawing:
                png = await asyncio.to_thread(render)
        except Exception:  # a drawing bug must not cost the user the result they paid for
            self._log.exception(f"The chart of {_named(item)} could not be drawn.")
            self._entries.append(ReportEntry(drawn, None))
            return item.model_copy(
                update={"message": f"{item.message} The chart could not be drawn."}
            )
        store = await self._store()
        await store.set_value(key, png, content_type="image/png")
        self._entries.append(ReportEntry(drawn, png))
        return item.model_copy(update={"chart_url": await store.get_public_url(key)})

    async def save_report(self) -> None:
        """Store ``report.html``: every chart of the run with its summary, in one page."""
        if not self._entries:
            return
        from src.render.report import render_report  # noqa: PLC0415 - see add()

        entries = sorted(self._entries, key=lambda entry: _named(entry.item))
        html = render_report(entries, self._clock())
        store = await self._store()
        # Exactly the type the store schema lists for it; the page names its charset itself.
        await store.set_value(REPORT_KEY, html, content_type="text/html")


def _named(item: LiquidationMapItem | LiquidationHeatmapItem) -> str:
    """``Binance_BTCUSDT 1d``, or ``Binance_BTCUSDT 24h model1`` for a heatmap."""
    model = f" {item.model}" if isinstance(item, LiquidationHeatmapItem) else ""
    return f"{item.symbol} {item.range}{model}"
