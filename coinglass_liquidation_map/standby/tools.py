"""Standby's MCP server: each mode of the catalog as a tool an AI agent calls, charged like the
HTTP routes."""

from __future__ import annotations

import inspect
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from starlette.requests import Request

from coinglass_liquidation_map.catalog import MODES, Mode
from coinglass_liquidation_map.coinglass.client import API_KEY_HEADER
from coinglass_liquidation_map.outputs import record
from coinglass_liquidation_map.standby.service import Service


def build_mcp(service: Service) -> MCPServer:
    """A tool per mode, charged like the HTTP routes: a summary by default, the rest on
    request."""
    mcp: MCPServer = MCPServer(
        "CoinGlass liquidation maps",
        instructions=(
            "Find CoinGlass futures instruments with search_symbols, then read where leveraged"
            " positions would be liquidated with liquidation_map, or how that has built up over"
            " time with liquidation_heatmap."
        ),
    )
    for mode in MODES:
        mcp.add_tool(
            _tool_function(service, mode), name=mode.tool.name, description=mode.tool.description
        )
    return mcp


def _tool_function(service: Service, mode: Mode) -> Any:
    """The function the MCP server calls for ``mode``'s tool: its signature, from which the
    server takes the tool's parameters, is the tool's arguments model's fields."""
    arguments = mode.tool_arguments

    async def call(ctx: Context, **given: Any) -> dict[str, Any]:
        chosen = arguments(**given)
        [item] = await service.answer(mode, chosen.fields(), _api_key(ctx))
        return record(item, exclude=chosen.left_out())

    parameters = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=field.default, annotation=field.annotation
        )
        for name, field in arguments.model_fields.items()
    ]
    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [context.replace(annotation=Context), *parameters], return_annotation=dict[str, Any]
    )
    call.__name__ = call.__qualname__ = mode.tool.name  # what the server names its models after
    call.__annotations__ = {
        "ctx": Context,
        **{name: field.annotation for name, field in arguments.model_fields.items()},
        "return": dict[str, Any],
    }
    return call


def _api_key(ctx: Context) -> str | None:
    http = ctx.request_context.request
    return http.headers.get(API_KEY_HEADER) if isinstance(http, Request) else None
