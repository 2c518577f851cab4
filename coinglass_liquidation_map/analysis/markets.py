"""Pure functions from a coin's markets (CoinGlass's ``pairs-markets``) to the current price of a
map.

The map carries no current price; ``pairs-markets`` lists every pair of a coin across
exchanges with its price. Exchange names differ slightly between endpoints (``Gate`` in the
pair list, ``Gate.io`` here), so names are compared loosely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coinglass_liquidation_map.formatting import format_price
from coinglass_liquidation_map.market_data import Market, Markets, Number

# A current price is read against a map or heatmap only when it lies within the picture's own
# prices widened this many times either way. Liquidations sit at most about 1/leverage from
# where positions were opened, so a real price stays close to its picture's span, even after a
# crash or a rally that swept one side; a price in another unit is off by orders of magnitude
# (USD for a pair quoted in BTC, as pairs-markets gives ETHBTC, or a 1000-coin contract).
PRICE_SPAN_FACTOR = 3


@dataclass(frozen=True)
class CurrentPrice:
    """A price and where it came from, so a user can judge it."""

    price: Number
    source: str


def unfit_price(price: CurrentPrice, low: Number, high: Number) -> str | None:
    """Why ``price`` cannot be read against a picture whose prices span ``low`` to ``high``,
    or None when it can (see ``PRICE_SPAN_FACTOR``)."""
    if low / PRICE_SPAN_FACTOR <= price.price <= high * PRICE_SPAN_FACTOR:
        return None
    return (
        f"{price.source} gives {format_price(price.price)}, far outside the prices"
        f" {format_price(low)} to {format_price(high)} it would be read against: a price in"
        " another unit, such as USD for a pair quoted in BTC"
    )


def _loose(exchange: str) -> str:
    return re.sub(r"[^a-z0-9]", "", exchange.lower())


def same_exchange(a: str, b: str) -> bool:
    """``Gate`` and ``Gate.io``, ``Crypto.com`` and ``cryptocom``: one exchange."""
    x, y = _loose(a), _loose(b)
    return x.startswith(y) or y.startswith(x)


def pair_price(markets: Markets, exchange: str, instrument_id: str) -> CurrentPrice | None:
    """The instrument's own current price, or None if ``pairs-markets`` does not list it."""
    # CoinGlass sends zero or null when it has no price.
    row = _row(markets, exchange, instrument_id, priced=True)
    if row is None or not row.price:
        return None
    return CurrentPrice(row.price, f"pairs-markets {row.exchange} {instrument_id}")


def open_interest(markets: Markets, exchange: str, instrument_id: str) -> float:
    """The instrument's open interest in USD; 0 where ``pairs-markets`` gives none."""
    row = _row(markets, exchange, instrument_id)
    return float(row.open_interest_usd or 0) if row else 0.0


def _row(
    markets: Markets, exchange: str, instrument_id: str, *, priced: bool = False
) -> Market | None:
    """The instrument's row (with a price, if ``priced``): exchange names compared loosely."""
    return next(
        (
            row
            for row in markets.root
            if row.instrument_id == instrument_id
            and (row.price or not priced)
            and same_exchange(row.exchange, exchange)
        ),
        None,
    )


def coin_price(markets: Markets) -> CurrentPrice | None:
    """A coin's price from its most traded pair (largest open interest)."""
    priced = [row for row in markets.root if row.price]
    if not priced:
        return None
    row = max(priced, key=lambda row: row.open_interest_usd or 0)
    return CurrentPrice(
        row.price or 0,
        f"pairs-markets {row.exchange} {row.instrument_id} (largest open interest)",
    )
