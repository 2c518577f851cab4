"""CoinGlass API v4's endpoints as typed calls: the only place their paths and parameters live.
Each call answers in the core's own types (``market_data``), translated from the wire here."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from coinglass_liquidation_map.coinglass.client import CoinGlassClient
from coinglass_liquidation_map.coinglass.history_payloads import LiquidationHistory, Subscription
from coinglass_liquidation_map.coinglass.payloads import (
    CoinMapPayload,
    MapPayloadT,
    PairMapPayload,
    PairsMarkets,
    SupportedPairs,
)
from coinglass_liquidation_map.errors import InvalidParameter, NotServed
from coinglass_liquidation_map.market_data import (
    CoinMarket,
    Heatmap,
    Instruments,
    LiquidationBucket,
    LiquidationMap,
    Markets,
    MaxPain,
    Position,
    PositionPages,
)

if TYPE_CHECKING:
    from coinglass_liquidation_map.coinglass.hyperliquid_payloads import PositionsPage
    from coinglass_liquidation_map.coinglass.scan_payloads import CoinMarketsPage

PAIRS_PATH = "/api/futures/supported-exchange-pairs"
MARKETS_PATH = "/api/futures/pairs-markets"
PAIR_MAP_PATH = "/api/futures/liquidation/map"
COIN_MAP_PATH = "/api/futures/liquidation/aggregated-map"
# The ranges CoinGlass documents for both maps; it has served others at times.
DOCUMENTED_MAP_RANGES = ("1d", "7d", "30d")
PAIR_HEATMAP_PATH = "/api/futures/liquidation/heatmap/{model}"
COIN_HEATMAP_PATH = "/api/futures/liquidation/aggregated-heatmap/{model}"
MAX_PAIN_PATH = "/api/futures/liquidation/max-pain"
COINS_MARKETS_PATH = "/api/futures/coins-markets"
PAIR_HISTORY_PATH = "/api/futures/liquidation/history"
COIN_HISTORY_PATH = "/api/futures/liquidation/aggregated-history"
# The most buckets one history request answers, as documented (its default too).
HISTORY_LIMIT = 1000
SUBSCRIPTION_PATH = "/api/user/account/subscription"
# Neither the default nor the largest page size is documented: a page shorter than the size
# asked for is the last, so the size asked for must be one CoinGlass surely serves in full.
COINS_MARKETS_PAGE_SIZE = 100
# About 1,200 coins are supported: twice that many rows means the paging never ends.
COINS_MARKETS_MAX_PAGES = 24
# Pages asked for at once: enough for the coins CoinGlass usually lists to come in one wait; a
# page past the end costs one request and answers an empty list.
COINS_MARKETS_PAGES_AT_ONCE = 6
HYPERLIQUID_POSITIONS_PATH = "/api/hyperliquid/position"
# Heatmap ranges longer than a young coin's history, which CoinGlass answers with its "500" body.
LONG_HEATMAP_RANGES = ("90d", "180d", "1y")


class Endpoints:
    """The endpoints the actor reads, each a typed call over one client."""

    def __init__(self, client: CoinGlassClient) -> None:
        self.client = client

    async def supported_pairs(self) -> Instruments:
        """Every futures instrument CoinGlass supports."""
        return (await self.client.get(PAIRS_PATH, {}, SupportedPairs)).instruments()

    async def pairs_markets(self, coin: str) -> Markets:
        """Every pair of ``coin`` across exchanges, with its current price."""
        return (await self.client.get(MARKETS_PATH, {"symbol": coin}, PairsMarkets)).markets()

    async def pair_map(self, exchange: str, instrument_id: str, range_: str) -> LiquidationMap:
        """The liquidation map of one instrument (``Binance``, ``BTCUSDT``)."""
        params = {"exchange": exchange, "symbol": instrument_id, "range": range_}
        return (await self._map(PAIR_MAP_PATH, params, PairMapPayload)).liquidation_map()

    async def coin_map(self, coin: str, range_: str) -> LiquidationMap:
        """The liquidation map of a coin across exchanges (``BTC``), merged across its
        instruments."""
        params = {"symbol": coin, "range": range_}
        return (await self._map(COIN_MAP_PATH, params, CoinMapPayload)).liquidation_map()

    async def pair_heatmap(
        self, exchange: str, instrument_id: str, range_: str, model: str
    ) -> Heatmap:
        """The liquidation heatmap of one instrument under one of CoinGlass's models."""
        params = {"exchange": exchange, "symbol": instrument_id, "range": range_}
        return await self._heatmap(PAIR_HEATMAP_PATH.format(model=model), params)

    async def coin_heatmap(self, coin: str, range_: str, model: str) -> Heatmap:
        """The liquidation heatmap of a coin across exchanges under one of CoinGlass's models."""
        params = {"symbol": coin, "range": range_}
        return await self._heatmap(COIN_HEATMAP_PATH.format(model=model), params)

    async def max_pain(self, range_: str) -> list[MaxPain]:
        """Every coin's long and short max pain over ``range_`` (``24h``), in one call."""
        # Loaded by the runs that scan only.
        from coinglass_liquidation_map.coinglass.scan_payloads import MaxPainList  # noqa: PLC0415

        payload = await self.client.get(
            MAX_PAIN_PATH, {"range": range_}, MaxPainList, salvage=MaxPainList.salvaged
        )
        return payload.max_pain()

    async def coins_markets(self) -> list[CoinMarket]:
        """Every coin's futures market across exchanges, each coin once, in CoinGlass's order.

        Pages are asked for a few at once until one comes back short; figures move between
        two pages, so a coin seen twice keeps its first row.
        """
        seen: dict[str, CoinMarket] = {}
        first = 1
        while first <= COINS_MARKETS_MAX_PAGES:
            wave = range(
                first, min(first + COINS_MARKETS_PAGES_AT_ONCE, COINS_MARKETS_MAX_PAGES + 1)
            )
            pages = await asyncio.gather(*(self._coins_markets_page(page) for page in wave))
            for page in pages:
                for market in page.markets():
                    seen.setdefault(market.coin, market)
            # A row left out as unreadable still counts: the page was full.
            if any(page.rows_sent < COINS_MARKETS_PAGE_SIZE for page in pages):
                break
            first += COINS_MARKETS_PAGES_AT_ONCE
        return list(seen.values())

    async def pair_liquidations(
        self, exchange: str, instrument_id: str, interval: str, start_ms: int, end_ms: int
    ) -> list[LiquidationBucket]:
        """USD liquidated on one instrument per ``interval`` bucket from ``start_ms`` (moved
        by CoinGlass to the next bucket start) to ``end_ms`` (excluded), at most
        ``HISTORY_LIMIT`` buckets."""
        params = {"exchange": exchange, "symbol": instrument_id}
        return await self._liquidations(PAIR_HISTORY_PATH, params, interval, start_ms, end_ms)

    async def coin_liquidations(
        self, coin: str, exchanges: list[str], interval: str, start_ms: int, end_ms: int
    ) -> list[LiquidationBucket]:
        """The same for a coin across ``exchanges``, which CoinGlass requires named."""
        params = {"symbol": coin, "exchange_list": ",".join(exchanges)}
        return await self._liquidations(COIN_HISTORY_PATH, params, interval, start_ms, end_ms)

    async def plan_level(self) -> str | None:
        """The key's plan as CoinGlass names it (``STANDARD``), if it says."""
        return (await self.client.get(SUBSCRIPTION_PATH, {}, Subscription)).level

    async def _liquidations(
        self, path: str, params: dict[str, str], interval: str, start_ms: int, end_ms: int
    ) -> list[LiquidationBucket]:
        params = {
            **params,
            "interval": interval,
            "start_time": str(start_ms),
            "end_time": str(end_ms),
            "limit": str(HISTORY_LIMIT),
        }
        payload = await self.client.get(
            path, params, LiquidationHistory, salvage=LiquidationHistory.salvaged
        )
        return payload.buckets()

    async def _coins_markets_page(self, page: int) -> CoinMarketsPage:
        from coinglass_liquidation_map.coinglass.scan_payloads import CoinMarketsPage  # noqa: PLC0415 - see max_pain

        params = {"per_page": str(COINS_MARKETS_PAGE_SIZE), "page": str(page)}
        return await self.client.get(
            COINS_MARKETS_PATH, params, CoinMarketsPage, salvage=CoinMarketsPage.salvaged
        )

    async def hyperliquid_positions(self, coin: str, max_pages: int, at_once: int) -> PositionPages:
        """The open Hyperliquid positions on ``coin``, from at most ``max_pages`` pages, each
        wallet once.

        The first page says how many there are; the rest are asked for ``at_once`` at a time,
        each request paced as any other. Rows move while pages are read, so every page's own
        count is read again (the last one asked for decides whether more follow), and a wallet
        seen on two pages keeps its first row.
        """
        first = await self._positions_page(coin, 1)
        pages, total = [first], first.pages()
        while len(pages) < min(total, max_pages) and pages[-1].rows:
            start = len(pages) + 1
            wave = range(start, min(start + at_once, min(total, max_pages) + 1))
            pages += await asyncio.gather(*(self._positions_page(coin, page) for page in wave))
            total = pages[-1].pages()
        seen: dict[tuple[str, str], Position] = {}
        for page in pages:
            for row in page.rows:
                position = row.position(coin)
                seen.setdefault((position.user, position.coin), position)
        return PositionPages(
            list(seen.values()),
            pages_fetched=min(len(pages), max(total, 1)),
            total_pages=total,
            skipped_rows=sum(page.skipped_rows for page in pages),
        )

    async def _positions_page(self, coin: str, page: int) -> PositionsPage:
        # Loaded by the runs that read positions only.
        from coinglass_liquidation_map.coinglass.hyperliquid_payloads import PositionsPage  # noqa: PLC0415

        params = {"symbol": coin, "current_page": str(page)}
        return await self.client.get(
            HYPERLIQUID_POSITIONS_PATH, params, PositionsPage, salvage=PositionsPage.salvaged
        )

    async def _heatmap(self, path: str, params: dict[str, str]) -> Heatmap:
        # Loaded by the runs that fetch a heatmap only: a map run never pays for its models.
        from coinglass_liquidation_map.coinglass.heatmap_payloads import HeatmapPayload  # noqa: PLC0415

        range_ = params["range"]
        refusable = range_ in LONG_HEATMAP_RANGES
        try:
            payload = await self.client.get(
                path, params, HeatmapPayload, salvage=HeatmapPayload.salvaged, refusable=refusable
            )
        except NotServed as error:
            raise error.with_note(
                f"CoinGlass keeps a {range_} heatmap only of what has traded that long: a coin"
                " listed more recently has none, and a shorter range may have it. One that has"
                " traded longer met an outage: try again later."
            ) from error
        return payload.heatmap()

    async def _map(
        self, path: str, params: dict[str, str], payload: type[MapPayloadT]
    ) -> MapPayloadT:
        documented = params["range"] in DOCUMENTED_MAP_RANGES
        try:
            return await self.client.get(
                path, params, payload, salvage=payload.salvaged, refusable=not documented
            )
        except InvalidParameter as error:
            if documented:
                raise
            raise error.with_note(
                f"CoinGlass documents only the ranges {', '.join(DOCUMENTED_MAP_RANGES)}"
                f" for this map; it may not accept {params['range']}."
            ) from error
