"""The sandbox's liquidation histories keep CoinGlass's documented rules: the plans' interval
floors and history depths, the time rules, the two payloads' amounts, and a market move that
liquidates the side it went through."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sandbox_data as data
from helpers import COIN_HISTORY_PATH, PAIR_HISTORY_PATH, SUBSCRIPTION_PATH
from sandbox_server import SandboxServer

MINUTE = 60_000
DAY = 1440 * MINUTE
NOW = 1_796_536_830_000  # 2026-12-05 10:40:30 UTC, mid-minute
PAIR = {"exchange": "Binance", "symbol": "BTCUSDT"}


@pytest.fixture
def server(sandbox: SandboxServer) -> SandboxServer:
    sandbox.wall_clock = lambda: NOW / 1000
    return sandbox


def ask(server: SandboxServer, key: str, path: str, params: dict[str, Any]) -> Any:
    with httpx.Client(base_url=server.url, headers={"CG-API-KEY": key}) as http:
        return http.get(path, params=params).json()


@pytest.mark.parametrize(
    ("key", "level", "refused", "taken"),
    [
        (SandboxServer.HOBBY_KEY, "HOBBYIST", ["1m", "15m", "30m", "1h"], ["4h", "1d", "1w"]),
        (SandboxServer.STANDARD_KEY, "STANDARD", [], ["1m", "3m", "30m"]),
        (SandboxServer.PRO_KEY, "PROFESSIONAL", [], ["1m", "12h"]),
    ],
)
def test_every_plan_reads_the_histories_from_its_interval_floor(
    server: SandboxServer, key: str, level: str, refused: list[str], taken: list[str]
) -> None:
    assert ask(server, key, SUBSCRIPTION_PATH, {})["data"]["level"] == level
    for path, params in (
        (PAIR_HISTORY_PATH, PAIR),
        (COIN_HISTORY_PATH, {"symbol": "BTC", "exchange_list": "Binance"}),
    ):
        for interval in refused:
            answer = ask(server, key, path, {**params, "interval": interval})
            assert answer == {"code": "401", "msg": "Upgrade plan"}
        for interval in taken:
            answer = ask(server, key, path, {**params, "interval": interval})
            assert answer["code"] == "0"
            assert len(answer["data"]) > 0


def test_the_time_rules(server: SandboxServer) -> None:
    key = SandboxServer.STANDARD_KEY

    def times(**params: Any) -> list[int]:
        answer = ask(server, key, PAIR_HISTORY_PATH, {**PAIR, **params})
        return [row["time"] for row in answer["data"]]

    # Nothing named: interval × limit up to now, the filling bucket last.
    last = NOW // (5 * MINUTE) * 5 * MINUTE
    assert times(interval="5m", limit=3) == [last - 10 * MINUTE, last - 5 * MINUTE, last]
    # A start off the grid moves to the next bucket start; the end is excluded.
    hour = 3_600_000
    this_hour = NOW // hour * hour
    assert times(interval="1h", start_time=NOW - 3 * hour, end_time=NOW - hour) == [
        this_hour - 2 * hour,
        this_hour - hour,
    ]
    # An end in the future is now; only a start: interval × limit from it.
    start = NOW // MINUTE * MINUTE - 5 * MINUTE
    assert times(interval="1m", start_time=start, end_time=NOW + DAY) == [
        start + n * MINUTE for n in range(6)
    ]
    assert len(times(interval="1m", start_time=start - DAY, limit=4)) == 4
    # Standard reads 1m six days back: an older start moves to the earliest it reads.
    earliest = times(interval="1m", start_time=NOW - 30 * DAY, limit=1)
    assert earliest == [-(-(NOW - 6 * DAY) // MINUTE) * MINUTE]
    for params, said in (
        ({"interval": "2m"}, "interval is invalid"),
        ({"interval": "1m", "limit": 1001}, "limit must be between 1 and 1000"),
        ({"interval": "1m", "start_time": "yesterday"}, "start_time is invalid"),
    ):
        assert ask(server, key, PAIR_HISTORY_PATH, {**PAIR, **params}) == {
            "code": "400",
            "msg": said,
        }


def test_a_falling_market_liquidates_longs_in_both_payloads(server: SandboxServer) -> None:
    key = SandboxServer.PRO_KEY
    server.wall_clock = lambda: (NOW - 10_000) / 1000
    server.move_market("BTC", -2)
    server.wall_clock = lambda: NOW / 1000
    moved = NOW // MINUTE * MINUTE
    query = {"interval": "1m", "start_time": moved - MINUTE, "end_time": NOW}
    pair = ask(server, key, PAIR_HISTORY_PATH, {**PAIR, **query})["data"]
    # The pair's amounts come as text, as its documentation shows them.
    assert all(isinstance(row["long_liquidation_usd"], str) for row in pair)
    before, after = ({k: float(v) for k, v in row.items()} for row in pair)
    burst = data.pair_open_interest("Binance", "BTCUSDT") * 0.004 * 2
    assert after["long_liquidation_usd"] - before["long_liquidation_usd"] == pytest.approx(
        burst, rel=1e-3
    )
    assert after["short_liquidation_usd"] < after["long_liquidation_usd"] / 100
    coin = ask(
        server, key, COIN_HISTORY_PATH, {"symbol": "BTC", "exchange_list": "okx, Binance", **query}
    )["data"]
    pairs = [p for p in data.pairs_of("BTC") if p[0] in ("OKX", "Binance")]
    assert len(pairs) > 2
    sums = [
        {
            side: sum(
                float(row[f"{side}_liquidation_usd"])
                for exchange, symbol in pairs
                for row in ask(
                    server,
                    key,
                    PAIR_HISTORY_PATH,
                    {"exchange": exchange, "symbol": symbol, **query},
                )["data"]
                if row["time"] == time
            )
            for side in ("long", "short")
        }
        for time in (moved - MINUTE, moved)
    ]
    for row, summed in zip(coin, sums, strict=True):
        assert row["aggregated_long_liquidation_usd"] == pytest.approx(summed["long"], abs=0.05)
        assert row["aggregated_short_liquidation_usd"] == pytest.approx(summed["short"], abs=0.05)
