"""The history a scheduled run keeps: one flat row per successful map in a named dataset, run
after run, end to end. Expected figures come from the sandbox's own data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import local_run
import pytest
import sandbox_data
from helpers import PRO_KEY, approx, expected_summary, patched
from sandbox_server import SandboxServer

# Each test runs the actor, or a server, as a real process.
pytestmark = pytest.mark.process

HISTORY = "btc-liquidation-history"
COLUMNS = [
    "at",
    "symbol",
    "range",
    "current_price",
    "long_level_total",
    "short_level_total",
    "imbalance",
    *(f"within_{pct}_{side}" for pct in (1, 2, 5, 10) for side in ("long", "short")),
    *(
        f"nearest_{side}_{figure}"
        for side in ("long", "short")
        for figure in ("price", "level", "distance_pct")
    ),
    "top_cluster_price",
    "top_cluster_level",
    "top_cluster_side",
]


def history(storage: Any) -> list[dict[str, Any]]:
    return local_run.read_items(storage, HISTORY)


def test_every_map_appends_its_row_run_after_run(run_actor: Any) -> None:
    actor_input = {
        "symbols": ["Binance_BTCUSDT", "Binance_NOSUCH"],
        "historyDataset": HISTORY,
        "apiKey": PRO_KEY,
    }
    started = datetime.now(UTC).replace(microsecond=0)
    first = run_actor(actor_input)
    second = run_actor(actor_input, keep_storage=True)  # the next scheduled run
    rows = history(second.storage)
    assert [row["symbol"] for row in rows] == ["Binance_BTCUSDT"] * 2  # no row for a failure
    liq_map = sandbox_data.liquidation_map("Binance", "BTCUSDT", "1d")
    price = sandbox_data.current_price("Binance", "BTCUSDT")
    want = expected_summary(liq_map, price, top=10)
    for row in rows:
        assert list(row) == COLUMNS
        assert started <= datetime.fromisoformat(row["at"]) <= datetime.now(UTC)
        assert row["at"].endswith("Z")
        assert (row["range"], row["current_price"]) == ("1d", price)
        assert row["long_level_total"] == approx(want["long"])
        assert row["short_level_total"] == approx(want["short"])
        assert row["imbalance"] == pytest.approx(want["imbalance"], abs=1e-6)
        for pct, sides in want["within"].items():
            assert row[f"within_{pct}_long"] == approx(sides["long"])
            assert row[f"within_{pct}_short"] == approx(sides["short"])
        assert row["nearest_long_price"] == want["nearest_long"]
        assert row["nearest_short_price"] == want["nearest_short"]
        nearest_short_key = next(k for k in liq_map if float(k) == want["nearest_short"])
        assert row["nearest_short_level"] == approx(sum(r[1] for r in liq_map[nearest_short_key]))
        assert row["nearest_short_distance_pct"] == pytest.approx(
            (want["nearest_short"] - price) / price * 100, abs=1e-4
        )
        top_price, top_level = want["top"][0]
        assert (row["top_cluster_price"], row["top_cluster_level"]) == (
            top_price,
            approx(top_level),
        )
        assert row["top_cluster_side"] == ("long" if top_price < price else "short")
    # The history is the run's own record: the dataset items and charges are as without it.
    assert {item["symbol"]: item["success"] for item in first.items} == {
        "Binance_BTCUSDT": True,
        "Binance_NOSUCH": False,
    }
    assert first.charged_events == ["LIQUIDATION_MAP"]


def test_history_rows_are_never_charged_even_when_dataset_items_are_priced(
    run_actor: Any,
) -> None:
    env = {**local_run.pricing_env(0.001), "ACTOR_MAX_TOTAL_CHARGE_USD": "1"}
    run = run_actor({"historyDataset": HISTORY, "apiKey": PRO_KEY}, env=env)
    assert len(history(run.storage)) == 1
    item_charges = [c for c in run.charges if c["event_name"] == "apify-default-dataset-item"]
    assert sum(c["charged_count"] for c in item_charges) == 1  # the map's own item only


def test_a_bad_history_name_is_refused_before_anything_is_fetched(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor({"historyDataset": "my history!", "apiKey": PRO_KEY})
    item = run.item
    assert item["success"] is False
    assert item["error"]["type"] == "invalid_input"
    assert "'historyDataset'" in item["message"]
    assert sandbox.requests == []


def test_a_search_ignores_the_history(run_actor: Any) -> None:
    run = run_actor({"mode": "search_symbols", "historyDataset": HISTORY, "apiKey": PRO_KEY})
    assert run.item["success"] is True
    assert history(run.storage) == []


def test_a_history_that_cannot_be_stored_costs_no_map(run_actor: Any) -> None:
    run = run_actor(
        {"historyDataset": HISTORY, "apiKey": PRO_KEY}, command=patched("named_datasets_down")
    )
    assert run.item["success"] is True
    assert run.charged_events == ["LIQUIDATION_MAP"]
    assert (
        f"The history row of Binance_BTCUSDT 1d could not be appended to the dataset {HISTORY}."
        in run.log
    )
