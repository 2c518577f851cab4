"""What a map's item tells the user, from mocked CoinGlass answers, for both kinds of map."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import respx
import sandbox_data
import sandbox_heatmaps
from helpers import COIN_MAP_PATH, MAP_PATH, MARKETS_PATH, PRO_KEY
from sandbox_server import SandboxServer

from coinglass_liquidation_map import errors
from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.coinglass.client import CoinGlassClient
from coinglass_liquidation_map.coinglass.endpoints import Endpoints
from coinglass_liquidation_map.market_data import Instrument
from coinglass_liquidation_map.modes import heatmaps, maps
from coinglass_liquidation_map.retry import RetryPolicy
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
        yield Upstream(endpoints, instruments, MarketPrices(endpoints))


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


@respx.mock
async def test_a_refused_long_range_says_where_its_data_is_and_keeps_each_cause(
    upstream: Upstream,
) -> None:
    refusal = "CoinGlass refused a parameter of the request: range not supported."
    respx.get(f"{BASE}{MAP_PATH}").respond(json={"code": "400", "msg": "range not supported"})
    respx.get(f"{BASE}{MARKETS_PATH}").respond(json={"code": "0", "data": []})
    with pytest.raises(errors.InvalidParameter) as caught:
        await maps.liquidation_map(upstream, MapTarget("Binance_BTCUSDT", "90d"), Bucketing())
    # Each layer says what it knows when it raises, and keeps what it was told as the cause.
    endpoint_said = caught.value.__cause__
    client_said = endpoint_said.__cause__ if endpoint_said else None
    assert isinstance(endpoint_said, errors.InvalidParameter)
    assert isinstance(client_said, errors.InvalidParameter)
    assert client_said.message.startswith(refusal)
    documented = (
        " CoinGlass documents only the ranges 1d, 7d, 30d for this map; it may not accept 90d."
    )
    assert endpoint_said.message == client_said.message + documented
    assert caught.value.message == (
        endpoint_said.message
        + " Its liquidation heatmap covers 90d: ask mode liquidation_heatmap with range 90d."
    )
    assert caught.value.upstream_code == "400"


async def test_a_pair_quoted_in_btc_is_not_read_against_its_price_in_usd(
    sandbox: SandboxServer,
) -> None:
    async with CoinGlassClient(PRO_KEY, base_url=sandbox.url) as client:
        endpoints = Endpoints(client)

        async def instruments(*, fresh: bool = False) -> list[Instrument]:
            return (await endpoints.supported_pairs()).root

        upstream = Upstream(endpoints, instruments, MarketPrices(endpoints))
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
