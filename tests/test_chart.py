"""Charts and the HTML report, from maps built in-process: no network, no sandbox server."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sandbox_data
from helpers import PNG_SIGNATURE, png_size

from coinglass_liquidation_map.analysis import buckets, liqmap
from coinglass_liquidation_map.formatting import format_compact, format_price
from coinglass_liquidation_map.market_data import LiquidationRow, Number, PriceKeyedMap
from coinglass_liquidation_map.modes.maps import chart_key, picture
from coinglass_liquidation_map.render.map_chart import render_chart
from coinglass_liquidation_map.render.report import render_report
from coinglass_liquidation_map.run.gallery import report_entry
from coinglass_liquidation_map.schemas.maps import LiquidationMapItem

FETCHED_AT = datetime(2026, 11, 25, 14, 3, tzinfo=UTC)


def item_of(
    data: PriceKeyedMap,
    price: Number | None,
    symbol: str = "Binance_BTCUSDT",
    bucketing: buckets.Bucketing | None = None,
) -> LiquidationMapItem:
    summary, placement = liqmap.analyse(data, price, bucketing or buckets.Bucketing())
    return LiquidationMapItem(
        symbol=symbol, range="1d", data=data, summary=summary, levels=placement.levels()
    )


def grid_map(
    first: float, step: float, count: int, leverages: tuple[int | None, ...]
) -> PriceKeyedMap:
    """``count`` buckets from ``first``, one row per leverage each, levels varying by bucket."""
    data: PriceKeyedMap = {}
    for index in range(count):
        price = round(first + index * step, 10)
        data[f"{price:.10f}".rstrip("0").rstrip(".")] = [
            (price, 1000.0 * (1 + index % 7) * (1 + tier), leverage, None)
            for tier, leverage in enumerate(leverages)
        ]
    return data


def sandbox_map(exchange: str, instrument: str) -> PriceKeyedMap:
    """The sandbox's realistic map, normalised as the actor does: tuple rows, keys by price."""
    raw = sandbox_data.liquidation_map(exchange, instrument, "1d")
    rows: dict[str, list[LiquidationRow]] = {
        key: [(row[0], row[1], row[2], row[3]) for row in bucket] for key, bucket in raw.items()
    }
    return dict(sorted(rows.items(), key=lambda bucket: float(bucket[0])))


ITEMS: dict[str, Callable[[], LiquidationMapItem]] = {
    "realistic": lambda: item_of(sandbox_map("Binance", "BTCUSDT"), 97000.0),
    "one_sided": lambda: item_of(grid_map(90_000, 50, 40, (10, 25, 100)), 120_000.0),
    "empty": lambda: item_of({}, 97000.0),
    "coin_wide": lambda: item_of(grid_map(95_000, 20, 60, (None,)), 95_600.0, "BTC"),
    "sub_cent": lambda: item_of(
        grid_map(0.0000110, 0.0000001, 30, (5, 10)), 0.0000123, "Binance_PEPEUSDT"
    ),
    "price_unknown": lambda: item_of(grid_map(3000, 5, 50, (10, 50)), None, "Binance_ETHUSDT"),
    "re_bucketed": lambda: item_of(
        grid_map(3000, 1, 200, (10, 50)), 3100.0, bucketing=buckets.Bucketing(price_step=25)
    ),
}


@pytest.fixture(scope="module")
def charts() -> dict[str, tuple[LiquidationMapItem, bytes]]:
    built = {name: make() for name, make in ITEMS.items()}
    return {name: (item, render_chart(item, FETCHED_AT)) for name, item in built.items()}


@pytest.mark.parametrize("name", list(ITEMS))
def test_chart_is_a_png_of_at_least_1600_by_900(
    charts: dict[str, tuple[LiquidationMapItem, bytes]], name: str
) -> None:
    width, height = png_size(charts[name][1])
    assert width >= 1600
    assert height >= 900


def test_chart_accepts_a_naive_fetch_time() -> None:
    png = render_chart(item_of({}, None), datetime(2026, 11, 25, 14, 3))
    assert png.startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("symbol", "range_", "key"),
    [
        ("Binance_BTCUSDT", "1d", "chart-Binance_BTCUSDT-1d.png"),
        ("ApeX Omni_BTC-USDT", "7d", "chart-ApeX-Omni_BTC-USDT-7d.png"),
        ("OKX_BTC/USDT:SWAP", "30d", "chart-OKX_BTC-USDT-SWAP-30d.png"),
        ("Ünïcode <b>", "1d", "chart--n-code--b--1d.png"),
    ],
)
def test_chart_key_keeps_only_characters_a_store_key_allows(
    symbol: str, range_: str, key: str
) -> None:
    assert chart_key(symbol, range_) == key


def test_chart_key_of_a_long_symbol_fits_a_store_key() -> None:
    key = chart_key("X" * 400, "1d")
    assert len(key) <= 256
    assert key.endswith(".png")
    assert re.fullmatch(r"[a-zA-Z0-9!\-_.'()]+", key)


@pytest.mark.parametrize(
    ("price", "text"),
    [(97000.0, "97,000"), (3400.25, "3,400.25"), (0.0000123, "0.0000123"), (0, "0")],
)
def test_prices_read_with_separators_and_without_float_noise(price: float, text: str) -> None:
    assert format_price(price) == text


@pytest.mark.parametrize(
    ("level", "text"),
    [(449_049_168.02, "449M"), (999_999, "1M"), (1_250_000_000, "1.25B"), (12_500, "12.5K")],
)
def test_levels_read_in_compact_units(level: float, text: str) -> None:
    assert format_compact(level) == text


def report_of(charts: dict[str, tuple[LiquidationMapItem, bytes]]) -> str:
    entries = [report_entry(picture(item), png) for item, png in charts.values()]
    hostile = charts["realistic"][0].model_copy(update={"symbol": "<script>alert(1)</script>"})
    entries.append(report_entry(picture(hostile), None))
    return render_report(entries, FETCHED_AT)


def test_report_embeds_every_chart(charts: dict[str, tuple[LiquidationMapItem, bytes]]) -> None:
    page = report_of(charts)
    assert page.count("data:image/png;base64,") == len(charts)
    first = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert first is not None
    assert base64.b64decode(first.group(1)) == charts["realistic"][1]
    assert "could not be drawn" in page


def test_report_links_each_map_from_its_contents(
    charts: dict[str, tuple[LiquidationMapItem, bytes]],
) -> None:
    page = report_of(charts)
    for number in range(1, len(charts) + 2):
        assert f'href="#map-{number}"' in page
        assert f'id="map-{number}"' in page
    assert f"{len(charts) + 1} maps" in page
    assert "2026-11-25 14:03 UTC" in page


def test_report_escapes_text_and_loads_nothing(
    charts: dict[str, tuple[LiquidationMapItem, bytes]],
) -> None:
    page = report_of(charts)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert not re.search(
        r"""(coinglass_liquidation_map|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE
    )
    assert "url(" not in page
    assert "@import" not in page


def test_report_shows_the_summary_numbers(
    charts: dict[str, tuple[LiquidationMapItem, bytes]],
) -> None:
    page = report_of(charts)
    summary = charts["realistic"][0].summary
    assert summary.long_level_total is not None
    assert "97,000" in page
    assert "0.0000123" in page
    assert f"{summary.long_level_total:,.0f}" in page
    assert f"{summary.imbalance:+.3f}" in page
    top = summary.top_clusters[0]
    assert format_price(top.price) in page
    assert "unavailable" in page  # the map whose price is unknown


def test_report_shows_the_top_clusters_of_each_side(
    charts: dict[str, tuple[LiquidationMapItem, bytes]],
) -> None:
    one_sided, png = charts["one_sided"]
    page = render_report([report_entry(picture(one_sided), png)], FETCHED_AT)
    long_table = re.search(r"<caption>Top long clusters</caption>.*?</table>", page, re.DOTALL)
    assert long_table is not None
    assert one_sided.summary.top_long_clusters
    for cluster in one_sided.summary.top_long_clusters:
        assert f"<td>{format_price(cluster.price)}</td>" in long_table.group(0)
    # Every level lies below the price, so the short side has nothing to list.
    assert "<p>Top short clusters: none.</p>" in page
