"""The heatmap's summary, worked out by hand on grids small enough to read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import sandbox_heatmaps
from helpers import MemoryStore

from coinglass_liquidation_map.analysis.heatmap import analysed_heatmap
from coinglass_liquidation_map.coinglass.heatmap_payloads import HeatmapPayload
from coinglass_liquidation_map.coinglass.payloads import Envelope
from coinglass_liquidation_map.errors import BadResponse, NoData
from coinglass_liquidation_map.market_data import Heatmap
from coinglass_liquidation_map.modes.heatmaps import fitted_heatmap
from coinglass_liquidation_map.outputs import record

T0 = 1_764_590_400  # 2025-12-01 12:00 UTC
PRICES = [80, 85, 90, 95, 100, 105, 110, 115, 120, 125, 130]  # the price, 100, is row 4


def payload(latest: dict[int, int], history: list[list[Any]] | None = None) -> Heatmap:
    """Three candles closing at 99, 101 and 100; ``latest`` maps a price to its cell's value
    in the last column."""
    candles = [
        [T0 + 300 * x, close - 1, close + 1, close - 2, close, 1000.0]
        for x, close in enumerate((99, 101, 100))
    ]
    cells = [[2, PRICES.index(price), value] for price, value in latest.items()]
    return HeatmapPayload.model_validate(
        {
            "y_axis": PRICES,
            "liquidation_leverage_data": [*(history or []), *cells],
            "price_candlesticks": candles,
        }
    ).heatmap()


SMALL = {80: 1, 90: 3, 95: 4, 100: 5, 115: 6, 120: 7, 125: 8, 130: 9}


def test_the_latest_column_against_the_price() -> None:
    latest = {**SMALL, 85: 2, 105: 50, 110: 60}
    # History is never summed into the picture, and cells outside the grid are counted.
    history = [[0, 5, 1000.0], [1, 6, 2000.0], [3, 0, 1.0], [0, 11, 1.0]]
    analysed = analysed_heatmap(payload(latest, history), top=3)
    summary = analysed.summary
    assert analysed.outside_cells == 2
    assert (summary.current_price, summary.price_source) == (100, "last candle close")
    assert summary.start_time == datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
    assert summary.end_time == datetime(2025, 12, 1, 12, 10, tzinfo=UTC)
    assert (summary.columns, summary.price_levels, summary.cells) == (3, 11, 13)
    column = summary.latest
    assert column.at == summary.end_time
    assert (column.total_above, column.total_below) == (140.0, 10.0)  # 50+60+6+7+8+9; 1+2+3+4
    assert column.imbalance == pytest.approx((140 - 10) / 150, abs=1e-6)
    assert column.within_pct is not None
    assert {pct: (s.above, s.below) for pct, s in column.within_pct.items()} == {
        "1": (0.0, 0.0),
        "2": (0.0, 0.0),
        "5": (50.0, 4.0),
        "10": (110.0, 7.0),
    }
    assert [(lv["price"], lv["value"], lv["side"]) for lv in column.top_levels] == [
        (110, 60.0, "short"),
        (105, 50.0, "short"),
        (130, 9.0, "short"),
    ]
    # The 90th percentile of the eleven values is the tenth smallest, 50.
    assert column.nearest_above is not None
    assert (column.nearest_above["price"], column.nearest_above["distance_pct"]) == (105, 5.0)
    assert column.nearest_below is None
    (zone,) = summary.hot_zones
    assert zone.model_dump() == {
        "price_low": 105,
        "price_high": 110,
        "total": 110.0,
        "peak_price": 110,
        "peak_value": 60.0,
        "side": "short",
        "distance_pct": 5.0,
    }
    assert [(lv["price"], lv["side"]) for lv in analysed.levels] == [
        (80, "long"),
        (85, "long"),
        (90, "long"),
        (95, "long"),
        (100, None),
        (105, "short"),
        (110, "short"),
        (115, "short"),
        (120, "short"),
        (125, "short"),
        (130, "short"),
    ]
    assert analysed.data.liquidation_leverage_data[:2] == [(0, 5, 1000.0), (1, 6, 2000.0)]


def test_hot_zones_on_each_side_and_across_the_price() -> None:
    apart = analysed_heatmap(payload({**SMALL, 85: 55, 105: 50, 110: 60}), top=5).summary
    assert [(z.price_low, z.price_high, z.side, z.distance_pct) for z in apart.hot_zones] == [
        (110, 110, "short", 10.0),
        (85, 85, "long", -15.0),
    ]
    assert apart.latest.nearest_below is not None
    assert apart.latest.nearest_below["price"] == 85
    across = {80: 1, 85: 2, 90: 3, 95: 50, 100: 60, 105: 55, 115: 6, 120: 7, 125: 8, 130: 9}
    zones = analysed_heatmap(payload({**across, 110: 4}), top=5).summary.hot_zones
    assert [(z.price_low, z.price_high, z.side, z.distance_pct) for z in zones] == [
        (100, 105, None, 0.0)
    ]


def test_no_cell_is_no_data_and_no_cell_inside_is_a_bad_response() -> None:
    with pytest.raises(NoData):
        analysed_heatmap(payload({}), top=3)
    with pytest.raises(BadResponse, match="None of the 2 cells"):
        analysed_heatmap(payload({}, [[3, 0, 1.0], [0, 11, 1.0]]), top=3)


async def test_a_heatmap_too_large_for_an_item_keeps_its_data_apart() -> None:
    body = json.dumps(
        {"code": "0", "msg": "success", "data": sandbox_heatmaps.huge_heatmap(450_000)}
    ).encode()
    heatmap = Envelope[HeatmapPayload].model_validate_json(body).data.heatmap()
    analysed = analysed_heatmap(heatmap, top=3)
    item = analysed.item("ApeX Omni_BTC-USDT", "1y", "model2")
    store = MemoryStore()
    fitted = await fitted_heatmap(item, store.open)
    (key,) = store.records
    assert key.startswith("map-heatmap-ApeX-Omni_BTC-USDT-1y-model2-")
    assert fitted.data is None
    assert fitted.data_url == f"memory://store/{key}"
    assert f"stored in the run's key-value store as {key}: data_url links it." in fitted.message
    pushed = record(fitted)
    assert len(json.dumps(pushed).encode()) < 9_000_000
    assert pushed["summary"] == record(item)["summary"]
    stored = json.loads(json.dumps(store.records[key].value))
    assert (
        stored["liquidation_leverage_data"] == json.loads(body)["data"]["liquidation_leverage_data"]
    )
    small = item.model_copy(update={"data": analysed_heatmap(payload_of_few(), 3).data})
    assert await fitted_heatmap(small, store.open) is small  # whole, and nothing more stored
    assert len(store.records) == 1


def payload_of_few() -> Heatmap:
    return payload({100: 5, 105: 50})


def test_zero_cells_are_never_hot_and_an_empty_latest_column_is_said() -> None:
    mostly_zero = dict.fromkeys(PRICES, 0)
    mostly_zero.update({95: 40, 105: 30})
    column = analysed_heatmap(payload(mostly_zero), top=5)
    # The percentile of the two non-zero values is 39; zeros are as empty as absent cells.
    assert [(z.price_low, z.price_high) for z in column.summary.hot_zones] == [(95, 95)]
    assert column.summary.latest.nearest_above is None
    assert column.latest_empty is False
    history_only = analysed_heatmap(payload({}, [[0, 5, 10.0], [1, 6, 20.0]]), top=5)
    assert history_only.latest_empty is True
    assert history_only.levels == []
    assert history_only.summary.hot_zones == []
    assert (history_only.summary.latest.total_above, history_only.summary.cells) == (0.0, 2)


def test_a_last_close_in_another_unit_leaves_the_heatmap_without_a_price() -> None:
    # A price axis in BTC (a pair quoted in BTC) whose candles close at a price in USD.
    heatmap = HeatmapPayload.model_validate(
        {
            "y_axis": [0.031, 0.032, 0.033, 0.034, 0.035],
            "liquidation_leverage_data": [[1, 0, 5.0], [1, 1, 50.0], [1, 2, 60.0], [1, 4, 8.0]],
            "price_candlesticks": [
                [T0, 3190, 3200, 3180, 3194.87, 1000.0],
                [T0 + 300, 3194.87, 3200, 3190, 3195.5, 1000.0],
            ],
        }
    ).heatmap()
    analysed = analysed_heatmap(heatmap, top=2)
    assert analysed.unfit_price == (
        "last candle close gives 3,195.5, far outside the prices 0.031 to 0.035 it would be"
        " read against: a price in another unit, such as USD for a pair quoted in BTC"
    )
    summary = analysed.summary
    assert (summary.current_price, summary.price_source) == (None, None)
    latest = summary.latest
    assert (latest.total_above, latest.total_below, latest.imbalance) == (None, None, None)
    assert (latest.within_pct, latest.nearest_above, latest.nearest_below) == (None, None, None)
    assert latest.top_levels == [
        {"price": 0.033, "value": 60.0, "side": None, "distance_pct": None},
        {"price": 0.032, "value": 50.0, "side": None, "distance_pct": None},
    ]
    assert [(lv["price"], lv["side"], lv["distance_pct"]) for lv in analysed.levels] == [
        (0.031, None, None),
        (0.032, None, None),
        (0.033, None, None),
        (0.035, None, None),
    ]
    # The 90th percentile of 5, 8, 50 and 60 is 57: the one hot zone is the cell of 60.
    assert [zone.model_dump() for zone in summary.hot_zones] == [
        {"price_low": 0.033, "price_high": 0.033, "total": 60.0, "peak_price": 0.033,
         "peak_value": 60.0, "side": None, "distance_pct": None}
    ]  # fmt: skip
