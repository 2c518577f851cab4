"""A scheduled scan's alerts in-process, over stores in memory and a clock the test sets: what a
webhook did not take is owed and sent once by the next scan, and a sent alert cools down."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import respx
from helpers import MemoryStore

from coinglass_liquidation_map.analysis import scan
from coinglass_liquidation_map.catalog import parse_input
from coinglass_liquidation_map.market_data import MaxPain
from coinglass_liquidation_map.run.scan_alerts import ScanAlerts, record_key
from coinglass_liquidation_map.schemas.alerts import Alert
from coinglass_liquidation_map.schemas.scans import MarketScanInput

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
URL = "https://hooks.example.com/scan"
RULES = [{"type": "max_pain_within_pct", "pct": 1, "side": "any"}]


def a_request() -> MarketScanInput:
    request = parse_input({"mode": "market_scan", "alerts": RULES, "webhookUrl": URL})
    assert isinstance(request, MarketScanInput)
    return request


def fired(request: MarketScanInput) -> list[Alert]:
    """BTC's long max pain 0.5% below the price fires; its short one 3% above does not."""
    pain = MaxPain(
        coin="BTC", price=100, long_price=99.5, long_level=4e6, short_price=103, short_level=5e6
    )
    return scan.max_pain_alerts(request.alerts, "BTC", "24h", scan.scanned(pain, None).row)


async def a_scan(snapshots: MemoryStore, records: MemoryStore, at: datetime) -> list[Alert]:
    request = a_request()
    alerts = ScanAlerts(
        request,
        logging.getLogger("test"),
        snapshots=snapshots.open,
        run_records=records.open,
        clock=lambda: at,
    )
    raised = await alerts.raised(fired(request))
    await alerts.finish()
    return raised


@respx.mock
async def test_an_alert_the_webhook_did_not_take_is_sent_once_by_the_next_scan() -> None:
    snapshots, records = MemoryStore(), MemoryStore()
    hook = respx.post(URL).mock(return_value=httpx.Response(400))
    first = await a_scan(snapshots, records, NOW)
    assert [(alert.side, alert.price, alert.suppressed) for alert in first] == [
        ("long", 99.5, False)
    ]
    key = record_key(a_request())
    assert [owed["alert"]["price"] for owed in snapshots.records[key].value["pending"]] == [99.5]
    assert records.records["ALERTS"].value["delivered"] is False
    # The next scan raises it again: it goes out once, and starts its cooldown.
    hook.mock(return_value=httpx.Response(200))
    await a_scan(snapshots, records, NOW + timedelta(minutes=15))
    sent = json.loads(hook.calls.last.request.read())["alerts"]
    assert [(alert["symbol"], alert["side"], alert["price"]) for alert in sent] == [
        ("BTC", "long", 99.5)
    ]
    record = snapshots.records[key].value
    assert record["pending"] == []
    assert [(entry["symbol"], entry["price"]) for entry in record["sent"]] == [("BTC", 99.5)]


@respx.mock
async def test_a_sent_alert_is_held_back_until_its_cooldown_ends() -> None:
    snapshots, records = MemoryStore(), MemoryStore()
    hook = respx.post(URL).mock(return_value=httpx.Response(200))
    await a_scan(snapshots, records, NOW)
    assert hook.call_count == 1
    cooling = await a_scan(snapshots, records, NOW + timedelta(minutes=30))
    assert [alert.suppressed for alert in cooling] == [True]
    assert hook.call_count == 1  # nothing new to send: the webhook is not called
    cooled = await a_scan(snapshots, records, NOW + timedelta(minutes=61))
    assert [alert.suppressed for alert in cooled] == [False]
    assert hook.call_count == 2


@respx.mock
async def test_one_coin_s_cooldown_never_holds_back_another_s() -> None:
    snapshots, records = MemoryStore(), MemoryStore()
    respx.post(URL).mock(return_value=httpx.Response(200))
    await a_scan(snapshots, records, NOW)  # BTC's long max pain, sent
    request = a_request()
    # ETH's long max pain at the very same price and distance, within BTC's cooldown.
    pain = MaxPain(
        coin="ETH", price=100, long_price=99.5, long_level=4e6, short_price=103, short_level=5e6
    )
    eth = scan.max_pain_alerts(request.alerts, "ETH", "24h", scan.scanned(pain, None).row)
    alerts = ScanAlerts(
        request,
        logging.getLogger("test"),
        snapshots=snapshots.open,
        run_records=records.open,
        clock=lambda: NOW + timedelta(minutes=5),
    )
    assert [alert.suppressed for alert in await alerts.raised(eth)] == [False]
