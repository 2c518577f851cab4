"""The run's charts and report, in-process: stored in a key-value store in memory, drawn for
real, with a clock the test sets."""

from __future__ import annotations

import base64
import dataclasses
import logging
import re
from datetime import UTC, datetime

import pytest
from helpers import MemoryStore, png_size

from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.analysis.liqmap import analysed_map
from coinglass_liquidation_map.analysis.markets import CurrentPrice
from coinglass_liquidation_map.market_data import PriceKeyedMap
from coinglass_liquidation_map.modes.maps import picture
from coinglass_liquidation_map.render import map_chart
from coinglass_liquidation_map.run.gallery import REPORT_KEY, Gallery
from coinglass_liquidation_map.run.item_limit import fitted
from coinglass_liquidation_map.schemas.alerts import Alert
from coinglass_liquidation_map.schemas.maps import Changes, LiquidationMapItem

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def map_item(symbol: str) -> LiquidationMapItem:
    data: PriceKeyedMap = {
        "99": [(99, 70.0, 10, None), (99.2, 30.0, 25, None)],
        "101": [(101, 20.0, 10, None)],
        "103": [(103, 50.0, 100, None)],
    }
    price = CurrentPrice(100, "test")
    return fitted(
        analysed_map(symbol, "1d", data, price=price, missing="", bucketing=Bucketing())
    ).item


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def gallery(store: MemoryStore) -> Gallery:
    return Gallery(store.open, logging.getLogger("gallery-test"), clock=lambda: NOW)


async def test_a_chart_is_stored_and_linked_from_its_item(
    gallery: Gallery, store: MemoryStore
) -> None:
    plain = map_item("Binance_BTCUSDT")
    charted = await gallery.add(plain, picture(plain))
    key = "chart-Binance_BTCUSDT-1d.png"
    assert charted.chart_url == f"memory://store/{key}"
    assert charted.model_copy(update={"chart_url": None}) == plain
    record = store.records[key]
    assert record.content_type == "image/png"
    assert png_size(record.value) == (1600, 900)


async def test_a_chart_that_cannot_be_drawn_costs_the_map_nothing(
    gallery: Gallery,
    store: MemoryStore,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(item: LiquidationMapItem, fetched_at: datetime) -> bytes:
        raise RuntimeError("a drawing bug")

    monkeypatch.setattr(map_chart, "render_chart", broken)
    plain = map_item("Binance_BTCUSDT")
    item = await gallery.add(plain, picture(plain))
    assert item.chart_url is None
    assert item.message == f"{plain.message} The chart could not be drawn."
    assert item.data == plain.data
    assert list(store.records) == []
    [logged] = caplog.records
    assert logged.getMessage() == "The chart of Binance_BTCUSDT 1d could not be drawn."
    assert logged.exc_info is not None
    await gallery.save_report()
    assert "The chart of this map could not be drawn." in store.records[REPORT_KEY].value


async def test_the_report_holds_every_chart_in_symbol_order(
    gallery: Gallery, store: MemoryStore
) -> None:
    for symbol in ("OKX_ETH-USDT-SWAP", "Binance_BTCUSDT"):
        item = map_item(symbol)
        await gallery.add(item, picture(item))
    await gallery.save_report()
    report = store.records[REPORT_KEY]
    assert report.content_type == "text/html"
    assert '<meta charset="utf-8">' in report.value
    page = report.value
    assert re.findall(r"<h2>([^<]+) · 1d</h2>", page) == ["Binance_BTCUSDT", "OKX_ETH-USDT-SWAP"]
    assert "Generated 2026-12-01 12:00 UTC · 2 maps" in page
    embedded = [base64.b64decode(png) for png in re.findall(r"base64,([^\"]+)\"", page)]
    assert embedded == [
        store.records["chart-Binance_BTCUSDT-1d.png"].value,
        store.records["chart-OKX_ETH-USDT-SWAP-1d.png"].value,
    ]


async def test_a_run_without_charts_stores_no_report(gallery: Gallery, store: MemoryStore) -> None:
    await gallery.save_report()
    assert store.opened == 0
    assert store.records == {}


async def test_the_report_says_what_changed_and_which_alerts_fired(
    gallery: Gallery, store: MemoryStore
) -> None:
    item = map_item("Binance_BTCUSDT")
    cluster = item.summary.top_clusters[0]
    changes = Changes(
        previous_at=datetime(2026, 12, 1, 11, 45, tzinfo=UTC),
        elapsed_secs=900,
        previous_price=98,
        price_change_pct=2.0408,
        long_level_total_change_pct=-12.5,
        short_level_total_change_pct=None,
        imbalance_change=0.05,
        new_clusters=[cluster],
        swept_clusters=[],
        faded_clusters=None,
    )
    alert = Alert(
        rule=0,
        type="imbalance_beyond",
        symbol=item.symbol,
        range=item.range,
        side="long",
        price=None,
        level=-0.5,
        distance_pct=None,
        current_price=100,
        message="Binance_BTCUSDT 1d: imbalance -0.500, longs heavier, at the price (100)",
        suppressed=True,
    )
    watched = item.model_copy(update={"changes": changes, "alerts": [alert]})
    await gallery.add(watched, picture(watched))
    await gallery.save_report()
    page = store.records[REPORT_KEY].value
    assert "<caption>Since 2026-12-01 11:45 UTC</caption>" in page
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td>([^<]*)</td>', page))
    assert rows["Price then"] == "98 (+2.04% since)"
    assert (rows["Longs total"], rows["Shorts total"]) == ("-12.50%", "n/a")
    assert rows["Imbalance"] == "+0.050"
    assert rows["New clusters"] == f"{cluster.price:g}"
    assert (rows["Swept clusters"], rows["Faded clusters"]) == ("none", "n/a")
    assert f"<td>{alert.message}</td><td>held back</td>" in page


async def test_a_report_section_is_written_once_the_results_are_delivered(
    gallery: Gallery, store: MemoryStore
) -> None:
    plain = map_item("Binance_BTCUSDT")
    written: list[str] = []

    def section() -> list[str]:
        written.append(plain.symbol)
        return ["<p>the section</p>"]

    charted = await gallery.add(plain, dataclasses.replace(picture(plain), section=section))
    assert charted.chart_url is not None
    assert written == []  # nothing of the report yet: the result goes out first
    await gallery.save_report()
    assert written == ["Binance_BTCUSDT"]
    assert "<p>the section</p>" in store.records[REPORT_KEY].value
