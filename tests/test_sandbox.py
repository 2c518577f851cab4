"""Tests of the CoinGlass API v4 sandbox: its data generator, its server and its CLI."""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest
import sandbox_data as data
import sandbox_heatmaps
from sandbox_server import (
    AGGREGATED_MAP_PATH,
    COIN_HEATMAP_PATH,
    COINS_MARKETS_PATH,
    MAP_PATH,
    MAX_PAIN_PATH,
    PAIR_HEATMAP_PATH,
    Fault,
    SandboxServer,
)

SERVER_SCRIPT = Path(__file__).resolve().parent.parent / "sandbox" / "sandbox_server.py"
PRO = {"CG-API-KEY": SandboxServer.PRO_KEY}
HOBBY = {"CG-API-KEY": SandboxServer.HOBBY_KEY}
BTC_MAP = {"exchange": "Binance", "symbol": "BTCUSDT", "range": "1d"}
BTC_COIN = {"symbol": "BTC", "range": "1d"}
PAIRS_PATH = "/api/futures/supported-exchange-pairs"


@pytest.fixture
def server(sandbox: SandboxServer) -> SandboxServer:
    """The shared sandbox (see conftest), freshly reset."""
    return sandbox


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=PRO, timeout=5) as http:
        yield http


def all_rows(liq_map: dict[str, list[list[Any]]]) -> list[list[Any]]:
    return [row for rows in liq_map.values() for row in rows]


def map_of(response: httpx.Response) -> dict[str, list[list[Any]]]:
    body = response.json()
    assert body["code"] == "0", body
    liq_map: dict[str, list[list[Any]]] = body["data"]["data"]
    return liq_map


# -- data --------------------------------------------------------------------------


@pytest.mark.process
def test_map_is_deterministic_across_processes() -> None:
    first = data.liquidation_map("OKX", "ETH-USDT-SWAP", "7d")
    assert first == data.liquidation_map("OKX", "ETH-USDT-SWAP", "7d")
    assert first != data.liquidation_map("OKX", "ETH-USDT-SWAP", "30d")
    script = (
        "import hashlib, json, sandbox_data as d;"
        "m = d.liquidation_map('OKX', 'ETH-USDT-SWAP', '7d');"
        "print(hashlib.sha256(json.dumps(m).encode()).hexdigest());"
        "print(hashlib.sha256(json.dumps(d.supported_pairs()).encode()).hexdigest());"
        "print(hashlib.sha256(json.dumps(d.max_pain('7d', {})).encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(SERVER_SCRIPT.parent)}
    other = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert other.stdout.split() == [
        hashlib.sha256(json.dumps(first).encode()).hexdigest(),
        hashlib.sha256(json.dumps(data.supported_pairs()).encode()).hexdigest(),
        hashlib.sha256(json.dumps(data.max_pain("7d", {})).encode()).hexdigest(),
    ]


def test_btc_day_map_is_realistic() -> None:
    price = data.current_price("Binance", "BTCUSDT")
    liq_map = data.liquidation_map("Binance", "BTCUSDT", "1d")
    assert 200 <= len(liq_map) <= 1000
    assert all(re.fullmatch(r"\d+", key) for key in liq_map)
    assert all(1 <= len(rows) <= 4 for rows in liq_map.values())
    prices = sorted(float(key) for key in liq_map)
    assert 0.90 < prices[0] / price < 0.95
    assert 1.05 < prices[-1] / price < 1.10
    rows = all_rows(liq_map)
    assert {row[2] for row in rows} == set(data.LEVERAGE_TIERS)
    assert all(isinstance(row[1], float) and row[1] > 0 for row in rows)
    assert all(round(row[1], 2) == row[1] for row in rows)
    bands = [row[3] for row in rows]
    assert set(bands) <= {None, "h1", "h2", "h3"}
    assert 0 < sum(band is not None for band in bands) < len(bands) / 5
    assert any(row[0] != int(key) for key, rows in liq_map.items() for row in rows)
    assert all(abs(row[0] - int(key)) < 100 for key, rows in liq_map.items() for row in rows)


def test_longer_ranges_spread_wider() -> None:
    def width(range_: str) -> float:
        keys = [float(key) for key in data.liquidation_map("Bybit", "SOLUSDT", range_)]
        return max(keys) / min(keys)

    widths = [width(range_) for range_ in ("1d", "7d", "30d", "90d", "180d", "365d")]
    assert widths == sorted(widths)
    assert widths[-1] > 2.0


@pytest.mark.parametrize(
    ("exchange", "instrument", "pattern"),
    [
        ("Binance", "BTCUSDT", r"\d+"),
        ("OKX", "ETH-USDT-SWAP", r"\d+\.\d"),
        ("Bybit", "DOGEUSDT", r"0\.\d{5}"),
        ("Binance", "PEPEUSDT", r"0\.0000\d{4}"),
        ("ApeX Omni", "ARB-USDT", r"0\.\d{4}"),
    ],
)
def test_bucket_keys_follow_the_tick(exchange: str, instrument: str, pattern: str) -> None:
    keys = list(data.liquidation_map(exchange, instrument, "1d"))
    assert len(keys) > 150
    assert all(re.fullmatch(pattern, key) for key in keys), keys[:3]


def test_unknown_pair_or_range() -> None:
    assert data.liquidation_map("Binance", "NOPEUSDT", "1d") == {}
    assert data.liquidation_map("Kraken", "BTCUSDT", "1d") == {}
    with pytest.raises(ValueError, match="range"):
        data.liquidation_map("Binance", "BTCUSDT", "forever")


def test_generation_is_fast() -> None:
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        data.liquidation_map("Binance", "BTCUSDT", "1d")
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.05


def test_instrument_lists() -> None:
    pairs = data.supported_pairs()
    assert len(pairs) >= 8
    assert set(pairs) == set(data.supported_exchanges())
    ids = {exchange: {row["instrument_id"] for row in rows} for exchange, rows in pairs.items()}
    expected = {
        "Binance": {"BTCUSDT", "BTCUSD_PERP"},
        "OKX": {"BTC-USDT-SWAP"},
        "Bybit": {"BTCUSDT"},
        "Bitget": {"BTCUSDT_UMCBL"},
        "Gate": {"BTC_USDT"},
        "Crypto.com": {"BTCUSD-PERP"},
        "ApeX Omni": {"BTC-USDT"},
        "Hyperliquid": {"BTC"},
    }
    for exchange, instruments in expected.items():
        assert instruments <= ids[exchange]
    assert len(set(map(len, ids.values()))) > 1  # not every coin on every exchange
    rows = [row for listed in pairs.values() for row in listed]
    assert all({"instrument_id", "base_asset", "quote_asset"} <= set(row) for row in rows)
    with_extras = [row for row in rows if len(row) > 3]
    assert 0 < len(with_extras) < len(rows) / 10
    assert {"settlement_currency", "max_leverage", "price_tick_size", "funding_interval"} <= {
        name for row in with_extras for name in row
    }
    assert {"BTC", "ETH", "SOL", "XRP", "DOGE", "PEPE"} <= set(data.supported_coins())
    assert len(data.supported_coins()) >= 16


def test_smaller_coins_trade_on_binance_and_bybit_only() -> None:
    large = set(data.supported_coins()[:19])
    small = data.supported_coins()[19:]
    assert {"BTC", "ETH", "HYPE"} <= large
    assert len(small) == len(set(small)) == data.SYNTHETIC_COIN_COUNT
    assert all(re.fullmatch(r"[A-Z0-9]{2,8}", coin) and not coin.isdigit() for coin in small)
    # No small coin's ticker holds a large one's, so searches for the large ones are unchanged.
    assert not [coin for coin in small if any(big in coin for big in large)]
    pairs = data.supported_pairs()
    listings: dict[str, list[tuple[str, str, str]]] = {}
    for exchange, rows in pairs.items():
        for row in rows:
            listing = (exchange, row["instrument_id"], row["quote_asset"])
            listings.setdefault(row["base_asset"], []).append(listing)
    for coin in small:
        assert listings[coin] == [
            ("Binance", f"{coin}USDT", "USDT"),
            ("Bybit", f"{coin}USDT", "USDT"),
        ]
    prices = [data.current_price("Binance", f"{coin}USDT") for coin in small]
    assert min(prices) < 0.0001
    assert max(prices) > 1000
    # Five significant digits whatever the price.
    assert all(
        10_000 <= data.COINS[c].price * 10 ** data.COINS[c].decimals < 100_000 for c in small
    )
    small_interest = sorted(data.COINS[coin].open_interest_usd for coin in small)
    assert (
        small_interest[len(small) // 2]
        < min(data.COINS[coin].open_interest_usd for coin in large) / 5
    )


def test_smaller_coins_have_markets_and_maps() -> None:
    coin = data.supported_coins()[-1]
    decimals = data.COINS[coin].decimals
    markets = data.pairs_markets(coin)
    assert [(row["exchange_name"], row["instrument_id"]) for row in markets] == [
        ("Binance", f"{coin}USDT"),
        ("Bybit", f"{coin}USDT"),
    ]
    assert markets[0]["current_price"] == data.current_price("Binance", f"{coin}USDT")
    liq_map = data.liquidation_map("Bybit", f"{coin}USDT", "7d")
    assert len(liq_map) > 150
    assert all(
        re.fullmatch(rf"\d+\.\d{{{decimals}}}" if decimals else r"\d+", key) for key in liq_map
    )
    listed = data.aggregated_map_by_instrument(coin, "1d")
    assert [item["instrument"]["exName"] for item in listed["data"]] == ["Binance", "Bybit"]
    assert data.aggregated_map_merged(coin, "1d")


def test_pair_lists_stay_cheap() -> None:
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        data.supported_pairs()
        data.pairs_markets("ETH")
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.01


def test_pairs_markets() -> None:
    rows = data.pairs_markets("BTC")
    assert len(rows) >= 8
    binance = next(row for row in rows if row["instrument_id"] == "BTCUSDT")
    assert binance["exchange_name"] == "Binance"
    assert binance["symbol"] == "BTC/USDT"
    assert binance["current_price"] == data.current_price("Binance", "BTCUSDT")
    assert 90_000 < binance["index_price"] < 105_000
    assert binance["open_interest_usd"] > 1e9
    assert "Gate.io" in {row["exchange_name"] for row in rows}  # as upstream spells it there
    assert data.pairs_markets("NOPE") == []


def test_a_pair_quoted_in_btc_has_its_map_in_btc_and_its_market_price_in_usd() -> None:
    listed = data.supported_pairs()["Binance"]
    assert {"instrument_id": "ETHBTC", "base_asset": "ETH", "quote_asset": "BTC"} in listed
    row = next(row for row in data.pairs_markets("ETH") if row["instrument_id"] == "ETHBTC")
    # As CoinGlass's pairs-markets gives it: current_price in USD, index_price in BTC.
    assert row["symbol"] == "ETH/BTC"
    assert 3_000 < row["current_price"] < 3_800
    assert 0.03 < row["index_price"] < 0.04
    map_prices = [float(r[0]) for r in all_rows(data.liquidation_map("Binance", "ETHBTC", "1d"))]
    assert 0.03 < min(map_prices) < max(map_prices) < 0.04
    heatmap = sandbox_heatmaps.pair_heatmap("Binance", "ETHBTC", "24h", "model1")
    assert 0.02 < heatmap["y_axis"][0] < heatmap["y_axis"][-1] < 0.05
    assert heatmap["price_candlesticks"][-1][4] == data.quoted_price("Binance", "ETHBTC")


def test_aggregated_shapes() -> None:
    merged = data.aggregated_map_merged("ETH", "1d")
    assert len(merged) > 200
    assert all(row[2] is None for row in all_rows(merged))
    listed = data.aggregated_map_by_instrument("ETH", "1d")
    assert listed["last_price"] == pytest.approx(3400, rel=0.01)
    eth_pairs = {
        (exchange, row["instrument_id"])
        for exchange, rows in data.supported_pairs().items()
        for row in rows
        # The coin map holds the pairs priced in dollars, not ETHBTC, whose levels are in BTC.
        if row["base_asset"] == "ETH" and row["quote_asset"] != "BTC"
    }
    items = listed["data"]
    listed_pairs = {(i["instrument"]["exName"], i["instrument"]["instrumentId"]) for i in items}
    assert listed_pairs == eth_pairs
    assert all(row[2] is None for item in items for row in all_rows(item["liqMapV2"]))
    assert data.aggregated_map_merged("NOPE", "1d") == {}
    assert data.aggregated_map_by_instrument("NOPE", "1d") == {}


@pytest.mark.parametrize("rows", [0, 1, 7, 50_000])
def test_huge_map_has_exact_row_count(rows: int) -> None:
    assert len(all_rows(data.huge_map(rows))) == rows


# -- server: normal answers ------------------------------------------------------------


def test_envelope_and_rate_headers(client: httpx.Client) -> None:
    first = client.get(PAIRS_PATH)
    second = client.get("/api/futures/supported-coins")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert int(first.headers["content-length"]) == len(first.content)
    assert first.content.startswith(b'{"code":"0","msg":"success","data":{"Binance":[{')
    assert first.http_version == "HTTP/1.1"
    assert first.headers.get("connection", "").lower() != "close"
    assert first.json()["data"] == data.supported_pairs()
    assert second.json()["data"] == data.supported_coins()
    assert first.headers["API-KEY-MAX-LIMIT"] == "1200"
    assert (first.headers["API-KEY-USE-LIMIT"], second.headers["API-KEY-USE-LIMIT"]) == ("1", "2")


def test_a_key_is_limited_over_a_sliding_window_shared_by_its_users(server: SandboxServer) -> None:
    now = [1000.0]
    server.clock = lambda: now[0]
    server.add_key("shared-key", limit=5)
    server.spend("shared-key", 3)  # the key's other users, at t = 1000
    with httpx.Client(base_url=server.url, headers={"CG-API-KEY": "shared-key"}) as shared:
        now[0] = 1030.0
        uses = [shared.get(PAIRS_PATH).headers["API-KEY-USE-LIMIT"] for _ in range(2)]
        assert uses == ["4", "5"]
        refused = shared.get(PAIRS_PATH)
        assert refused.status_code == 429
        assert refused.headers["API-KEY-MAX-LIMIT"] == "5"
        assert refused.headers["API-KEY-USE-LIMIT"] == "5"
        assert server.limit_refusals == 1
        now[0] = 1060.0  # the other users' three requests leave the window; ours stay
        assert shared.get(PAIRS_PATH).headers["API-KEY-USE-LIMIT"] == "3"
        server.rate_window_secs = 10.0
        # A shorter window keeps only the request just before and this one.
        assert shared.get(PAIRS_PATH).headers["API-KEY-USE-LIMIT"] == "2"
        server.spend("shared-key", 2, on_next_request=True)
        now[0] = 1069.0  # the requests at 1060 are still counted, and so are the two spent now
        assert shared.get(PAIRS_PATH).headers["API-KEY-USE-LIMIT"] == "5"
    assert server.limit_refusals == 1


def pairs_of(server: SandboxServer) -> httpx.Response:
    return httpx.get(f"{server.url}{PAIRS_PATH}", headers={"CG-API-KEY": server.PRO_KEY})


def test_requests_meet_before_they_are_answered(server: SandboxServer) -> None:
    server.meet(3)
    ask = functools.partial(pairs_of, server)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        early = [pool.submit(ask) for _ in range(2)]
        while len(server.requests) < 2:  # both have arrived, and wait for the third
            time.sleep(0.01)
        assert not any(future.done() for future in early)
        late = pool.submit(ask)
        answers = [future.result(timeout=10) for future in [*early, late]]
    assert [answer.status_code for answer in answers] == [200] * 3
    assert ask().status_code == 200  # the meeting is over: the next request is not held


def test_a_meeting_cut_short_by_a_reset_is_sent_away_uncounted(server: SandboxServer) -> None:
    server.meet(3)
    ask = functools.partial(pairs_of, server)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        held = [pool.submit(ask) for _ in range(2)]
        while len(server.requests) < 2:
            time.sleep(0.01)
        server.reset()  # the next test starts
        assert [future.result(timeout=10).status_code for future in held] == [503, 503]
    assert ask().headers["API-KEY-USE-LIMIT"] == "1"  # neither held request was counted


def test_exchange_filter_and_other_lists(client: httpx.Client) -> None:
    apex = client.get(PAIRS_PATH, params={"exchange": "ApeX Omni"}).json()["data"]
    assert list(apex) == ["ApeX Omni"]
    assert client.get(PAIRS_PATH, params={"exchange": "Kraken"}).json()["data"] == {}
    exchanges = client.get("/api/futures/supported-exchanges").json()["data"]
    assert exchanges == data.supported_exchanges()
    markets = client.get("/api/futures/pairs-markets", params={"symbol": "SOL"}).json()["data"]
    assert markets == data.pairs_markets("SOL")
    subscription = client.get("/api/user/account/subscription").json()["data"]
    assert subscription == {"level": "PROFESSIONAL", "expired": False}


def test_pair_and_coin_maps(client: httpx.Client, server: SandboxServer) -> None:
    pair = client.get(MAP_PATH, params=BTC_MAP)
    assert map_of(pair) == data.liquidation_map("Binance", "BTCUSDT", "1d")
    coin = client.get(AGGREGATED_MAP_PATH, params=BTC_COIN)
    assert map_of(coin) == data.aggregated_map_merged("BTC", "1d")
    server.aggregated_shape = "by_instrument"
    listed = client.get(AGGREGATED_MAP_PATH, params=BTC_COIN).json()["data"]
    assert listed == data.aggregated_map_by_instrument("BTC", "1d")
    unknown = client.get(AGGREGATED_MAP_PATH, params={"symbol": "NOPE", "range": "1d"})
    assert unknown.json() == {"code": "0", "msg": "success", "data": {"data": {}}}
    with pytest.raises(ValueError, match="aggregated_shape"):
        server.aggregated_shape = "nested"


def test_unknown_pair_gives_empty_map(client: httpx.Client) -> None:
    params = {"exchange": "Binance", "symbol": "NOPEUSDT", "range": "1d"}
    response = client.get(MAP_PATH, params=params)
    assert response.json() == {"code": "0", "msg": "success", "data": {"data": {}}}


@pytest.mark.parametrize(
    ("path", "params", "missing"),
    [
        (MAP_PATH, {"symbol": "BTCUSDT", "range": "1d"}, "exchange"),
        (MAP_PATH, {"exchange": "Binance", "range": "1d"}, "symbol"),
        (MAP_PATH, {"exchange": "Binance", "symbol": "BTCUSDT", "range": ""}, "range"),
        (AGGREGATED_MAP_PATH, {"range": "1d"}, "symbol"),
        (AGGREGATED_MAP_PATH, {"symbol": "BTC"}, "range"),
        ("/api/futures/pairs-markets", {}, "symbol"),
    ],
)
def test_missing_parameter_is_named(
    client: httpx.Client, path: str, params: dict[str, str], missing: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "400"
    assert missing in body["msg"]


@pytest.mark.parametrize("path", [MAP_PATH, AGGREGATED_MAP_PATH])
def test_a_map_range_it_does_not_take_is_a_server_error_body(
    client: httpx.Client, server: SandboxServer, path: str
) -> None:
    def answer(range_: str) -> tuple[int, dict[str, Any]]:
        response = client.get(path, params={**BTC_MAP, "range": range_})
        return response.status_code, response.json()

    # As CoinGlass answered live: HTTP 200, code "500", for every range it does not document.
    refused = (200, {"code": "500", "msg": "Server Error"})
    assert [answer(r)[1]["code"] for r in ("1d", "7d", "30d")] == ["0", "0", "0"]
    assert [answer(r) for r in ("90d", "180d", "365d", "2d", "12h")] == [refused] * 5
    server.accepted_ranges = {"1d", "7d", "30d", "12h", "forever"}
    assert [answer(r)[1]["code"] for r in ("30d", "90d", "12h", "forever")] == [
        "0",
        "500",
        "0",
        "500",
    ]


def test_a_heatmap_range_it_does_not_take_is_a_bad_parameter(client: httpx.Client) -> None:
    path = f"{PAIR_HEATMAP_PATH}/model1"
    assert client.get(path, params={**BTC_MAP, "range": "90d"}).json()["code"] == "0"
    body = client.get(path, params={**BTC_MAP, "range": "1d"}).json()
    assert (body["code"], body["msg"]) == ("400", "range is invalid")


def test_a_young_coin_has_no_heatmap_over_more_history_than_it_has(client: httpx.Client) -> None:
    coin = max(data.LISTED_DAYS, key=data.LISTED_DAYS.__getitem__)
    exchange, instrument = data.pairs_of(coin)[0]
    for path, query in (
        (f"{COIN_HEATMAP_PATH}/model2", {"symbol": coin}),
        (f"{PAIR_HEATMAP_PATH}/model2", {"exchange": exchange, "symbol": instrument}),
    ):
        codes = {
            range_: client.get(path, params={**query, "range": range_}).json()["code"]
            for range_ in ("30d", "90d", "180d", "1y")
        }
        assert codes == {"30d": "0", "90d": "500", "180d": "500", "1y": "500"}, path
    btc = client.get(f"{COIN_HEATMAP_PATH}/model2", params={"symbol": "BTC", "range": "1y"})
    assert btc.json()["code"] == "0"


def test_unknown_path(client: httpx.Client) -> None:
    for path in ("/api/futures/liquidation/heatmap", "/favicon.ico"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"code": "404", "msg": "Endpoint not found"}


# -- server: keys and plans -----------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "msg"),
    [
        ({}, "API key missing."),
        ({"coinglassSecret": SandboxServer.PRO_KEY}, "API key missing."),
        ({"CG-API-KEY": "someone-elses-key"}, "Invalid API key provided"),
    ],
)
def test_key_errors(server: SandboxServer, headers: dict[str, str], msg: str) -> None:
    response = httpx.get(f"{server.url}{PAIRS_PATH}", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"code": "400", "msg": msg}
    assert "API-KEY-USE-LIMIT" not in response.headers


PROFESSIONAL_ONLY = [
    (MAP_PATH, BTC_MAP),
    (AGGREGATED_MAP_PATH, BTC_COIN),
    ("/api/futures/liquidation/heatmap/model2", {**BTC_MAP, "range": "24h"}),
    ("/api/futures/liquidation/aggregated-heatmap/model3", {"symbol": "BTC", "range": "24h"}),
]


@pytest.mark.parametrize(
    ("key", "level", "limit"),
    [(SandboxServer.HOBBY_KEY, "HOBBYIST", "30"), (SandboxServer.STANDARD_KEY, "STANDARD", "300")],
)
def test_lower_plans_get_what_the_plan_table_gives_them(
    server: SandboxServer, key: str, level: str, limit: str
) -> None:
    with httpx.Client(base_url=server.url, headers={"CG-API-KEY": key}) as http:
        pairs = http.get(PAIRS_PATH)
        assert pairs.json()["data"] == data.supported_pairs()
        assert pairs.headers["API-KEY-MAX-LIMIT"] == limit
        subscription = http.get("/api/user/account/subscription").json()["data"]
        assert subscription == {"level": level, "expired": False}
        markets = http.get("/api/futures/pairs-markets", params={"symbol": "BTC"}).json()
        assert markets["data"] == data.pairs_markets("BTC")
        for path, params in PROFESSIONAL_ONLY:
            response = http.get(path, params=params)
            assert response.status_code == 200
            assert response.json() == {"code": "401", "msg": "Upgrade plan"}


def test_key_is_never_echoed(server: SandboxServer) -> None:
    server.add_faults("http_500_spring", "http_502_html")
    for key in (SandboxServer.PRO_KEY, "leaky-secret-value"):
        with httpx.Client(base_url=server.url, headers={"CG-API-KEY": key}) as http:
            for path in (PAIRS_PATH, MAP_PATH, "/api/user/account/subscription", "/nope"):
                response = http.get(path, params={"symbol": key})
                assert key not in response.text
                assert key not in str(response.headers)


def test_requests_are_recorded(client: httpx.Client, server: SandboxServer) -> None:
    client.get(PAIRS_PATH, params={"exchange": "ApeX Omni"}, headers={"X-Trace": "1"})
    client.get(MAP_PATH, params=BTC_MAP)
    first, second = server.requests
    assert (first.method, first.path, first.query) == ("GET", PAIRS_PATH, {"exchange": "ApeX Omni"})
    assert first.headers["cg-api-key"] == SandboxServer.PRO_KEY
    assert first.headers["x-trace"] == "1"
    assert (second.path, second.query) == (MAP_PATH, BTC_MAP)
    rejected = client.post("/api/futures/supported-coins", json={})
    assert (rejected.status_code, rejected.json()["code"]) == (405, "405")
    assert server.requests[-1].method == "POST"
    server.reset()
    assert server.requests == []


# -- server: faults -----------------------------------------------------------------

Check = Callable[[httpx.Response], None]


def json_body(expected: dict[str, Any]) -> Check:
    def check(response: httpx.Response) -> None:
        assert response.headers["content-type"] == "application/json"
        assert response.json() == expected

    return check


def short_text(response: httpx.Response) -> None:
    assert len(response.content) < 100
    assert "retry-after" not in response.headers


def html_page(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "text/html"
    assert response.text.lstrip().startswith("<html>")


def spring_error(response: httpx.Response) -> None:
    body = response.json()
    assert (body["status"], body["error"], body["path"]) == (500, "Internal Server Error", MAP_PATH)
    assert re.match(r"\d{4}-\d\d-\d\dT", body["timestamp"])


def truncated(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "application/json"
    assert response.text.startswith('{"code":"0"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def plain_text(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "text/plain"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


@pytest.mark.parametrize(
    ("fault", "status", "check"),
    [
        ("http_429", 429, short_text),
        ("http_500_spring", 500, spring_error),
        ("http_502_html", 502, html_page),
        ("http_503", 503, html_page),
        ("http_408", 408, json_body({"code": "408", "msg": "Request Timeout"})),
        ("truncated_json", 200, truncated),
        ("not_json", 200, plain_text),
        ("unknown_shape", 200, json_body({"result": "ok", "items": []})),
        ("upgrade_plan", 200, json_body({"code": "401", "msg": "Upgrade plan"})),
        (
            "upgrade_plan_success_false",
            200,
            json_body({"code": "401", "msg": "Upgrade plan", "success": False}),
        ),
        (
            "upgrade_plan_data_list",
            200,
            json_body({"code": "401", "msg": "Upgrade plan", "data": []}),
        ),
        ("upgrade_plan_40001", 200, json_body({"code": "40001", "msg": "Upgrade plan"})),
        ("key_missing", 200, json_body({"code": "400", "msg": "API key missing."})),
        ("invalid_key_200", 200, json_body({"code": "400", "msg": "Invalid API key provided"})),
        ("invalid_key_401", 401, json_body({"code": "401", "msg": "Invalid API key provided"})),
        ("bad_param", 200, json_body({"code": "400", "msg": "symbol is invalid"})),
        ("endpoint_not_found", 404, json_body({"code": "404", "msg": "Endpoint not found"})),
    ],
)
def test_replacing_faults(
    client: httpx.Client, server: SandboxServer, fault: str, status: int, check: Check
) -> None:
    server.add_faults(fault)
    response = client.get(MAP_PATH, params=BTC_MAP)
    assert response.status_code == status
    check(response)
    assert client.get(MAP_PATH, params=BTC_MAP).json()["code"] == "0"


@pytest.mark.parametrize(
    "retry_after", [7, formatdate(time.time() + 30, usegmt=True)], ids=["seconds", "http date"]
)
def test_retry_after(client: httpx.Client, server: SandboxServer, retry_after: int | str) -> None:
    server.add_faults(Fault("http_429_retry_after", retry_after=retry_after))
    response = client.get(MAP_PATH, params=BTC_MAP)
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(retry_after)


def test_reset_drops_the_connection(client: httpx.Client, server: SandboxServer) -> None:
    server.add_faults("reset")
    with pytest.raises(httpx.TransportError):
        client.get(MAP_PATH, params=BTC_MAP)
    assert client.get(MAP_PATH, params=BTC_MAP).status_code == 200


def test_slow_answers_normally(client: httpx.Client, server: SandboxServer) -> None:
    server.add_faults(Fault("slow", seconds=0.3))
    started = time.perf_counter()
    response = client.get(PAIRS_PATH)
    assert time.perf_counter() - started >= 0.3
    assert response.json()["code"] == "0"
    server.add_faults(Fault("slow", seconds=0.5))
    with pytest.raises(httpx.ReadTimeout):
        client.get(PAIRS_PATH, timeout=0.1)


def test_map_altering_faults(client: httpx.Client, server: SandboxServer) -> None:
    server.add_faults("empty_map", Fault("huge_map", rows=50_000), "msg_absent")
    assert client.get(MAP_PATH, params=BTC_MAP).json()["data"] == {"data": {}}
    assert len(all_rows(map_of(client.get(MAP_PATH, params=BTC_MAP)))) == 50_000
    body = client.get(MAP_PATH, params=BTC_MAP).json()
    assert "msg" not in body
    assert body["code"] == "0"
    assert body["data"]["data"]
    server.aggregated_shape = "by_instrument"
    server.add_faults("empty_map", Fault("huge_map", rows=10))
    assert client.get(AGGREGATED_MAP_PATH, params=BTC_COIN).json()["data"]["data"] == []
    (item,) = client.get(AGGREGATED_MAP_PATH, params=BTC_COIN).json()["data"]["data"]
    assert len(all_rows(item["liqMapV2"])) == 10


def test_map_altering_faults_still_check_the_key(server: SandboxServer) -> None:
    server.add_faults("empty_map")
    response = httpx.get(f"{server.url}{MAP_PATH}", params=BTC_MAP, headers=HOBBY)
    assert response.json()["msg"] == "Upgrade plan"


def test_fault_queue_follows_order_and_path(client: httpx.Client, server: SandboxServer) -> None:
    server.add_faults("http_503", "http_429", path=MAP_PATH)
    assert client.get(AGGREGATED_MAP_PATH, params=BTC_COIN).status_code == 200
    assert client.get(PAIRS_PATH).status_code == 200
    statuses = [client.get(MAP_PATH, params=BTC_MAP).status_code for _ in range(3)]
    assert statuses == [503, 429, 200]
    server.add_faults("http_408")
    assert client.get("/api/futures/supported-coins").status_code == 408


def test_permanent_fault_until_cleared(client: httpx.Client, server: SandboxServer) -> None:
    server.set_fault("http_429", path="/api/futures/liquidation/")
    assert client.get(PAIRS_PATH).status_code == 200
    assert {client.get(MAP_PATH, params=BTC_MAP).status_code for _ in range(3)} == {429}
    server.add_faults("http_503")
    assert [client.get(AGGREGATED_MAP_PATH, params=BTC_COIN).status_code for _ in "ab"] == [
        503,
        429,
    ]
    server.set_fault(None, path="/api/futures/liquidation/")
    assert client.get(MAP_PATH, params=BTC_MAP).status_code == 200
    server.set_fault("http_502_html")
    server.reset()
    assert client.get(MAP_PATH, params=BTC_MAP).status_code == 200


def test_unknown_fault_is_refused(server: SandboxServer) -> None:
    with pytest.raises(ValueError, match="fault"):
        server.add_faults("http_418")


# -- server: map encodings, latency, lifecycle ----------------------------------------


def test_strings_variant(client: httpx.Client, server: SandboxServer) -> None:
    server.map_variant = "strings"
    rows = all_rows(map_of(client.get(MAP_PATH, params=BTC_MAP)))
    assert all(isinstance(value, str) for row in rows for value in row[:3])
    assert all(row[3] in (None, "h1", "h2", "h3") for row in rows)
    assert all(re.fullmatch(r"\d+", row[0]) and re.fullmatch(r"\d+\.\d\d", row[1]) for row in rows)
    pepe = {"exchange": "Binance", "symbol": "PEPEUSDT", "range": "1d"}
    assert all("e" not in row[0] for row in all_rows(map_of(client.get(MAP_PATH, params=pepe))))
    coin_rows = all_rows(map_of(client.get(AGGREGATED_MAP_PATH, params=BTC_COIN)))
    assert all(isinstance(row[1], str) and row[2] is None for row in coin_rows)


def test_short_rows_bands_and_decimal_keys(client: httpx.Client, server: SandboxServer) -> None:
    server.map_variant = "short_rows"
    lengths = {len(row) for row in all_rows(map_of(client.get(MAP_PATH, params=BTC_MAP)))}
    assert lengths == {2, 3, 4}
    server.map_variant = "bands"
    for path, params in ((MAP_PATH, BTC_MAP), (AGGREGATED_MAP_PATH, BTC_COIN)):
        rows = all_rows(map_of(client.get(path, params=params)))
        assert {row[3] for row in rows} == {"h1", "h2", "h3"}
    server.map_variant = "decimal_keys"
    keys = map_of(client.get(MAP_PATH, params=BTC_MAP))
    assert all(re.fullmatch(r"\d+\.5", key) for key in keys)
    server.reset()
    assert server.map_variant == "standard"
    with pytest.raises(ValueError, match="map_variant"):
        server.map_variant = "xml"


def test_latency_overlaps_between_requests() -> None:
    with SandboxServer(latency_ms=300) as server:
        url = f"{server.url}/api/futures/supported-coins"
        statuses: list[int] = []

        def fetch() -> None:
            statuses.append(httpx.get(url, headers=PRO).status_code)

        threads = [threading.Thread(target=fetch) for _ in range(4)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    assert statuses == [200] * 4
    assert 0.3 <= elapsed < 0.9


def test_stop_closes_open_connections() -> None:
    server = SandboxServer().start()
    with httpx.Client(base_url=server.url, headers=PRO) as http:
        assert http.get(PAIRS_PATH).status_code == 200
        server.stop()
        with pytest.raises(httpx.TransportError):
            http.get(PAIRS_PATH)
    with pytest.raises(RuntimeError):
        _ = server.url


@pytest.mark.process
def test_cli_prints_url_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, str(SERVER_SCRIPT), "--port", "0", "--latency-ms", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"SANDBOX_URL=(http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        response = httpx.get(f"{match.group(1)}{PAIRS_PATH}", headers=PRO, timeout=5)
        assert response.json()["data"]["Binance"][0]["instrument_id"] == "BTCUSDT"
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=5)
    assert process.returncode == 0
    assert (stdout, stderr) == ("", "")


def test_added_keys_get_their_plan_until_reset(server: SandboxServer) -> None:
    server.add_key("standard-key", "STANDARD")
    with httpx.Client(base_url=server.url, headers={"CG-API-KEY": "standard-key"}) as http:
        pairs = http.get(PAIRS_PATH)
        assert pairs.json()["code"] == "0"
        assert pairs.headers["API-KEY-MAX-LIMIT"] == "300"
        assert http.get(MAP_PATH, params=BTC_MAP).json() == {"code": "401", "msg": "Upgrade plan"}
        server.reset()
        assert http.get(PAIRS_PATH).json()["msg"] == "Invalid API key provided"
    with pytest.raises(ValueError, match="unknown plan"):
        server.add_key("x", "GOLD")


def test_peak_in_flight_counts_overlapping_requests(server: SandboxServer) -> None:
    server.latency_ms = 200
    with httpx.Client(base_url=server.url, headers=PRO) as http:
        responses = list(
            concurrent.futures.ThreadPoolExecutor(3).map(lambda _: http.get(PAIRS_PATH), range(3))
        )
    assert [r.status_code for r in responses] == [200] * 3
    assert server.peak_in_flight(PAIRS_PATH) == 3
    assert server.peak_in_flight(MAP_PATH) == 0


# ---------------------------------------------------------------- heatmaps


@pytest.mark.parametrize("model", sandbox_heatmaps.HEATMAP_MODELS)
@pytest.mark.parametrize("range_", sandbox_heatmaps.HEATMAP_RANGES)
def test_heatmaps_are_consistent_for_every_model_and_range(model: str, range_: str) -> None:
    heatmap = sandbox_heatmaps.pair_heatmap("Binance", "BTCUSDT", range_, model)
    candles, prices = heatmap["price_candlesticks"], heatmap["y_axis"]
    cells = heatmap["liquidation_leverage_data"]
    assert 100 <= len(candles) <= 400
    assert len(prices) == sandbox_heatmaps.PRICE_LEVELS
    assert prices == sorted(prices)
    assert candles[-1][4] == data.current_price("Binance", "BTCUSDT")
    assert [c[0] for c in candles] == sorted({c[0] for c in candles})  # one candle per time
    assert all(low <= min(o, c) and max(o, c) <= high for _, o, high, low, c, _ in candles)
    assert prices[0] < min(c[3] for c in candles) < max(c[2] for c in candles) < prices[-1]
    # Sparse, and inside the grid: no cell where the price traded within its candle.
    assert 0.05 < len(cells) / (len(candles) * len(prices)) < 0.7
    for x, y, value in cells:
        assert value > 0
        assert not candles[x][3] <= prices[y] <= candles[x][2]
    assert sandbox_heatmaps.pair_heatmap("Binance", "BTCUSDT", range_, model) == heatmap


def test_heatmap_models_differ_and_unknown_pairs_are_empty() -> None:
    pictures = [
        sandbox_heatmaps.pair_heatmap("OKX", "BTC-USDT-SWAP", "24h", model)
        for model in sandbox_heatmaps.HEATMAP_MODELS
    ]
    assert len({len(p["liquidation_leverage_data"]) for p in pictures}) == 3
    assert sandbox_heatmaps.pair_heatmap("Binance", "NOSUCH", "24h", "model1")["y_axis"] == []
    assert sandbox_heatmaps.coin_heatmap("NOSUCH", "24h", "model1")["y_axis"] == []


@pytest.mark.parametrize("variant", sandbox_heatmaps.HEATMAP_VARIANTS)
def test_heatmap_endpoints_serve_every_variant(
    server: SandboxServer, client: httpx.Client, variant: str
) -> None:
    server.heatmap_variant = variant
    path = "/api/futures/liquidation/aggregated-heatmap/model3"
    body = client.get(path, params={"symbol": "ETH", "range": "7d"}).json()
    assert body["code"] == "0"
    names = (
        {"y", "liq", "prices"}
        if variant == "v3"
        else {
            "y_axis",
            "liquidation_leverage_data",
            "price_candlesticks",
        }
    )
    assert names <= set(body["data"])
    assert ("update_time" in body["data"]) is (variant != "no_update_time")
    expected = sandbox_heatmaps.encoded(
        sandbox_heatmaps.coin_heatmap("ETH", "7d", "model3"), variant
    )
    assert body["data"] == json.loads(json.dumps(expected))


def test_heatmaps_take_their_own_ranges_and_the_pro_plan(
    server: SandboxServer, client: httpx.Client
) -> None:
    path = "/api/futures/liquidation/heatmap/model1"
    query = {"exchange": "Binance", "symbol": "BTCUSDT"}
    assert client.get(path, params={**query, "range": "12h"}).json()["code"] == "0"
    assert client.get(path, params={**query, "range": "1d"}).json()["code"] == "400"
    hobby = httpx.get(f"{server.url}{path}", params={**query, "range": "12h"}, headers=HOBBY)
    assert hobby.json()["code"] == "401"


# ---------------------------------------------------------------- max pain

MAX_PAIN_FIELDS = [
    "symbol",
    "price",
    "long_max_pain_liq_level",
    "long_max_pain_liq_price",
    "short_max_pain_liq_level",
    "short_max_pain_liq_price",
]


def by_symbol(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["symbol"]: item for item in items}


def edge_coins() -> set[str]:
    return set(data.MAX_PAIN_ONE_SIDED) | data.MAX_PAIN_EQUAL_LEVELS


def decimals_of(number: float) -> int:
    return len(repr(number).partition(".")[2]) if "e" not in repr(number) else 99


def test_max_pain_lists_every_coin_but_a_few_young_ones() -> None:
    items = data.max_pain("24h", {})
    symbols = [item["symbol"] for item in items]
    assert len(data.NOT_IN_MAX_PAIN) == 10
    assert set(symbols) == set(data.supported_coins()) - data.NOT_IN_MAX_PAIN
    assert len(symbols) == len(set(symbols)) == 559
    assert symbols[:2] == ["BTC", "ETH"]
    # By open interest, but not strictly: a few coins are out of place.
    interest = [data.COINS[symbol].open_interest_usd for symbol in symbols]
    in_order = sum(a >= b for a, b in itertools.pairwise(interest))
    assert len(symbols) * 0.95 < in_order < len(symbols) - 1
    assert symbols != sorted(symbols)
    assert all(
        list(item) == MAX_PAIN_FIELDS for item in items if item["symbol"] not in edge_coins()
    )


@pytest.mark.parametrize("range_", data.MAX_PAIN_RANGES)
def test_max_pain_sides_lie_on_either_side_of_the_price(range_: str) -> None:
    for item in data.max_pain(range_, {}):
        if item["symbol"] in data.MAX_PAIN_ONE_SIDED:
            continue
        coin = data.COINS[item["symbol"]]
        price = item["price"]
        if item["symbol"] == data.MAX_PAIN_INTEGER_PRICE:
            assert price == round(coin.price)
        else:
            assert price == round(coin.price, coin.decimals)
        long_distance = 1 - item["long_max_pain_liq_price"] / price
        short_distance = item["short_max_pain_liq_price"] / price - 1
        assert 0.002 <= long_distance <= 0.08
        assert 0.002 <= short_distance <= 0.08
        for side in ("long", "short"):
            level = item[f"{side}_max_pain_liq_level"]
            assert isinstance(level, float)
            assert 1e-4 < level / coin.open_interest_usd < 1e-2
            assert decimals_of(level) <= 2
            assert isinstance(item[f"{side}_max_pain_liq_price"], float)
            assert (
                round(item[f"{side}_max_pain_liq_price"], coin.decimals + 1)
                == (item[f"{side}_max_pain_liq_price"])
            )


def test_max_pain_reaches_further_for_longer_ranges() -> None:
    def distances(range_: str) -> dict[str, tuple[float, float]]:
        return {
            item["symbol"]: (
                1 - item["long_max_pain_liq_price"] / item["price"],
                item["short_max_pain_liq_price"] / item["price"] - 1,
            )
            for item in data.max_pain(range_, {})
            if item["symbol"] not in data.MAX_PAIN_ONE_SIDED
        }

    by_range = [distances(range_) for range_ in data.MAX_PAIN_RANGES]
    for shorter, longer in itertools.pairwise(by_range):
        for symbol, (long_distance, short_distance) in shorter.items():
            assert long_distance < longer[symbol][0]
            assert short_distance < longer[symbol][1]
    assert max(d for pair in by_range[0].values() for d in pair) < 0.01
    assert min(d for pair in by_range[-1].values() for d in pair) > 0.015


def test_max_pain_edge_items() -> None:
    items = by_symbol(data.max_pain("3d", {}))
    integers = [item["symbol"] for item in items.values() if isinstance(item["price"], int)]
    assert integers == [data.MAX_PAIN_INTEGER_PRICE]
    assert items[data.MAX_PAIN_INTEGER_PRICE]["price"] == round(
        data.COINS[data.MAX_PAIN_INTEGER_PRICE].price
    )
    assert len(data.MAX_PAIN_EQUAL_LEVELS) == 3
    for symbol in data.MAX_PAIN_EQUAL_LEVELS:
        item = items[symbol]
        assert item["long_max_pain_liq_level"] == item["short_max_pain_liq_level"] > 0
        assert item["long_max_pain_liq_price"] < item["price"] < item["short_max_pain_liq_price"]
    gaps = sorted(data.MAX_PAIN_ONE_SIDED.values())
    assert gaps == sorted((side, gap) for side in ("long", "short") for gap in data.MAX_PAIN_GAPS)
    for symbol, (side, gap) in data.MAX_PAIN_ONE_SIDED.items():
        item = items[symbol]
        other = "short" if side == "long" else "long"
        level, price = f"{side}_max_pain_liq_level", f"{side}_max_pain_liq_price"
        if gap == "absent":
            assert level not in item
            assert price not in item
        else:
            assert item[level] == item[price] == (None if gap == "null" else 0)
        assert item[f"{other}_max_pain_liq_level"] > 0
        beyond = item[f"{other}_max_pain_liq_price"] / item["price"] - 1
        assert beyond < 0 if other == "long" else beyond > 0


def test_max_pain_orientations() -> None:
    live = by_symbol(data.max_pain("24h", {}))
    docs = by_symbol(data.max_pain("24h", {}, "docs"))
    mixed = by_symbol(data.max_pain("24h", {}, "mixed"))
    assert list(docs) == list(mixed) == list(live)

    def swapped(item: dict[str, Any]) -> dict[str, Any]:
        names = {"long": "short", "short": "long"}
        result = {"symbol": item["symbol"], "price": item["price"]}
        for side in ("long", "short"):
            for field in ("level", "price"):
                if f"{names[side]}_max_pain_liq_{field}" in item:
                    result[f"{side}_max_pain_liq_{field}"] = item[
                        f"{names[side]}_max_pain_liq_{field}"
                    ]
        return result

    assert all(docs[symbol] == swapped(item) for symbol, item in live.items())
    btc = docs["BTC"]
    assert btc["long_max_pain_liq_price"] > btc["price"] > btc["short_max_pain_liq_price"]
    assert {"ETH", "DOGE"} < data.MAX_PAIN_MIXED_SWAPPED < set(live)
    assert 4 <= len(data.MAX_PAIN_MIXED_SWAPPED) <= 10
    for symbol, item in live.items():
        expected = swapped(item) if symbol in data.MAX_PAIN_MIXED_SWAPPED else item
        assert mixed[symbol] == expected
    with pytest.raises(ValueError, match="orientation"):
        data.max_pain("24h", {}, "upside-down")
    with pytest.raises(ValueError, match="range"):
        data.max_pain("1d", {})


def test_max_pain_moves_with_the_market() -> None:
    still = by_symbol(data.max_pain("7d", {}))
    moved = by_symbol(data.max_pain("7d", {"SOL": -10.0}))
    assert moved["SOL"]["price"] == 171.0
    for side in ("long", "short"):
        level, price = f"{side}_max_pain_liq_level", f"{side}_max_pain_liq_price"
        assert moved["SOL"][level] == still["SOL"][level]
        assert moved["SOL"][price] == pytest.approx(still["SOL"][price] * 0.9, abs=0.002)
    assert {k: v for k, v in moved.items() if k != "SOL"} == {
        k: v for k, v in still.items() if k != "SOL"
    }


def test_max_pain_endpoint(server: SandboxServer, client: httpx.Client) -> None:
    def served(**params: str) -> Any:
        response = client.get(MAX_PAIN_PATH, params=params)
        assert response.status_code == 200
        return response.json()

    assert served(range="48h") == {
        "code": "0",
        "msg": "success",
        "data": data.max_pain("48h", {}),
    }
    assert served()["data"] == served(range="24h")["data"] == data.max_pain("24h", {})
    for refused in ("1d", "90d", "24H", ""):
        assert served(range=refused) == {"code": "500", "msg": "Server Error"}
    server.move_market("ETH", 5)
    server.max_pain_orientation = "docs"
    assert served(range="12h")["data"] == data.max_pain("12h", {"ETH": 5}, "docs")
    server.max_pain_orientation = "mixed"
    assert served(range="30d")["data"] == data.max_pain("30d", {"ETH": 5}, "mixed")
    with pytest.raises(ValueError, match="max_pain_orientation"):
        server.max_pain_orientation = "sideways"
    server.reset()
    assert server.max_pain_orientation == "live"
    assert served(range="30d")["data"] == data.max_pain("30d", {})


@pytest.mark.parametrize("key", [SandboxServer.HOBBY_KEY, SandboxServer.STANDARD_KEY])
def test_max_pain_needs_the_professional_plan(server: SandboxServer, key: str) -> None:
    response = httpx.get(f"{server.url}{MAX_PAIN_PATH}", headers={"CG-API-KEY": key})
    assert response.status_code == 200
    assert response.json() == {"code": "401", "msg": "Upgrade plan"}


# ---------------------------------------------------------------- coins markets

WINDOWS = ("1h", "4h", "24h")
MARKET_FIELDS = {
    "symbol",
    "current_price",
    "avg_funding_rate_by_oi",
    "avg_funding_rate_by_vol",
    "market_cap_usd",
    "open_interest_market_cap_ratio",
    "open_interest_usd",
    "open_interest_quantity",
    *(
        f"{group}_{window}"
        for group in (
            "open_interest_change_percent",
            "price_change_percent",
            "long_short_ratio",
            "liquidation_usd",
            "long_liquidation_usd",
            "short_liquidation_usd",
        )
        for window in WINDOWS
    ),
}


def test_coins_markets_lists_most_coins_by_open_interest() -> None:
    rows = data.coins_markets({})
    symbols = [row["symbol"] for row in rows]
    assert len(symbols) == len(set(symbols)) == 509
    assert set(symbols) == set(data.supported_coins()) - data.NOT_IN_COINS_MARKETS
    in_max_pain = {item["symbol"] for item in data.max_pain("24h", {})}
    assert in_max_pain - set(symbols) == data.NOT_IN_COINS_MARKETS
    assert len(data.NOT_IN_COINS_MARKETS) == 60
    assert set(symbols) - in_max_pain == data.NOT_IN_MAX_PAIN
    interest = [row["open_interest_usd"] for row in rows]
    assert interest == sorted(interest, reverse=True)
    assert symbols[:2] == ["BTC", "ETH"]
    btc = rows[0]
    assert set(btc) == MARKET_FIELDS
    assert list(btc)[:2] == ["symbol", "current_price"]
    assert btc["current_price"] == 97_000
    assert btc["open_interest_usd"] == pytest.approx(data.COINS["BTC"].open_interest_usd)
    for row in rows:
        coin = data.COINS[row["symbol"]]
        assert set(row) <= MARKET_FIELDS
        assert row["current_price"] == round(coin.price, coin.decimals)
        quantity = row["open_interest_usd"] / row["current_price"]
        assert row["open_interest_quantity"] == pytest.approx(quantity, rel=1e-6)
        for window in WINDOWS:
            long, short = (
                row[f"long_liquidation_usd_{window}"],
                row[f"short_liquidation_usd_{window}"],
            )
            if long is not None:
                assert row[f"liquidation_usd_{window}"] == pytest.approx(long + short, abs=0.011)


def test_coins_markets_liquidations_follow_the_price() -> None:
    rows = data.coins_markets({})
    falling = [row for row in rows if row["price_change_percent_24h"] < -3]
    rising = [row for row in rows if row["price_change_percent_24h"] > 3]
    assert len(falling) > 20
    assert len(rising) > 20
    assert all(r["long_liquidation_usd_24h"] > 2 * r["short_liquidation_usd_24h"] for r in falling)
    assert all(r["short_liquidation_usd_24h"] > 2 * r["long_liquidation_usd_24h"] for r in rising)
    sol = next(row for row in rows if row["symbol"] == "SOL")
    moved = next(row for row in data.coins_markets({"SOL": -10}) if row["symbol"] == "SOL")
    assert moved["current_price"] == 171.0
    expected = ((1 + sol["price_change_percent_24h"] / 100) * 0.9 - 1) * 100
    assert moved["price_change_percent_24h"] == pytest.approx(expected, abs=0.01)
    assert moved["open_interest_usd"] == pytest.approx(sol["open_interest_usd"] * 0.9)
    assert moved["long_liquidation_usd_24h"] > 10 * moved["short_liquidation_usd_24h"]


def test_coins_markets_funding_and_missing_fields() -> None:
    rows = data.coins_markets({})
    funding = [row["avg_funding_rate_by_oi"] for row in rows if "avg_funding_rate_by_oi" in row]
    assert sorted(abs(rate) for rate in funding)[len(funding) // 2] <= 0.02
    assert funding.count(0.01) > 50
    assert sum(rate < 0 for rate in funding) > 20
    assert sum(abs(rate) > 0.05 for rate in funding) > 3
    # A few smaller coins' rows lack some fields, or send them null; a large coin's never.
    lacking = {
        "funding": [r for r in rows if "avg_funding_rate_by_oi" not in r],
        "market cap": [r for r in rows if "market_cap_usd" not in r],
        "long/short": [r for r in rows if r["long_short_ratio_24h"] is None],
        "recent liquidations": [r for r in rows if r["liquidation_usd_1h"] is None],
    }
    for incomplete in lacking.values():
        assert 0 < len(incomplete) < len(rows) / 20
        assert not {row["symbol"] for row in incomplete} & set(data.supported_coins()[:19])
    assert all(row["liquidation_usd_24h"] is not None for row in rows)


def test_coins_markets_of_some_exchanges_and_drifting() -> None:
    everywhere = {row["symbol"]: row for row in data.coins_markets({})}
    okx = data.coins_markets({}, exchanges={"OKX"})
    assert {row["symbol"] for row in okx} == {
        row["base_asset"] for row in data.supported_pairs()["OKX"]
    }
    btc_share = 0.14 / sum(exchange.oi_share for exchange in data.EXCHANGES.values())
    btc = next(row for row in okx if row["symbol"] == "BTC")
    assert btc["open_interest_usd"] == pytest.approx(
        everywhere["BTC"]["open_interest_usd"] * btc_share
    )
    assert btc["price_change_percent_24h"] == everywhere["BTC"]["price_change_percent_24h"]
    small = data.supported_coins()[-1]
    (binance,) = [
        row for row in data.coins_markets({}, exchanges={"Binance"}) if row["symbol"] == small
    ]
    expected = everywhere[small]["liquidation_usd_24h"] * 0.32 / (0.32 + 0.20)
    assert binance["liquidation_usd_24h"] == pytest.approx(expected, abs=0.02)
    first, second = data.coins_markets({}, 1), data.coins_markets({}, 2)
    assert {row["symbol"] for row in first} == {row["symbol"] for row in second} == set(everywhere)
    assert [row["symbol"] for row in first] != [row["symbol"] for row in second]
    for row in first:
        assert (
            0.94
            <= row["open_interest_usd"] / everywhere[row["symbol"]]["open_interest_usd"]
            <= 1.06
        )


def markets_page(http: httpx.Client, **params: str) -> Any:
    response = http.get(COINS_MARKETS_PATH, params=params)
    assert response.status_code == 200
    return response.json()


def test_coins_markets_pages(client: httpx.Client, server: SandboxServer) -> None:
    rows = data.coins_markets({})
    assert markets_page(client) == {"code": "0", "msg": "success", "data": rows[:10]}
    assert markets_page(client, per_page="100", page="2")["data"] == rows[100:200]
    assert markets_page(client, per_page="1000")["data"] == rows[:100]
    pages = [markets_page(client, per_page="100", page=str(page))["data"] for page in range(1, 8)]
    assert [len(page) for page in pages] == [100, 100, 100, 100, 100, 9, 0]
    assert [row for page in pages for row in page] == rows
    for name, value in [("per_page", "0"), ("per_page", "ten"), ("page", "-1"), ("page", "")]:
        assert markets_page(client, **{name: value}) == {"code": "400", "msg": f"{name} is invalid"}
    server.move_market("ETH", 3)
    assert markets_page(client, per_page="3")["data"] == data.coins_markets({"ETH": 3})[:3]


def test_coins_markets_exchange_list(client: httpx.Client) -> None:
    both = data.coins_markets({}, exchanges={"Binance", "OKX"})
    assert markets_page(client, exchange_list="Binance,OKX")["data"] == both[:10]
    assert markets_page(client, exchange_list="binance, okx, Kraken")["data"] == both[:10]
    assert markets_page(client, exchange_list="Kraken")["data"] == []
    assert markets_page(client, exchange_list="")["data"] == data.coins_markets({})[:10]


def test_coins_markets_drift_between_pages(client: httpx.Client, server: SandboxServer) -> None:
    server.markets_drift = True
    first = markets_page(client, per_page="100")["data"]
    second = markets_page(client, per_page="100", page="2")["data"]
    assert first == data.coins_markets({}, 1)[:100]
    assert second == data.coins_markets({}, 2)[100:200]
    twice = {row["symbol"] for row in first} & {row["symbol"] for row in second}
    assert twice  # a client must dedupe by symbol
    server.reset()
    assert server.markets_drift is False
    assert markets_page(client, per_page="100")["data"] == data.coins_markets({})[:100]


@pytest.mark.parametrize(
    ("plan", "allowed"),
    [("HOBBYIST", False), ("STARTUP", False), ("STANDARD", True), ("PROFESSIONAL", True)],
)
def test_coins_markets_needs_the_standard_plan(
    server: SandboxServer, plan: str, allowed: bool
) -> None:
    server.add_key("a-key", plan)
    response = httpx.get(f"{server.url}{COINS_MARKETS_PATH}", headers={"CG-API-KEY": "a-key"})
    assert response.status_code == 200
    if allowed:
        assert response.json()["data"] == data.coins_markets({})[:10]
    else:
        assert response.json() == {"code": "401", "msg": "Upgrade plan"}
