"""Realized liquidations between two maps, from mocked CoinGlass histories: the interval a plan
reads, the fall back on "Upgrade plan", the slices of 1000 buckets, both payloads' amounts, and
the words a plan refusal adds."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from helpers import COIN_HISTORY_PATH, PAIR_HISTORY_PATH, SUBSCRIPTION_PATH, MemoryStore

from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.analysis.liqmap import analysed_map
from coinglass_liquidation_map.analysis.markets import CurrentPrice
from coinglass_liquidation_map.catalog import BY_NAME, plan_refusal
from coinglass_liquidation_map.coinglass.client import CoinGlassClient
from coinglass_liquidation_map.coinglass.endpoints import Endpoints
from coinglass_liquidation_map.market_data import Instrument, PriceKeyedMap
from coinglass_liquidation_map.plans import Plan
from coinglass_liquidation_map.retry import RetryPolicy
from coinglass_liquidation_map.run.key_plan import KeyPlan, plan_key
from coinglass_liquidation_map.run.realized import RealizedLiquidations
from coinglass_liquidation_map.run.upstream import MarketPrices, Upstream
from coinglass_liquidation_map.schemas.maps import LiquidationMapItem

BASE = "https://cg.test"
MINUTE = 60_000
# 2026-12-01 12:00:30 UTC; the last run was 90 minutes and 20 seconds before.
NOW = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)
SINCE = NOW - timedelta(minutes=90, seconds=20)
NOW_MS = int(NOW.timestamp() * 1000)
SINCE_MS = int(SINCE.timestamp() * 1000)
UPGRADE = {"code": "401", "msg": "Upgrade plan"}
DATA: PriceKeyedMap = {"100": [(100, 5.0, 10, None)], "102": [(102, 3.0, 10, None)]}
INSTRUMENTS = [
    Instrument(base_asset="BTC", quote_asset="USDT", exchange=name, symbol=f"{name}_BTCUSDT")
    for name in ("Binance", "OKX")
] + [Instrument(base_asset="ETH", quote_asset="USDT", exchange="Bybit", symbol="Bybit_ETHUSDT")]


def a_map(symbol: str, by_exchange: dict[str, float] | None = None) -> LiquidationMapItem:
    return analysed_map(
        symbol,
        "1d",
        DATA,
        price=CurrentPrice(101, "test"),
        missing="",
        bucketing=Bucketing(),
        by_exchange=by_exchange,
    ).item


@pytest.fixture
async def realized() -> AsyncIterator[Callable[[Plan | None], RealizedLiquidations]]:
    async def instruments(*, fresh: bool = False) -> list[Instrument]:
        return INSTRUMENTS

    async with CoinGlassClient("key", base_url=BASE, retry=RetryPolicy(max_retries=0)) as client:
        endpoints = Endpoints(client)

        def on(plan: Plan | None) -> RealizedLiquidations:
            async def known() -> Plan | None:
                return plan

            return RealizedLiquidations(
                Upstream(endpoints, instruments, MarketPrices(endpoints), known)
            )

        yield on


def answered(rows: Callable[[int, int, str], list[dict[str, Any]]]) -> Any:
    """A history endpoint that answers each request with ``rows(start, end, interval)``."""

    def answer(request: httpx.Request) -> httpx.Response:
        query = request.url.params
        rows_now = rows(int(query["start_time"]), int(query["end_time"]), query["interval"])
        return httpx.Response(200, json={"code": "0", "data": rows_now})

    return answer


@respx.mock
async def test_a_professional_key_reads_one_minute_buckets_as_text_or_numbers(
    realized: Callable[[Plan | None], RealizedLiquidations],
) -> None:
    start = SINCE_MS // MINUTE * MINUTE
    rows = [
        {"time": start, "long_liquidation_usd": "1000.5", "short_liquidation_usd": 20},
        # 11:55 is missing: nothing liquidated then. An unreadable amount counts as nothing.
        {"time": start + 30 * MINUTE, "long_liquidation_usd": 7, "short_liquidation_usd": "n/a"},
        {"time": start - MINUTE, "long_liquidation_usd": "99999", "short_liquidation_usd": "1"},
        {"long_liquidation_usd": "5", "short_liquidation_usd": "5"},  # no time: not placed
    ]
    route = respx.get(f"{BASE}{PAIR_HISTORY_PATH}").respond(json={"code": "0", "data": rows})
    found, note = await realized("PROFESSIONAL").between(a_map("Binance_BTCUSD_PERP"), SINCE, NOW)
    assert note is None
    assert found is not None
    assert found.model_dump(mode="json") == {
        "from": "2026-12-01T10:30:00Z",
        "to": "2026-12-01T12:00:30Z",
        "interval": "1m",
        "long_liquidations_usd": 1007.5,
        "short_liquidations_usd": 20.0,
    }
    (call,) = route.calls
    assert dict(call.request.url.params) == {
        "exchange": "Binance",
        "symbol": "BTCUSD_PERP",
        "interval": "1m",
        "start_time": str(start),
        "end_time": str(NOW_MS),
        "limit": "1000",
    }


@respx.mock
@pytest.mark.parametrize(
    ("plan", "asked"),
    [
        # Standard reads 1m six days back; "Upgrade plan" at 1m and 3m gives way to 5m.
        ("STANDARD", ["1m", "3m", "5m"]),
        ("STARTUP", ["30m"]),
        ("HOBBYIST", ["4h"]),
        # An unknown plan starts at the finest interval and lets CoinGlass say.
        (None, ["1m", "3m", "5m"]),
    ],
)
async def test_the_finest_interval_the_plan_takes_then_coarser_on_upgrade_plan(
    realized: Callable[[Plan | None], RealizedLiquidations], plan: Plan | None, asked: list[str]
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        interval = request.url.params["interval"]
        if interval in ("1m", "3m"):
            return httpx.Response(200, json=UPGRADE)
        time = int(request.url.params["start_time"])
        row = {
            "time": time,
            "aggregated_long_liquidation_usd": 3,
            "aggregated_short_liquidation_usd": 4,
        }
        return httpx.Response(200, json={"code": "0", "data": [row]})

    route = respx.get(f"{BASE}{COIN_HISTORY_PATH}").mock(side_effect=answer)
    found, note = await realized(plan).between(a_map("BTC"), SINCE, NOW)
    assert [call.request.url.params["interval"] for call in route.calls] == asked
    assert note is None
    assert found is not None
    assert (found.interval, found.long_liquidations_usd, found.short_liquidations_usd) == (
        asked[-1],
        3,
        4,
    )
    # A 4h bucket starts on UTC's grid: 08:00 holds 10:29:40.
    if plan == "HOBBYIST":
        assert found.from_ == datetime(2026, 12, 1, 8, tzinfo=UTC)


@respx.mock
@pytest.mark.parametrize(
    ("by_exchange", "exchange_list"),
    [({"OKX": 0.4, "Binance": 0.6}, "OKX,Binance"), (None, "Binance,OKX")],
)
async def test_a_coin_map_asks_for_the_exchanges_it_came_from(
    realized: Callable[[Plan | None], RealizedLiquidations],
    by_exchange: dict[str, float] | None,
    exchange_list: str,
) -> None:
    route = respx.get(f"{BASE}{COIN_HISTORY_PATH}").respond(json={"code": "0", "data": []})
    found, _ = await realized("PROFESSIONAL").between(a_map("BTC", by_exchange), SINCE, NOW)
    assert found is not None
    assert (found.long_liquidations_usd, found.short_liquidations_usd) == (0, 0)
    assert route.calls.last.request.url.params["exchange_list"] == exchange_list
    assert route.calls.last.request.url.params["symbol"] == "BTC"


@respx.mock
async def test_a_long_time_between_is_read_in_slices_of_1000_buckets(
    realized: Callable[[Plan | None], RealizedLiquidations],
) -> None:
    # Two days and a bit: 1m would take four slices of 1000 buckets at most, and does.
    since = NOW - timedelta(days=2, hours=3)
    start = int(since.timestamp() * 1000) // MINUTE * MINUTE

    def rows(first: int, end: int, interval: str) -> list[dict[str, Any]]:
        return [
            {"time": time, "long_liquidation_usd": "1", "short_liquidation_usd": "2"}
            for time in range(first, end, MINUTE)
        ]

    route = respx.get(f"{BASE}{PAIR_HISTORY_PATH}").mock(side_effect=answered(rows))
    found, _ = await realized("PROFESSIONAL").between(a_map("Binance_BTCUSDT"), since, NOW)
    spans = sorted(
        (int(c.request.url.params["start_time"]), int(c.request.url.params["end_time"]))
        for c in route.calls
    )
    assert spans == [
        (start, start + 1000 * MINUTE),
        (start + 1000 * MINUTE, start + 2000 * MINUTE),
        (start + 2000 * MINUTE, start + 3000 * MINUTE),
        (start + 3000 * MINUTE, NOW_MS),
    ]
    buckets = -(-(NOW_MS - start) // MINUTE)
    assert found is not None
    assert (found.interval, found.long_liquidations_usd) == ("1m", buckets)
    assert found.short_liquidations_usd == 2 * buckets


@respx.mock
async def test_history_beyond_what_the_plan_reads_at_an_interval_takes_a_coarser_one(
    realized: Callable[[Plan | None], RealizedLiquidations],
) -> None:
    # Ten days back: Standard reads 1m six days and 3m twenty, but 3m would take five slices.
    route = respx.get(f"{BASE}{PAIR_HISTORY_PATH}").respond(json={"code": "0", "data": []})
    since = NOW - timedelta(days=10)
    found, _ = await realized("STANDARD").between(a_map("Binance_BTCUSDT"), since, NOW)
    assert found is not None
    assert found.interval == "5m"
    assert len(route.calls) == 3


@respx.mock
@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (
            UPGRADE,
            'CoinGlass refused its liquidation history at 4h, 6h, 8h, 12h, 1d ("Upgrade plan"),'
            " so what was liquidated in between is not known.",
        ),
        (
            {"code": "400", "msg": "exchange is invalid"},
            "CoinGlass's liquidation history failed (invalid_parameter), so what was liquidated"
            " in between is not known.",
        ),
    ],
)
async def test_a_history_that_cannot_be_had_is_a_note_never_a_failure(
    realized: Callable[[Plan | None], RealizedLiquidations], answer: dict[str, Any], said: str
) -> None:
    respx.get(f"{BASE}{PAIR_HISTORY_PATH}").respond(json=answer)
    found, note = await realized("HOBBYIST").between(a_map("Binance_BTCUSDT"), SINCE, NOW)
    assert (found, note) == (None, said)


@respx.mock
@pytest.mark.parametrize(
    ("level", "plan"),
    [("STANDARD", "STANDARD"), ("professional", "PROFESSIONAL"), ("GOLD", None), (None, None)],
)
async def test_the_keys_plan_is_asked_once_and_kept_under_the_keys_hash(
    level: str | None, plan: Plan | None
) -> None:
    route = respx.get(f"{BASE}{SUBSCRIPTION_PATH}").respond(
        json={"code": "0", "data": {"level": level, "expire_time": 1793491200000}}
    )
    store = MemoryStore()
    async with CoinGlassClient("secret-key", base_url=BASE) as client:
        endpoints = Endpoints(client)
        for _ in range(2):  # a second run reads the kept copy
            key_plan = KeyPlan(
                endpoints.plan_level,
                client.key_id,
                3600,
                logging.getLogger("test"),
                store=store.open,
            )
            assert [await key_plan(), await key_plan()] == [plan, plan]
    assert len(route.calls) == 1
    assert list(store.records) == [plan_key(client.key_id)]
    assert "secret-key" not in repr(store.records)


@respx.mock
async def test_a_plan_that_cannot_be_read_is_unknown() -> None:
    respx.get(f"{BASE}{SUBSCRIPTION_PATH}").respond(json=UPGRADE)
    async with CoinGlassClient("key", base_url=BASE) as client:
        endpoints = Endpoints(client)
        key_plan = KeyPlan(
            endpoints.plan_level,
            client.key_id,
            3600,
            logging.getLogger("test"),
            store=MemoryStore().open,
        )
        assert await key_plan() is None


@pytest.mark.parametrize(
    ("mode", "plan", "said"),
    [
        (
            "liquidation_heatmap",
            None,
            "This key's plan is unknown. Liquidation heatmaps need the Professional plan or"
            " higher.",
        ),
        (
            "market_scan",
            "STARTUP",
            "This key is on CoinGlass's Startup plan: with this actor it can run searches. The"
            " market scan's market columns need the Standard plan or higher.",
        ),
        (
            "liquidation_map",
            "ENTERPRISE",
            "This key is on CoinGlass's Enterprise plan. Liquidation maps need the Professional"
            " plan, so CoinGlass may have changed what its plans include, or the subscription"
            " may have lapsed.",
        ),
    ],
)
def test_a_plan_refusal_says_what_the_plan_runs_and_what_the_mode_needs(
    mode: str, plan: Plan | None, said: str
) -> None:
    assert plan_refusal(BY_NAME[mode], plan) == said
