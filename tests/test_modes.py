"""What a map's item tells the user, from mocked CoinGlass answers, for both kinds of map."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import respx
import sandbox_data
import sandbox_heatmaps
from helpers import COIN_MAP_PATH, MAP_PATH, MARKETS_PATH, PRO_KEY, MemoryStore, unknown_plan
from sandbox_server import SandboxServer

from coinglass_liquidation_map import errors
from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.coinglass.client import CoinGlassClient
from coinglass_liquidation_map.coinglass.endpoints import Endpoints
from coinglass_liquidation_map.market_data import Instrument
from coinglass_liquidation_map.modes import heatmaps, maps
from coinglass_liquidation_map.retry import RetryPolicy
from coinglass_liquidation_map.run.refusals import RefusedRanges
from coinglass_liquidation_map.run.upstream import MarketPrices, Upstream
from coinglass_liquidation_map.schemas.heatmaps import HeatmapTarget
from coinglass_liquidation_map.schemas.maps import MapTarget

BASE = "https://cg.test"
BTCUSDT = Instrument(
    base_asset="BTC", quote_asset="USDT", exchange="Binance", symbol="Binance_BTCUSDT"
)
# One row of three is garbled (a level that is no number), the others are read.
GARBLED = {"100": [[100, 5, 10, None], [100, "lots", 10, None]], "102": [[102, 3, 10, None]]}


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    async def instruments(*, fresh: bool = False) -> list[Instrument]:
        return [BTCUSDT]

    async with CoinGlassClient("key", base_url=BASE, retry=RetryPolicy(max_retries=0)) as client:
        endpoints = Endpoints(client)
        yield Upstream(endpoints, instruments, MarketPrices(endpoints), unknown_plan)


@respx.mock
@pytest.mark.parametrize(
    ("symbol", "path", "data"),
    [
        ("Binance_BTCUSDT", MAP_PATH, {"data": GARBLED}),
        ("BTC", COIN_MAP_PATH, {"data": GARBLED}),
        (
            "BTC",
            COIN_MAP_PATH,
            {
                "last_price": 101,
                "data": [
                    {
                        "instrument": {"exName": "Binance", "instrumentId": "BTCUSDT"},
                        "liqMapV2": GARBLED,
                    },
                ],
            },
        ),
    ],
)
async def test_a_map_with_a_garbled_row_says_it_was_left_out(
    upstream: Upstream, symbol: str, path: str, data: object
) -> None:
    respx.get(f"{BASE}{path}").respond(json={"code": "0", "data": data})
    respx.get(f"{BASE}{MARKETS_PATH}").respond(
        json={
            "code": "0",
            "data": [
                {"exchange_name": "Binance", "instrument_id": "BTCUSDT", "current_price": 101}
            ],
        }
    )
    analysed = await maps.liquidation_map(
        upstream, MapTarget(symbol=symbol, range="1d"), Bucketing()
    )
    item = analysed.item
    assert item.message.endswith("1 unreadable row(s) from CoinGlass were left out.")
    assert item.summary.level_count == 2
    assert item.summary.current_price == 101


HEATMAP_PATH = "/api/futures/liquidation/heatmap/model1"
# A heatmap of two candles closing at 100; its latest column has cells at 95, 104 and 110.
HEATMAP = {
    "y_axis": [90, 95, 100, 104, 110],
    "liquidation_leverage_data": [[0, 0, 7.0], [1, 1, 30.0], [1, 3, 20.0], [1, 4, 50.0]],
    "price_candlesticks": [[1000, 99, 101, 98, 99, 5.0], [1300, 99, 101, 98, 100, 5.0]],
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@respx.mock
@pytest.mark.parametrize(
    "refusal",
    [{"code": "500", "msg": "Server Error"}, {"code": "400", "msg": "range not supported"}],
)
async def test_a_refused_map_range_is_read_from_the_heatmap_and_remembered(
    upstream: Upstream, refusal: dict[str, str]
) -> None:
    map_route = respx.get(f"{BASE}{MAP_PATH}").respond(json=refusal)
    respx.get(f"{BASE}{MARKETS_PATH}").respond(json={"code": "0", "data": []})
    heatmap_route = respx.get(f"{BASE}{HEATMAP_PATH}").respond(json={"code": "0", "data": HEATMAP})
    store, clock = MemoryStore(), Clock()
    refusals = RefusedRanges(3600, store=store.open, clock=clock)
    target = MapTarget("Binance_BTCUSDT", "365d")
    item = (await maps.liquidation_map(upstream, target, Bucketing(), refusals)).item
    assert item.data == {
        "95.0": [(95.0, 30.0, None, None)],
        "104.0": [(104.0, 20.0, None, None)],
        "110.0": [(110.0, 50.0, None, None)],
    }
    assert (item.provenance, item.source) == ("modeled", "heatmap model1, latest column")
    assert item.message == (
        "Liquidation map data fetched successfully. CoinGlass does not serve maps over 365d (it"
        " refuses that range), so this map is the latest column of its model1 liquidation"
        " heatmap over 1y: each level is a cell's value at its price, without leverage."
    )
    summary = item.summary
    assert (summary.current_price, summary.long_level_total, summary.short_level_total) == (
        100.0,
        30.0,
        70.0,
    )
    assert summary.by_leverage == {"unknown": 100.0}
    assert heatmap_route.calls.last.request.url.params["range"] == "1y"
    assert map_route.call_count == 1  # no retry is left with maxRetries 0
    # Kept for the TTL: the next map of that range goes straight to the heatmap.
    clock.now += 3599
    again = (await maps.liquidation_map(upstream, target, Bucketing(), refusals)).item
    assert (again.data, map_route.call_count) == (item.data, 1)
    clock.now += 1
    await maps.liquidation_map(upstream, target, Bucketing(), refusals)
    assert map_route.call_count == 2
    # One record per kind of map and range.
    assert list(store.records) == ["map-range-refused-pair-365d"]


@respx.mock
async def test_a_documented_range_is_never_read_from_the_heatmap(upstream: Upstream) -> None:
    respx.get(f"{BASE}{MAP_PATH}").respond(json={"code": "500", "msg": "Server Error"})
    respx.get(f"{BASE}{MARKETS_PATH}").respond(json={"code": "0", "data": []})
    heatmap_route = respx.get(f"{BASE}{HEATMAP_PATH}").respond(json={"code": "0", "data": {}})
    with pytest.raises(errors.UpstreamUnavailable):
        await maps.liquidation_map(upstream, MapTarget("Binance_BTCUSDT", "30d"), Bucketing())
    assert not heatmap_route.called


@respx.mock
@pytest.mark.parametrize(
    ("answer", "raised", "said"),
    [
        (
            {"code": "401", "msg": "Upgrade plan"},
            errors.PlanTooLow,
            "CoinGlass does not serve maps over 90d, so this map was asked of its model1"
            " liquidation heatmap over 90d.)",
        ),
        (
            {"code": "0", "data": {**HEATMAP, "liquidation_leverage_data": [[0, 0, 7.0]]}},
            errors.NoData,
            "CoinGlass does not serve maps over 90d, and the latest column of its model1"
            " liquidation heatmap over 90d of Binance_BTCUSDT holds no cell, so there is nothing"
            " to deliver and nothing was charged.",
        ),
    ],
)
async def test_a_heatmap_that_cannot_stand_in_for_a_refused_map_says_so(
    upstream: Upstream, answer: dict[str, object], raised: type[Exception], said: str
) -> None:
    respx.get(f"{BASE}{MAP_PATH}").respond(json={"code": "500", "msg": "Server Error"})
    respx.get(f"{BASE}{MARKETS_PATH}").respond(json={"code": "0", "data": []})
    respx.get(f"{BASE}{HEATMAP_PATH}").respond(json=answer)
    with pytest.raises(raised) as caught:
        await maps.liquidation_map(upstream, MapTarget("Binance_BTCUSDT", "90d"), Bucketing())
    assert str(caught.value).endswith(said)


async def test_a_pair_quoted_in_btc_is_not_read_against_its_price_in_usd(
    sandbox: SandboxServer,
) -> None:
    async with CoinGlassClient(PRO_KEY, base_url=sandbox.url) as client:
        endpoints = Endpoints(client)

        async def instruments(*, fresh: bool = False) -> list[Instrument]:
            return (await endpoints.supported_pairs()).root

        upstream = Upstream(endpoints, instruments, MarketPrices(endpoints), unknown_plan)
        target = MapTarget("Binance_ETHBTC", "1d")
        item = (await maps.liquidation_map(upstream, target, Bucketing())).item
        heatmap = await heatmaps.liquidation_heatmap(
            endpoints, instruments, HeatmapTarget("Binance_ETHBTC", "24h", "model1"), 10
        )
    # The map's levels are in BTC, pairs-markets' price in USD: that price is not used.
    liq_map = sandbox_data.liquidation_map("Binance", "ETHBTC", "1d")
    prices = sorted(float(row[0]) for rows in liq_map.values() for row in rows)
    usd = next(r for r in sandbox_data.pairs_markets("ETH") if r["instrument_id"] == "ETHBTC")
    assert (item.summary.current_price, item.summary.long_level_total) == (None, None)
    assert item.summary.level_count == len(prices)
    assert item.message == (
        "Liquidation map data fetched successfully. The current price is unavailable"
        f" (pairs-markets Binance ETHBTC gives {usd['current_price']:,.0f}, far outside the"
        f" prices {prices[0]:.5f} to {prices[-1]:.5f} it would be read against: a price in"
        " another unit, such as USD for a pair quoted in BTC), so sides are not computed."
    )
    # The heatmap's candles are in BTC like its price axis: its last close is read.
    close = sandbox_heatmaps.pair_heatmap("Binance", "ETHBTC", "24h", "model1")[
        "price_candlesticks"
    ][-1][4]
    assert heatmap.summary.current_price == close
    assert heatmap.message == "Liquidation heatmap data fetched successfully."
