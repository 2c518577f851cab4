"""CoinGlass API v4's endpoints as typed calls: the only place their paths and parameters live.
Each call answers in the core's own types (``market_data``), translated from the wire here."""

from __future__ import annotations

from coinglass_liquidation_map.coinglass.client import CoinGlassClient
from coinglass_liquidation_map.coinglass.payloads import (
    CoinMapPayload,
    MapPayloadT,
    PairMapPayload,
    PairsMarkets,
    SupportedPairs,
)
from coinglass_liquidation_map.errors import InvalidParameter
from coinglass_liquidation_map.market_data import Heatmap, Instruments, LiquidationMap, Markets

PAIRS_PATH = "/api/futures/supported-exchange-pairs"
MARKETS_PATH = "/api/futures/pairs-markets"
PAIR_MAP_PATH = "/api/futures/liquidation/map"
COIN_MAP_PATH = "/api/futures/liquidation/aggregated-map"
# The ranges CoinGlass documents for both maps; it has served others at times.
DOCUMENTED_MAP_RANGES = ("1d", "7d", "30d")
PAIR_HEATMAP_PATH = "/api/futures/liquidation/heatmap/{model}"
COIN_HEATMAP_PATH = "/api/futures/liquidation/aggregated-heatmap/{model}"


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

    async def _heatmap(self, path: str, params: dict[str, str]) -> Heatmap:
        # Loaded by the runs that fetch a heatmap only: a map run never pays for its models.
        from coinglass_liquidation_map.coinglass.heatmap_payloads import HeatmapPayload  # noqa: PLC0415

        payload = await self.client.get(
            path, params, HeatmapPayload, salvage=HeatmapPayload.salvaged
        )
        return payload.heatmap()

    async def _map(
        self, path: str, params: dict[str, str], payload: type[MapPayloadT]
    ) -> MapPayloadT:
        documented = params["range"] in DOCUMENTED_MAP_RANGES
        try:
            return await self.client.get(
                path, params, payload, salvage=payload.salvaged, undocumented=not documented
            )
        except InvalidParameter as error:
            if documented:
                raise
            raise error.with_note(
                f"CoinGlass documents only the ranges {', '.join(DOCUMENTED_MAP_RANGES)}"
                f" for this map; it may not accept {params['range']}."
            ) from error
