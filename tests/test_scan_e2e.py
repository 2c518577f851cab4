"""Mode ``market_scan`` end to end: the actor as a real process against the sandbox. Every row,
ranking and charge is worked out here from the sandbox's own max pain, coins markets and maps."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sandbox_data
from helpers import (
    COIN_MAP_PATH,
    PRO_KEY,
    approx,
    calls,
    expected_summary,
    png_size,
    record,
)
from sandbox_server import SandboxServer

# Each test runs the actor as a real process.
pytestmark = pytest.mark.process

SCAN = {"mode": "market_scan", "apiKey": PRO_KEY}
PAIN_FIELDS = ("price", "level", "distance_pct")


def by_hand(orientation: str = "live") -> dict[str, dict[str, Any]]:
    """Each coin's row as a trader would work it out from the two sources: each max-pain level
    on the side its price lies, against max pain's own price."""
    rows: dict[str, dict[str, Any]] = {}
    for coin in sandbox_data.max_pain("24h", {}, orientation):
        price = coin.get("price") or None
        row: dict[str, Any] = {"price": price}
        for side in ("long", "short"):
            row.update(dict.fromkeys(f"{side}_max_pain_{field}" for field in PAIN_FIELDS))
        for label in ("long", "short"):
            at, level = (
                coin.get(f"{label}_max_pain_liq_price"),
                coin.get(f"{label}_max_pain_liq_level"),
            )
            if not at or not level:
                continue
            side = label if price is None or at == price else "long" if at < price else "short"
            if row[f"{side}_max_pain_price"] is None or side == label:
                row[f"{side}_max_pain_price"], row[f"{side}_max_pain_level"] = at, level
                row[f"{side}_max_pain_distance_pct"] = (at - price) / price * 100
        rows[coin["symbol"]] = row
    for market in sandbox_data.coins_markets({}):
        row = rows.setdefault(
            market["symbol"],
            {
                "price": market.get("current_price"),
                **{f"{s}_max_pain_{f}": None for s in ("long", "short") for f in PAIN_FIELDS},
            },
        )
        row["open_interest_usd"] = market.get("open_interest_usd")
        row["funding_rate"] = market.get("avg_funding_rate_by_oi")
        row["long_liquidations_usd_24h"] = market.get("long_liquidation_usd_24h")
        row["short_liquidations_usd_24h"] = market.get("short_liquidation_usd_24h")
    return rows


def coin_map(coin: str) -> tuple[float, dict[str, list[Any]]]:
    """A coin's map as the list shape sends it, its instruments' rows gathered by price."""
    answer = sandbox_data.aggregated_map_by_instrument(coin, "1d")
    gathered: dict[str, list[Any]] = {}
    for each in answer["data"]:
        for key, rows in each["liqMapV2"].items():
            gathered.setdefault(key, []).extend(rows)
    return answer["last_price"], gathered


def assert_row(item: dict[str, Any], want: dict[str, Any]) -> None:
    data = item["data"]
    for name in ("price", "long_max_pain_price", "short_max_pain_price", "open_interest_usd"):
        assert data[name] == want.get(name), name
    for name in ("long_max_pain_level", "short_max_pain_level", "funding_rate"):
        assert data[name] == want.get(name), name
    for side in ("long", "short"):
        distance = want[f"{side}_max_pain_distance_pct"]
        got = data[f"{side}_max_pain_distance_pct"]
        assert got is None if distance is None else got == pytest.approx(distance, abs=1e-4)


def test_a_scan_ranks_every_coin_and_maps_the_top_ones(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    sandbox.aggregated_shape = "by_instrument"
    sandbox.max_pain_orientation = "mixed"  # some coins labelled as the docs' sample has them
    rules = [{"type": "max_pain_within_pct", "pct": 1, "side": "any"}]
    run = run_actor({**SCAN, "maxCoins": 8, "mapCoins": 2, "chart": True, "alerts": rules})
    assert run.exit_code == 0, run.log
    rows = by_hand("mixed")
    ranked = sorted(
        rows,
        key=lambda coin: (
            rows[coin].get("open_interest_usd") is None,
            -(rows[coin].get("open_interest_usd") or 0),
            coin,
        ),
    )[:8]
    assert [(item["coin"], item["rank"]) for item in run.items] == [
        (coin, rank) for rank, coin in enumerate(ranked, 1)
    ]
    assert run.charged_events.count("SCAN_ROW") == 8
    assert run.charged_events.count("LIQUIDATION_MAP") == 2
    for item in run.items:
        assert item["success"]
        assert item["mode"] == "market_scan"
        assert (item["sort_by"], item["max_pain_range"]) == ("open_interest", "24h")
        assert_row(item, rows[item["coin"]])
        swapped = item["coin"] in sandbox_data.MAX_PAIN_MIXED_SWAPPED
        assert ("labels disagree with the prices" in item["message"]) is swapped
        near = [
            side
            for side in ("long", "short")
            if item["data"][f"{side}_max_pain_distance_pct"] is not None
            and abs(item["data"][f"{side}_max_pain_distance_pct"]) <= 1
        ]
        assert [alert["side"] for alert in item["alerts"]] == near
    for item in run.items[:2]:
        price, gathered = coin_map(item["coin"])
        want = expected_summary(gathered, price, 10)
        data = item["data"]
        assert data["map_range"] == "1d"
        assert data["long_within_2pct"] == approx(want["within"]["2"]["long"])
        assert data["short_within_2pct"] == approx(want["within"]["2"]["short"])
        assert data["imbalance"] == pytest.approx(want["imbalance"], abs=1e-3)
        assert data["nearest_long_cluster_price"] == pytest.approx(want["nearest_long"])
        assert data["nearest_short_cluster_price"] == pytest.approx(want["nearest_short"])
    for item in run.items[2:]:
        assert item["data"]["map_range"] is item["data"]["long_within_2pct"] is None
    # Fetched side by side, so they may arrive in either order.
    assert sorted(call.query["symbol"] for call in calls(sandbox, COIN_MAP_PATH)) == sorted(
        item["coin"] for item in run.items[:2]
    )
    assert png_size(record(run.storage, "scan.png").read_bytes()) == (1600, 900)
    report = record(run.storage, "report.html").read_text()
    assert report.index("Coins, in rank order") < report.index("</main>")


def test_a_standard_key_scans_the_markets_alone_and_says_which_plan_fills_the_rest(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor(
        {
            **SCAN,
            "apiKey": SandboxServer.STANDARD_KEY,
            "coins": ["eth", "BTC", "NOPE"],
            "sortBy": "max_pain_proximity",
            "mapCoins": 2,
        }
    )
    assert run.exit_code == 0, run.log
    rows = by_hand()
    rows_only, failure = run.items[:2], run.items[2]
    # Ranked by open interest instead, as max pain cannot be had.
    want = sorted(("ETH", "BTC"), key=lambda coin: -rows[coin]["open_interest_usd"])
    assert [item["coin"] for item in rows_only] == want
    for item in rows_only:
        assert item["sort_by"] == "open_interest"
        assert "need CoinGlass's Professional plan" in item["message"]
        assert "ranking by max_pain_proximity needs the missing source" in item["message"]
        assert item["data"]["long_max_pain_price"] is item["data"]["map_range"] is None
        assert item["data"]["open_interest_usd"] == rows[item["coin"]]["open_interest_usd"]
    assert (failure["success"], failure["coin"], failure["error"]["type"]) == (
        False,
        "NOPE",
        "unknown_symbol",
    )
    assert run.charged_events == ["SCAN_ROW", "SCAN_ROW"]
    assert calls(sandbox, COIN_MAP_PATH) == []  # maps need the plan max pain needs


def test_the_maps_are_fetched_max_concurrency_at_a_time(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    sandbox.latency_ms = 100  # long enough for requests to overlap
    run = run_actor({**SCAN, "maxCoins": 10, "mapCoins": 6, "maxConcurrency": 2})
    assert run.exit_code == 0, run.log
    assert [item["success"] for item in run.items] == [True] * 10
    assert len(calls(sandbox, COIN_MAP_PATH)) == 6
    assert sandbox.peak_in_flight(COIN_MAP_PATH) == 2
    # The rows without a map wait for the last mapped one, then go out, and are logged,
    # together with it: one line says how many results it stands for.
    said = re.findall(r"Market scan row fetched successfully\.(?: \((\d+) results\))?", run.log)
    assert sum(int(count or 1) for count in said) == 10
    assert int(said[-1] or 1) >= 5


def test_the_budget_pays_for_rows_first_then_maps(run_actor: Any, sandbox: SandboxServer) -> None:
    # Five rows at $0.001 and one map at $0.01 fit in $0.016; a second map does not.
    run = run_actor(
        {**SCAN, "maxCoins": 5, "mapCoins": 3},
        env={"ACTOR_MAX_TOTAL_CHARGE_USD": "0.016"},
    )
    assert run.exit_code == 0, run.log
    assert [item["success"] for item in run.items] == [True] * 5
    assert [item["data"]["map_range"] for item in run.items] == ["1d", None, None, None, None]
    assert run.charged_events.count("SCAN_ROW") == 5
    assert run.charged_events.count("LIQUIDATION_MAP") == 1
    for item in run.items[1:3]:
        assert "maximum charge left no room for this coin's map" in item["message"]


def test_a_key_with_neither_source_gets_one_uncharged_failure(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor({**SCAN, "apiKey": SandboxServer.HOBBY_KEY})
    assert run.exit_code == 0, run.log
    assert run.item["success"] is False
    assert run.item["error"]["type"] == "plan_too_low"
    assert (
        "coins markets needs the Standard plan and max pain the Professional"
        in (run.item["message"])
    )
    assert run.charged_events == []
