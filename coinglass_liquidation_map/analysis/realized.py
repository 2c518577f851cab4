"""Realized liquidations between two runs' maps, read from CoinGlass's liquidation history:
which intervals a key's plan can read them at, the requests that cover the time between, and
what they add up to. Pure: every time is given, in milliseconds since the epoch.

From CoinGlass's "Intervals" and "Timestamps and Pagination" pages: each plan reads an
interval back a number of days, and a plan not listed for an interval cannot ask for it at all
(Hobbyist reads 4h and coarser, Startup 30m and coarser, Standard and up every interval).
"""

from __future__ import annotations

from collections.abc import Sequence

from coinglass_liquidation_map.market_data import LiquidationBucket
from coinglass_liquidation_map.plans import Plan

MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS
# Finest first; 1w is left out, as 1d already reaches back as far on every plan.
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
}
_LONG: dict[str, float] = {"HOBBYIST": 360, "STARTUP": 360, "STANDARD": 360, "PROFESSIONAL": 720}
# Days of history per interval and plan. 1d reaches everything on every plan.
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
    "1d": dict.fromkeys(("HOBBYIST", "STARTUP", "STANDARD", "PROFESSIONAL"), float("inf")),
}
# However long ago the last run was, its realized liquidations cost at most this many requests:
# a coarser interval covers a longer time in as many.
MAX_SLICES = 4


def history_days(interval: str, plan: Plan | None) -> float | None:
    """How many days back ``plan`` reads ``interval``; None when it cannot ask for it. An
    Enterprise plan's depth is set by contract, at least a Professional one's is assumed; an
    unknown plan is assumed to read only as far as the shallowest plan that asks for it."""
    depths = HISTORY_DAYS[interval]
    if plan is None:
        return min(depths.values())
    return depths.get("PROFESSIONAL" if plan == "ENTERPRISE" else plan)


def intervals(plan: Plan | None, start_ms: int, now_ms: int, limit: int) -> list[str]:
    """The intervals worth asking for the liquidations from ``start_ms`` to now, finest first:
    those ``plan`` may ask for (every one when it is unknown, which CoinGlass's "Upgrade plan"
    then sorts out) that reach back to ``start_ms`` in at most ``MAX_SLICES`` requests."""
    found = []
    for interval in INTERVAL_MS:
        days = history_days(interval, plan)
        start = grid_start(start_ms, interval)
        if days is None or now_ms - start > days * DAY_MS:
            continue
        if len(slices(start, now_ms, interval, limit)) <= MAX_SLICES:
            found.append(interval)
    return found


def grid_start(time_ms: int, interval: str) -> int:
    """The start of the ``interval`` bucket that holds ``time_ms``: buckets start on UTC's
    grid (4h buckets at 00, 04, 08 ...)."""
    return time_ms - time_ms % INTERVAL_MS[interval]


def slices(start_ms: int, end_ms: int, interval: str, limit: int) -> list[tuple[int, int]]:
    """The requests of at most ``limit`` buckets each that cover ``start_ms`` (on the grid)
    to ``end_ms`` (excluded)."""
    span = INTERVAL_MS[interval] * limit
    return [(start, min(start + span, end_ms)) for start in range(start_ms, end_ms, span)]


def realized_sums(
    buckets: Sequence[LiquidationBucket], start_ms: int, end_ms: int
) -> tuple[float, float]:
    """USD liquidated on the long and on the short side in the buckets that start from
    ``start_ms`` and before ``end_ms``, each bucket counted once however many slices sent it;
    a bucket not sent counts as nothing liquidated."""
    by_time = {b.time_ms: b for b in buckets if start_ms <= b.time_ms < end_ms}
    long = sum(bucket.long_usd for bucket in by_time.values())
    short = sum(bucket.short_usd for bucket in by_time.values())
    return round(long, 2), round(short, 2)
