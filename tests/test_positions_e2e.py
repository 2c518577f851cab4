"""Mode ``hyperliquid_positions`` end to end: the actor as a real process against the sandbox,
every figure of its item worked out here from the sandbox's own positions and markets."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import pytest
import sandbox_positions
from helpers import MARKETS_PATH, approx, calls, png_size, record
from sandbox_server import HYPERLIQUID_POSITIONS_PATH, SandboxServer

# Each test runs the actor as a real process.
pytestmark = pytest.mark.process

TOP = 3


def test_a_standard_key_reads_the_first_pages_and_says_what_share_they_cover(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor(
        {
            "mode": "hyperliquid_positions",
            "symbol": "btc",
            "topClusters": TOP,
            "chart": True,
            "apiKey": SandboxServer.STANDARD_KEY,
        }
    )
    assert run.exit_code == 0, run.log
    item = run.item
    every = sandbox_positions.positions("BTC")
    pages = math.ceil(len(every) / sandbox_positions.PAGE_SIZE)
    rows = every[: 20 * sandbox_positions.PAGE_SIZE]  # maxPages 20 by default, largest first
    mark = rows[0]["mark_price"]
    interest = sandbox_positions.open_interest("BTC")
    notional = sum(row["position_value_usd"] for row in rows)
    share = notional / (2 * interest) * 100
    kept = [
        row
        for row in rows
        if row["liq_price"] is not None
        and row["liq_price"] > 0
        and (row["liq_price"] < mark if row["position_size"] > 0 else row["liq_price"] > mark)
    ]

    assert (item["success"], item["mode"], item["symbol"]) == (True, "hyperliquid_positions", "BTC")
    assert item["provenance"] == "observed"
    assert f"Read 20 of {pages} pages (maxPages 20" in item["message"]
    assert f"hold {round(share, 2):g}% of Hyperliquid's open interest" in item["message"]
    assert item["coverage"] == {
        "positions": len(rows),
        "positions_without_liq_price": len(rows) - len(kept),
        "pages_fetched": 20,
        "total_pages": pages,
        "covered_notional_usd": approx(notional),
        "open_interest_usd": interest,
        "coverage_pct": pytest.approx(share, abs=0.005),
    }

    summary = item["summary"]
    assert summary["current_price"] == mark
    width = mark * 0.1 / 100
    assert summary["bucket_width"] == pytest.approx(width)
    buckets: dict[float, float] = defaultdict(float)
    for row in kept:
        buckets[mark + (math.floor((row["liq_price"] - mark) / width) + 0.5) * width] += row[
            "position_value_usd"
        ]
    longs = sum(row["position_value_usd"] for row in kept if row["position_size"] > 0)
    shorts = sum(row["position_value_usd"] for row in kept if row["position_size"] < 0)
    assert summary["long_level_total"] == pytest.approx(longs, abs=1)
    assert summary["short_level_total"] == pytest.approx(shorts, abs=1)
    largest = max(buckets, key=lambda centre: buckets[centre])
    assert summary["top_clusters"][0]["price"] == pytest.approx(largest)
    assert summary["top_clusters"][0]["level"] == approx(buckets[largest])
    data_total = sum(row[1] for bucket in item["data"].values() for row in bucket)
    assert data_total == pytest.approx(longs + shorts, abs=1)
    assert [level["price"] for level in item["levels"]] == sorted(
        level["price"] for level in item["levels"]
    )

    nearest = sorted(
        kept, key=lambda row: (abs(row["liq_price"] - mark), -row["position_value_usd"])
    )
    assert [(p["user"], p["liq_price"]) for p in item["closest_positions"]] == [
        (row["user"], row["liq_price"]) for row in nearest[:TOP]
    ]

    # Page 1 first, alone; then the rest a few at a time, each page once.
    asked = [int(call.query["current_page"]) for call in calls(sandbox, HYPERLIQUID_POSITIONS_PATH)]
    assert (asked[0], sorted(asked)) == (1, list(range(1, 21)))
    assert [call.query["symbol"] for call in calls(sandbox, MARKETS_PATH)] == ["BTC"]
    assert run.charged_events == ["HYPERLIQUID_POSITIONS"]
    assert png_size(record(run.storage, "chart-hyperliquid-BTC.png").read_bytes()) == (1600, 900)
    report = record(run.storage, "report.html").read_text()
    assert "Nearest to liquidation" in report
    assert item["closest_positions"][0]["user"] in report


def test_a_hobbyist_key_is_told_the_standard_plan_reads_positions_and_pays_nothing(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor(
        {"mode": "hyperliquid_positions", "symbol": "ETH", "apiKey": SandboxServer.HOBBY_KEY}
    )
    assert run.exit_code == 0, run.log
    item = run.item
    assert (item["success"], item["mode"], item["symbol"]) == (
        False,
        "hyperliquid_positions",
        "ETH",
    )
    assert item["error"]["type"] == "plan_too_low"
    assert item["message"].endswith(
        "This key is on CoinGlass's Hobbyist plan: with this actor it can run searches."
        " Hyperliquid positions need the Standard plan or higher."
    )
    assert run.charged_events == []
