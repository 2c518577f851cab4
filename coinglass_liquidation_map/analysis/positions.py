"""Pure functions from a coin's open Hyperliquid positions to a liquidation map of what is
observed: the positions binned by liquidation price, one row per leverage in each bucket, read
by the map's own summary; how much of the market they cover; and the positions nearest to
liquidation. No I/O, no clock.

A liquidation price CoinGlass sends may be unusable: missing, zero, negative, or on the wrong
side of the price (at or above it for a long, at or below it for a short, where the position
would already be gone). Such a position counts in the coverage, never in a bucket.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass

from coinglass_liquidation_map.analysis.buckets import Bucketing, bucket_centre, distance_pct
from coinglass_liquidation_map.analysis.liqmap import analyse
from coinglass_liquidation_map.analysis.markets import CurrentPrice
from coinglass_liquidation_map.market_data import (
    LiquidationRow,
    Market,
    Markets,
    Number,
    Position,
    PositionPages,
    PriceKeyedMap,
)
from coinglass_liquidation_map.outputs import Side
from coinglass_liquidation_map.schemas.positions import (
    POSITIONS_SUCCESS_MESSAGE,
    ClosestPosition,
    Coverage,
    HyperliquidPositionsItem,
)

HYPERLIQUID = "Hyperliquid"
# The bucket width when the input asks for none, in % of the price: about the grid of
# CoinGlass's own maps (80 USD apart for BTC near 77,000).
DEFAULT_PERCENT_STEP = 0.1


@dataclass(frozen=True)
class PlacedPosition:
    """A position with a usable liquidation price, and the side it is on."""

    position: Position
    side: Side
    liq_price: Number


def side_of(position: Position) -> Side | None:
    """Long for a positive size, short for a negative one; none for an empty position."""
    if position.size > 0:
        return "long"
    return "short" if position.size < 0 else None


def mark_price(positions: list[Position]) -> CurrentPrice | None:
    """Hyperliquid's mark price, as the positions carry it: the median of their marks, so one
    row read a moment earlier does not move it."""
    marks = sorted(position.mark_price for position in positions if position.mark_price)
    if not marks:
        return None
    middle = len(marks) // 2
    median = marks[middle] if len(marks) % 2 else (marks[middle - 1] + marks[middle]) / 2
    return CurrentPrice(median, "Hyperliquid mark price (median of the positions')")


def hyperliquid_market(markets: Markets, coin: str) -> Market | None:
    """The coin's perpetual on Hyperliquid in ``pairs-markets`` (``BTC-USD``, or ``BTC`` as the
    pair list names it), else the Hyperliquid row with the largest open interest."""
    rows = [row for row in markets.root if row.exchange.casefold() == HYPERLIQUID.casefold()]
    for instrument_id in (f"{coin}-USD", coin):
        for row in rows:
            if row.instrument_id.casefold() == instrument_id.casefold():
                return row
    return max(rows, key=lambda row: row.open_interest_usd or 0, default=None)


def placed(positions: list[Position], current_price: Number | None) -> list[PlacedPosition]:
    """The positions whose liquidation price can be used, each with its side. The price it is
    checked against is the current price, or the position's own mark when that is unknown."""
    kept = []
    for position in positions:
        side, liq = side_of(position), position.liq_price
        if side is None or liq is None or liq <= 0:
            continue
        reference = current_price or position.mark_price
        if reference and (liq >= reference if side == "long" else liq <= reference):
            continue
        kept.append(PlacedPosition(position, side, liq))
    return kept


def positions_map(
    positions: list[PlacedPosition], current_price: Number | None, bucketing: Bucketing
) -> PriceKeyedMap:
    """The positions as a map: price buckets in ascending order, each holding one row
    ``[bucket price, USD value, leverage, null]`` per leverage. Buckets are laid from the
    current price as the map's re-bucketing lays them, each priced at its centre, so the map's
    summary reads them as they are; without a width, each liquidation price is its own."""
    width, origin = bucketing.width(current_price), current_price or 0
    values: dict[tuple[Number, Number | None], float] = defaultdict(float)
    for each in positions:
        bucket = bucket_centre(each.liq_price, width, origin) if width else each.liq_price
        values[(bucket, _tier(each.position.leverage))] += each.position.value_usd
    data: PriceKeyedMap = {}
    for bucket, tier in sorted(values, key=lambda key: (key[0], _tier_order(key[1]))):
        row: LiquidationRow = (bucket, round(values[(bucket, tier)], 2), tier, None)
        data.setdefault(_key(bucket), []).append(row)
    return data


def closest_positions(
    positions: list[PlacedPosition], current_price: Number | None, count: int
) -> list[ClosestPosition]:
    """The ``count`` positions nearest to liquidation, nearest first (the larger first at the
    same distance); none without a current price to measure from."""
    if current_price is None:
        return []
    nearest = heapq.nsmallest(
        count,
        positions,
        key=lambda placed_position: (
            abs(placed_position.liq_price - current_price),
            -placed_position.position.value_usd,
            placed_position.position.user,
        ),
    )
    return [
        ClosestPosition(
            user=each.position.user,
            side=each.side,
            size_usd=round(each.position.value_usd, 2),
            leverage=_tier(each.position.leverage),
            liq_price=each.liq_price,
            distance_pct=distance_pct(each.liq_price, current_price) or 0.0,
        )
        for each in nearest
    ]


def coverage(pages: PositionPages, binned: int, open_interest_usd: float | None) -> Coverage:
    """How much of Hyperliquid's open interest the positions read stand for. CoinGlass's open
    interest counts one side (every long has its short), so the notional read of both sides is
    compared with twice it."""
    notional = sum(position.value_usd for position in pages.positions)
    share = notional / (2 * open_interest_usd) * 100 if open_interest_usd else None
    return Coverage(
        positions=len(pages.positions),
        positions_without_liq_price=len(pages.positions) - binned,
        pages_fetched=pages.pages_fetched,
        total_pages=pages.total_pages,
        covered_notional_usd=round(notional, 2),
        open_interest_usd=open_interest_usd,
        coverage_pct=None if share is None else round(share, 2),
    )


def analysed_positions(
    coin: str,
    pages: PositionPages,
    *,
    price: CurrentPrice | None,
    missing: str,
    open_interest_usd: float | None,
    interest_missing: str,
    bucketing: Bucketing,
    max_pages: int,
) -> HyperliquidPositionsItem:
    """A coin's positions as its item: the map, its summary (the map's own) and levels, the
    coverage, the positions nearest to liquidation, and a message saying what was read and
    what the user should know (pages left unread, unusable liquidation prices, a price or an
    open interest that could not be had: ``missing`` and ``interest_missing`` say why)."""
    current = price.price if price else None
    if bucketing.price_step is None and bucketing.price_percent_step is None:
        bucketing = Bucketing(bucketing.top_clusters, price_percent_step=DEFAULT_PERCENT_STEP)
    kept = placed(pages.positions, current)
    data = positions_map(kept, current, bucketing)
    summary, placement = analyse(
        data, current, bucketing, price_source=price.source if price else None
    )
    covered = coverage(pages, len(kept), open_interest_usd)
    return HyperliquidPositionsItem(
        message=_message(covered, pages, max_pages, missing, interest_missing),
        symbol=coin,
        data=data,
        summary=summary,
        levels=placement.levels(),
        coverage=covered,
        closest_positions=closest_positions(kept, current, bucketing.top_clusters),
    )


def _message(
    covered: Coverage, pages: PositionPages, max_pages: int, missing: str, interest_missing: str
) -> str:
    read = f"{covered.pages_fetched} of {covered.total_pages} pages"
    parts = [POSITIONS_SUCCESS_MESSAGE]
    if covered.pages_fetched < covered.total_pages:
        parts.append(f"Read {read} (maxPages {max_pages}): raise maxPages to read more.")
    else:
        parts.append(f"Read all {read}.")
    if covered.coverage_pct is not None:
        parts.append(
            f"The {covered.positions:,} positions read, longs and shorts, hold"
            f" {covered.coverage_pct:g}% of Hyperliquid's open interest counted on both sides."
        )
    else:
        parts.append(
            f"Hyperliquid's open interest is unavailable ({interest_missing}), so the share of"
            " it the positions read hold is unknown."
        )
    if covered.positions_without_liq_price:
        parts.append(
            f"{covered.positions_without_liq_price} position(s) have no usable liquidation price"
            " (missing, zero, negative or on the wrong side of the price): they count in the"
            " coverage, not in the price buckets."
        )
    if pages.skipped_rows:
        parts.append(f"{pages.skipped_rows} unreadable row(s) from CoinGlass were left out.")
    if covered.positions and missing:
        parts.append(f"The current price is unavailable ({missing}), so sides are not computed.")
    return " ".join(parts)


def _tier(leverage: Number | None) -> Number | None:
    """A leverage as a tier: ``20.0`` is ``20``."""
    if leverage is None:
        return None
    return int(leverage) if float(leverage).is_integer() else leverage


def _tier_order(tier: Number | None) -> float:
    return -1.0 if tier is None else float(tier)


def _key(bucket: Number) -> str:
    """A bucket's price as a map's key: ``"96951.5"``, ``"97000"``."""
    return str(int(bucket)) if float(bucket).is_integer() else repr(float(bucket))
