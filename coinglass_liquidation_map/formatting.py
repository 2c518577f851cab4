"""Numbers, times and leverage tiers as people read them, the same in alerts, charts and the
report: "97,000", "449M", "+3.09%", "25x", "2026-11-25 14:03 UTC"."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from coinglass_liquidation_map.market_data import Number

# Enough for a BTC price to the cent and a sub-cent coin to its last quoted digit.
PRICE_SIGNIFICANT_DIGITS = 7
MAX_PRICE_DECIMALS = 12
_UNITS = (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3))


def format_price(price: Number) -> str:
    """``97,000``, ``3,400.25``, ``0.0000123``: thousands separators, no float noise."""
    if price == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(price)))
    decimals = min(MAX_PRICE_DECIMALS, max(0, PRICE_SIGNIFICANT_DIGITS - 1 - magnitude))
    return _trimmed(f"{price:,.{decimals}f}")


def format_level(level: float) -> str:
    """A level in full, as a table shows it: ``449,049,168``; small ones keep their cents."""
    return f"{level:,.0f}" if abs(level) >= 1000 else _trimmed(f"{level:,.2f}")


def format_compact(value: float) -> str:
    """A level in three significant digits with a unit: ``449M``, ``1.25B``, ``12.5K``."""
    # Rounded first, so 999,999 reads "1M" rather than "1e+03K".
    rounded = float(f"{value:.3g}")
    for unit, scale in _UNITS:
        if abs(rounded) >= scale:
            return f"{rounded / scale:.3g}{unit}"
    return f"{rounded:.3g}"


def format_pct(pct: float) -> str:
    """A signed distance from the price: ``+3.09%``, ``-1.04%``."""
    return f"{pct:+.2f}%"


def format_imbalance(imbalance: float | None) -> str:
    """The imbalance with the side it leans to: positive means more shorts above the price."""
    if imbalance is None:
        return "n/a"
    if imbalance == 0:
        return "0 (balanced)"
    leaning = "shorts heavier" if imbalance > 0 else "longs heavier"
    return f"{imbalance:+.3f} ({leaning})"


def leverage_name(leverage: Number | None) -> str:
    """A leverage tier as a key: ``"25"``, ``"12.5"``, or ``"unknown"`` where none is given."""
    if leverage is None:
        return "unknown"
    return str(int(leverage)) if float(leverage).is_integer() else str(leverage)


def format_tier(name: str) -> str:
    """A leverage tier as readers see it: ``25x``, or ``unknown``."""
    return name if name == "unknown" else f"{name}x"


def format_utc(moment: datetime) -> str:
    """``2026-11-25 14:03 UTC``; a naive time is taken to be UTC already."""
    aware = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{aware:%Y-%m-%d %H:%M} UTC"


def _trimmed(number: str) -> str:
    return number.rstrip("0").rstrip(".") if "." in number else number


def format_distance(pct: float) -> str:
    """A distance from the price as a sentence gives it: ``+3.1%``, ``-0.96%`` below one per
    cent, where a tenth would round it away."""
    return f"{pct:+.2f}%" if abs(pct) < 1 else f"{pct:+.1f}%"


def heavier_first(sides: list[tuple[float, str]], imbalance: float | None, where: str = "") -> str:
    """Two sides' totals, the heavier first, then ``where`` they are and the imbalance where
    it is known: ``728M of shorts above and 449M of longs below (imbalance +0.24)``."""
    (heavy, heavy_side), (light, light_side) = sorted(sides, key=lambda side: -side[0])
    said = f"{format_compact(heavy)} {heavy_side} and {format_compact(light)} {light_side}{where}"
    return said if imbalance is None else f"{said} (imbalance {imbalance:+.2f})"


def placed(what: str, amount: float, price: Number, distance_pct: float | None) -> str:
    """Where ``what`` lies: ``the largest cluster is 37.5M at 99,993 (+3.1%)``."""
    return (
        f"{what} is {format_compact(amount)} at {format_price(price)}"
        f" ({format_distance(distance_pct or 0)})"
    )


def sentence_of(*clauses: str) -> str:
    """Clauses joined as one sentence: the first after the subject's colon, the rest after
    semicolons, with a full stop."""
    head, *rest = [clause for clause in clauses if clause]
    return "; ".join([head, *rest]) + "."
