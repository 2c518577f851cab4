"""A run's pictures: a chart of each result saved beside the dataset, and one HTML report.

Each mode's pipeline says how its results are drawn and shown in the report (a ``Picture``);
the gallery draws, stores and collects them. Charts are drawn only when asked for, so
matplotlib is imported only then: a run without charts pays nothing for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from coinglass_liquidation_map.outputs import SuccessItem
from coinglass_liquidation_map.run.storage import StoreOpener, store_key

if TYPE_CHECKING:
    from coinglass_liquidation_map.render.report import ReportEntry

REPORT_KEY = "report.html"
ItemT = TypeVar("ItemT", bound=SuccessItem)


def picture_key(name: str) -> str:
    """The key-value store key of a picture named ``name``: ``chart-Binance_BTCUSDT-1d.png``."""
    return store_key(name, ".png")


@dataclass(frozen=True)
class Picture:
    """How one result is drawn and shown in the report, as its mode's pipeline says."""

    kind: str  # what the report calls it: "map", "heatmap"
    name: str  # how the log and the report's order name it: "Binance_BTCUSDT 1d"
    heading: str  # its heading in the report: "Binance_BTCUSDT · 1d"
    alt: str  # the chart's text for those who cannot see it
    key: str  # the record its PNG is stored as
    render: Callable[[datetime], bytes]  # the PNG, given when the result was fetched
    section: Callable[[], list[str]]  # its HTML in the report, below the chart
    leads: bool = False  # a picture of the whole run (a scan's), shown before the results'


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
        self._drawn: list[tuple[Picture, bytes | None]] = []  # None: it could not be drawn
        # Agg renders one figure at a time safely; the fetches around it stay concurrent.
        self._drawing = asyncio.Lock()

    async def add(self, item: ItemT, picture: Picture) -> ItemT:
        """The item with ``chart_url`` set to its picture; a chart that fails is reported in
        the message, never at the cost of the result."""
        url = await self.draw(picture)
        if url is None:
            return item.model_copy(
                update={"message": f"{item.message} The chart could not be drawn."}
            )
        return item.model_copy(update={"chart_url": url})

    async def draw(self, picture: Picture) -> str | None:
        """Draw and store ``picture``; its URL, or None when it could not be drawn (which the
        log says)."""
        fetched_at = self._clock()
        try:
            async with self._drawing:
                png = await asyncio.to_thread(picture.render, fetched_at)
        except Exception:  # a drawing bug must not cost the user the result they paid for
            self._log.exception(f"The chart of {picture.name} could not be drawn.")
            self._drawn.append((picture, None))
            return None
        store = await self._store()
        await store.set_value(picture.key, png, content_type="image/png")
        self._drawn.append((picture, png))
        url: str = await store.get_public_url(picture.key)
        return url

    async def save_report(self) -> None:
        """Store ``report.html``: every chart of the run with its summary, in one page."""
        if not self._drawn:
            return
        # Imported here, so that a run without charts never loads the report's code.
        from coinglass_liquidation_map.render.report import render_report  # noqa: PLC0415

        # Each section is written now, once every result is delivered, so that a bug in one
        # costs the report and never a result.
        drawn = sorted(self._drawn, key=lambda each: (not each[0].leads, each[0].name))
        entries = [report_entry(picture, png) for picture, png in drawn]
        html = render_report(entries, self._clock())
        store = await self._store()
        # Exactly the type the store schema lists for it; the page names its charset itself.
        await store.set_value(REPORT_KEY, html, content_type="text/html")


def report_entry(picture: Picture, png: bytes | None) -> ReportEntry:
    """The report's entry of a result drawn as ``picture`` (``png`` None: it could not be)."""
    from coinglass_liquidation_map.render.report import ReportEntry  # noqa: PLC0415 - see save_report

    return ReportEntry(picture.kind, picture.heading, picture.alt, png, picture.section())
