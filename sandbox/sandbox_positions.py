"""Open Hyperliquid positions for the sandbox's ``/api/hyperliquid/position``, deterministic per
coin: a pure function of the coin and its market move, like the rest of ``sandbox_data``.

Every coin Hyperliquid lists in the sandbox's pair list (its instrument id is the coin) has
``position_count(coin)`` positions, one per wallet: 3,000 for BTC, fewer for smaller coins.
Both sides are represented; sizes follow a heavy tail (log-normal), so the first pages hold
most of the notional; leverages are Hyperliquid's usual settings up to the coin's maximum;
cross-margin positions sit further from liquidation than isolated ones. The notional of all
positions is ``NOTIONAL_SHARE`` of both sides of the coin's Hyperliquid open interest in
``pairs-markets`` (which the sandbox, like CoinGlass, counts one side of), so reading every
page covers that share.

The traps the documentation warns of are planted: a ``liq_price`` that is null (as for a
hedged cross account), zero, negative, or on the wrong side of the mark (``TRAPS``, about one
position in twenty), and a cross position with so little leverage that it has no liquidation
price at all. Sizes of cheap coins are whole numbers (``-800``).

Pages hold ``PAGE_SIZE`` positions, largest first (as the documentation's first row is the
largest position); a page past the last answers an empty list, and a coin Hyperliquid does not
list answers ``total_pages`` 0. The mark price is the Hyperliquid pair's current price, moved
with the coin's market; liquidation and entry prices stay where the positions were opened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import sandbox_data as data

HYPERLIQUID = "Hyperliquid"
PAGE_SIZE = 20
# The wallets' positions hold this share of both sides of the coin's open interest.
NOTIONAL_SHARE = 0.72
BTC_POSITIONS = 3_000
NOW_MS = 1_763_123_400_000
# Leverage settings and how often they are chosen; a coin takes those up to its maximum.
_LEVERAGES: dict[int, float] = {1: 0.3, 2: 0.5, 3: 0.8, 5: 1.2, 10: 1.5, 20: 1.0, 25: 0.6, 40: 0.5}
_MAX_LEVERAGE: dict[str, int] = {"BTC": 40, "ETH": 25, "SOL": 20, "HYPE": 10}
_DEFAULT_MAX_LEVERAGE = 20
# A position's trap, by the share of positions it falls to, in this order.
TRAPS: tuple[tuple[str, float], ...] = (
    ("null", 0.02),
    ("zero", 0.008),
    ("negative", 0.005),
    ("wrong_side", 0.012),
)


@dataclass(frozen=True)
class _Opened:
    """A position as it was opened, before the mark moves."""

    user: str
    size: float
    leverage: int
    cross: bool
    entry: float
    liq: float | None
    margin_share: float
    funding_share: float
    created_ms: int
    updated_ms: int


def listed(coin: str) -> bool:
    """Whether Hyperliquid lists ``coin`` (as ``Hyperliquid_<coin>`` in the pair list)."""
    return data.coin_of(HYPERLIQUID, coin) == coin


def position_count(coin: str) -> int:
    """How many open positions the coin has on Hyperliquid; 0 for a coin it does not list."""
    if not listed(coin):
        return 0
    share = data.COINS[coin].open_interest_usd / data.COINS["BTC"].open_interest_usd
    return round(BTC_POSITIONS / 3 * (1 + 2 * math.sqrt(share)))


def open_interest(coin: str) -> float:
    """The coin's Hyperliquid open interest in ``pairs-markets`` (one side), unmoved."""
    return float(
        next(
            row["open_interest_usd"]
            for row in data.pairs_markets(coin)
            if row["exchange_name"] == HYPERLIQUID
        )
    )


def _size_decimals(price: float) -> int:
    return 5 if price >= 1_000 else 2 if price >= 1 else 0


def _trap(rng: Any) -> str | None:
    draw = rng.random()
    for kind, share in TRAPS:
        if draw < share:
            return kind
        draw -= share
    return None


@cache
def _opened(coin: str) -> tuple[_Opened, ...]:
    count, mark = position_count(coin), data.current_price(HYPERLIQUID, coin)
    decimals, size_decimals = data.COINS[coin].decimals + 1, _size_decimals(mark)
    most = _MAX_LEVERAGE.get(coin, _DEFAULT_MAX_LEVERAGE)
    tiers = [tier for tier in _LEVERAGES if tier <= most]
    weights = [
        math.exp(data._rng("hyperliquid size", coin, str(i)).gauss(0, 2.0)) for i in range(count)
    ]
    scale = 2 * open_interest(coin) * NOTIONAL_SHARE / sum(weights) / mark
    opened = []
    for index, weight in enumerate(weights):
        rng = data._rng("hyperliquid", coin, str(index))
        user = f"0x{rng.getrandbits(160):040x}"
        long = rng.random() < 0.5 if index > 1 else index == 0  # the two largest: one each side
        size = max(round(weight * scale, size_decimals), 10**-size_decimals)
        leverage = rng.choices(tiers, [_LEVERAGES[tier] for tier in tiers])[0]
        cross = rng.random() < 0.7
        # Maintenance margin brings an isolated position's liquidation nearer than 1/leverage;
        # a cross account's other margin takes it further away.
        reach = (rng.uniform(0.8, 3.0) if cross else rng.uniform(0.55, 0.95)) / leverage
        liq: float | None = mark * (1 - reach if long else 1 + reach)
        trap = _trap(rng)
        if liq is None or liq <= 0:
            liq = None  # a cross long this lightly levered cannot be liquidated
        elif trap == "null":
            liq = None
        elif trap == "zero":
            liq = 0.0
        elif trap == "negative":
            liq = -liq
        elif trap == "wrong_side":
            liq = mark * (1 + rng.uniform(0.001, 0.02) if long else 1 - rng.uniform(0.001, 0.02))
        opened.append(
            _Opened(
                user=user,
                size=size if long else -size,
                leverage=leverage,
                cross=cross,
                entry=round(mark * (1 + rng.gauss(0, 0.02)), decimals),
                liq=None if liq is None else round(liq, decimals),
                margin_share=rng.uniform(1.0, 3.0) if cross else 1.0,
                funding_share=rng.gauss(0, 1e-4),
                created_ms=NOW_MS - int(rng.uniform(0, 30 * 86_400_000)),
                updated_ms=NOW_MS - int(rng.uniform(0, 3_600_000)),
            )
        )
    return tuple(opened)


def positions(coin: str, move_pct: float = 0.0) -> list[dict[str, Any]]:
    """Every open position on ``coin`` as ``hyperliquid/position`` lists it, largest first."""
    return list(_positions(coin, move_pct)) if listed(coin) else []


@cache
def _positions(coin: str, move_pct: float) -> tuple[dict[str, Any], ...]:
    mark = data.current_price(HYPERLIQUID, coin, move_pct)
    whole = _size_decimals(data.current_price(HYPERLIQUID, coin)) == 0
    rows: list[dict[str, Any]] = []
    for each in _opened(coin):
        value = round(abs(each.size) * mark, 2)
        rows.append(
            {
                "user": each.user,
                "symbol": coin,
                "position_size": int(each.size) if whole else each.size,
                "entry_price": each.entry,
                "mark_price": mark,
                "liq_price": each.liq,
                "leverage": each.leverage,
                "margin_balance": round(value / each.leverage * each.margin_share, 2),
                "position_value_usd": value,
                "unrealized_pnl": round(each.size * (mark - each.entry), 2),
                "funding_fee": round(value * each.funding_share, 2),
                "margin_mode": "cross" if each.cross else "isolated",
                "create_time": each.created_ms,
                "update_time": each.updated_ms,
            }
        )
    rows.sort(key=lambda row: (-row["position_value_usd"], row["user"]))
    return tuple(rows)


def page(coin: str, number: int, move_pct: float = 0.0) -> dict[str, Any]:
    """Page ``number`` (from 1) of the coin's positions, as ``data`` of one answer."""
    rows = positions(coin, move_pct)
    start = (number - 1) * PAGE_SIZE
    return {
        "total_pages": math.ceil(len(rows) / PAGE_SIZE),
        "current_page": number,
        "list": rows[start : start + PAGE_SIZE],
    }
