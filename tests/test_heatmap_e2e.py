"""Mode ``liquidation_heatmap`` end to end: the actor as a real process against the sandbox.
Every figure is worked out here from the sandbox's own heatmap."""

from __future__ import annotations

from typing import Any

import pytest
import sandbox_data
import sandbox_heatmaps
from helpers import (
    PRO_KEY,
    approx,
    assert_records_fit_the_store_schema,
    calls,
    percentile_90,
    png_size,
    record,
)
from sandbox_server import COIN_HEATMAP_PATH, PAIR_HEATMAP_PATH, SandboxServer

# Each test runs the actor, or a server, as a real process.
pytestmark = pytest.mark.process

HEATMAP = {"mode": "liquidation_heatmap", "symbol": "Binance_BTCUSDT", "apiKey": PRO_KEY}


def expected(heatmap: dict[str, Any], top: int = 10) -> dict[str, Any]:
    """The latest column read by hand: its cells against the last close."""
    candles, prices = heatmap["price_candlesticks"], heatmap["y_axis"]
    price, last = candles[-1][4], len(candles) - 1
    latest = sorted((prices[y], v) for x, y, v in heatmap["liquidation_leverage_data"] if x == last)
    above = [(p, v) for p, v in latest if p > price]
    below = [(p, v) for p, v in latest if p < price]
    threshold = percentile_90([v for _, v in latest])
    hot_rows = [prices.index(p) for p, v in latest if v >= threshold]
    zones: list[list[int]] = []
    for row in hot_rows:
        if zones and zones[-1][-1] == row - 1:
            zones[-1].append(row)
        else:
            zones.append([row])
    values = dict(latest)
    totals = sorted(
        (
            (sum(values[prices[r]] for r in zone), prices[zone[0]], prices[zone[-1]])
            for zone in zones
        ),
        reverse=True,
    )
    return {
        "price": price,
        "above": sum(v for _, v in above),
        "below": sum(v for _, v in below),
        "within": {
            pct: (
                sum(v for p, v in above if (p - price) / price * 100 <= pct + 1e-9),
                sum(v for p, v in below if (price - p) / price * 100 <= pct + 1e-9),
            )
            for pct in (1, 2, 5, 10)
        },
        "top": sorted(latest, key=lambda cell: -cell[1])[:top],
        "nearest_above": min((p for p, v in above if v >= threshold), default=None),
        "nearest_below": max((p for p, v in below if v >= threshold), default=None),
        "zones": [(low, high, total) for total, low, high in totals[:top]],
        "levels": [p for p, _ in latest],
    }


def assert_heatmap(item: dict[str, Any], heatmap: dict[str, Any]) -> None:
    want = expected(heatmap)
    summary, latest = item["summary"], item["summary"]["latest"]
    assert item["data"] == {
        "y_axis": heatmap["y_axis"],
        "liquidation_leverage_data": heatmap["liquidation_leverage_data"],
        "price_candlesticks": heatmap["price_candlesticks"],
        "update_time": heatmap["update_time"],
    }
    assert (summary["current_price"], summary["price_source"]) == (
        want["price"],
        "last candle close",
    )
    assert summary["columns"] == len(heatmap["price_candlesticks"])
    assert summary["price_levels"] == len(heatmap["y_axis"])
    assert summary["cells"] == len(heatmap["liquidation_leverage_data"])
    assert summary["end_time"] == latest["at"] == "2026-12-01T12:00:00Z"
    assert latest["total_above"] == approx(want["above"])
    assert latest["total_below"] == approx(want["below"])
    assert latest["imbalance"] == pytest.approx(
        (want["above"] - want["below"]) / (want["above"] + want["below"]), abs=1e-6
    )
    for pct, (above, below) in want["within"].items():
        assert latest["within_pct"][str(pct)]["above"] == approx(above)
        assert latest["within_pct"][str(pct)]["below"] == approx(below)
    assert [(lv["price"], lv["value"]) for lv in latest["top_levels"]] == [
        (p, approx(v)) for p, v in want["top"]
    ]
    assert (latest["nearest_above"] or {}).get("price") == want["nearest_above"]
    assert (latest["nearest_below"] or {}).get("price") == want["nearest_below"]
    assert [(z["price_low"], z["price_high"], z["total"]) for z in summary["hot_zones"]] == [
        (low, high, approx(total)) for low, high, total in want["zones"]
    ]
    assert [level["price"] for level in item["levels"]] == want["levels"]
    for level in item["levels"]:
        side = "short" if level["price"] > want["price"] else "long"
        assert level["side"] == (None if level["price"] == want["price"] else side)


def test_a_pair_heatmap_is_the_sandbox_s_read_at_its_latest_column(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor({**HEATMAP, "range": "1d", "model": "model2"})
    assert run.exit_code == 0, run.log
    item = run.item
    assert list(item) == [
        "success",
        "message",
        "mode",
        "symbol",
        "range",
        "model",
        "data",
        "summary",
        "levels",
        "chart_url",
        "data_url",
        "provenance",
        "summary_text",
    ]
    assert item["chart_url"] is None  # pictures only when asked for
    assert item["data_url"] is None  # the data is in the item
    assert item["provenance"] == "modeled"  # CoinGlass models it; it is not observed
    assert (item["success"], item["mode"], item["symbol"]) == (
        True,
        "liquidation_heatmap",
        "Binance_BTCUSDT",
    )
    assert item["message"] == "Liquidation heatmap data fetched successfully."
    assert (item["range"], item["model"]) == ("1d", "model2")  # echoed as the user wrote it
    (request,) = calls(sandbox, f"{PAIR_HEATMAP_PATH}/model2")
    assert request.query == {"exchange": "Binance", "symbol": "BTCUSDT", "range": "24h"}
    assert_heatmap(item, sandbox_heatmaps.pair_heatmap("Binance", "BTCUSDT", "24h", "model2"))
    assert run.charged_events == ["LIQUIDATION_HEATMAP"]


@pytest.mark.parametrize("variant", ["v3", "text", "no_update_time"])
def test_a_coin_heatmap_in_every_published_variant(
    run_actor: Any, sandbox: SandboxServer, variant: str
) -> None:
    sandbox.heatmap_variant = variant
    run = run_actor({**HEATMAP, "symbol": "btc", "range": "365d", "model": "model3"})
    (request,) = calls(sandbox, f"{COIN_HEATMAP_PATH}/model3")
    assert request.query == {"symbol": "BTC", "range": "1y"}
    heatmap = sandbox_heatmaps.coin_heatmap("BTC", "1y", "model3")
    if variant == "no_update_time":
        heatmap = {**heatmap, "update_time": None}
    assert run.item["symbol"] == "BTC"
    assert_heatmap(run.item, heatmap)


def test_lists_multiply_and_each_result_is_charged(run_actor: Any) -> None:
    run = run_actor(
        {
            **HEATMAP,
            "symbols": ["Binance_BTCUSDT", "ETH", "Binance_NOSUCH"],
            "ranges": ["12h", "24h", "1d"],  # 1d is 24h: asked once
            "models": ["model1", "model3"],
        }
    )
    made = [(i["symbol"], i["range"], i["model"], i["success"]) for i in run.items]
    assert sorted(made) == sorted(
        (symbol, range_, model, symbol != "Binance_NOSUCH")
        for symbol in ("Binance_BTCUSDT", "ETH", "Binance_NOSUCH")
        for range_ in ("12h", "24h")
        for model in ("model1", "model3")
    )
    failed = [i for i in run.items if not i["success"]]
    assert {i["error"]["type"] for i in failed} == {"unknown_symbol"}
    assert run.charged_events == ["LIQUIDATION_HEATMAP"] * 8


def test_a_refused_pair_heatmap_suggests_the_coin_s_and_the_other_models(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    sandbox.set_fault("bad_param", path=f"{PAIR_HEATMAP_PATH}/model1")
    run = run_actor(HEATMAP)
    item = run.item
    assert item["success"] is False
    assert (item["mode"], item["symbol"], item["range"], item["model"]) == (
        "liquidation_heatmap",
        "Binance_BTCUSDT",
        "1d",
        "model1",
    )
    assert item["error"]["type"] == "invalid_parameter"
    assert item["message"].endswith(
        "Try the coin's heatmap across exchanges (symbol BTC) or another model (model2 or model3)."
    )
    assert run.charged_events == []


def test_a_young_coin_s_heatmap_over_more_history_than_it_has_is_not_available_and_free(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    young = min(sandbox_data.LISTED_DAYS, key=sandbox_data.LISTED_DAYS.__getitem__)
    assert 30 < sandbox_data.LISTED_DAYS[young] < 90
    exchange, instrument = sandbox_data.pairs_of(young)[0]
    pair = f"{exchange}_{instrument}"
    run = run_actor({**HEATMAP, "symbols": [young, pair], "ranges": ["30d", "90d"]})
    assert run.exit_code == 0, run.log
    got = {(item["symbol"], item["range"]): item for item in run.items}
    for symbol in (young, pair):
        assert got[symbol, "30d"]["success"] is True
        refused = got[symbol, "90d"]
        assert refused["success"] is False
        assert refused["error"]["type"] == "invalid_parameter"
        assert "this input is not available" in refused["message"]
        # Neither the coin's heatmap nor another model has more history to offer.
        assert refused["message"].endswith(
            "CoinGlass keeps a 90d heatmap only of what has traded that long: a coin listed more"
            " recently has none, and a shorter range may have it. One that has traded longer"
            " met an outage: try again later."
        )
    # Each asked once more, as a passing fault would pass, and no more.
    for path in (COIN_HEATMAP_PATH, PAIR_HEATMAP_PATH):
        asked = [call.query["range"] for call in calls(sandbox, f"{path}/model1")]
        assert sorted(asked) == ["30d", "90d", "90d"]
    assert run.charged_events == ["LIQUIDATION_HEATMAP"] * 2


def test_a_heatmap_only_range_asked_of_a_map_names_the_map_ranges(run_actor: Any) -> None:
    run = run_actor({"symbol": "Binance_BTCUSDT", "range": "12h", "apiKey": PRO_KEY})
    assert run.item["error"]["type"] == "invalid_input"
    assert (
        "'range': Input should be '1d', '7d', '30d', '90d', '180d' or '365d' (got '12h')"
        in run.item["message"]
    )
    assert run.charged_events == []


def test_a_heatmap_picture_for_each_heatmap_and_the_report(run_actor: Any) -> None:
    run = run_actor(
        {**HEATMAP, "symbols": ["Binance_BTCUSDT", "BTC"], "range": "3d", "chart": True}
    )
    assert run.exit_code == 0, run.log
    for item in run.items:
        key = f"heatmap-{item['symbol']}-3d-model1.png"
        assert item["chart_url"].endswith(key)
        png = record(run.storage, key).read_bytes()
        assert png_size(png) == (1600, 900)
    page = record(run.storage, "report.html").read_text()
    assert "2 heatmaps" in page
    assert page.count("<caption>Hot zones</caption>") == 2
    assert "Binance_BTCUSDT · 3d · model1" in page
    assert_records_fit_the_store_schema(run.storage)
    assert run.charged_events == ["LIQUIDATION_HEATMAP"] * 2


def test_an_empty_heatmap_is_no_data_and_free(run_actor: Any, sandbox: SandboxServer) -> None:
    sandbox.set_fault("empty_map", path=f"{PAIR_HEATMAP_PATH}/model2")
    item = run_actor({**HEATMAP, "model": "model2"}).item
    assert item["error"]["type"] == "no_data"
    assert item["message"] == (
        "CoinGlass returned an empty model2 liquidation heatmap for Binance_BTCUSDT over 1d, so"
        " there is nothing to deliver and nothing was charged. Try the coin's heatmap across"
        " exchanges (symbol BTC) or another model (model1 or model3)."
    )


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        ("upgrade_plan", "plan_too_low"),
        ("invalid_key_401", "invalid_api_key"),
        ("http_503", "upstream_unavailable"),
        ("truncated_json", "bad_response"),
    ],
)
def test_published_errors_fail_the_heatmap_clearly_and_free(
    run_actor: Any, sandbox: SandboxServer, fault: str, error_type: str
) -> None:
    sandbox.set_fault(fault, path=COIN_HEATMAP_PATH)
    run = run_actor({**HEATMAP, "symbol": "ETH", "maxRetries": 0})
    assert run.exit_code == 0, run.log
    assert run.item["success"] is False
    assert run.item["error"]["type"] == error_type
    assert run.charged_events == []
