"""A run's pictures: a chart of each map saved beside the dataset, and one HTML report.

Charts are drawn only when asked for, so matplotlib is imported only then: a run without
charts pays nothing for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from src.outputs import LiquidationMapItem
from src.run.storage import StoreOpener, store_key

if TYPE_CHECKING:
    from src.render.report import ReportEntry

REPORT_KEY = "report.html"


def chart_key(symbol: str, range_: str) -> str:
    """The key-value store key of a map's chart: ``chart-Binance_BTCUSDT-1d.png``."""
    return store_key(f"chart-{symbol}-{range_}", ".png")


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
        drawn = drawn or item
        # Imported here, so that matplotlib loads only when charts are asked for.
        from src.render.chart import render_chart  # noqa: PLC0415
        from src.render.report import ReportEntry  # noqa: PLC0415

        fetched_at = self._clock()
        try:
            async with self._drawing:
                png = await asyncio.to_thread(render_chart, drawn, fetched_at)
        except Exception:  # a drawing bug must not cost the user the map they paid for
            self._log.exception(f"The chart of {item.symbol} {item.range} could not be drawn.")
            self._entries.append(ReportEntry(drawn, None))
            return item.model_copy(
                update={"message": f"{item.message} The chart could not be drawn."}
            )
        store = await self._store()
        key = chart_key(item.symbol, item.range)
        await store.set_value(key, png, content_type="image/png")
        self._entries.append(ReportEntry(drawn, png))
        return item.model_copy(update={"chart_url": await store.get_public_url(key)})

    async def save_report(self) -> None:
        """Store ``report.html``: every chart of the run with its summary, in one page."""
        if not self._entries:
            return
        from src.render.report import render_report  # noqa: PLC0415 - see add()

        entries = sorted(self._entries, key=lambda entry: (entry.item.symbol, entry.item.range))
        html = render_report(entries, self._clock())
        store = await self._store()
        # Exactly the type the store schema lists for it; the page names its charset itself.
        await store.set_value(REPORT_KEY, html, content_type="text/html")
