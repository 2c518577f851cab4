"""The market scan's core and sources, in-process: max pain placed by price whatever its labels
say, every ranking and its fallback, the scan's alert rule, and the paging of coins markets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from helpers import MOCKED_BASE_URL as BASE

from coinglass_liquidation_map import errors
from coinglass_liquidation_map.analysis import scan
from coinglass_liquidation_map.coinglass.endpoints import (
    COINS_MARKETS_MAX_PAGES,
    COINS_MARKETS_PATH,
    MAX_PAIN_PATH,
    Endpoints,
)
from coinglass_liquidation_map.market_data import CoinMarket, MaxPain
from coinglass_liquidation_map.schemas.scans import MaxPainWithinPct


def pain(coin: str, price: float | None, long: float | None, short: float | None) -> MaxPain:
    return MaxPain(
        coin=coin,
        price=price,
        long_price=long,
        long_level=None if long is None else 5_000_000,
        short_price=short,
        short_level=None if short is None else 7_000_000,
    )


def market(coin: str, **figures: float | None) -> CoinMarket:
    return CoinMarket(coin=coin, **figures)


def test_max_pain_is_placed_by_price_with_signed_distances() -> None:
    row = scan.scanned(pain("BTC", 80_000, 79_200, 82_000), None).row
    assert (row["long_max_pain_price"], row["short_max_pain_price"]) == (79_200, 82_000)
    assert row["long_max_pain_distance_pct"] == -1.0
    assert row["short_max_pain_distance_pct"] == 2.5
    assert (row["long_max_pain_level"], row["short_max_pain_level"]) == (5_000_000, 7_000_000)


def test_labels_the_wrong_way_round_are_placed_by_price_and_said() -> None:
    # As CoinGlass's documentation sample has them: its "long" above the price.
    scanned = scan.scanned(pain("BTC", 100_000, 102_000, 99_000), None)
    row = scanned.row
    assert (row["long_max_pain_price"], row["long_max_pain_level"]) == (99_000, 7_000_000)
    assert (row["short_max_pain_price"], row["short_max_pain_level"]) == (102_000, 5_000_000)
    assert row["long_max_pain_distance_pct"] == -1.0
    assert row["short_max_pain_distance_pct"] == 2.0
    assert "labels disagree with the prices" in scanned.notes[0]
    assert "its long max pain (102,000) lies above the price" in scanned.notes[0]


def test_a_missing_or_zero_side_is_no_level_and_the_price_falls_back_to_the_market() -> None:
    no_short = MaxPain(
        coin="X", price=None, long_price=9.5, long_level=3, short_price=0, short_level=0
    )
    row = scan.scanned(no_short, market("X", price=10)).row
    assert row["price"] == 10
    assert (row["long_max_pain_price"], row["long_max_pain_distance_pct"]) == (9.5, -5.0)
    assert row["short_max_pain_price"] is row["short_max_pain_distance_pct"] is None


def test_a_coin_only_markets_list_has_null_max_pain_and_map_columns() -> None:
    row = scan.scanned(None, market("ETH", price=3_000, open_interest_usd=1e9)).row
    assert row["price"] == 3_000
    assert row["open_interest_usd"] == 1e9
    map_columns = (
        "map_range",
        "long_within_2pct",
        "short_within_2pct",
        "imbalance",
        "nearest_long_cluster_price",
        "nearest_long_cluster_distance_pct",
        "nearest_short_cluster_price",
        "nearest_short_cluster_distance_pct",
    )
    assert all(row[name] is None for name in map_columns)  # type: ignore[literal-required]
    assert row["long_max_pain_price"] is None


SOURCES_PAIN = [
    pain("AAA", 100, 99, 110),  # nearest: 1 %
    pain("BBB", 100, 95, 100.5),  # nearest: 0.5 %
    pain("CCC", 100, 80, 130),  # nearest: 20 %
]
SOURCES_MARKETS = [
    market("AAA", open_interest_usd=5e8, funding_rate=-0.05, oi_change_pct_24h=1.0),
    market("BBB", open_interest_usd=9e8, funding_rate=0.01, oi_change_pct_24h=-7.5),
    market("CCC", open_interest_usd=1e8, funding_rate=0.02, oi_change_pct_24h=None),
    market(
        "DDD",
        open_interest_usd=None,
        long_liquidations_usd_24h=4e6,
        short_liquidations_usd_24h=1e6,
    ),
]


@pytest.mark.parametrize(
    ("sort_by", "order"),
    [
        ("open_interest", ["BBB", "AAA", "CCC", "DDD"]),
        ("max_pain_proximity", ["BBB", "AAA", "CCC", "DDD"]),
        ("funding_rate", ["AAA", "CCC", "BBB", "DDD"]),
        ("oi_change_24h", ["BBB", "AAA", "CCC", "DDD"]),
        ("liquidations_24h", ["DDD", "AAA", "BBB", "CCC"]),
    ],
)
def test_each_ranking_puts_the_coins_in_its_order(sort_by: Any, order: list[str]) -> None:
    ranking = scan.ranked(SOURCES_PAIN, SOURCES_MARKETS, coins=None, sort_by=sort_by, max_coins=10)
    assert [coin.coin for coin in ranking.coins] == order
    assert ranking.sort_by == sort_by


def test_a_ranking_whose_source_is_missing_falls_back_to_the_other() -> None:
    without_pain = scan.ranked(
        None, SOURCES_MARKETS, coins=None, sort_by="max_pain_proximity", max_coins=2
    )
    assert without_pain.sort_by == "open_interest"
    assert [coin.coin for coin in without_pain.coins] == ["BBB", "AAA"]
    without_markets = scan.ranked(
        SOURCES_PAIN, None, coins=None, sort_by="funding_rate", max_coins=5
    )
    assert without_markets.sort_by == "max_pain_proximity"
    assert [coin.coin for coin in without_markets.coins] == ["BBB", "AAA", "CCC"]


def test_coins_asked_for_are_matched_ignoring_case_and_the_unlisted_are_named() -> None:
    ranking = scan.ranked(
        SOURCES_PAIN,
        SOURCES_MARKETS,
        coins=["ccc", "ZZZ", "AAA", "aaa"],
        sort_by="open_interest",
        max_coins=10,
    )
    assert [coin.coin for coin in ranking.coins] == ["AAA", "CCC"]
    assert ranking.unknown == ["ZZZ"]


def test_the_max_pain_rule_fires_per_side_within_its_distance() -> None:
    row = scan.scanned(pain("BTC", 80_000, 79_200, 82_000), None).row
    rules = [
        MaxPainWithinPct(type="max_pain_within_pct", pct=1, side="any"),
        MaxPainWithinPct(type="max_pain_within_pct", pct=5, side="short"),
    ]
    fired = scan.max_pain_alerts(rules, "BTC", "24h", row)
    assert [(alert.rule, alert.side, alert.price) for alert in fired] == [
        (0, "long", 79_200),
        (1, "short", 82_000),
    ]
    assert fired[0].message == (
        "BTC 24h: long max pain of 5M at 79,200, 1.00% below the price (80,000)"
    )


# ---------------------------------------------------------------- the sources over HTTP


def _market_rows(first: int, count: int) -> list[dict[str, Any]]:
    return [{"symbol": f"C{n}", "open_interest_usd": str(n)} for n in range(first, first + count)]


@respx.mock
async def test_coins_markets_pages_until_a_short_page_and_keeps_each_coin_once(
    endpoints: Endpoints,
) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        number, size = int(request.url.params["page"]), int(request.url.params["per_page"])
        assert size == 100
        # Page 2 repeats a coin of page 1, as moving figures do between two requests.
        rows = {1: _market_rows(0, 100), 2: _market_rows(99, 100), 3: _market_rows(199, 30)}
        return httpx.Response(200, json={"code": "0", "data": rows.get(number, [])})

    route = respx.get(f"{BASE}{COINS_MARKETS_PATH}").mock(side_effect=page)
    markets = await endpoints.coins_markets()
    assert [m.coin for m in markets] == [f"C{n}" for n in range(229)]
    assert markets[5].open_interest_usd == 5.0  # a number sent as text is read
    assert {int(call.request.url.params["page"]) for call in route.calls} == set(range(1, 7))


@respx.mock
async def test_coins_markets_stops_at_its_page_cap(endpoints: Endpoints) -> None:
    full = {"code": "0", "data": _market_rows(0, 100)}
    route = respx.get(f"{BASE}{COINS_MARKETS_PATH}").respond(json=full)
    await endpoints.coins_markets()
    assert route.call_count == COINS_MARKETS_MAX_PAGES


@respx.mock
async def test_max_pain_sends_its_range_and_reads_every_published_variant(
    endpoints: Endpoints,
) -> None:
    body = {
        "code": "0",
        "data": [
            {"symbol": "BTC", "price": 77210, "long_max_pain_liq_price": "76402.18"},
            {"price": 1},  # no coin: it cannot be placed
            {"symbol": "ETH", "price": 2301.77, "short_max_pain_liq_level": None},
        ],
    }
    route = respx.get(f"{BASE}{MAX_PAIN_PATH}").respond(json=body)
    found = await endpoints.max_pain("48h")
    assert route.calls.last.request.url.params["range"] == "48h"
    assert [(p.coin, p.price, p.long_price) for p in found] == [
        ("BTC", 77210, 76402.18),
        ("ETH", 2301.77, None),
    ]


@respx.mock
async def test_max_pain_refused_for_the_plan_is_a_plan_error(endpoints: Endpoints) -> None:
    respx.get(f"{BASE}{MAX_PAIN_PATH}").respond(json={"code": "401", "msg": "Upgrade plan"})
    with pytest.raises(errors.PlanTooLow):
        await endpoints.max_pain("24h")


@pytest.mark.parametrize(
    ("long", "short", "kept", "said"),
    [
        # Both below: CoinGlass's long keeps the long column; its short is left out.
        (99, 98, (99, None), "its short max pain (98) lies below the price, and is left out"),
        # Both above: its short keeps the short column; its long is left out.
        (101, 102, (None, 102), "its long max pain (101) lies above the price, and is left out"),
    ],
)
def test_two_levels_on_one_side_keep_the_one_labelled_for_it_and_say_so(
    long: float, short: float, kept: tuple[float | None, float | None], said: str
) -> None:
    scanned = scan.scanned(pain("X", 100, long, short), None)
    row = scanned.row
    assert (row["long_max_pain_price"], row["short_max_pain_price"]) == kept
    assert said in scanned.notes[0]
