"""The heatmap endpoints through the client, against mocked HTTP: their paths and parameters,
and every published variant of the body read as one shape."""

from __future__ import annotations

from typing import Any

import pytest
import respx
from helpers import MOCKED_BASE_URL as BASE

from coinglass_liquidation_map import errors
from coinglass_liquidation_map.coinglass.endpoints import Endpoints
from coinglass_liquidation_map.market_data import Heatmap, Instrument
from coinglass_liquidation_map.modes.heatmaps import liquidation_heatmap
from coinglass_liquidation_map.schemas.heatmaps import HeatmapTarget

PUBLISHED: dict[str, Any] = {
    "y_axis": [47968.54, 48000.00, 48031.46],
    "liquidation_leverage_data": [[0, 2, 2288867.26], [1, 1, 318624.82], [1, 0, 1527940.12]],
    "price_candlesticks": [
        [1722676500, "61486", "61596.4", "61434.4", "61539.9", "63753192.1129"],
        [1722676800, "61539.9", "61600", "61500", "61550.5", "1000.5"],
    ],
    "update_time": 1777283472660,
}
READ: dict[str, Any] = {
    "y_axis": [47968.54, 48000.0, 48031.46],
    "liquidation_leverage_data": [(0, 2, 2288867.26), (1, 1, 318624.82), (1, 0, 1527940.12)],
    "price_candlesticks": [
        (1722676500, 61486.0, 61596.4, 61434.4, 61539.9, 63753192.1129),
        (1722676800, 61539.9, 61600.0, 61500.0, 61550.5, 1000.5),
    ],
    "update_time": 1777283472660,
}


def published(heatmap: Heatmap) -> dict[str, Any]:
    """The heatmap under CoinGlass's published names, as the client read it."""
    return {
        "y_axis": heatmap.y_axis,
        "liquidation_leverage_data": heatmap.cells,
        "price_candlesticks": heatmap.candles,
        "update_time": heatmap.update_time,
    }


def body(data: Any) -> dict[str, Any]:
    return {"code": "0", "msg": "success", "data": data}


def as_text(values: list[Any]) -> list[Any]:
    return [str(value) for value in values]


@pytest.mark.parametrize(
    "data",
    [
        PUBLISHED,
        {**PUBLISHED, "price_candlesticks": [list(c) for c in READ["price_candlesticks"]]},
        {
            "y": PUBLISHED["y_axis"],
            "liq": PUBLISHED["liquidation_leverage_data"],
            "prices": PUBLISHED["price_candlesticks"],
            "update_time": PUBLISHED["update_time"],
        },
        {
            "y_axis": as_text(PUBLISHED["y_axis"]),
            "liquidation_leverage_data": [
                as_text(c) for c in PUBLISHED["liquidation_leverage_data"]
            ],
            "price_candlesticks": [as_text(c) for c in PUBLISHED["price_candlesticks"]],
            "update_time": PUBLISHED["update_time"],
        },
    ],
    ids=["published", "numbers", "v3 names", "all text"],
)
@respx.mock
async def test_every_published_variant_reads_as_numbers(
    endpoints: Endpoints, data: dict[str, Any]
) -> None:
    route = respx.get(f"{BASE}/api/futures/liquidation/heatmap/model2").respond(json=body(data))
    payload = await endpoints.pair_heatmap("Binance", "BTCUSDT", "24h", "model2")
    assert dict(route.calls.last.request.url.params) == {
        "exchange": "Binance",
        "symbol": "BTCUSDT",
        "range": "24h",
    }
    assert published(payload) == READ
    assert payload.skipped_cells == 0


@respx.mock
async def test_the_coin_heatmap_without_update_time(endpoints: Endpoints) -> None:
    data = {key: value for key, value in PUBLISHED.items() if key != "update_time"}
    route = respx.get(f"{BASE}/api/futures/liquidation/aggregated-heatmap/model1").respond(
        json=body(data)
    )
    payload = await endpoints.coin_heatmap("BTC", "1y", "model1")
    assert dict(route.calls.last.request.url.params) == {"symbol": "BTC", "range": "1y"}
    assert payload.update_time is None
    assert published(payload)["liquidation_leverage_data"] == READ["liquidation_leverage_data"]


@respx.mock
async def test_unreadable_cells_are_left_out_and_counted(endpoints: Endpoints) -> None:
    cells = [*PUBLISHED["liquidation_leverage_data"], [1, "x", 5], [2, 1], [-1, 0, 3], "cell"]
    respx.get(f"{BASE}/api/futures/liquidation/heatmap/model1").respond(
        json=body({**PUBLISHED, "liquidation_leverage_data": cells})
    )
    payload = await endpoints.pair_heatmap("Binance", "BTCUSDT", "24h", "model1")
    assert published(payload)["liquidation_leverage_data"] == READ["liquidation_leverage_data"]
    assert payload.skipped_cells == 4


@pytest.mark.parametrize("data", [None, [], {}])
@respx.mock
async def test_an_absent_heatmap_reads_as_empty(endpoints: Endpoints, data: Any) -> None:
    respx.get(f"{BASE}/api/futures/liquidation/heatmap/model1").respond(json=body(data))
    payload = await endpoints.pair_heatmap("Binance", "BTCUSDT", "24h", "model1")
    assert published(payload) == {
        "y_axis": [],
        "liquidation_leverage_data": [],
        "price_candlesticks": [],
        "update_time": None,
    }


@respx.mock
async def test_a_heatmap_with_an_unreadable_price_is_a_bad_response(endpoints: Endpoints) -> None:
    respx.get(f"{BASE}/api/futures/liquidation/heatmap/model1").respond(
        json=body({**PUBLISHED, "y_axis": ["abc"]})
    )
    with pytest.raises(errors.BadResponse):
        await endpoints.pair_heatmap("Binance", "BTCUSDT", "24h", "model1")


async def btc_listed(*, fresh: bool = False) -> list[Instrument]:
    """An instrument list holding one BTC pair, so the coin BTC resolves."""
    return [
        Instrument(
            base_asset="BTC", quote_asset="USDT", exchange="Binance", symbol="Binance_BTCUSDT"
        )
    ]


@respx.mock
async def test_cells_left_out_are_counted_in_the_message(endpoints: Endpoints) -> None:
    cells = [*PUBLISHED["liquidation_leverage_data"], [1, "x", 5], [2, 0, 7.0], [0, 3, 7.0]]
    respx.get(f"{BASE}/api/futures/liquidation/aggregated-heatmap/model1").respond(
        json=body({**PUBLISHED, "liquidation_leverage_data": cells})
    )
    target = HeatmapTarget("BTC", "1d", "model1")
    item = await liquidation_heatmap(endpoints, btc_listed, target, top=3)
    # One cell unreadable, one past the candles, one past the prices.
    assert item.message == (
        "Liquidation heatmap data fetched successfully. 3 cell(s) from CoinGlass were left out:"
        " unreadable, or outside its own price axis or candles."
    )
    assert item.summary.cells == 3


@pytest.mark.parametrize(
    "broken",
    [
        {"y_axis": list(reversed(PUBLISHED["y_axis"]))},  # descending
        {"y_axis": [47968.54, 47968.54, 48031.46]},  # a price twice
        {"y_axis": [0, 48000.0, 48031.46]},  # no price is zero
        {"price_candlesticks": list(reversed(PUBLISHED["price_candlesticks"]))},
        {"price_candlesticks": [[1722676500000, "1", "1", "1", "0", "1"]]},  # ms, and close 0
        {"liquidation_leverage_data": [[0, 0, "1e300"]]},  # past any published value
    ],
)
@respx.mock
async def test_a_grid_out_of_order_or_out_of_bounds_is_a_bad_response(
    endpoints: Endpoints, broken: dict[str, Any]
) -> None:
    respx.get(f"{BASE}/api/futures/liquidation/heatmap/model1").respond(
        json=body({**PUBLISHED, **broken})
    )
    if "liquidation_leverage_data" in broken:  # a cell alone is left out, not the heatmap
        payload = await endpoints.pair_heatmap("Binance", "BTCUSDT", "24h", "model1")
        assert (payload.cells, payload.skipped_cells) == ([], 1)
        return
    with pytest.raises(errors.BadResponse):
        await endpoints.pair_heatmap("Binance", "BTCUSDT", "24h", "model1")


@respx.mock
async def test_a_heatmap_whose_latest_candle_is_empty_says_so(endpoints: Endpoints) -> None:
    history = [[0, 2, 2288867.26], [0, 1, 318624.82]]
    respx.get(f"{BASE}/api/futures/liquidation/aggregated-heatmap/model2").respond(
        json=body({**PUBLISHED, "liquidation_leverage_data": history})
    )
    item = await liquidation_heatmap(
        endpoints, btc_listed, HeatmapTarget("BTC", "24h", "model2"), top=3
    )
    assert item.message.endswith(
        "Its latest candle holds no cell, so the current picture (summary.latest, levels,"
        " hot_zones) is empty; earlier columns are in data."
    )
    assert item.levels == []
