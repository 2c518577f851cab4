"""Deterministic, realistic market data for the CoinGlass API v4 sandbox.

Everything here is a pure function of its arguments: no I/O, no clock, no global
random state. Randomness is seeded from ``zlib.crc32`` (never ``hash()``, which is
salted per process), so a map is identical across runs, processes and machines.

What it models:

* a universe of eight exchanges and 569 coins: 19 large ones (``BTC``, ``ETH`` ...) on most
  exchanges, with instrument ids in each exchange's own style (``BTCUSDT``, ``BTCUSD_PERP``,
  ``BTC-USDT-SWAP``, ``BTC_USDT`` ...), and ``SYNTHETIC_COIN_COUNT`` smaller ones with generated
  tickers (``LCO``, ``1000JCG``, ``8FIO`` ...), prices from fractions of a cent to thousands and
  far less open interest, listed as ``{base}USDT`` on Binance and Bybit only;
* current prices per pair and ``pairs-markets`` rows;
* a pair quoted in BTC (Binance ``ETHBTC``) has its map and heatmap in BTC while
  ``pairs-markets`` gives its ``current_price`` in USD (and its ``index_price`` in BTC), as
  CoinGlass does;
* liquidation maps keyed by price bucket, rows ``[price, level, leverage, band]``,
  with clusters where leveraged positions would be liquidated, bigger bars at
  round prices, and wider spreads for longer ranges;
* the two published shapes of the coin-wide (aggregated) map;
* the lenient row encodings the contract warns about (``MAP_VARIANTS``);
* a market that moves: ``move_pct`` shifts a coin's prices by that many percent from its
  base, sweeps the map's buckets the price has traded through since, and reshapes the rest;
* max pain for every coin at once (``max_pain``): per coin and range, the heaviest long cluster
  below the price and the heaviest short one above it, further away for longer ranges, with
  the edge items real clients must cope with (equal levels, a side left out, null or zero, an
  integer price) and both orientations, the live one and the documentation's swapped one;
* coins markets (``coins_markets``): one row per coin, its price, average funding, open
  interest, changes, long/short ratios and realized liquidations over 1h, 4h and 24h (a falling
  coin liquidates mostly longs), a few smaller coins' rows with fields left out or null.
"""

from __future__ import annotations

import math
import random
import re
import zlib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

LiqRow = list[Any]
LiqMap = dict[str, list[LiqRow]]

LEVERAGE_TIERS: tuple[int, ...] = (5, 10, 25, 50, 100)
BANDS: tuple[str, ...] = ("h1", "h2", "h3")
MAP_VARIANTS: tuple[str, ...] = ("standard", "strings", "short_rows", "bands", "decimal_keys")


@dataclass(frozen=True)
class Coin:
    symbol: str
    price: float
    decimals: int  # price tick is 10 ** -decimals; bucket keys use this precision
    open_interest_usd: float  # across all exchanges
    exchanges: frozenset[str] | None = None  # where it is listed; None: by each exchange's rules


@dataclass(frozen=True)
class Exchange:
    name: str
    price_offset: float  # exchanges never quote exactly the same price
    oi_share: float  # fraction of a coin's open interest held on this exchange
    linear_format: str
    linear_quote: str
    inverse_format: str | None = None
    inverse_quote: str = "USD"
    inverse_coins: frozenset[str] = frozenset()
    btc_quoted_coins: frozenset[str] = frozenset()  # listed as <coin>BTC too
    missing_coins: frozenset[str] = frozenset()
    only_coins: frozenset[str] | None = None

    def lists(self, coin: str) -> bool:
        if self.only_coins is not None:
            return coin in self.only_coins
        return coin not in self.missing_coins


@dataclass(frozen=True)
class Instrument:
    exchange: str
    instrument_id: str
    base: str
    quote: str
    inverse: bool
    extras: tuple[tuple[str, Any], ...]


# The large coins every exchange lists (unless it says otherwise); the synthetic smaller coins
# follow them in ``COINS``.
_MAJOR_COINS: tuple[Coin, ...] = (
    Coin("BTC", 97_000.0, 0, 3.2e10),
    Coin("ETH", 3_400.0, 1, 1.5e10),
    Coin("SOL", 190.0, 2, 3.1e9),
    Coin("XRP", 2.3, 4, 2.4e9),
    Coin("DOGE", 0.38, 5, 1.6e9),
    Coin("PEPE", 0.0000123, 8, 4.1e8),
    Coin("BNB", 640.0, 2, 9.0e8),
    Coin("ADA", 0.98, 4, 7.5e8),
    Coin("AVAX", 38.0, 3, 5.2e8),
    Coin("LINK", 23.0, 3, 6.4e8),
    Coin("LTC", 105.0, 2, 4.3e8),
    Coin("DOT", 7.2, 3, 3.0e8),
    Coin("TRX", 0.25, 5, 2.2e8),
    Coin("SUI", 4.1, 4, 8.8e8),
    Coin("WIF", 2.1, 4, 2.9e8),
    Coin("SHIB", 0.0000215, 9, 1.8e8),
    Coin("TON", 5.4, 4, 2.6e8),
    Coin("ARB", 0.78, 4, 1.9e8),
    Coin("HYPE", 25.0, 3, 1.1e9),
)


def _coins(*symbols: str) -> frozenset[str]:
    return frozenset(symbols)


EXCHANGES: dict[str, Exchange] = {
    exchange.name: exchange
    for exchange in (
        Exchange(
            "Binance",
            price_offset=1.0,
            oi_share=0.32,
            linear_format="{base}USDT",
            linear_quote="USDT",
            inverse_format="{base}USD_PERP",
            inverse_coins=_coins("BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "LINK", "LTC"),
            btc_quoted_coins=_coins("ETH"),
        ),
        Exchange(
            "OKX",
            price_offset=1.00012,
            oi_share=0.14,
            linear_format="{base}-USDT-SWAP",
            linear_quote="USDT",
            inverse_format="{base}-USD-SWAP",
            inverse_coins=_coins("BTC", "ETH", "SOL"),
            missing_coins=_coins("HYPE"),
        ),
        Exchange(
            "Bybit",
            price_offset=0.99991,
            oi_share=0.20,
            linear_format="{base}USDT",
            linear_quote="USDT",
            inverse_format="{base}USD",
            inverse_coins=_coins("BTC", "ETH", "XRP"),
        ),
        Exchange(
            "Bitget",
            price_offset=1.00006,
            oi_share=0.11,
            linear_format="{base}USDT_UMCBL",
            linear_quote="USDT",
            inverse_format="{base}USD_DMCBL",
            inverse_coins=_coins("BTC", "ETH"),
            missing_coins=_coins("HYPE", "TON"),
        ),
        Exchange(
            "Gate",
            price_offset=0.99978,
            oi_share=0.09,
            linear_format="{base}_USDT",
            linear_quote="USDT",
        ),
        Exchange(
            "Crypto.com",
            price_offset=1.00021,
            oi_share=0.03,
            linear_format="{base}USD-PERP",
            linear_quote="USD",
            only_coins=_coins("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "LINK", "LTC", "AVAX"),
        ),
        Exchange(
            "ApeX Omni",
            price_offset=0.99965,
            oi_share=0.01,
            linear_format="{base}-USDT",
            linear_quote="USDT",
            only_coins=_coins("BTC", "ETH", "SOL", "XRP", "DOGE", "PEPE", "LINK", "SUI", "ARB"),
        ),
        Exchange(
            "Hyperliquid",
            price_offset=1.00031,
            oi_share=0.10,
            linear_format="{base}",
            linear_quote="USD",
            missing_coins=_coins("TRX", "SHIB"),
        ),
    )
}

# Only a handful of listings carry the optional fields some copies of the docs show.
_EXTRA_FIELDS: dict[tuple[str, str], dict[str, Any]] = {
    ("Binance", "BTCUSD_PERP"): {"settlement_currency": "BTC"},
    ("Binance", "ETHUSD_PERP"): {"settlement_currency": "ETH"},
    ("OKX", "BTC-USD-SWAP"): {"settlement_currency": "BTC", "max_leverage": 125},
    ("Bybit", "BTCUSDT"): {"max_leverage": 100, "price_tick_size": 0.1, "funding_interval": 8},
    ("Bybit", "ETHUSDT"): {"max_leverage": 100, "price_tick_size": 0.01},
    ("Hyperliquid", "BTC"): {"max_leverage": 40, "funding_interval": 1},
    ("Hyperliquid", "ETH"): {"max_leverage": 25, "funding_interval": 1},
}

# pairs-markets spells a few exchanges differently from the pair list, as upstream does.
_MARKET_EXCHANGE_NAMES: dict[str, str] = {"Gate": "Gate.io"}

_INVERSE_OI_SHARE = 0.18
_BTC_QUOTED_OI_SHARE = 0.02
# A pair quoted in BTC is priced to Binance ETHBTC's tick.
_BTC_QUOTED_DECIMALS = 5
_INVERSE_PRICE_PREMIUM = 1.00015
_RANGE_UNITS_IN_DAYS: dict[str, float] = {"h": 1 / 24, "d": 1.0, "w": 7.0, "m": 30.0, "y": 365.0}
_RANGE_PATTERN = re.compile(r"(\d+)([hdwmy])")

# Relative popularity of each leverage tier among open positions.
_TIER_POPULARITY: dict[int, float] = {5: 0.6, 10: 1.0, 25: 0.9, 50: 0.7, 100: 0.5}


def _seed(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def _unit(*parts: str) -> float:
    """A stable pseudo-random number in [0, 1) derived from the given strings."""
    return _seed(*parts) / 2**32


def _rng(*parts: str) -> random.Random:
    return random.Random(_seed(*parts))


def _format_ticks(ticks: int, decimals: int) -> str:
    """Render an integer number of ticks as a fixed-point string, without float noise."""
    if decimals == 0:
        return str(ticks)
    digits = str(ticks).rjust(decimals + 1, "0")
    return f"{digits[:-decimals]}.{digits[-decimals:]}"


def _ticks_to_number(ticks: int, decimals: int) -> int | float:
    return ticks if decimals == 0 else round(ticks / 10**decimals, decimals)


SYNTHETIC_COIN_COUNT = 550
# Where the smaller coins trade: as ``{base}USDT`` on both (the exchanges' linear format).
SYNTHETIC_EXCHANGES: frozenset[str] = frozenset({"Binance", "Bybit"})
# A generated ticker never contains these, so a search for a large coin, a quote or an exchange
# finds what it found before the smaller coins were added.
_TICKER_TABOO: tuple[str, ...] = (
    *(coin.symbol for coin in _MAJOR_COINS),
    *(name.upper().replace(".", "").replace(" ", "") for name in EXCHANGES),
    "USD",
    "PERP",
    "SWAP",
)
_TICKER_LENGTHS: dict[int, int] = {2: 3, 3: 30, 4: 35, 5: 15, 6: 8, 7: 5, 8: 4}


def _ticker(rng: random.Random) -> str:
    letters, digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"
    if rng.random() < 0.04:  # the 1000PEPE kind: a meme coin quoted per thousand
        return "1000" + "".join(rng.choices(letters, k=rng.choice((3, 4))))
    length = rng.choices(list(_TICKER_LENGTHS), weights=list(_TICKER_LENGTHS.values()))[0]
    return "".join(rng.choice(digits if rng.random() < 0.08 else letters) for _ in range(length))


def _synthetic_coins(count: int) -> tuple[Coin, ...]:
    """Smaller coins, from fractions of a cent to thousands of USD, with five significant
    digits and an open interest mostly well below the large coins'."""
    rng = _rng("synthetic-coins")
    taken = {coin.symbol for coin in _MAJOR_COINS}
    coins: list[Coin] = []
    while len(coins) < count:
        symbol = _ticker(rng)
        price = 10 ** rng.uniform(-5.5, 3.7)
        open_interest = 10 ** rng.gauss(7.2, 0.5)
        if symbol in taken or symbol.isdigit() or any(t in symbol for t in _TICKER_TABOO):
            continue
        taken.add(symbol)
        decimals = min(10, max(0, 4 - math.floor(math.log10(price))))
        coins.append(
            Coin(symbol, round(price, decimals), decimals, open_interest, SYNTHETIC_EXCHANGES)
        )
    return tuple(coins)


COINS: dict[str, Coin] = {
    coin.symbol: coin for coin in (*_MAJOR_COINS, *_synthetic_coins(SYNTHETIC_COIN_COUNT))
}


@cache
def _instruments() -> tuple[Instrument, ...]:
    listed: list[Instrument] = []
    for exchange in EXCHANGES.values():
        for coin, listing in COINS.items():
            if listing.exchanges is None and not exchange.lists(coin):
                continue
            if listing.exchanges is not None and exchange.name not in listing.exchanges:
                continue
            variants = [(exchange.linear_format, exchange.linear_quote, False)]
            if exchange.inverse_format is not None and coin in exchange.inverse_coins:
                variants.append((exchange.inverse_format, exchange.inverse_quote, True))
            if coin in exchange.btc_quoted_coins:
                variants.append(("{base}BTC", "BTC", False))
            for template, quote, inverse in variants:
                instrument_id = template.format(base=coin)
                extras = _EXTRA_FIELDS.get((exchange.name, instrument_id), {})
                listed.append(
                    Instrument(
                        exchange.name, instrument_id, coin, quote, inverse, tuple(extras.items())
                    )
                )
    return tuple(listed)


@cache
def _instrument_index() -> dict[tuple[str, str], Instrument]:
    return {(i.exchange, i.instrument_id): i for i in _instruments()}


@cache
def _instruments_by_base() -> dict[str, tuple[Instrument, ...]]:
    by_base: dict[str, list[Instrument]] = {}
    for inst in _instruments():
        by_base.setdefault(inst.base, []).append(inst)
    return {base: tuple(listed) for base, listed in by_base.items()}


def _instruments_of(base: str) -> tuple[Instrument, ...]:
    return _instruments_by_base().get(base, ())


def _usd_instruments_of(base: str) -> list[Instrument]:
    """The pairs of ``base`` priced in dollars, which the coin-wide maps are made of."""
    return [i for i in _instruments_of(base) if i.quote != "BTC"]


def supported_exchanges() -> list[str]:
    return list(EXCHANGES)


def supported_coins() -> list[str]:
    return list(COINS)


def supported_pairs() -> dict[str, list[dict[str, Any]]]:
    """Exchange name -> instruments, as ``/api/futures/supported-exchange-pairs`` lists them."""
    pairs: dict[str, list[dict[str, Any]]] = {name: [] for name in EXCHANGES}
    for inst in _instruments():
        pairs[inst.exchange].append(
            {
                "instrument_id": inst.instrument_id,
                "base_asset": inst.base,
                "quote_asset": inst.quote,
                **dict(inst.extras),
            }
        )
    return pairs


def coin_of(exchange: str, instrument_id: str) -> str | None:
    """The base coin of a listed pair; None for an unknown one."""
    inst = _instrument_index().get((exchange, instrument_id))
    return inst.base if inst else None


def current_price(exchange: str, instrument_id: str, move_pct: float = 0.0) -> float:
    """Last traded price of a listed pair, its coin moved ``move_pct`` percent from its base;
    raises KeyError for an unknown pair."""
    inst = _instrument_index()[(exchange, instrument_id)]
    coin = COINS[inst.base]
    price = coin.price * (1 + move_pct / 100) * EXCHANGES[exchange].price_offset
    if inst.inverse:
        price *= _INVERSE_PRICE_PREMIUM
    return round(price, coin.decimals)


def price_decimals(exchange: str, instrument_id: str) -> int:
    """The decimals of a listed pair's price in its own quote; KeyError for an unknown pair."""
    inst = _instrument_index()[(exchange, instrument_id)]
    return _BTC_QUOTED_DECIMALS if inst.quote == "BTC" else COINS[inst.base].decimals


def quoted_price(exchange: str, instrument_id: str, move_pct: float = 0.0) -> float:
    """A listed pair's price in its own quote, in which its map and heatmap are drawn: in BTC
    for a pair quoted in BTC (at BTC's base price), else ``current_price``."""
    price = current_price(exchange, instrument_id, move_pct)
    if _instrument_index()[(exchange, instrument_id)].quote != "BTC":
        return price
    return round(price / COINS["BTC"].price, _BTC_QUOTED_DECIMALS)


def _open_interest(inst: Instrument) -> float:
    share = EXCHANGES[inst.exchange].oi_share * (_INVERSE_OI_SHARE if inst.inverse else 1.0)
    if inst.quote == "BTC":
        share *= _BTC_QUOTED_OI_SHARE
    jitter = 0.85 + 0.3 * _unit("oi", inst.exchange, inst.instrument_id)
    return COINS[inst.base].open_interest_usd * share * jitter


def pair_open_interest(exchange: str, instrument_id: str) -> float:
    """A listed pair's open interest in USD, as ``pairs-markets`` gives it before rounding;
    KeyError for an unknown pair."""
    return _open_interest(_instrument_index()[(exchange, instrument_id)])


def pairs_of(base: str) -> list[tuple[str, str]]:
    """Every listed pair of ``base`` as (exchange, instrument id); empty for an unknown coin."""
    return [(inst.exchange, inst.instrument_id) for inst in _instruments_of(base)]


def pairs_markets(base: str, move_pct: float = 0.0) -> list[dict[str, Any]]:
    """One row per listed pair of ``base`` across exchanges; empty for an unknown coin."""
    rows: list[dict[str, Any]] = []
    for inst in _instruments_of(base):
        coin = COINS[base]
        index_drift = 1 + (_unit("index", inst.exchange, inst.instrument_id) - 0.5) * 4e-4
        # Every current_price is in USD, while a pair quoted in BTC has its index in BTC.
        index = quoted_price(inst.exchange, inst.instrument_id, move_pct) / current_price(
            inst.exchange, inst.instrument_id, move_pct
        )
        decimals = price_decimals(inst.exchange, inst.instrument_id)
        rows.append(
            {
                "instrument_id": inst.instrument_id,
                "exchange_name": _MARKET_EXCHANGE_NAMES.get(inst.exchange, inst.exchange),
                "symbol": f"{inst.base}/{inst.quote}",
                "current_price": current_price(inst.exchange, inst.instrument_id, move_pct),
                "index_price": round(
                    coin.price * (1 + move_pct / 100) * index_drift * index, decimals
                ),
                "open_interest_usd": round(_open_interest(inst), 2),
            }
        )
    return rows


def range_days(range_: str) -> float:
    """Length of a range such as ``1d``, ``12h`` or ``1y`` in days; ValueError otherwise."""
    match = _RANGE_PATTERN.fullmatch(range_)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"unsupported range {range_!r}")
    return int(match.group(1)) * _RANGE_UNITS_IN_DAYS[match.group(2)]


def _spread(days: float) -> float:
    """Half-width of the map around the price: about 8% for a day up to 40% for a year."""
    return min(0.40, 0.08 * math.pow(days, 0.275))


def _bucket_count(days: float) -> int:
    return int(300 + 50 * math.log(max(days, 1.0)))


@dataclass(frozen=True)
class _Grid:
    """Evenly spaced price buckets, in integer ticks so keys never show float noise."""

    decimals: int
    price_ticks: int
    step: int
    first: int
    count: int

    @classmethod
    def around(cls, price: float, decimals: int, range_: str, jitter: float) -> _Grid:
        days = range_days(range_)
        count = _bucket_count(days)
        price_ticks = round(price * 10**decimals)
        # A coarse tick (sub-cent coins) can force buckets wider than asked for.
        step = max(1, round(price_ticks * 2 * _spread(days) / count))
        first = price_ticks - (count // 2) * step + int(jitter * step)
        return cls(decimals, price_ticks, step, first, count)

    def ticks(self) -> Iterator[int]:
        for i in range(self.count):
            ticks = self.first + i * self.step
            if ticks > 0:
                yield ticks

    def snap(self, ticks: int) -> int:
        return self.first + round((ticks - self.first) / self.step) * self.step


def _tier_weights(distance: float, spread: float) -> list[float]:
    """How much each leverage tier contributes at a relative distance from the price.

    Positions opened near the price at leverage L are liquidated about 1/L away,
    so each tier forms a cluster there; a decaying background covers older entries.
    """
    weights = []
    for leverage in LEVERAGE_TIERS:
        centre = 1 / leverage
        width = 0.35 / leverage
        cluster = math.exp(-(((abs(distance) - centre) / width) ** 2) / 2)
        background = 0.15 * math.exp(-abs(distance) / spread)
        weights.append(_TIER_POPULARITY[leverage] * (cluster + background))
    return weights


def _round_number_boost(ticks: int, grid: _Grid) -> float:
    """Stops and liquidations pile up at round prices (e.g. every 1,000 USD for BTC)."""
    magnitude = 10 ** (len(str(grid.price_ticks)) - 2)
    boost = 1.0
    for multiple, extra in ((magnitude, 1.5), (magnitude * 5, 2.0)):
        remainder = ticks % multiple
        if 2 * min(remainder, multiple - remainder) < grid.step:
            boost += extra
    return boost


def liquidation_map(
    exchange: str, instrument_id: str, range_: str, move_pct: float = 0.0
) -> LiqMap:
    """The pair map for ``range_``; empty for an unknown pair, ValueError for a bad range.

    The buckets stay where positions were opened around the base price. Moved, the price
    has liquidated every bucket between the base and itself, and each other bucket's level is
    scaled by a factor of 0.6 to 1.4 drawn from the move, so the largest clusters change too.
    """
    inst = _instrument_index().get((exchange, instrument_id))
    if inst is None:
        return {}
    rng = _rng(exchange, instrument_id, range_)
    decimals = price_decimals(exchange, instrument_id)
    grid = _Grid.around(quoted_price(exchange, instrument_id), decimals, range_, rng.random())
    moved = quoted_price(exchange, instrument_id, move_pct) * 10**decimals
    swept = (min(grid.price_ticks, moved), max(grid.price_ticks, moved))
    spread = _spread(range_days(range_))
    # Longs sit below the price, shorts above; one side is usually more crowded.
    skew = rng.uniform(-0.25, 0.25)

    buckets: list[tuple[int, list[float], float]] = []
    for ticks in grid.ticks():
        if rng.random() < 0.08:  # real maps have gaps
            continue
        distance = ticks / grid.price_ticks - 1
        weights = _tier_weights(distance, spread)
        side = 1 + skew if distance < 0 else 1 - skew
        intensity = sum(weights) * side * _round_number_boost(ticks, grid)
        buckets.append((ticks, weights, intensity * rng.lognormvariate(0, 0.35)))

    # Longer ranges accumulate more of the open interest into the map.
    total = _open_interest(inst) * 0.1 * math.pow(range_days(range_), 0.2)
    scale = total / sum(intensity for _, _, intensity in buckets)
    jitter = max(0, grid.step * 2 // 5)
    result: LiqMap = {}
    for ticks, weights, intensity in buckets:
        count = rng.choices((1, 2, 3, 4), weights=(35, 30, 20, 15))[0]
        leverages = rng.choices(LEVERAGE_TIERS, weights=weights, k=count)
        shares = [rng.random() + 0.2 for _ in range(count)]
        offsets = sorted(rng.randint(-jitter, jitter) for _ in range(count))
        rows: list[LiqRow] = []
        key = _format_ticks(ticks, grid.decimals)
        reshaped = 0.6 + 0.8 * _unit("move", exchange, instrument_id, range_, key, f"{move_pct}")
        factor = reshaped if move_pct else 1.0
        for leverage, share, offset in zip(leverages, shares, offsets, strict=True):
            band = rng.choice(BANDS) if rng.random() < 0.06 else None
            level = round(intensity * scale * factor * share / sum(shares), 2)
            rows.append([_ticks_to_number(ticks + offset, grid.decimals), level, leverage, band])
        # Drawn like every other bucket, so the rest of the map is the same whatever is swept.
        if not (move_pct and swept[0] <= ticks <= swept[1]):
            result[key] = rows
    return result


def _without_leverage(liq_map: LiqMap) -> LiqMap:
    return {key: [[row[0], row[1], None, row[3]] for row in rows] for key, rows in liq_map.items()}


def _reference_price(base: str, move_pct: float = 0.0) -> float:
    first = _usd_instruments_of(base)[0]
    return current_price(first.exchange, first.instrument_id, move_pct)


def aggregated_map_by_instrument(base: str, range_: str, move_pct: float = 0.0) -> dict[str, Any]:
    """The list shape: ``{"last_price": .., "data": [{"instrument": .., "liqMapV2": ..}]}``.

    Leverage is null in coin-wide maps, and only pairs priced in dollars are in it. Empty dict
    for an unknown coin. Each call has its own list and items, which a caller may replace; the
    maps inside are shared, never to be changed.
    """
    built = _aggregated_map_by_instrument(base, range_, move_pct)
    return {**built, "data": [dict(item) for item in built["data"]]} if built else {}


# Built once per coin, range and move: a coin map is a dozen instruments' maps, and generating
# them per request would make the sandbox, not the client, the slow side of a benchmark.
@cache
def _aggregated_map_by_instrument(base: str, range_: str, move_pct: float) -> dict[str, Any]:
    instruments = _usd_instruments_of(base)
    if not instruments:
        return {}
    return {
        "last_price": _reference_price(base, move_pct),
        "data": [
            {
                "instrument": {"exName": inst.exchange, "instrumentId": inst.instrument_id},
                "liqMapV2": _without_leverage(
                    liquidation_map(inst.exchange, inst.instrument_id, range_, move_pct)
                ),
            }
            for inst in instruments
        ],
    }


def aggregated_map_merged(base: str, range_: str, move_pct: float = 0.0) -> LiqMap:
    """The merged shape: every instrument's rows priced in dollars summed onto one coin-wide
    bucket grid."""
    instruments = _usd_instruments_of(base)
    if not instruments:
        return {}
    coin = COINS[base]
    grid = _Grid.around(_reference_price(base), coin.decimals, range_, _unit("merged", base))
    levels: dict[int, float] = {}
    for inst in instruments:
        for rows in liquidation_map(inst.exchange, inst.instrument_id, range_, move_pct).values():
            for row in rows:
                key = grid.snap(round(float(row[0]) * 10**coin.decimals))
                levels[key] = levels.get(key, 0.0) + float(row[1])
    return {
        _format_ticks(ticks, coin.decimals): [
            [_ticks_to_number(ticks, coin.decimals), round(level, 2), None, None]
        ]
        for ticks, level in sorted(levels.items())
        if ticks > 0
    }


def huge_map(rows: int) -> LiqMap:
    """A BTC-like map holding exactly ``rows`` rows, four per bucket."""
    rng = _rng("huge", str(rows))
    result: LiqMap = {}
    for first_row in range(0, rows, 4):
        price = 40_000 + first_row // 2
        result[str(price)] = [
            [price, round(rng.uniform(1e3, 5e6), 2), rng.choice(LEVERAGE_TIERS), None]
            for _ in range(min(4, rows - first_row))
        ]
    return result


def _key_decimals(key: str) -> int:
    return len(key.partition(".")[2])


def _as_text(value: Any, decimals: int) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return f"{value:.{decimals}f}"


def _rows_with_index(liq_map: LiqMap) -> Iterator[tuple[int, str, LiqRow]]:
    index = 0
    for key, rows in liq_map.items():
        for row in rows:
            yield index, key, row
            index += 1


def apply_variant(liq_map: LiqMap, variant: str) -> LiqMap:
    """Re-encode a map the way lenient clients must cope with (see ``MAP_VARIANTS``).

    * ``standard``: unchanged;
    * ``strings``: every number sent as a string (``["48935","1579370.77","25",null]``);
    * ``short_rows``: some rows cut to 2 or 3 members;
    * ``bands``: every 4th member a band string ``h1``/``h2``/``h3``;
    * ``decimal_keys``: keys name the bucket midpoint, one digit finer (``"48935.5"``).
    """
    if variant not in MAP_VARIANTS:
        raise ValueError(f"unknown map variant {variant!r}")
    if variant == "standard":
        return liq_map
    if variant == "decimal_keys":
        return {key + ("5" if "." in key else ".5"): rows for key, rows in liq_map.items()}
    result: LiqMap = {key: [] for key in liq_map}
    for index, key, row in _rows_with_index(liq_map):
        result[key].append(_encode_row(row, variant, index, _key_decimals(key)))
    return result


def _encode_row(row: LiqRow, variant: str, index: int, price_decimals: int) -> LiqRow:
    if variant == "strings":
        decimals = (price_decimals, 2, 0)
        return [_as_text(v, d) for v, d in zip(row, decimals, strict=False)] + row[3:]
    if variant == "short_rows" and index % 5 in (1, 3):
        return row[: 2 if index % 5 == 1 else 3]
    if variant == "bands":
        return [*row[:3], BANDS[index % len(BANDS)]]
    return row


# -- every coin at once: max pain and coins markets ------------------------------------

MAX_PAIN_RANGES: tuple[str, ...] = ("12h", "24h", "48h", "3d", "7d", "14d", "30d")
# ``live``: longs below the price, shorts above, as real answers have them; ``docs``: every item
# the other way round, as CoinGlass's documentation sample shows; ``mixed``: only the coins of
# ``MAX_PAIN_MIXED_SWAPPED`` the other way round.
MAX_PAIN_ORIENTATIONS: tuple[str, ...] = ("live", "docs", "mixed")
_MAX_PAIN_SIDES: tuple[str, ...] = ("long", "short")
# What a one-sided item does with the side it lacks: leaves its keys out, nulls or zeroes them.
MAX_PAIN_GAPS: tuple[str, ...] = ("absent", "null", "zero")


def _synthetic_symbols_by_role() -> list[str]:
    """The smaller coins in a fixed shuffled order, so each special role takes its own coins."""
    synthetic = [coin.symbol for coin in COINS.values() if coin.exchanges is not None]
    return sorted(synthetic, key=lambda symbol: _seed("role", symbol))


_ROLES = _synthetic_symbols_by_role()
# Young coins max pain does not list yet, though coins markets does.
NOT_IN_MAX_PAIN: frozenset[str] = frozenset(_ROLES[:10])
# Days since each young coin was listed, all under 90: CoinGlass keeps no heatmap of one over
# a longer range, and answers that range with its "500" body.
LISTED_DAYS: dict[str, int] = {
    symbol: 31 + 6 * index for index, symbol in enumerate(sorted(NOT_IN_MAX_PAIN))
}
# Coins max pain lists but coins markets does not.
NOT_IN_COINS_MARKETS: frozenset[str] = frozenset(_ROLES[10:70])
# Max-pain items whose long and short levels are exactly equal, as one live BTC item had.
MAX_PAIN_EQUAL_LEVELS: frozenset[str] = frozenset(_ROLES[70:73])
# Max-pain items with no level on one side: coin -> (side, how that side is sent).
MAX_PAIN_ONE_SIDED: dict[str, tuple[str, str]] = {
    symbol: (side, gap)
    for symbol, (side, gap) in zip(
        _ROLES[73:79],
        [(side, gap) for side in _MAX_PAIN_SIDES for gap in MAX_PAIN_GAPS],
        strict=True,
    )
}
# The coins whose sides the ``mixed`` orientation swaps.
MAX_PAIN_MIXED_SWAPPED: frozenset[str] = frozenset({"ETH", "DOGE", *_ROLES[79:83]})
# The one coin whose max-pain ``price`` is sent as an integer: the dearest of the smaller coins.
MAX_PAIN_INTEGER_PRICE: str = max(
    (coin for coin in COINS.values() if coin.exchanges and coin.symbol not in NOT_IN_MAX_PAIN),
    key=lambda coin: coin.price,
).symbol


def _moved_price(coin: Coin, move_pct: float) -> float:
    return round(coin.price * (1 + move_pct / 100), coin.decimals)


def _ranked_by_open_interest(coins: list[Coin], moves: Mapping[str, float]) -> list[Coin]:
    """Largest open interest first, but a few coins two to five places lower, as an order that
    is not documented can be."""
    ranked = sorted(
        coins, key=lambda c: (-c.open_interest_usd * (1 + moves.get(c.symbol, 0.0) / 100), c.symbol)
    )

    def place(index: int) -> float:
        symbol = ranked[index].symbol
        if _unit("out-of-place", symbol) < 0.02:
            return index + 1.5 + 4 * _unit("by", symbol)
        return index

    return [ranked[index] for index in sorted(range(len(ranked)), key=place)]


@cache
def _max_pain_draw(symbol: str, side: str, range_: str) -> tuple[float, float]:
    """(level, relative distance from the price) of the heaviest cluster on one side: further
    away for longer ranges, the level a share of the coin's open interest."""
    days = range_days(range_)
    reach = 0.012 * math.pow(days, 0.55)  # about 0.8 % for 12 hours, 8 % for 30 days
    distance = reach * (0.26 + 0.74 * _unit("max-pain-distance", symbol, side))
    distance *= 0.95 + 0.05 * _unit("max-pain-distance", symbol, side, range_)
    share = 0.0015 * math.pow(days, 0.25) * (0.4 + 1.2 * _unit("max-pain", symbol, side, range_))
    return round(COINS[symbol].open_interest_usd * share, 2), distance


def _max_pain_item(coin: Coin, range_: str, move_pct: float, swapped: bool) -> dict[str, Any]:
    price = _moved_price(coin, move_pct)
    sides: dict[str, tuple[float | None, float | None]] = {}
    for side in _MAX_PAIN_SIDES:
        level, distance = _max_pain_draw(coin.symbol, side, range_)
        sign = -1 if side == "long" else 1
        sides[side] = (level, round(price * (1 + sign * distance), coin.decimals + 1))
    if coin.symbol in MAX_PAIN_EQUAL_LEVELS:
        sides["short"] = (sides["long"][0], sides["short"][1])
    gap_side, gap = MAX_PAIN_ONE_SIDED.get(coin.symbol, ("", ""))
    if gap_side:
        sides[gap_side] = (None, None) if gap == "null" else (0.0, 0.0)
    item: dict[str, Any] = {
        "symbol": coin.symbol,
        "price": round(price) if coin.symbol == MAX_PAIN_INTEGER_PRICE else price,
    }
    for name in _MAX_PAIN_SIDES:
        # Swapped, the fields named long hold the shorts' cluster, above the price.
        side = {"long": "short", "short": "long"}[name] if swapped else name
        if side == gap_side and gap == "absent":
            continue
        item[f"{name}_max_pain_liq_level"], item[f"{name}_max_pain_liq_price"] = sides[side]
    return item


def max_pain(
    range_: str, moves: Mapping[str, float], orientation: str = "live"
) -> list[dict[str, Any]]:
    """The ``liquidation/max-pain`` list for ``range_``: every coin but ``NOT_IN_MAX_PAIN``,
    largest open interest first (a few out of place), coins moved by ``moves`` (percent from
    their base: prices and max-pain prices move, levels stay). ValueError for a range or an
    orientation it does not know."""
    if range_ not in MAX_PAIN_RANGES:
        raise ValueError(f"unsupported max-pain range {range_!r}")
    if orientation not in MAX_PAIN_ORIENTATIONS:
        raise ValueError(f"unknown max-pain orientation {orientation!r}")
    listed = [coin for coin in COINS.values() if coin.symbol not in NOT_IN_MAX_PAIN]
    return [
        _max_pain_item(
            coin,
            range_,
            moves.get(coin.symbol, 0.0),
            orientation == "docs"
            or (orientation == "mixed" and coin.symbol in MAX_PAIN_MIXED_SWAPPED),
        )
        for coin in _ranked_by_open_interest(listed, moves)
    ]


@dataclass(frozen=True)
class _MarketProfile:
    """A coin's market figures before any move: changes in percent over 1h, 4h and 24h."""

    price_change: tuple[float, ...]  # one per window of MARKET_WINDOWS
    open_interest_change: tuple[float, ...]
    funding_by_oi: float
    funding_by_vol: float
    market_cap_ratio: float  # open interest / market cap
    long_short_ratio: tuple[float, ...]
    liquidated_share: tuple[float, ...]  # of the open interest, per window
    gaps: frozenset[str]  # the field groups this coin's rows leave out or null


MARKET_WINDOWS: tuple[str, ...] = ("1h", "4h", "24h")
# Field groups a few smaller coins' rows lack: funding and market cap left out, long/short
# ratios and the 1h and 4h liquidations null.
MARKET_GAPS: tuple[str, ...] = ("funding", "market_cap", "long_short", "recent_liquidations")


@cache
def _market_profile(symbol: str) -> _MarketProfile:
    rng = _rng("market", symbol)
    day = rng.gauss(0, 4)
    four = day * 0.35 + rng.gauss(0, 1.2)
    hour = four * 0.3 + rng.gauss(0, 0.4)
    oi_day = rng.gauss(0, 3)
    oi_changes = (oi_day * 0.1 + rng.gauss(0, 0.3), oi_day * 0.3 + rng.gauss(0, 0.8), oi_day)
    # Most coins pay about the usual 0.01 % per interval; some pay shorts, a few pay a lot.
    funding = 0.01 if rng.random() < 0.3 else rng.gauss(0.006, 0.008)
    if rng.random() < 0.04:
        funding = rng.choice((-1, 1)) * rng.uniform(0.05, 0.4)
    gaps: frozenset[str] = frozenset()
    if COINS[symbol].exchanges is not None and rng.random() < 0.12:
        gaps = frozenset({rng.choice(MARKET_GAPS)})
    return _MarketProfile(
        price_change=(hour, four, day),
        open_interest_change=oi_changes,
        funding_by_oi=funding,
        funding_by_vol=funding + rng.gauss(0, 0.002),
        market_cap_ratio=10 ** rng.uniform(-2, -0.5),
        long_short_ratio=tuple(rng.lognormvariate(0, 0.15) for _ in MARKET_WINDOWS),
        liquidated_share=tuple(
            share * rng.lognormvariate(0, 0.3) for share in (0.0004, 0.0015, 0.006)
        ),
        gaps=gaps,
    )


def _exchange_share(symbol: str, exchanges: Collection[str] | None) -> float:
    """The part of a coin's open interest held on ``exchanges`` (all of it when None)."""
    if exchanges is None:
        return 1.0
    shares = {inst.exchange: EXCHANGES[inst.exchange].oi_share for inst in _instruments_of(symbol)}
    return sum(share for name, share in shares.items() if name in exchanges) / sum(shares.values())


def _drift(symbol: str, drift_step: int) -> float:
    """Open interest moving between two requests: up to 6 % either way, anew each step."""
    return 1.0 if drift_step == 0 else 1 + 0.12 * (_unit("drift", symbol, str(drift_step)) - 0.5)


def _liquidations(window: str, total: float, price_change: float) -> dict[str, float | None]:
    # A falling coin liquidates mostly longs, a rising one mostly shorts.
    long = round(total / (1 + math.exp(price_change / 2.5)), 2)
    short = round(total - long, 2)
    return {
        f"liquidation_usd_{window}": round(long + short, 2),
        f"long_liquidation_usd_{window}": long,
        f"short_liquidation_usd_{window}": short,
    }


def _market_row(coin: Coin, move_pct: float, drift_step: int, share: float) -> dict[str, Any]:
    profile = _market_profile(coin.symbol)
    moved = 1 + move_pct / 100
    price = _moved_price(coin, move_pct)
    open_interest = coin.open_interest_usd * moved * _drift(coin.symbol, drift_step)
    # The move happened within the last hour, so every window's change includes it.
    price_changes = [((1 + change / 100) * moved - 1) * 100 for change in profile.price_change]
    row: dict[str, Any] = {"symbol": coin.symbol, "current_price": price}
    if "funding" not in profile.gaps:
        row["avg_funding_rate_by_oi"] = round(profile.funding_by_oi, 6)
        row["avg_funding_rate_by_vol"] = round(profile.funding_by_vol, 6)
    if "market_cap" not in profile.gaps:
        market_cap = coin.open_interest_usd * moved / profile.market_cap_ratio
        row["market_cap_usd"] = round(market_cap, 2)
        row["open_interest_market_cap_ratio"] = round(open_interest * share / market_cap, 4)
    row["open_interest_usd"] = round(open_interest * share, 2)
    row["open_interest_quantity"] = round(open_interest * share / price, 4)
    for window, change in zip(MARKET_WINDOWS, profile.open_interest_change, strict=True):
        row[f"open_interest_change_percent_{window}"] = round(change, 2)
    for window, change in zip(MARKET_WINDOWS, price_changes, strict=True):
        row[f"price_change_percent_{window}"] = round(change, 2)
    for window, ratio in zip(MARKET_WINDOWS, profile.long_short_ratio, strict=True):
        row[f"long_short_ratio_{window}"] = (
            None if "long_short" in profile.gaps else round(ratio, 4)
        )
    for window, liquidated, change in zip(
        MARKET_WINDOWS, profile.liquidated_share, price_changes, strict=True
    ):
        # Bigger moves liquidate more.
        total = open_interest * share * liquidated * (1 + abs(change) / 3)
        liquidations = _liquidations(window, total, change)
        if window != "24h" and "recent_liquidations" in profile.gaps:
            liquidations = dict.fromkeys(liquidations)
        row.update(liquidations)
    return row


def coins_markets(
    moves: Mapping[str, float], drift_step: int = 0, exchanges: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """The whole ``coins-markets`` list, before paging: every coin but ``NOT_IN_COINS_MARKETS``,
    largest open interest first. ``moves`` moves coins (percent from their base); a
    ``drift_step`` above 0 moves every coin's open interest a little, differently for each step;
    ``exchanges`` (names as ``supported_exchanges`` spells them) keeps only those exchanges'
    share of each size (open interest, its quantity, liquidations) and drops coins none of them
    lists. Prices, rates, ratios and percentages stay the coin's across every exchange."""
    rows = []
    for coin in COINS.values():
        share = _exchange_share(coin.symbol, exchanges)
        if coin.symbol in NOT_IN_COINS_MARKETS or share == 0:
            continue
        rows.append(_market_row(coin, moves.get(coin.symbol, 0.0), drift_step, share))
    return sorted(rows, key=lambda row: (-row["open_interest_usd"], row["symbol"]))
