"""A scan's section of the run's report: its rows as one table, in rank order."""

from __future__ import annotations

from coinglass_liquidation_map.formatting import format_compact, format_pct, format_price
from coinglass_liquidation_map.market_data import Number
from coinglass_liquidation_map.render.report import table, td
from coinglass_liquidation_map.schemas.scans import MAP_COLUMNS_PCT, MarketScanItem

HEAD = [
    "Rank",
    "Coin",
    "Price",
    "Long max pain",
    "Short max pain",
    "Open interest",
    "Funding",
    "Liquidations 24h (long / short)",
    f"Fuel within {MAP_COLUMNS_PCT}% (long / short)",
]


def scan_section(items: list[MarketScanItem]) -> list[str]:
    rows = [_row(item) for item in sorted(items, key=lambda item: item.rank)]
    return [table("Coins, in rank order", HEAD, rows, "scan")]


def _row(item: MarketScanItem) -> list[str]:
    data = item.data
    return [
        td(str(item.rank)),
        td(item.coin),
        td(_price(data["price"])),
        td(_pain(data["long_max_pain_price"], data["long_max_pain_distance_pct"]), "long"),
        td(_pain(data["short_max_pain_price"], data["short_max_pain_distance_pct"]), "short"),
        td(_compact(data["open_interest_usd"])),
        td("n/a" if data["funding_rate"] is None else f"{data['funding_rate']:.4f}%"),
        td(
            f"{_compact(data['long_liquidations_usd_24h'])} /"
            f" {_compact(data['short_liquidations_usd_24h'])}"
        ),
        td(
            "not mapped"
            if data["map_range"] is None
            else f"{_compact(data['long_within_2pct'])} / {_compact(data['short_within_2pct'])}"
        ),
    ]


def _price(price: Number | None) -> str:
    return "n/a" if price is None else format_price(price)


def _pain(price: Number | None, distance: float | None) -> str:
    if price is None:
        return "none"
    return f"{format_price(price)} ({'n/a' if distance is None else format_pct(distance)})"


def _compact(value: float | None) -> str:
    return "n/a" if value is None else format_compact(value)
