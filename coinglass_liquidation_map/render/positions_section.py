"""A coin's Hyperliquid positions in the run's report: the map's own tables, how much of the
market the positions read cover, and the positions nearest to liquidation."""

from __future__ import annotations

from coinglass_liquidation_map.formatting import (
    format_level,
    format_pct,
    format_price,
    format_tier,
    leverage_name,
)
from coinglass_liquidation_map.render.map_section import map_tables
from coinglass_liquidation_map.render.report import table, td, th
from coinglass_liquidation_map.schemas.positions import Coverage, HyperliquidPositionsItem


def positions_section(item: HyperliquidPositionsItem) -> list[str]:
    return [*map_tables(item.summary, [_coverage_table(item.coverage)]), _closest_table(item)]


def _coverage_table(coverage: Coverage) -> str:
    interest = coverage.open_interest_usd
    share = coverage.coverage_pct
    rows = [
        ["Positions read", f"{coverage.positions:,}"],
        ["Without a usable liquidation price", f"{coverage.positions_without_liq_price:,}"],
        ["Pages", f"{coverage.pages_fetched} of {coverage.total_pages}"],
        ["Notional read (longs + shorts)", format_level(coverage.covered_notional_usd)],
        ["Open interest (one side)", "n/a" if interest is None else format_level(interest)],
        ["Share of both sides", "n/a" if share is None else f"{share:g}%"],
    ]
    return table("Coverage", None, [[th(name), td(value)] for name, value in rows])


def _closest_table(item: HyperliquidPositionsItem) -> str:
    rows = [
        [
            th(str(rank)),
            td(position.user, "text"),
            td(position.side, f"text {position.side}"),
            td(format_level(position.size_usd)),
            td(format_tier(leverage_name(position.leverage))),
            td(format_price(position.liq_price)),
            td(format_pct(position.distance_pct)),
        ]
        for rank, position in enumerate(item.closest_positions, 1)
    ]
    head = ["#", "Wallet", "Side", "Size (USD)", "Leverage", "Liquidation price", "Distance"]
    if not rows:
        return "<p>Positions nearest to liquidation: none.</p>"
    return f'<div class="scroll">{table("Nearest to liquidation", head, rows, "clusters")}</div>'
