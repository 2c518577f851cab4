"""Standby's MCP server: the modes as tools an AI agent calls, charged like the HTTP routes."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from starlette.requests import Request

from src.coinglass.client import API_KEY_HEADER
from src.outputs import record
from src.standby.service import Service


def build_mcp(service: Service) -> MCPServer:
    """Three tools, charged like the HTTP routes: a summary by default, the rest on request."""
    mcp: MCPServer = MCPServer(
        "CoinGlass liquidation maps",
        instructions=(
            "Find CoinGlass futures instruments with search_symbols, then read where leveraged"
            " positions would be liquidated with liquidation_map, or how that has built up over"
            " time with liquidation_heatmap."
        ),
    )

    def key_of(ctx: Context) -> str | None:
        http = ctx.request_context.request
        return http.headers.get(API_KEY_HEADER) if isinstance(http, Request) else None

    @mcp.tool()
    async def search_symbols(
        ctx: Context, keyword: str = "", exchange: str | None = None, max_results: int = 50
    ) -> dict[str, Any]:
        """Futures instruments CoinGlass supports whose asset, exchange or id matches keyword."""
        fields = {"keyword": keyword, "exchange": exchange, "maxResults": max_results}
        [item] = await service.answer("search_symbols", fields, key_of(ctx))
        return record(item)

    @mcp.tool()
    async def liquidation_map(
        ctx: Context,
        symbol: str = "Binance_BTCUSDT",
        range: str = "1d",
        include_levels: bool = False,
        top_clusters: int = 10,
    ) -> dict[str, Any]:
        """Where leveraged positions on symbol (Exchange_INSTRUMENT, or a coin such as BTC)
        would be liquidated: current price, long/short totals, clusters; levels on request."""
        fields = {"symbol": symbol, "range": range, "topClusters": top_clusters}
        [item] = await service.answer("liquidation_map", fields, key_of(ctx))
        return record(item, exclude={"data"} if include_levels else {"data", "levels"})

    @mcp.tool()
    async def liquidation_heatmap(
        ctx: Context,
        symbol: str = "Binance_BTCUSDT",
        range: str = "1d",
        model: str = "model1",
        *,
        include_data: bool = False,
        top_clusters: int = 10,
    ) -> dict[str, Any]:
        """CoinGlass's liquidation heatmap (time × price) of symbol (Exchange_INSTRUMENT, or a
        coin such as BTC) under model1, model2 or model3, read at its latest column: totals
        above and below the price, top levels, hot zones; the raw grid on request."""
        fields = {"symbol": symbol, "range": range, "model": model, "topClusters": top_clusters}
        [item] = await service.answer("liquidation_heatmap", fields, key_of(ctx))
        return record(item, exclude=None if include_data else {"data"})

    return mcp
