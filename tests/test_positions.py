"""Hyperliquid positions in-process: the core's map, summary, coverage and closest positions
worked out by hand from the sandbox's own positions, the liquidation prices it cannot use, and
the client's paging of ``hyperliquid/position`` (each wallet once, the page count read again on
every page, the page cap, the plan refusal)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import httpx
import pytest
import respx
import sandbox_positions
from helpers import MARKETS_PATH, approx, percentile_90, unknown_plan
from helpers import MOCKED_BASE_URL as BASE

from coinglass_liquidation_map import errors
from coinglass_liquidation_map.analysis import positions
from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.analysis.markets import CurrentPrice
from coinglass_liquidation_map.catalog import parse_input
from coinglass_liquidation_map.coinglass.endpoints import HYPERLIQUID_POSITIONS_PATH, Endpoints
from coinglass_liquidation_map.coinglass.hyperliquid_payloads import PositionsPage
from coinglass_liquidation_map.market_data import (
    Instrument,
    Market,
    Markets,
    Position,
    PositionPages,
)
from coinglass_liquidation_map.modes.positions import hyperliquid_positions
from coinglass_liquidation_map.run.upstream import MarketPrices, Upstream
from coinglass_liquidation_map.schemas.positions import HyperliquidPositionsInput

COIN = "ARB"  # a smaller coin: every one of its positions is read
TOP = 5


def usable(row: dict[str, Any], mark: float) -> bool:
    """A liquidation price a trader would trust: there, positive, on the side that loses."""
    liq = row["liq_price"]
    if liq is None or liq <= 0:
        return False
    return bool(liq < mark if row["position_size"] > 0 else liq > mark)


def pages_of(rows: list[dict[str, Any]]) -> PositionPages:
    page = PositionsPage.model_validate({"total_pages": 1, "current_page": 1, "list": rows})
    return PositionPages([row.position(COIN) for row in page.rows], 1, 1)


def test_the_positions_are_binned_summed_and_covered_as_worked_out_by_hand() -> None:
    rows = sandbox_positions.positions(COIN)
    mark = rows[0]["mark_price"]
    interest = sandbox_positions.open_interest(COIN)
    item = positions.analysed_positions(
        COIN,
        pages_of(rows),
        price=positions.mark_price(pages_of(rows).positions),
        missing="",
        open_interest_usd=interest,
        interest_missing="",
        bucketing=Bucketing(TOP),
        max_pages=200,
    )
    kept = [row for row in rows if usable(row, mark)]
    assert 0 < len(kept) < len(rows)
    assert {row["position_size"] > 0 for row in kept} == {True, False}  # both sides
    # Buckets 0.1% of the price wide, laid from the price; a row per leverage in each.
    width = mark * 0.1 / 100
    buckets: dict[float, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for row in kept:
        centre = mark + (math.floor((row["liq_price"] - mark) / width) + 0.5) * width
        buckets[centre][row["leverage"]] += row["position_value_usd"]
    got = [(float(key), bucket) for key, bucket in item.data.items()]
    assert [price for price, _ in got] == pytest.approx(sorted(buckets), rel=1e-12)
    for (price, bucket), centre in zip(got, sorted(buckets), strict=True):
        want = buckets[centre]
        assert [(row[0], row[2], row[3]) for row in bucket] == [
            (price, leverage, None) for leverage in sorted(want)
        ]
        assert [row[1] for row in bucket] == [approx(want[leverage]) for leverage in sorted(want)]

    summary = item.summary
    assert summary.current_price == mark
    assert summary.bucket_width == pytest.approx(width)
    longs = sum(row["position_value_usd"] for row in kept if row["position_size"] > 0)
    shorts = sum(row["position_value_usd"] for row in kept if row["position_size"] < 0)
    assert summary.long_level_total == pytest.approx(longs, abs=1)
    assert summary.short_level_total == pytest.approx(shorts, abs=1)
    assert summary.imbalance == pytest.approx((shorts - longs) / (shorts + longs), abs=1e-6)
    near = [c for c in buckets if abs(c - mark) / mark * 100 <= 2]
    within = summary.within_pct and summary.within_pct["2"]
    assert within
    assert within.long == pytest.approx(sum(sum(buckets[c].values()) for c in near if c < mark))
    assert within.short == pytest.approx(sum(sum(buckets[c].values()) for c in near if c > mark))
    totals = {centre: sum(bucket.values()) for centre, bucket in buckets.items()}
    largest = sorted(totals, key=lambda centre: -totals[centre])[:TOP]
    want_top: list[Any] = [(pytest.approx(c), approx(totals[c])) for c in largest]
    assert [(c.price, c.level) for c in summary.top_clusters] == want_top
    big = [c for c, total in totals.items() if total >= percentile_90(list(totals.values()))]
    assert summary.nearest_long_cluster is not None
    assert summary.nearest_short_cluster is not None
    assert summary.nearest_long_cluster.price == pytest.approx(max(c for c in big if c < mark))
    assert summary.nearest_short_cluster.price == pytest.approx(min(c for c in big if c > mark))
    assert item.levels[0]["side"] == "long"
    assert item.levels[-1]["side"] == "short"

    notional = sum(row["position_value_usd"] for row in rows)
    assert item.coverage.model_dump() == {
        "positions": len(rows),
        "positions_without_liq_price": len(rows) - len(kept),
        "pages_fetched": 1,
        "total_pages": 1,
        "covered_notional_usd": approx(notional),
        "open_interest_usd": interest,
        "coverage_pct": pytest.approx(notional / (2 * interest) * 100, abs=0.005),
    }
    nearest = sorted(
        kept,
        key=lambda row: (abs(row["liq_price"] - mark), -row["position_value_usd"], row["user"]),
    )[:TOP]
    assert [p.model_dump() for p in item.closest_positions] == [
        {
            "user": row["user"],
            "side": "long" if row["position_size"] > 0 else "short",
            "size_usd": row["position_value_usd"],
            "leverage": row["leverage"],
            "liq_price": row["liq_price"],
            "distance_pct": pytest.approx((row["liq_price"] - mark) / mark * 100, abs=1e-4),
        }
        for row in nearest
    ]
    assert item.provenance == "observed"
    assert "Read all 1 of 1 pages." in item.message
    assert f"{len(rows) - len(kept)} position(s) have no usable liquidation price" in item.message


def position(size: float, liq: float | None, mark: float | None = 100.0) -> Position:
    return Position(f"0x{abs(size):040.0f}", COIN, size, abs(size) * 100, 10, liq, mark)


def test_a_liquidation_price_that_cannot_be_used_counts_but_is_never_binned() -> None:
    traps = [
        position(1, None),  # missing
        position(2, 0),  # zero
        position(3, -50),  # negative
        position(4, 100),  # a long at the mark
        position(5, 101),  # a long above it
        position(-6, 99),  # a short below it
        position(-7, 100),  # a short at it
        position(0, 90),  # no position at all
    ]
    good = [position(8, 90), position(-9, 110), position(10, 95, mark=None)]
    pages = PositionPages([*traps, *good], 3, 3)
    item = positions.analysed_positions(
        COIN,
        pages,
        price=CurrentPrice(100.0, "test"),
        missing="",
        open_interest_usd=None,
        interest_missing="pairs-markets failed: upstream_unavailable",
        bucketing=Bucketing(10, price_step=1.0),
        max_pages=3,
    )
    # One price unit wide, laid from the price: 90 falls in [90, 91), priced at its centre.
    assert item.data == {
        "90.5": [(90.5, 800.0, 10, None)],
        "95.5": [(95.5, 1000.0, 10, None)],
        "110.5": [(110.5, 900.0, 10, None)],
    }
    assert item.coverage.positions == 11
    assert item.coverage.positions_without_liq_price == len(traps)
    assert item.coverage.covered_notional_usd == sum(range(11)) * 100
    assert item.coverage.open_interest_usd is item.coverage.coverage_pct is None
    assert "open interest is unavailable (pairs-markets failed: upstream_unavailable)" in (
        item.message
    )
    # 90 and 110 are as far away: the larger position comes first.
    assert [p.liq_price for p in item.closest_positions] == [95, 110, 90]


def test_hyperliquid_s_market_is_its_perpetual_in_either_spelling() -> None:
    rows = [
        Market(exchange="Binance", instrument_id="BTCUSDT", price=1, open_interest_usd=9),
        Market(exchange="Hyperliquid", instrument_id="BTC-PERP-OLD", price=2, open_interest_usd=8),
        Market(exchange="Hyperliquid", instrument_id="BTC-USD", price=3, open_interest_usd=1),
    ]
    found = positions.hyperliquid_market(Markets(rows), "BTC")
    assert found is not None
    assert found.instrument_id == "BTC-USD"
    as_listed = rows[2].model_copy(update={"instrument_id": "BTC"})  # as the pair list names it
    sandbox = positions.hyperliquid_market(Markets([*rows[:2], as_listed]), "BTC")
    assert sandbox is not None
    assert sandbox.instrument_id == "BTC"
    assert positions.hyperliquid_market(Markets(rows[:1]), "BTC") is None


# ---------------------------------------------------------------- paging over HTTP


async def no_instruments(*, fresh: bool = False) -> list[Instrument]:
    return []


def wallet(n: int) -> dict[str, Any]:
    return {
        "user": f"0x{n:040x}",
        "symbol": "BTC",
        "position_size": str(n),  # a number sent as text is read
        "mark_price": 100.0,
        "liq_price": 90.0,
        "leverage": 10,
        "position_value_usd": n * 100.0,
    }


@respx.mock
async def test_pages_are_read_until_the_last_each_wallet_once_the_count_read_on_every_page(
    endpoints: Endpoints,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.params["symbol"] == "BTC"
        number = int(request.url.params["current_page"])
        # Page 1 says two pages; by page 2 the list has grown to three. Page 2 repeats a wallet
        # of page 1, as rows move between two requests, and holds a row with no wallet.
        pages = {
            1: (2, [wallet(1), wallet(2)]),
            2: (3, [wallet(2) | {"position_size": 99}, wallet(3), {"position_size": 5}]),
            3: (3, [wallet(4)]),
        }
        total, rows = pages.get(number, (3, []))
        body = {"total_pages": total, "current_page": number, "list": rows}
        return httpx.Response(200, json={"code": "0", "data": body})

    route = respx.get(f"{BASE}{HYPERLIQUID_POSITIONS_PATH}").mock(side_effect=answer)
    read = await endpoints.hyperliquid_positions("BTC", max_pages=10, at_once=4)
    assert [(p.user, p.size) for p in read.positions] == [
        (wallet(n)["user"], n) for n in (1, 2, 3, 4)
    ]
    assert (read.pages_fetched, read.total_pages, read.skipped_rows) == (3, 3, 1)
    assert sorted(call.request.url.params["current_page"] for call in route.calls) == [
        "1",
        "2",
        "3",
    ]


@respx.mock
async def test_the_page_cap_stops_the_reading_and_says_how_many_there_are(
    endpoints: Endpoints,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["current_page"])
        body = {"total_pages": 50, "current_page": number, "list": [wallet(number)]}
        return httpx.Response(200, json={"code": "0", "data": body})

    route = respx.get(f"{BASE}{HYPERLIQUID_POSITIONS_PATH}").mock(side_effect=answer)
    read = await endpoints.hyperliquid_positions("BTC", max_pages=7, at_once=3)
    assert (read.pages_fetched, read.total_pages, len(read.positions)) == (7, 50, 7)
    assert route.call_count == 7


@respx.mock
async def test_a_list_that_shrinks_while_paging_stops_at_its_new_end(endpoints: Endpoints) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["current_page"])
        total = 6 if number == 1 else 2
        rows = [wallet(number)] if number <= total else []
        body = {"total_pages": total, "current_page": number, "list": rows}
        return httpx.Response(200, json={"code": "0", "data": body})

    route = respx.get(f"{BASE}{HYPERLIQUID_POSITIONS_PATH}").mock(side_effect=answer)
    read = await endpoints.hyperliquid_positions("BTC", max_pages=20, at_once=2)
    assert (read.pages_fetched, read.total_pages, len(read.positions)) == (2, 2, 2)
    assert route.call_count == 3  # the first page, then one wave of two


@respx.mock
async def test_positions_refused_for_the_plan_are_a_plan_error(endpoints: Endpoints) -> None:
    respx.get(f"{BASE}{HYPERLIQUID_POSITIONS_PATH}").respond(
        json={"code": "401", "msg": "Upgrade plan"}
    )
    with pytest.raises(errors.PlanTooLow):
        await endpoints.hyperliquid_positions("BTC", max_pages=20, at_once=4)


@respx.mock
async def test_a_fallback_price_in_another_unit_is_not_used(endpoints: Endpoints) -> None:
    # The positions give no mark price; pairs-markets gives 3,400 where they liquidate near 0.03.
    row = wallet(1) | {"mark_price": None, "liq_price": 0.03, "symbol": "ETH"}
    body = {"total_pages": 1, "current_page": 1, "list": [row]}
    respx.get(f"{BASE}{HYPERLIQUID_POSITIONS_PATH}").respond(json={"code": "0", "data": body})
    market = {"exchange_name": "Hyperliquid", "instrument_id": "ETH", "current_price": 3400}
    respx.get(f"{BASE}{MARKETS_PATH}").respond(json={"code": "0", "data": [market]})
    request = parse_input({"mode": "hyperliquid_positions", "symbol": "ETH", "maxPages": 1})
    assert isinstance(request, HyperliquidPositionsInput)
    upstream = Upstream(endpoints, no_instruments, MarketPrices(endpoints), unknown_plan)
    item = await hyperliquid_positions(upstream, request)
    assert item.summary.current_price is None
    assert "pairs-markets Hyperliquid ETH gives 3,400, far outside the prices" in item.message
