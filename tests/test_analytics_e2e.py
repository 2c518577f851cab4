"""Summaries, levels, coin maps, batches and search filters, end to end.

Every expected number is computed here, straight from the sandbox's own data, with plain loops
that share no code with the actor.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any

import pytest
import sandbox_data
from helpers import (
    COIN_MAP_PATH,
    MAP_PATH,
    MARKETS_PATH,
    PAIRS_PATH,
    PRO_KEY,
    Row,
    approx,
    calls,
    expected_summary,
    rows_of,
)
from sandbox_server import SandboxServer

# Each test runs the actor, or a server, as a real process.
pytestmark = pytest.mark.process


def assert_summary(
    summary: dict[str, Any], liq_map: dict[str, list[Row]], price: float, top: int
) -> None:
    want = expected_summary(liq_map, price, top)
    assert summary["current_price"] == price
    assert summary["long_level_total"] == approx(want["long"])
    assert summary["short_level_total"] == approx(want["short"])
    assert summary["imbalance"] == pytest.approx(want["imbalance"], abs=1e-6)
    for pct, sides in want["within"].items():
        assert summary["within_pct"][pct]["long"] == approx(sides["long"])
        assert summary["within_pct"][pct]["short"] == approx(sides["short"])
    tiers = [k for k in summary["by_leverage"] if k != "unknown"]
    assert tiers == sorted(tiers, key=float)
    assert {k: approx(v) for k, v in want["by_leverage"].items()} == summary["by_leverage"]
    assert [(c["price"], c["level"]) for c in summary["top_clusters"]] == [
        (p, approx(level)) for p, level in want["top"]
    ]
    for cluster in summary["top_clusters"]:
        assert cluster["side"] == ("long" if cluster["price"] < price else "short")
        assert cluster["distance_pct"] == pytest.approx(
            (cluster["price"] - price) / price * 100, abs=1e-4
        )
        assert sum(cluster["leverage_mix"].values()) == approx(cluster["level"])
    assert summary["nearest_long_cluster"]["price"] == want["nearest_long"]
    assert summary["nearest_short_cluster"]["price"] == want["nearest_short"]
    assert summary["nearest_long_cluster"]["side"] == "long"
    assert (summary["price_min"], summary["price_max"]) == (want["min"], want["max"])
    assert summary["level_count"] == want["count"]


def test_pair_map_summary_and_levels_match_the_sandbox(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor(
        {"symbol": "Binance_ETHUSDT", "range": "7d", "topClusters": 5, "apiKey": PRO_KEY}
    )
    item = run.item
    assert item["success"] is True, item
    assert item["message"] == "Liquidation map data fetched successfully."
    liq_map = sandbox_data.liquidation_map("Binance", "ETHUSDT", "7d")
    price = sandbox_data.current_price("Binance", "ETHUSDT")
    summary = item["summary"]
    assert_summary(summary, liq_map, price, top=5)
    assert summary["price_source"] == "pairs-markets Binance ETHUSDT"
    assert summary["by_exchange"] is None
    assert summary["bucket_width"] is None

    levels = item["levels"]
    rows = sorted(rows_of(liq_map), key=lambda r: r[0])
    assert [[lv["price"], lv["level"], lv["leverage"], lv["band"]] for lv in levels] == rows
    for level in levels:
        assert level["side"] == ("long" if level["price"] < price else "short")
        assert level["distance_pct"] == pytest.approx(
            (level["price"] - price) / price * 100, abs=1e-4
        )
    longs = [lv for lv in levels if lv["side"] == "long"]
    shorts = [lv for lv in levels if lv["side"] == "short"]
    # Cumulative curves grow from the current price outwards.
    assert longs[-1]["cumulative_level"] == pytest.approx(longs[-1]["level"], abs=0.01)
    assert longs[0]["cumulative_level"] == pytest.approx(summary["long_level_total"], abs=0.02)
    assert shorts[0]["cumulative_level"] == pytest.approx(shorts[0]["level"], abs=0.01)
    assert shorts[-1]["cumulative_level"] == pytest.approx(summary["short_level_total"], abs=0.02)
    assert len(calls(sandbox, MARKETS_PATH)) == 1
    assert calls(sandbox, MARKETS_PATH)[0].query == {"symbol": "ETH"}
    assert run.charged_events == ["LIQUIDATION_MAP"]


def test_gate_price_is_found_under_its_other_name(run_actor: Any) -> None:
    run = run_actor({"symbol": "Gate_BTC_USDT", "apiKey": PRO_KEY})
    assert run.item["summary"]["current_price"] == sandbox_data.current_price("Gate", "BTC_USDT")
    assert run.item["summary"]["price_source"] == "pairs-markets Gate.io BTC_USDT"


def test_map_without_a_current_price_still_succeeds(run_actor: Any, sandbox: SandboxServer) -> None:
    sandbox.set_fault("upgrade_plan", path=MARKETS_PATH)
    run = run_actor({"symbol": "Binance_BTCUSDT", "apiKey": PRO_KEY})
    item = run.item
    assert item["success"] is True
    assert item["message"] == (
        "Liquidation map data fetched successfully. The current price is unavailable"
        " (pairs-markets failed: plan_too_low), so sides are not computed."
    )
    summary = item["summary"]
    for name in (
        "current_price",
        "price_source",
        "long_level_total",
        "short_level_total",
        "imbalance",
        "within_pct",
    ):
        assert summary[name] is None
    assert summary["nearest_long_cluster"] is None
    assert all(lv["side"] is None and lv["cumulative_level"] is None for lv in item["levels"])
    assert summary["level_count"] == len(
        rows_of(sandbox_data.liquidation_map("Binance", "BTCUSDT", "1d"))
    )
    assert run.charged_events == ["LIQUIDATION_MAP"]


def test_coin_map_merged_shape_takes_the_most_traded_price(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor({"symbol": "sol", "apiKey": PRO_KEY})
    item = run.item
    assert item["success"] is True, item
    assert item["symbol"] == "SOL"
    merged = sandbox_data.aggregated_map_merged("SOL", "1d")
    assert item["data"] == {k: [list(r) for r in merged[k]] for k in sorted(merged, key=float)}
    top_market = max(sandbox_data.pairs_markets("SOL"), key=lambda m: m["open_interest_usd"])
    assert_summary(item["summary"], merged, top_market["current_price"], top=10)
    assert item["summary"]["by_leverage"].keys() == {"unknown"}
    assert item["summary"]["by_exchange"] is None
    assert calls(sandbox, COIN_MAP_PATH)[0].query == {"symbol": "SOL", "range": "1d"}
    assert calls(sandbox, MAP_PATH) == []


def test_coin_map_list_shape_is_merged_with_each_exchanges_share(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    sandbox.aggregated_shape = "by_instrument"
    run = run_actor({"symbol": "ETH", "range": "30d", "apiKey": PRO_KEY})
    item = run.item
    assert item["success"] is True, item
    shape = sandbox_data.aggregated_map_by_instrument("ETH", "30d")
    merged: dict[str, list[Row]] = defaultdict(list)
    by_exchange: dict[str, float] = defaultdict(float)
    for instrument in shape["data"]:
        for key, rows in instrument["liqMapV2"].items():
            merged[key].extend(rows)
            by_exchange[instrument["instrument"]["exName"]] += sum(r[1] for r in rows)
    assert item["data"] == {k: merged[k] for k in sorted(merged, key=float)}
    assert_summary(item["summary"], merged, shape["last_price"], top=10)
    assert item["summary"]["price_source"] == "aggregated-map last_price"
    assert item["summary"]["by_exchange"] == {
        k: pytest.approx(v, abs=0.02) for k, v in by_exchange.items()
    }
    assert calls(sandbox, MARKETS_PATH) == []


def test_price_step_rebuckets_levels_and_clusters(run_actor: Any) -> None:
    run = run_actor(
        {"symbol": "Binance_BTCUSDT", "priceStep": 500, "topClusters": 3, "apiKey": PRO_KEY}
    )
    summary, levels = run.item["summary"], run.item["levels"]
    rows = rows_of(sandbox_data.liquidation_map("Binance", "BTCUSDT", "1d"))
    now = sandbox_data.current_price("Binance", "BTCUSDT")
    buckets: dict[float, float] = defaultdict(float)
    per_tier: dict[tuple[float, Any], float] = defaultdict(float)
    for price, level, leverage, _ in rows:
        # 500-wide buckets laid from the current price, each named by its centre
        centre = now + (math.floor((price - now) / 500) + 0.5) * 500
        buckets[centre] += level
        per_tier[(centre, leverage)] += level
    assert summary["bucket_width"] == 500
    ranked = sorted(buckets, key=lambda centre: -buckets[centre])[:3]
    assert [(c["price"], c["level"]) for c in summary["top_clusters"]] == [
        (centre, pytest.approx(buckets[centre], abs=0.02)) for centre in ranked
    ]
    assert len(levels) == len(per_tier)
    for level in levels:
        assert level["level"] == pytest.approx(
            per_tier[(level["price"], level["leverage"])], abs=0.01
        )
    assert summary["level_count"] == len(rows)  # upstream rows, before re-bucketing
    # No bucket straddles the price: the sides' totals are the raw rows' totals.
    assert summary["long_level_total"] == approx(sum(r[1] for r in rows if r[0] < now))
    assert summary["short_level_total"] == approx(sum(r[1] for r in rows if r[0] >= now))
    assert {lv["side"] for lv in levels if lv["price"] < now} == {"long"}
    assert {lv["side"] for lv in levels if lv["price"] > now} == {"short"}


def test_percent_step_without_a_price_keeps_coinglass_buckets_and_says_so(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    sandbox.set_fault("upgrade_plan", path=MARKETS_PATH)
    run = run_actor({"symbol": "Binance_BTCUSDT", "pricePercentStep": 0.5, "apiKey": PRO_KEY})
    assert run.item["summary"]["bucket_width"] is None
    assert run.item["message"].endswith(
        "pricePercentStep needs it too, so CoinGlass's own buckets are kept."
    )


def test_percent_step_is_a_share_of_the_current_price(run_actor: Any) -> None:
    run = run_actor({"symbol": "Binance_BTCUSDT", "pricePercentStep": 0.5, "apiKey": PRO_KEY})
    price = sandbox_data.current_price("Binance", "BTCUSDT")
    assert run.item["summary"]["bucket_width"] == pytest.approx(price * 0.005)


def test_many_maps_per_run_isolate_failures(run_actor: Any, sandbox: SandboxServer) -> None:
    run = run_actor(
        {
            "symbols": ["Binance_BTCUSDT", "Binance_NOSUCH", "btc"],
            "ranges": ["1d", "7d"],
            "maxConcurrency": 2,
            "apiKey": PRO_KEY,
        }
    )
    assert run.exit_code == 0, run.log
    got = sorted((i["symbol"], i["range"], i["success"]) for i in run.items)
    assert got == [
        ("BTC", "1d", True),
        ("BTC", "7d", True),
        ("Binance_BTCUSDT", "1d", True),
        ("Binance_BTCUSDT", "7d", True),
        ("Binance_NOSUCH", "1d", False),
        ("Binance_NOSUCH", "7d", False),
    ]
    failures = [i for i in run.items if not i["success"]]
    assert {i["error"]["type"] for i in failures} == {"unknown_symbol"}
    assert run.charged_events == ["LIQUIDATION_MAP"] * 4
    assert len(calls(sandbox, PAIRS_PATH)) == 1  # one pair list for the whole run
    assert len(calls(sandbox, MARKETS_PATH)) == 1  # one price list for every BTC map
    assert sandbox.peak_in_flight(MAP_PATH) <= 2
    assert sandbox.peak_in_flight(COIN_MAP_PATH) <= 2


def test_concurrency_is_bounded(run_actor: Any, sandbox: SandboxServer) -> None:
    sandbox.latency_ms = 150
    symbols = [
        "Binance_BTCUSDT",
        "Binance_ETHUSDT",
        "OKX_BTC-USDT-SWAP",
        "Bybit_BTCUSDT",
        "Bybit_ETHUSDT",
    ]
    run = run_actor({"symbols": symbols, "maxConcurrency": 3, "apiKey": PRO_KEY})
    assert [i["success"] for i in run.items] == [True] * 5
    assert sandbox.peak_in_flight(MAP_PATH) == 3


def test_batch_stops_fetching_when_the_budget_is_spent(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor(
        {
            "symbols": ["Binance_BTCUSDT", "Binance_ETHUSDT", "Bybit_BTCUSDT", "OKX_BTC-USDT-SWAP"],
            "apiKey": PRO_KEY,
        },
        env={"ACTOR_MAX_TOTAL_CHARGE_USD": "0.025"},
    )
    assert run.exit_code == 0, run.log
    assert sorted(i["success"] for i in run.items) == [False, False, True, True]
    assert {i["error"]["type"] for i in run.items if not i["success"]} == {"budget_exhausted"}
    assert run.charged_events == ["LIQUIDATION_MAP"] * 2
    assert len(calls(sandbox, MAP_PATH)) == 2


def test_search_filters_limits_and_keeps_extra_fields(run_actor: Any) -> None:
    run = run_actor(
        {
            "mode": "search_symbols",
            "keyword": "btc",
            "exchange": "okx",
            "quoteAsset": "usd",
            "apiKey": PRO_KEY,
        }
    )
    [instrument] = run.item["data"]
    upstream = next(
        r for r in sandbox_data.supported_pairs()["OKX"] if r["instrument_id"] == "BTC-USD-SWAP"
    )
    assert instrument == {
        "base_asset": "BTC",
        "quote_asset": "USD",
        "exchange": "OKX",
        "symbol": "OKX_BTC-USD-SWAP",
        **{
            k: v
            for k, v in upstream.items()
            if k not in {"instrument_id", "base_asset", "quote_asset"}
        },
    }
    assert instrument["max_leverage"] == 125
    limited = run_actor(
        {"mode": "search_symbols", "keyword": "eth", "maxResults": 3, "apiKey": PRO_KEY}
    )
    assert len(limited.item["data"]) == 3


def test_pair_list_is_cached_between_runs_until_it_expires(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    search = {"mode": "search_symbols", "keyword": "sol", "apiKey": PRO_KEY}
    first = run_actor(search)
    assert len(calls(sandbox, PAIRS_PATH)) == 1
    second = run_actor({"symbol": "Binance_SOLUSDT", "apiKey": PRO_KEY}, keep_storage=True)
    assert second.item["success"] is True
    assert len(calls(sandbox, PAIRS_PATH)) == 1  # the map's symbol check used the stored list
    assert second.charged_events == ["LIQUIDATION_MAP"]

    record = first.storage / "key_value_stores" / "coinglass-cache" / "supported-exchange-pairs"
    stored = json.loads(record.read_text())
    stored["fetched_at"] -= 3601  # an hour and a second ago
    record.write_text(json.dumps(stored))
    third = run_actor(search, keep_storage=True)
    assert third.item["data"] == first.item["data"]
    assert len(calls(sandbox, PAIRS_PATH)) == 2


def test_zero_ttl_never_stores_the_pair_list(run_actor: Any, sandbox: SandboxServer) -> None:
    run = run_actor({"mode": "search_symbols", "symbolCacheTtlSecs": 0, "apiKey": PRO_KEY})
    assert run.item["success"] is True
    assert not (
        run.storage / "key_value_stores" / "coinglass-cache" / "supported-exchange-pairs"
    ).exists()


def test_top_clusters_per_side_show_the_side_the_other_dwarfs(run_actor: Any) -> None:
    run = run_actor(
        {"symbol": "Binance_BTCUSDT", "range": "7d", "topClusters": 3, "apiKey": PRO_KEY}
    )
    summary = run.item["summary"]
    liq_map = sandbox_data.liquidation_map("Binance", "BTCUSDT", "7d")
    price = sandbox_data.current_price("Binance", "BTCUSDT")
    buckets = {float(key): sum(r[1] for r in rows) for key, rows in liq_map.items()}
    # The three largest buckets overall are all shorts, so splitting them leaves no longs.
    assert {c["side"] for c in summary["top_clusters"]} == {"short"}
    for side, below in (("long", True), ("short", False)):
        prices = [p for p in buckets if (p < price) == below and p != price]
        ranked = sorted(prices, key=lambda p: -buckets[p])[:3]
        clusters = summary[f"top_{side}_clusters"]
        assert [(c["price"], c["level"]) for c in clusters] == [
            (p, approx(buckets[p])) for p in ranked
        ]
        assert {c["side"] for c in clusters} == {side}
        for cluster in clusters:
            assert cluster["distance_pct"] == pytest.approx(
                (cluster["price"] - price) / price * 100, abs=1e-4
            )
    assert len(summary["top_long_clusters"]) == 3


def test_top_clusters_per_side_are_null_without_a_price(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    sandbox.set_fault("upgrade_plan", path=MARKETS_PATH)
    summary = run_actor({"symbol": "Binance_BTCUSDT", "apiKey": PRO_KEY}).item["summary"]
    assert summary["top_long_clusters"] is None
    assert summary["top_short_clusters"] is None
    assert len(summary["top_clusters"]) == 10
