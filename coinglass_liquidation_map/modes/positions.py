"""Mode ``hyperliquid_positions``' pipeline: one job, a coin's open Hyperliquid positions read
page by page up to ``maxPages``, with Hyperliquid's open interest and price from
``pairs-markets`` fetched beside them, and read as a liquidation map of what is observed; then
drawn, as the input asks. The report is saved once it is delivered."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from functools import partial

from coinglass_liquidation_map.analysis import positions
from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.analysis.markets import CurrentPrice, unfit_price
from coinglass_liquidation_map.catalog import mode_of
from coinglass_liquidation_map.errors import CoinGlassError, NoData
from coinglass_liquidation_map.formatting import format_utc
from coinglass_liquidation_map.market_data import Markets
from coinglass_liquidation_map.run.billing import Budget
from coinglass_liquidation_map.run.gallery import Gallery, Picture, picture_key
from coinglass_liquidation_map.run.pipeline import Job, Steps
from coinglass_liquidation_map.run.storage import run_store
from coinglass_liquidation_map.run.upstream import Upstream
from coinglass_liquidation_map.schemas.positions import (
    HyperliquidPositionsInput,
    HyperliquidPositionsItem,
)


def pipeline(
    request: HyperliquidPositionsInput, upstream: Upstream, *, remember: bool, log: logging.Logger
) -> PositionsPipeline:
    """The positions ``request`` asks for; nothing of them is kept between runs."""
    return PositionsPipeline(request, upstream, log)


class PositionsPipeline(Steps):
    """One coin's positions, and their picture."""

    concurrency = 1

    def __init__(
        self, request: HyperliquidPositionsInput, upstream: Upstream, log: logging.Logger
    ) -> None:
        self._request = request
        self._upstream = upstream
        self._gallery = Gallery(run_store(), log) if request.chart else None

    async def jobs(self, budget: Budget) -> list[Job]:
        failed = partial(mode_of(self._request).failure, source=self._request)
        return [Job(self._positions, failed)]

    async def _positions(self) -> HyperliquidPositionsItem:
        item = await hyperliquid_positions(self._upstream, self._request)
        if self._gallery is None:
            return item
        return await self._gallery.add(item, picture(item))

    async def finish(self) -> None:
        """Save the report."""
        if self._gallery is not None:
            await self._gallery.save_report()


async def hyperliquid_positions(
    upstream: Upstream, request: HyperliquidPositionsInput
) -> HyperliquidPositionsItem:
    """A coin's positions read as a map, with their coverage of Hyperliquid's open interest."""
    coin = request.symbol
    # The coin's markets come in the same waits as the pages, and never fail the positions.
    markets = asyncio.ensure_future(_markets(upstream, coin))
    try:
        pages = await upstream.endpoints.hyperliquid_positions(
            coin, request.max_pages, request.max_concurrency
        )
    except BaseException:
        # A plan refusal is told what the key's plan runs, and what positions need, by the
        # runner, from the catalog.
        markets.cancel()
        raise
    if not pages.positions:
        markets.cancel()
        raise NoData(
            f"CoinGlass lists no open Hyperliquid position on {coin}, so there is nothing to"
            " deliver and nothing was charged. Hyperliquid names some markets its own way (kPEPE"
            " for a thousand PEPE): check the coin's name there."
        )
    rows, why = await markets
    market = positions.hyperliquid_market(rows, coin) if rows is not None else None
    price, missing = positions.mark_price(pages.positions), ""
    if price is None and market is not None and market.price:
        fallback = CurrentPrice(market.price, f"pairs-markets Hyperliquid {market.instrument_id}")
        # As for maps: a price in another unit than the liquidation prices is not used.
        liquidations = [p.liq_price for p in pages.positions if p.liq_price and p.liq_price > 0]
        unfit = liquidations and unfit_price(fallback, min(liquidations), max(liquidations))
        price, why = (None, unfit) if unfit else (fallback, why)
    if price is None:
        missing = why or "neither the positions nor pairs-markets give Hyperliquid's price"
    interest = float(market.open_interest_usd) if market and market.open_interest_usd else None
    return positions.analysed_positions(
        coin,
        pages,
        price=price,
        missing=missing,
        open_interest_usd=interest,
        interest_missing=why or "pairs-markets lists no Hyperliquid market of this coin",
        bucketing=Bucketing(request.top_clusters, request.price_step, request.price_percent_step),
        max_pages=request.max_pages,
    )


async def _markets(upstream: Upstream, coin: str) -> tuple[Markets | None, str]:
    """The coin's markets, or None and why they could not be had."""
    try:
        return await upstream.prices(coin), ""
    except CoinGlassError as error:
        return None, f"pairs-markets failed: {error.type}"


def picture(item: HyperliquidPositionsItem) -> Picture:
    """How a coin's positions are drawn (as a map, titled as measured) and shown in the
    report."""

    def render(fetched_at: datetime) -> bytes:
        # Imported here, so that matplotlib loads only when charts are asked for.
        from coinglass_liquidation_map.render.map_chart import render_levels  # noqa: PLC0415

        title = (
            f"{item.symbol} · Hyperliquid positions, measured liquidation prices ·"
            f" {format_utc(fetched_at)}"
        )
        return render_levels(item, title, "Position value (USD)")

    def section() -> list[str]:
        from coinglass_liquidation_map.render.positions_section import positions_section  # noqa: PLC0415 - see render()

        return positions_section(item)

    return Picture(
        kind="position map",
        name=f"{item.symbol} hyperliquid positions",
        heading=f"{item.symbol} · Hyperliquid positions (observed)",
        alt=f"Open Hyperliquid positions on {item.symbol} by liquidation price",
        key=picture_key(f"chart-hyperliquid-{item.symbol}"),
        render=render,
        section=section,
    )
