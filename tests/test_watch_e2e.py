"""A scheduled run as a watcher, end to end: the actor run as real processes over one storage
folder, the sandbox's market moved between runs. Every expected figure is worked out here from
the sandbox's own data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import sandbox_data
import sandbox_history
from helpers import (
    MAP_PATH,
    MATCH_PCT,
    MOVE_PCT,
    PAIR,
    PAIR_HISTORY_PATH,
    PRO_KEY,
    SNAPSHOTS,
    TOP,
    WATCH,
    calls,
    expected_summary,
    snapshot_records,
    top_clusters,
)
from sandbox_server import SandboxServer

from coinglass_liquidation_map.run.storage import KEY_FORBIDDEN, MAX_KEY_LENGTH

# Each test runs the actor, or a server, as a real process.
pytestmark = pytest.mark.process


def test_the_next_run_reports_what_changed_since_the_last(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    started = datetime.now(UTC)
    first = run_actor(WATCH)
    assert first.item["changes"] is None
    assert "First snapshot of Binance_BTCUSDT 1d saved" in first.log
    sandbox.move_market("BTC", MOVE_PCT)
    between = datetime.now(UTC)
    second = run_actor(WATCH, keep_storage=True)
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "First snapshot" not in second.log
    changes = second.item["changes"]

    then_price, then_top = top_clusters()
    now_price, now_top = top_clusters(MOVE_PCT)
    then_map = sandbox_data.liquidation_map(*PAIR, "1d")
    now_map = sandbox_data.liquidation_map(*PAIR, "1d", MOVE_PCT)
    then = expected_summary(then_map, then_price, TOP)
    now = expected_summary(now_map, now_price, TOP)
    assert changes["previous_price"] == then_price == 97_000
    assert changes["price_change_pct"] == pytest.approx((now_price / then_price - 1) * 100)
    assert changes["long_level_total_change_pct"] == pytest.approx(
        (now["long"] / then["long"] - 1) * 100, abs=1e-4
    )
    assert changes["short_level_total_change_pct"] == pytest.approx(
        (now["short"] / then["short"] - 1) * 100, abs=1e-4
    )
    assert changes["imbalance_change"] == pytest.approx(
        now["imbalance"] - then["imbalance"], abs=2e-6
    )
    tolerance = now_price * MATCH_PCT / 100
    swept = [p for p, _ in then_top if then_price <= p <= now_price]
    new = [p for p, _ in now_top if all(abs(p - q) > tolerance for q, _ in then_top)]
    faded = [
        p for p, _ in then_top if p not in swept and all(abs(p - q) > tolerance for q, _ in now_top)
    ]
    assert swept  # the move exercises all three
    assert new
    assert faded
    assert [c["price"] for c in changes["swept_clusters"]] == swept
    assert [c["price"] for c in changes["new_clusters"]] == new
    assert [c["price"] for c in changes["faded_clusters"]] == faded
    # Each cluster as the summary of its own run gave it.
    then_by_price = {c["price"]: c for c in first.item["summary"]["top_clusters"]}
    now_by_price = {c["price"]: c for c in second.item["summary"]["top_clusters"]}
    for cluster in changes["swept_clusters"] + changes["faded_clusters"]:
        assert cluster == then_by_price[cluster["price"]]
    for cluster in changes["new_clusters"]:
        assert cluster == now_by_price[cluster["price"]]

    previous_at = datetime.fromisoformat(changes["previous_at"])
    assert changes["previous_at"].endswith("Z")
    assert started <= previous_at <= between
    assert 0 < changes["elapsed_secs"] < (datetime.now(UTC) - started).total_seconds()
    record = next(iter(snapshot_records(second.storage).values()))
    # The snapshot left for the next run is this run's: compact, never the rows.
    assert record["snapshot"]["current_price"] == now_price
    assert [c["price"] for c in record["snapshot"]["top_clusters"]] == [p for p, _ in now_top]
    assert "data" not in record["snapshot"]
    assert "levels" not in record["snapshot"]
    # Comparisons cost nothing: one map, one charge, each run.
    assert first.charged_events == second.charged_events == ["LIQUIDATION_MAP"]


def test_each_symbol_range_and_bucketing_has_its_own_valid_record(run_actor: Any) -> None:
    symbols = ["ApeX Omni_BTC-USDT", "Crypto.com_BTCUSD-PERP", "BTC"]
    run = run_actor({"symbols": symbols, "ranges": ["1d", "7d"], "apiKey": PRO_KEY})
    stepped = run_actor({**WATCH, "priceStep": 100}, keep_storage=True)
    assert all(item["success"] for item in run.items + stepped.items)
    records = snapshot_records(stepped.storage)
    assert len(records) == len(symbols) * 2 + 1
    for key, record in records.items():
        assert not KEY_FORBIDDEN.search(key), key
        assert len(key) <= MAX_KEY_LENGTH
        assert record["version"] == 1
    identities = {(r["symbol"], r["range"], r["price_step"]) for r in records.values()}
    assert ("ApeX Omni_BTC-USDT", "7d", None) in identities
    assert ("Binance_BTCUSDT", "1d", 100) in identities
    assert stepped.item["changes"] is None  # another bucketing: another record


def test_a_failed_map_leaves_the_previous_snapshot_in_place(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    first = run_actor(WATCH)
    before = snapshot_records(first.storage)
    sandbox.set_fault("http_500_spring", path=MAP_PATH)
    failed = run_actor({**WATCH, "maxRetries": 0}, keep_storage=True)
    assert failed.item["success"] is False
    assert snapshot_records(failed.storage) == before
    sandbox.set_fault(None, path=MAP_PATH)
    third = run_actor(WATCH, keep_storage=True)
    stored_at = next(iter(before.values()))["snapshot"]["at"]
    assert third.item["changes"]["previous_at"] == stored_at


@pytest.mark.parametrize(
    "garbled",
    ["{not json", json.dumps({"version": 2, "snapshot": {}}), json.dumps([1, 2])],
)
def test_a_snapshot_that_cannot_be_read_is_replaced_with_a_warning(
    run_actor: Any, garbled: str
) -> None:
    first = run_actor(WATCH)
    (key,) = snapshot_records(first.storage)
    (first.storage / "key_value_stores" / SNAPSHOTS / key).write_text(garbled)
    second = run_actor(WATCH, keep_storage=True)
    assert second.item["success"] is True
    assert second.item["changes"] is None
    assert "could not be read, so it counts as absent and is replaced" in second.log
    assert snapshot_records(second.storage)[key]["version"] == 1
    assert second.charged_events == ["LIQUIDATION_MAP"]


def test_without_track_changes_nothing_is_stored(run_actor: Any) -> None:
    run = run_actor({**WATCH, "trackChanges": False})
    assert run.item["changes"] is None
    assert not (run.storage / "key_value_stores" / SNAPSHOTS).exists()


def _ms(moment: str) -> int:
    return int(datetime.fromisoformat(moment).timestamp() * 1000)


def _compact(usd: float) -> str:
    """Three significant digits with a unit, as a trader writes 70.2M."""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if usd >= scale:
            return f"{float(f'{usd:.3g}') / scale:.3g}{unit}"
    return f"{usd:.3g}"


def test_a_swept_cluster_says_what_was_liquidated_in_between(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    watch = {**WATCH, "alerts": [{"type": "cluster_swept"}]}
    first = run_actor(watch)
    sandbox.move_market("BTC", MOVE_PCT)
    second = run_actor(watch, keep_storage=True)
    changes = second.item["changes"]
    realized = changes["realized"]
    assert changes["realized_note"] is None
    assert list(realized) == [
        "from",
        "to",
        "interval",
        "long_liquidations_usd",
        "short_liquidations_usd",
    ]
    # A Professional key reads 1m buckets, from the one the first run's map was taken in.
    assert realized["interval"] == "1m"
    start, end = _ms(realized["from"]), _ms(realized["to"])
    assert start == _ms(changes["previous_at"]) // 60_000 * 60_000
    assert first.item["changes"] is None
    # The sandbox's own buckets of the pair over that time, as it answers them.
    rows = sandbox_history.history(
        [PAIR], "1m", range(start, end, 60_000), sandbox.market_move_history("BTC"), end
    )
    long = sum(row[1] for row in rows)
    short = sum(row[2] for row in rows)
    assert realized["long_liquidations_usd"] == pytest.approx(long, abs=0.01)
    assert realized["short_liquidations_usd"] == pytest.approx(short, abs=0.01)
    # The price rose: the move liquidated shorts, far more than the minutes' usual.
    assert short > 100 * long > 0
    then_price, then_top = top_clusters()
    now_price = sandbox_data.current_price(*PAIR, MOVE_PCT)
    swept = [(p, level) for p, level in then_top if then_price <= p <= now_price]
    alerts = second.item["alerts"]
    assert [(a["price"], a["side"]) for a in alerts] == [(p, "short") for p, _ in swept]
    for alert in alerts:
        assert alert["realized_usd"] == realized["short_liquidations_usd"]
        assert alert["message"].endswith(
            f"; {_compact(realized['short_liquidations_usd'])} USD of shorts were liquidated"
            " in between (1m liquidation history)"
        )
    assert len(calls(sandbox, PAIR_HISTORY_PATH)) == 1
    (asked,) = calls(sandbox, PAIR_HISTORY_PATH)
    assert asked.query == {
        "exchange": "Binance",
        "symbol": "BTCUSDT",
        "interval": "1m",
        "start_time": str(start),
        "end_time": str(end),
        "limit": "1000",
    }
    # Reading it costs nothing: one map, one charge.
    assert second.charged_events == ["LIQUIDATION_MAP"]
