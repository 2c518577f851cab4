"""Pure functions from CoinGlass's max pain and coins markets to a ranked market scan: each coin's
row, its place in the ranking, and the scan's own alert rule.

Max pain's two prices are placed by where they lie against the coin's price, not by CoinGlass's
labels, which its own documentation has the wrong way round. No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from coinglass_liquidation_map.analysis.buckets import distance_pct
from coinglass_liquidation_map.analysis.liqmap import AnalysedMap
from coinglass_liquidation_map.formatting import format_compact, format_price
from coinglass_liquidation_map.market_data import CoinMarket, MaxPain, Number
from coinglass_liquidation_map.outputs import Side
from coinglass_liquidation_map.schemas.alerts import Alert
from coinglass_liquidation_map.schemas.scans import (
    MAP_COLUMNS_PCT,
    MaxPainWithinPct,
    ScanAlertRule,
    ScanRow,
    SortBy,
)

# The source each ranking reads, and the ranking that stands in when that source is missing.
MAX_PAIN_SORTS = frozenset({"max_pain_proximity"})
FALLBACK_SORT: dict[str, SortBy] = {
    "max_pain_proximity": "open_interest",
    "open_interest": "max_pain_proximity",
    "liquidations_24h": "max_pain_proximity",
    "funding_rate": "max_pain_proximity",
    "oi_change_24h": "max_pain_proximity",
}


@dataclass(frozen=True)
class ScannedCoin:
    """One coin's row, before it is ranked, and what its message should say about it."""

    coin: str
    row: ScanRow
    notes: tuple[str, ...] = ()  # sentences about this coin's own data


@dataclass(frozen=True)
class Ranking:
    """The coins kept, best first, the ranking used, and the coins asked for that neither
    source lists."""

    coins: list[ScannedCoin]
    sort_by: SortBy
    unknown: list[str] = field(default_factory=list)


def _figure(value: Number | None) -> Number | None:
    """A price or level, or None where CoinGlass gives none (null, zero, negative)."""
    return value if value is not None and value > 0 else None


PAIN_COLUMNS = (
    "long_max_pain_price",
    "long_max_pain_level",
    "long_max_pain_distance_pct",
    "short_max_pain_price",
    "short_max_pain_level",
    "short_max_pain_distance_pct",
)


def _max_pain_columns(pain: MaxPain | None, price: Number | None) -> tuple[dict[str, object], str]:
    """The six max-pain columns, each level placed by its price against ``price``, and a note
    when CoinGlass's label says the other side."""
    columns: dict[str, object] = dict.fromkeys(PAIN_COLUMNS)
    if pain is None:
        return columns, ""
    labelled: tuple[tuple[Side, Number | None, Number | None], ...] = (
        ("long", _figure(pain.long_price), _figure(pain.long_level)),
        ("short", _figure(pain.short_price), _figure(pain.short_level)),
    )
    given = [
        (label, found_price, level)
        for label, found_price, level in labelled
        if found_price is not None and level is not None
    ]
    placed: dict[Side, tuple[Side, Number, Number]] = {}
    for label, found_price, level in given:
        side: Side = label if price is None or found_price == price else _side(found_price, price)
        # Two levels on one side: the one CoinGlass labels for that side keeps the column.
        if side not in placed or side == label:
            placed[side] = (label, found_price, level)
    contradicted = [
        f"its {label} max pain ({format_price(found_price)}) lies"
        f" {'below' if label == 'short' else 'above'} the price"
        + ("" if placed.get(_other(label), (None,))[0] == label else ", and is left out")
        for label, found_price, _ in given
        if price is not None and found_price != price and _side(found_price, price) != label
    ]
    for side, (_, found_price, level) in placed.items():
        columns[f"{side}_max_pain_price"] = found_price
        columns[f"{side}_max_pain_level"] = level
        columns[f"{side}_max_pain_distance_pct"] = distance_pct(found_price, price)
    note = ""
    if contradicted:
        note = (
            f"CoinGlass's max-pain labels disagree with the prices: {' and '.join(contradicted)}"
            f" ({format_price(price or 0)}); each level is placed by its price: longs below,"
            " shorts above."
        )
    return columns, note


def _other(side: Side) -> Side:
    return "short" if side == "long" else "long"


def _side(found_price: Number, price: Number) -> Side:
    return "long" if found_price < price else "short"


def scanned(pain: MaxPain | None, market: CoinMarket | None) -> ScannedCoin:
    """One coin's row from what each source says of it (either may be missing)."""
    coin = pain.coin if pain is not None else market.coin if market is not None else ""
    # Max pain's distances are read against the price max pain itself was computed at.
    price = _figure(pain.price) if pain is not None else None
    if price is None and market is not None:
        price = _figure(market.price)
    columns, note = _max_pain_columns(pain, price)
    row: ScanRow = {
        "price": price,
        **columns,  # type: ignore[typeddict-item]
        **(_market_columns(market) if market else NO_MARKET),
        **NO_MAP,
    }
    return ScannedCoin(coin, row, (note,) if note else ())


def _market_columns(market: CoinMarket) -> dict[str, Number | None]:
    return {
        "open_interest_usd": market.open_interest_usd,
        "oi_change_pct_24h": market.oi_change_pct_24h,
        "funding_rate": market.funding_rate,
        "long_short_ratio_24h": market.long_short_ratio_24h,
        "long_liquidations_usd_24h": market.long_liquidations_usd_24h,
        "short_liquidations_usd_24h": market.short_liquidations_usd_24h,
    }


MAP_COLUMNS = (
    "map_range",
    "long_within_2pct",
    "short_within_2pct",
    "imbalance",
    "nearest_long_cluster_price",
    "nearest_long_cluster_distance_pct",
    "nearest_short_cluster_price",
    "nearest_short_cluster_distance_pct",
)
NO_MAP = dict.fromkeys(MAP_COLUMNS)
NO_MARKET = dict.fromkeys(
    (
        "open_interest_usd",
        "oi_change_pct_24h",
        "funding_rate",
        "long_short_ratio_24h",
        "long_liquidations_usd_24h",
        "short_liquidations_usd_24h",
    )
)


def with_map(row: ScanRow, analysed: AnalysedMap) -> ScanRow:
    """``row`` with its coin's map's columns: the fuel within a few % of the price on each
    side, the imbalance, and the nearest cluster on each side (null without a price)."""
    summary = analysed.item.summary
    within = (summary.within_pct or {}).get(str(MAP_COLUMNS_PCT))
    nearest_long, nearest_short = summary.nearest_long_cluster, summary.nearest_short_cluster
    return {
        **row,
        "map_range": analysed.item.range,
        "long_within_2pct": within.long if within else None,
        "short_within_2pct": within.short if within else None,
        "imbalance": summary.imbalance,
        "nearest_long_cluster_price": nearest_long.price if nearest_long else None,
        "nearest_long_cluster_distance_pct": nearest_long.distance_pct if nearest_long else None,
        "nearest_short_cluster_price": nearest_short.price if nearest_short else None,
        "nearest_short_cluster_distance_pct": nearest_short.distance_pct if nearest_short else None,
    }


def _proximity(row: ScanRow) -> float | None:
    distances = [
        abs(d)
        for d in (row["long_max_pain_distance_pct"], row["short_max_pain_distance_pct"])
        if d is not None
    ]
    return min(distances) if distances else None


def _liquidations(row: ScanRow) -> float | None:
    sides = [v for v in (row["long_liquidations_usd_24h"], row["short_liquidations_usd_24h"]) if v]
    if row["long_liquidations_usd_24h"] is None and row["short_liquidations_usd_24h"] is None:
        return None
    return float(sum(sides))


def _absolute(name: str) -> Callable[[ScanRow], float | None]:
    def read(row: ScanRow) -> float | None:
        value = row[name]  # type: ignore[literal-required]
        return None if value is None else abs(value)

    return read


# What each ranking reads, and whether the nearest (rather than the largest) comes first.
SORT_KEYS: dict[str, tuple[Callable[[ScanRow], float | None], bool]] = {
    "open_interest": (lambda row: row["open_interest_usd"], False),
    "max_pain_proximity": (_proximity, True),
    "liquidations_24h": (_liquidations, False),
    "funding_rate": (_absolute("funding_rate"), False),
    "oi_change_24h": (_absolute("oi_change_pct_24h"), False),
}


def usable_sort(sort_by: SortBy, *, has_max_pain: bool, has_markets: bool) -> SortBy:
    """``sort_by``, or the ranking that stands in for it when its source is missing."""
    needs_max_pain = sort_by in MAX_PAIN_SORTS
    if (has_max_pain if needs_max_pain else has_markets) or not (has_max_pain or has_markets):
        return sort_by
    return FALLBACK_SORT[sort_by]


def ranked(
    max_pain: list[MaxPain] | None,
    markets: list[CoinMarket] | None,
    *,
    coins: list[str] | None,
    sort_by: SortBy,
    max_coins: int,
) -> Ranking:
    """Every coin either source lists (or those of ``coins`` they list), ranked, the first
    ``max_coins`` kept. A source that is None could not be had."""
    pain_of = {pain.coin: pain for pain in max_pain or []}
    market_of = {market.coin: market for market in markets or []}
    listed = list(dict.fromkeys([*pain_of, *market_of]))
    unknown: list[str] = []
    if coins is not None:
        by_name = {coin.casefold(): coin for coin in listed}
        wanted = [by_name.get(coin.casefold()) for coin in coins]
        unknown = [coin for coin, found in zip(coins, wanted, strict=True) if found is None]
        listed = list(dict.fromkeys(found for found in wanted if found is not None))
    used = usable_sort(sort_by, has_max_pain=max_pain is not None, has_markets=markets is not None)
    rows = [scanned(pain_of.get(coin), market_of.get(coin)) for coin in listed]
    return Ranking(_sorted(rows, used)[:max_coins], used, list(dict.fromkeys(unknown)))


def _sorted(rows: Iterable[ScannedCoin], sort_by: SortBy) -> list[ScannedCoin]:
    key, nearest_first = SORT_KEYS[sort_by]

    def order(scanned_coin: ScannedCoin) -> tuple[bool, float, str]:
        value = key(scanned_coin.row)
        # Coins without the figure come last, then by name, so equal figures keep one order.
        if value is None:
            return (True, 0.0, scanned_coin.coin)
        return (False, value if nearest_first else -value, scanned_coin.coin)

    return sorted(rows, key=order)


def max_pain_alerts(
    rules: Sequence[ScanAlertRule], coin: str, max_pain_range: str, row: ScanRow
) -> list[Alert]:
    """The alerts the scan's own rule raises on a row: a max pain within a distance."""
    return [
        alert
        for index, rule in enumerate(rules)
        if isinstance(rule, MaxPainWithinPct)
        for alert in _max_pain_within(index, rule, coin, max_pain_range, row)
    ]


def _max_pain_within(
    index: int, rule: MaxPainWithinPct, coin: str, max_pain_range: str, row: ScanRow
) -> Iterable[Alert]:
    sides: tuple[Side, ...] = ("long", "short") if rule.side == "any" else (rule.side,)
    for side in sides:
        distance = row[f"{side}_max_pain_distance_pct"]  # type: ignore[literal-required]
        found_price = row[f"{side}_max_pain_price"]  # type: ignore[literal-required]
        level = row[f"{side}_max_pain_level"]  # type: ignore[literal-required]
        price = row["price"]
        if distance is None or abs(distance) > rule.pct or price is None:
            continue
        direction = "above" if distance > 0 else "below"
        yield Alert(
            rule=index,
            type=rule.type,
            symbol=coin,
            range=max_pain_range,
            side=side,
            price=found_price,
            level=level,
            distance_pct=distance,
            current_price=price,
            message=(
                f"{coin} {max_pain_range}: {side} max pain of {format_compact(level)} at"
                f" {format_price(found_price)}, {abs(distance):.2f}% {direction} the price"
                f" ({format_price(price)})"
            ),
        )
