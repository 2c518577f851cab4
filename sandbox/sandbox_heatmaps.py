"""Deterministic, realistic liquidation heatmaps (time × price) for the CoinGlass v4 sandbox.

A pure function of its arguments, seeded like the maps in ``sandbox_data``. What it models:

* candles ``[time s, open, high, low, close, volume]`` walking back from the pair's current
  price, so the last close is the price the maps and ``pairs-markets`` report;
* a price axis spanning the candles and the spread of the range, a few hundred levels;
* sparse cells ``[x, y, value]``: each candle opens positions whose liquidation prices lie
  1/leverage from its close (longs below, shorts above, more at round prices); they stay as bands
  across later columns, slowly closing, until a candle trades through them;
* the three models as three different pictures of the same market (model2 sparser and quicker
  to forget, model3 denser);
* the published encodings (``HEATMAP_VARIANTS``): prices and volumes as text, the v3 names
  ``y`` / ``liq`` / ``prices``, and no ``update_time``.
"""

from __future__ import annotations

import bisect
import math
from datetime import UTC, datetime
from typing import Any

import sandbox_data as data

HEATMAP_MODELS: tuple[str, ...] = ("model1", "model2", "model3")
HEATMAP_RANGES: tuple[str, ...] = ("12h", "24h", "3d", "7d", "30d", "90d", "180d", "1y")
HEATMAP_VARIANTS: tuple[str, ...] = ("published", "numbers", "text", "v3", "no_update_time")
PRICE_LEVELS = 240
# The time of the last candle: fixed, so every run sees the same heatmap.
LAST_CANDLE_S = int(datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp())
# Columns (candles) per range: 5-minute candles for half a day, up to daily ones for a year.
_COLUMNS: dict[str, int] = {
    "12h": 144,
    "24h": 288,
    "3d": 288,
    "7d": 336,
    "30d": 360,
    "90d": 360,
    "180d": 360,
    "1y": 365,
}
# model → (chance that a candle opens positions at a tier and side, scale of the values, the
# share of open positions still open one candle later)
_MODELS: dict[str, tuple[float, float, float]] = {
    "model1": (0.35, 1.0, 0.985),
    "model2": (0.25, 0.7, 0.975),
    "model3": (0.45, 1.2, 0.99),
}
Heatmap = dict[str, Any]


def pair_heatmap(
    exchange: str, instrument_id: str, range_: str, model: str, move_pct: float = 0.0
) -> Heatmap:
    """The pair heatmap, as numbers; empty for an unknown pair, KeyError for a bad range or
    model."""
    coin = data.coin_of(exchange, instrument_id)
    if coin is None:
        return empty()
    # In the pair's own quote, as its map: BTC for a pair quoted in BTC.
    price = data.quoted_price(exchange, instrument_id, move_pct)
    decimals = data.price_decimals(exchange, instrument_id)
    return _heatmap(price, decimals, range_, model, exchange, instrument_id)


def coin_heatmap(coin: str, range_: str, model: str, move_pct: float = 0.0) -> Heatmap:
    """The coin heatmap across exchanges, as numbers; empty for an unknown coin."""
    instruments = data.pairs_markets(coin, move_pct)
    if not instruments:
        return empty()
    price = instruments[0]["current_price"]
    heatmap = _heatmap(price, data.COINS[coin].decimals, range_, model, "all", coin)
    # Every exchange's positions together: the values of many pairs' pictures.
    scale = len(instruments) * 0.6
    heatmap["liquidation_leverage_data"] = [
        [x, y, round(value * scale, 2)] for x, y, value in heatmap["liquidation_leverage_data"]
    ]
    return heatmap


def encoded(heatmap: Heatmap, variant: str) -> Heatmap:
    """``heatmap`` (as numbers) in one of the published encodings."""
    if variant == "numbers":
        return heatmap
    candles = [
        [row[0], *(str(value) for value in row[1:])] for row in heatmap["price_candlesticks"]
    ]
    published = {**heatmap, "price_candlesticks": candles}
    if variant == "published":
        return published
    if variant == "no_update_time":
        return {key: value for key, value in published.items() if key != "update_time"}
    if variant == "v3":
        return {
            "y": heatmap["y_axis"],
            "liq": heatmap["liquidation_leverage_data"],
            "prices": candles,
            "update_time": heatmap["update_time"],
        }
    if variant == "text":
        return {
            "y_axis": [str(price) for price in heatmap["y_axis"]],
            "liquidation_leverage_data": [
                [str(value) for value in cell] for cell in heatmap["liquidation_leverage_data"]
            ],
            "price_candlesticks": [[str(value) for value in row] for row in candles],
            "update_time": heatmap["update_time"],
        }
    raise ValueError(f"variant must be one of {HEATMAP_VARIANTS}")


def empty() -> Heatmap:
    """A heatmap without a cell, as CoinGlass has answered for some pairs and models."""
    return {
        "y_axis": [],
        "liquidation_leverage_data": [],
        "price_candlesticks": [],
        "update_time": None,
    }


def _heatmap(price: float, decimals: int, range_: str, model: str, *seed: str) -> Heatmap:
    columns = _COLUMNS[range_]
    density, scale, decay = _MODELS[model]
    days = data.range_days(range_)
    step_s = int(days * 86400 / columns)
    rng = data._rng("heatmap", range_, model, *seed)
    # The walk runs back from the current price, so the last close is that price.
    volatility = data._spread(days) / math.sqrt(columns) / 2.5
    closes = [price]
    for _ in range(columns - 1):
        closes.append(closes[-1] * (1 + rng.gauss(0, volatility)))
    closes.reverse()
    candles: list[list[Any]] = []
    for x, close in enumerate(closes):
        start = closes[x - 1] if x else close * (1 + rng.gauss(0, volatility / 2))
        high = max(start, close) * (1 + abs(rng.gauss(0, volatility / 2)))
        low = min(start, close) * (1 - abs(rng.gauss(0, volatility / 2)))
        volume = round(rng.lognormvariate(math.log(price * 400), 0.5), 2)
        time_s = LAST_CANDLE_S - (columns - 1 - x) * step_s
        candles.append(
            [time_s, *(round(value, decimals) for value in (start, high, low, close)), volume]
        )
    spread = data._spread(days)
    bottom = min(c[3] for c in candles) * (1 - spread / 2)
    top = max(c[2] for c in candles) * (1 + spread / 2)
    # Finer than the price tick, so a cheap coin's rows stay apart.
    y_axis = [
        round(bottom + (top - bottom) * j / (PRICE_LEVELS - 1), decimals + 3)
        for j in range(PRICE_LEVELS)
    ]
    round_step = 10 ** (len(str(int(price))) - 2)
    cells: list[list[Any]] = []
    # Each candle opens positions whose liquidation prices sit 1/leverage away from its close;
    # they stay on the map, slowly closing, until a later candle trades through them.
    opened: dict[int, float] = {}
    floor = 2e4 * scale
    for x, candle in enumerate(candles):
        close, high, low = candle[4], candle[2], candle[3]
        for y in [y for y in opened if low <= y_axis[y] <= high]:
            del opened[y]
        for leverage in data.LEVERAGE_TIERS:
            for direction in (-1, 1):
                if rng.random() >= density:
                    continue
                target = close * (1 + direction / leverage * rng.uniform(0.8, 1.2))
                y = bisect.bisect_left(y_axis, target)
                if y >= PRICE_LEVELS or y_axis[0] > target or low <= y_axis[y] <= high:
                    continue  # off the axis, or already traded through
                boost = 2.5 if abs(y_axis[y] % round_step) < (top - bottom) / PRICE_LEVELS else 1
                weight = boost * rng.lognormvariate(0, 0.6) * 10 / leverage
                opened[y] = opened.get(y, 0.0) + 1e5 * scale * weight
        # Closed positions leave the map once little of them is left.
        opened = {y: value * decay for y, value in opened.items() if value * decay >= floor}
        cells += [[x, y, round(value, 2)] for y, value in sorted(opened.items())]
    return {
        "y_axis": y_axis,
        "liquidation_leverage_data": cells,
        "price_candlesticks": candles,
        "update_time": (LAST_CANDLE_S + step_s) * 1000,
    }


def huge_heatmap(cells: int, columns: int = 1000, levels: int = 600) -> Heatmap:
    """A heatmap of exactly ``cells`` cells over ``columns`` candles × ``levels`` prices, as the
    published encoding sends it: for measuring, not for realism."""
    rng = data._rng("huge heatmap", str(cells))
    chosen = sorted(rng.sample(range(columns * levels), cells))
    candles = [
        [LAST_CANDLE_S - (columns - 1 - x) * 300, "97000", "97100", "96900", "97000", "1000.5"]
        for x in range(columns)
    ]
    return {
        "y_axis": [round(80_000 + 40_000 * y / (levels - 1), 2) for y in range(levels)],
        "liquidation_leverage_data": [
            [index // levels, index % levels, round(rng.uniform(1e3, 5e6), 2)] for index in chosen
        ],
        "price_candlesticks": candles,
        "update_time": (LAST_CANDLE_S + 300) * 1000,
    }
