"""The watch in-process, over a key-value store in memory and a clock the test sets: what it
does when the store fails or holds a record it cannot use, and the rules' figures on a map
small enough to work out by hand."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from helpers import WATCH_NOW, MemoryStore, StoredRecord, a_watch

from coinglass_liquidation_map.analysis import alerts
from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.analysis.liqmap import AnalysedMap, analysed_map
from coinglass_liquidation_map.analysis.markets import CurrentPrice
from coinglass_liquidation_map.catalog import parse_input
from coinglass_liquidation_map.market_data import PriceKeyedMap
from coinglass_liquidation_map.run.watch import Watch, record_key
from coinglass_liquidation_map.schemas.maps import LiquidationMapInput

NOW = WATCH_NOW
DATA: PriceKeyedMap = {
    "97": [(97, 40.0, 10, None)],
    "99": [(99, 70.0, 10, None), (99.2, 30.0, 25, None)],
    "101": [(101, 20.0, 10, None)],
    "103": [(103, 50.0, 100, None)],
}


def a_map(price: float | None = 100) -> AnalysedMap:
    current = CurrentPrice(price, "test") if price is not None else None
    return analysed_map("BTC", "1d", DATA, price=current, missing="no price", bucketing=Bucketing())


def a_request(**fields: Any) -> LiquidationMapInput:
    request = parse_input({"symbol": "BTC", **fields})
    assert isinstance(request, LiquidationMapInput)
    return request


class FailingStore(MemoryStore):
    async def get_value(self, key: str) -> Any:
        raise OSError("the store is down")


async def a_run(watch: Watch, analysed: AnalysedMap) -> None:
    """One run of a single map: observed, delivered and kept, then its alerts sent."""
    await watch.keep((await watch.observe(analysed)).item)
    await watch.finish()


async def test_a_store_that_cannot_be_read_keeps_its_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FailingStore()
    key = record_key("BTC", "1d", Bucketing())
    kept = StoredRecord({"the last run's": "record"}, "application/json")
    store.records[key] = kept
    watch = a_watch(a_request(), store)
    analysed = await watch.observe(a_map())
    await watch.keep(analysed.item)
    assert analysed.item.changes is None
    assert store.records[key] is kept  # not replaced by a record without its past
    assert "could not be read: this map is compared with nothing" in caplog.text


@pytest.mark.parametrize("stored_at", ["2026-12-01T11:00:00", "yesterday", None])
async def test_a_record_of_another_shape_counts_as_absent(
    stored_at: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore()
    first = a_watch(a_request(), store, NOW - timedelta(hours=1))
    await first.keep((await first.observe(a_map())).item)
    (key,) = store.records
    value = store.records[key].value
    value["snapshot"]["at"] = stored_at  # naive, unreadable or missing
    watch = a_watch(a_request(), store)
    analysed = await watch.observe(a_map())
    await watch.keep(analysed.item)
    assert analysed.item.changes is None
    assert "could not be read, so it counts as absent and is replaced" in caplog.text
    assert store.records[key].value["snapshot"]["at"] == "2026-12-01T12:00:00Z"


def fired(rules: list[dict[str, Any]], price: float | None = 100) -> list[dict[str, Any]]:
    request = a_request(alerts=rules)
    found = alerts.fired(request.alerts, a_map(price), Bucketing(), None)
    return [
        alert.model_dump(
            exclude={
                "message",
                "symbol",
                "range",
                "type",
                "suppressed",
                "summary_text",
                "realized_usd",
            }
        )
        for alert in found
    ]


def test_the_rules_figures_on_a_map_worked_out_by_hand() -> None:
    # Longs: 97 (40), 99 (100, rows at 99 and 99.2); shorts: 101 (20), 103 (50).
    assert fired([{"type": "cluster_within_pct", "pct": 3, "minLevel": 30}]) == [
        {
            "rule": 0,
            "side": "long",
            "price": 99,
            "level": 100.0,
            "distance_pct": -1.0,
            "current_price": 100,
        },
        {
            "rule": 0,
            "side": "short",
            "price": 103,
            "level": 50.0,
            "distance_pct": 3.0,
            "current_price": 100,
        },
    ]
    assert fired([{"type": "liquidity_within_pct", "pct": 1, "minLevel": 20}]) == [
        {
            "rule": 0,
            "side": "long",
            "price": None,
            "level": 100.0,
            "distance_pct": -1.0,
            "current_price": 100,
        },
        {
            "rule": 0,
            "side": "short",
            "price": None,
            "level": 20.0,
            "distance_pct": 1.0,
            "current_price": 100,
        },
    ]
    # (70 - 140) / 210: longs heavier.
    assert fired([{"type": "imbalance_beyond", "value": 0.3}]) == [
        {
            "rule": 0,
            "side": "long",
            "price": None,
            "level": -0.333333,
            "distance_pct": None,
            "current_price": 100,
        },
    ]
    assert fired([{"type": "imbalance_beyond", "value": 0.34}]) == []


def test_no_rule_fires_without_a_price() -> None:
    rules = [
        {"type": "cluster_within_pct", "pct": 50},
        {"type": "liquidity_within_pct", "pct": 50, "minLevel": 0},
        {"type": "imbalance_beyond", "value": 0},
    ]
    assert fired(rules, price=None) == []


URL = "https://hooks.example.com/services/T0KEN"
IMBALANCE = {"type": "imbalance_beyond", "value": 0.3}
CLUSTERS = {"type": "cluster_within_pct", "pct": 3, "minLevel": 30}


@respx.mock
async def test_alerts_owed_follow_their_rule_when_the_rules_change() -> None:
    snapshots, records = MemoryStore(), MemoryStore()
    hook = respx.post(URL).mock(return_value=httpx.Response(500, headers={"Retry-After": "0"}))

    async def run(rules: list[dict[str, Any]], at: datetime) -> None:
        request = a_request(alerts=rules, webhookUrl=URL)
        await a_run(a_watch(request, snapshots, at, records), a_map())

    await run([IMBALANCE, CLUSTERS], NOW)
    (key,) = snapshots.records
    owed = snapshots.records[key].value["pending"]
    assert [(alert["alert"]["rule"], alert["alert"]["side"]) for alert in owed] == [
        (0, "long"),
        (1, "long"),
        (1, "short"),
    ]
    # The imbalance rule is dropped, and the clusters' rule moves to index 0: what is owed of
    # the dropped rule is forgotten, and the clusters, raised again, are sent once.
    hook.mock(return_value=httpx.Response(200))
    await run([CLUSTERS], NOW + timedelta(minutes=15))
    sent = json.loads(hook.calls.last.request.read())["alerts"]
    assert [(alert["rule"], alert["side"], alert["price"]) for alert in sent] == [
        (0, "long", 99),
        (0, "short", 103),
    ]
    record = snapshots.records[key].value
    assert record["pending"] == []
    assert [entry["price"] for entry in record["sent"]] == [99, 103]
    assert records.records["ALERTS"].value["delivered"] is True


@respx.mock
async def test_owed_alerts_keep_their_rule_as_the_rules_are_numbered_now() -> None:
    snapshots, records = MemoryStore(), MemoryStore()
    hook = respx.post(URL).mock(return_value=httpx.Response(503, headers={"Retry-After": "0"}))

    async def run(rules: list[dict[str, Any]], price: float, webhook: bool = True) -> None:
        request = a_request(alerts=rules, **({"webhookUrl": URL} if webhook else {}))
        await a_run(a_watch(request, snapshots, NOW, records), a_map(price))

    await run([CLUSTERS], 100)  # 99 and 103, within 3% of 100: owed, the webhook is down
    # A run without the webhook (the same store, say, by hand) sends none of it and owes it on.
    await run([CLUSTERS], 110, webhook=False)
    (key,) = snapshots.records
    assert len(snapshots.records[key].value["pending"]) == 2
    # Nothing lies within 3% of 110, so nothing is raised again: the owed alerts go, under
    # their rule's index now.
    hook.mock(return_value=httpx.Response(200))
    never = {"type": "liquidity_within_pct", "pct": 1, "minLevel": 1e9}
    await run([never, CLUSTERS], 110)
    sent = json.loads(hook.calls.last.request.read())["alerts"]
    assert [(alert["rule"], alert["price"], alert["current_price"]) for alert in sent] == [
        (1, 99, 100),
        (1, 103, 100),
    ]
    assert snapshots.records[key].value["pending"] == []


async def test_a_map_without_a_price_keeps_the_last_priced_snapshot() -> None:
    store = MemoryStore()
    priced = a_watch(a_request(), store, NOW - timedelta(minutes=15))
    await priced.keep((await priced.observe(a_map(100))).item)
    unpriced = a_watch(a_request(), store)
    await unpriced.keep((await unpriced.observe(a_map(None))).item)
    (record,) = (stored.value for stored in store.records.values())
    assert record["snapshot"]["current_price"] == 100
    assert record["snapshot"]["at"] == "2026-12-01T11:45:00Z"
    later = a_watch(a_request(), store, NOW + timedelta(minutes=15))
    changes = (await later.observe(a_map(104))).item.changes
    assert changes is not None
    assert (changes.previous_price, changes.elapsed_secs) == (100, 1800)
