"""The pair list kept between runs, in-process: a store in memory and a clock the test sets."""

from __future__ import annotations

from helpers import MemoryStore

from coinglass_liquidation_map.coinglass.payloads import SupportedPairs
from coinglass_liquidation_map.market_data import Instrument, Instruments
from coinglass_liquidation_map.run.pairs import PAIRS_KEY, PairDirectory

TTL = 3600
START = 1_000_000.0


def pairs(*ids: str) -> Instruments:
    rows = [{"instrument_id": i, "base_asset": i[:3], "quote_asset": "USDT"} for i in ids]
    return SupportedPairs.model_validate({"Binance": rows}).instruments()


class PairsEndpoint:
    """CoinGlass's supported-exchange-pairs: each call answers the next list, and is counted."""

    def __init__(self, *answers: Instruments) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def __call__(self) -> Instruments:
        self.calls += 1
        return self.answers[min(self.calls, len(self.answers)) - 1]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def directory(
    upstream: PairsEndpoint, store: MemoryStore, clock: Clock, ttl: int = TTL
) -> PairDirectory:
    return PairDirectory(upstream, ttl, store=store.open, clock=clock)


def symbols_of(instruments: list[Instrument]) -> list[str]:
    return [instrument.symbol for instrument in instruments]


async def test_the_list_is_fetched_once_and_stored_with_its_time() -> None:
    upstream, store, clock = PairsEndpoint(pairs("BTCUSDT")), MemoryStore(), Clock()
    instruments = directory(upstream, store, clock)
    assert symbols_of(await instruments()) == ["Binance_BTCUSDT"]
    clock.now += TTL - 1
    assert symbols_of(await instruments()) == ["Binance_BTCUSDT"]
    assert upstream.calls == 1
    assert store.records[PAIRS_KEY].value == {
        "fetched_at": START,
        "value": [
            {
                "base_asset": "BTC",
                "quote_asset": "USDT",
                "exchange": "Binance",
                "symbol": "Binance_BTCUSDT",
            }
        ],
    }


async def test_a_later_run_reads_the_stored_list_until_it_expires() -> None:
    upstream = PairsEndpoint(pairs("BTCUSDT"), pairs("BTCUSDT", "ETHUSDT"))
    store, clock = MemoryStore(), Clock()
    await directory(upstream, store, clock)()
    clock.now += TTL - 1  # the next scheduled run, within the TTL
    assert symbols_of(await directory(upstream, store, clock)()) == ["Binance_BTCUSDT"]
    assert upstream.calls == 1
    clock.now += 1  # the one after, as the stored list expires
    later = await directory(upstream, store, clock)()
    assert symbols_of(later) == ["Binance_BTCUSDT", "Binance_ETHUSDT"]
    assert upstream.calls == 2
    assert store.records[PAIRS_KEY].value["fetched_at"] == START + TTL


async def test_a_long_lived_directory_sees_new_listings_once_its_list_ages() -> None:
    upstream = PairsEndpoint(pairs("BTCUSDT"), pairs("BTCUSDT", "ETHUSDT"))
    store, clock = MemoryStore(), Clock()
    instruments = directory(upstream, store, clock)
    await instruments()
    clock.now += TTL
    assert symbols_of(await instruments()) == ["Binance_BTCUSDT", "Binance_ETHUSDT"]


async def test_a_fresh_check_asks_coinglass_at_most_once_a_minute() -> None:
    upstream = PairsEndpoint(pairs("BTCUSDT"), pairs("BTCUSDT", "ETHUSDT"))
    store, clock = MemoryStore(), Clock()
    instruments = directory(upstream, store, clock)
    await instruments()
    clock.now += 59
    assert symbols_of(await instruments(fresh=True)) == ["Binance_BTCUSDT"]
    assert upstream.calls == 1
    clock.now += 1
    assert symbols_of(await instruments(fresh=True)) == ["Binance_BTCUSDT", "Binance_ETHUSDT"]
    assert upstream.calls == 2


async def test_no_ttl_stores_nothing_and_asks_again_after_a_minute() -> None:
    upstream, store, clock = PairsEndpoint(pairs("BTCUSDT")), MemoryStore(), Clock()
    instruments = directory(upstream, store, clock, ttl=0)
    await instruments()
    clock.now += 59
    await instruments()
    assert upstream.calls == 1
    clock.now += 1
    await instruments()
    assert upstream.calls == 2
    assert store.records == {}


async def test_a_stored_list_that_cannot_be_read_is_fetched_again_and_replaced() -> None:
    upstream, store, clock = PairsEndpoint(pairs("BTCUSDT")), MemoryStore(), Clock()
    await store.set_value(PAIRS_KEY, {"fetched_at": "yesterday", "value": []})
    assert symbols_of(await directory(upstream, store, clock)()) == ["Binance_BTCUSDT"]
    assert upstream.calls == 1
    assert store.records[PAIRS_KEY].value["fetched_at"] == START
