"""Realized liquidations for the sandbox's ``liquidation/history`` and
``liquidation/aggregated-history``: deterministic, and following the market's moves.

A pure function of its arguments, the moves and the time "now" included. What it models:

* each listed pair liquidates a little on each side at the start of every minute, in
  proportion to its open interest, more at some hours than others (longs and shorts out of
  step); a small coin's minutes round to nothing, and a bucket with nothing on either side is
  left out of the answer, as CoinGlass may leave empty buckets out;
* a move of the coin's market (``SandboxServer.move_market``) liquidates one side at the
  moment it is made, in proportion to the move and the pair's open interest: longs when the
  price falls, shorts when it rises;
* a bucket holds what happened from its start to its end, or to now while it is still filling;
* CoinGlass's time rules: a start off the bucket grid moves to the next bucket start, a start
  older than the plan reads moves to the earliest one it does, an end in the future is now,
  no start or no end spans ``interval × limit``, at most ``limit`` buckets (1000 at most);
* its plan table: every plan may call it, Hobbyist from ``4h`` up, Startup from ``30m`` up,
  Standard and Professional at every interval, each as far back as ``HISTORY_DAYS`` says.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sandbox_data as data

MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS
INTERVAL_MS: dict[str, int] = {
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": 60 * MINUTE_MS,
    "4h": 240 * MINUTE_MS,
    "6h": 360 * MINUTE_MS,
    "8h": 480 * MINUTE_MS,
    "12h": 720 * MINUTE_MS,
    "1d": DAY_MS,
    "1w": 7 * DAY_MS,
}
# Weeks start on Monday, UTC; 1970-01-01 was a Thursday.
_WEEK_OFFSET_MS = 4 * DAY_MS
_ALL_PLANS = ("HOBBYIST", "STARTUP", "STANDARD", "PROFESSIONAL")
_LONG: dict[str, float] = dict(zip(_ALL_PLANS, (360, 360, 360, 720), strict=True))
# Days of history per interval and plan; a plan not listed for an interval gets "Upgrade plan".
HISTORY_DAYS: dict[str, dict[str, float]] = {
    "1m": {"STANDARD": 6, "PROFESSIONAL": 12},
    "3m": {"STANDARD": 20, "PROFESSIONAL": 40},
    "5m": {"STANDARD": 30, "PROFESSIONAL": 60},
    "15m": {"STANDARD": 90, "PROFESSIONAL": 180},
    "30m": {"STARTUP": 90, "STANDARD": 180, "PROFESSIONAL": 360},
    "1h": {"STARTUP": 180, "STANDARD": 360, "PROFESSIONAL": 720},
    "4h": {"HOBBYIST": 180, "STARTUP": 180, "STANDARD": 360, "PROFESSIONAL": 720},
    "6h": _LONG,
    "8h": _LONG,
    "12h": _LONG,
    "1d": dict.fromkeys(_ALL_PLANS, 100 * 365),
    "1w": dict.fromkeys(_ALL_PLANS, 100 * 365),
}
MAX_LIMIT = 1000
# USD liquidated per minute on each side, as a share of a pair's open interest, on average.
_MINUTE_SHARE = 2e-6
# USD liquidated by a move of 1 % at once, as a share of a pair's open interest.
_MOVE_SHARE = 0.004
_DAY_MINUTES = 1440
_OMEGA = 2 * math.pi / _DAY_MINUTES  # the baseline's daily rhythm
_SHORT_PHASE = 2.1


@dataclass(frozen=True)
class Move:
    """A coin's market moved at ``at_ms`` from ``from_pct`` to ``to_pct`` of its base."""

    at_ms: int
    from_pct: float
    to_pct: float


def grid_start(time_ms: int, interval: str) -> int:
    """The start of the bucket that holds ``time_ms``."""
    width = INTERVAL_MS[interval]
    offset = _WEEK_OFFSET_MS if interval == "1w" else 0
    return time_ms - (time_ms - offset) % width


def bucket_times(
    interval: str,
    plan: str,
    *,
    now_ms: int,
    start_ms: int | None,
    end_ms: int | None,
    limit: int,
) -> list[int]:
    """The bucket starts CoinGlass answers for a query, by its documented time rules."""
    width = INTERVAL_MS[interval]
    span = width * limit
    earliest = now_ms - int(HISTORY_DAYS[interval][plan] * DAY_MS)
    if start_ms is None:
        end_ms = now_ms if end_ms is None else min(end_ms, now_ms)
        start_ms = end_ms - span
    else:
        start_ms = max(start_ms, earliest)
        end_ms = min(start_ms + span if end_ms is None else end_ms, now_ms)
    start_ms = max(start_ms, earliest)
    first = grid_start(start_ms, interval)
    if first < start_ms:
        first += width  # off the grid: the next bucket start
    return list(range(first, end_ms, width))[:limit]


def _baseline(minutes: int, first_minute: int, phase: float) -> float:
    """Sum over ``minutes`` minutes from ``first_minute`` of 1 + ½ sin(ωm + phase)."""
    if minutes <= 0:
        return 0.0
    wave = (
        math.sin(_OMEGA * minutes / 2)
        * math.sin(_OMEGA * (first_minute + (minutes - 1) / 2) + phase)
        / math.sin(_OMEGA / 2)
    )
    return minutes + 0.5 * wave


def _liquidated(
    open_interest: float, moves: Sequence[Move], start_ms: int, end_ms: int
) -> tuple[float, float]:
    """USD of longs and shorts one pair liquidated from ``start_ms`` to ``end_ms``."""
    if end_ms <= start_ms:
        return 0.0, 0.0
    first_minute = -(-start_ms // MINUTE_MS)  # minute starts inside the span
    minutes = -(-end_ms // MINUTE_MS) - first_minute
    per_minute = open_interest * _MINUTE_SHARE
    long = per_minute * _baseline(minutes, first_minute, 0.0)
    short = per_minute * _baseline(minutes, first_minute, _SHORT_PHASE)
    for move in moves:
        if start_ms <= move.at_ms < end_ms:
            burst = open_interest * _MOVE_SHARE * abs(move.to_pct - move.from_pct)
            if move.to_pct < move.from_pct:
                long += burst
            else:
                short += burst
    return long, short


def history(
    pairs: Collection[tuple[str, str]],
    interval: str,
    times: Sequence[int],
    moves: Sequence[Move],
    now_ms: int,
) -> list[tuple[int, float, float]]:
    """(bucket start, USD of longs, USD of shorts) of ``pairs`` together, rounded to cents,
    buckets with nothing on either side left out."""
    width = INTERVAL_MS[interval]
    interests = [data.pair_open_interest(*pair) for pair in pairs]
    rows = []
    for start in times:
        end = min(start + width, now_ms)
        sides = [_liquidated(oi, moves, start, end) for oi in interests]
        long = round(sum(side[0] for side in sides), 2)
        short = round(sum(side[1] for side in sides), 2)
        if long or short:
            rows.append((start, long, short))
    return rows


def pair_rows(rows: list[tuple[int, float, float]]) -> list[dict[str, Any]]:
    """``liquidation/history``'s rows: amounts as text, as its documentation shows them."""
    return [
        {
            "time": time,
            "long_liquidation_usd": f"{long:.2f}",
            "short_liquidation_usd": f"{short:.2f}",
        }
        for time, long, short in rows
    ]


def coin_rows(rows: list[tuple[int, float, float]]) -> list[dict[str, Any]]:
    """``liquidation/aggregated-history``'s rows: amounts as numbers, as its documentation
    shows them."""
    return [
        {
            "time": time,
            "aggregated_long_liquidation_usd": long,
            "aggregated_short_liquidation_usd": short,
        }
        for time, long, short in rows
    ]
