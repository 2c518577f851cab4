"""Standby's MCP server: each mode of the catalog as a tool an AI agent calls, charged like the
HTTP routes."""

from __future__ import annotations

import inspect
import json
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import ValidationError, WithJsonSchema
from starlette.requests import Request

from coinglass_liquidation_map.catalog import MODES, Mode, input_failure
from coinglass_liquidation_map.coinglass.client import API_KEY_HEADER
from coinglass_liquidation_map.inputs import invalid_input
from coinglass_liquidation_map.outputs import FailureItem, record
from coinglass_liquidation_map.standby.openapi import VERSION
from coinglass_liquidation_map.standby.service import Service

# Every tool reads CoinGlass and answers; it changes nothing an agent could see. Each call is
# charged, though, so a repeated call is not free: not idempotent.
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)


def build_mcp(service: Service) -> MCPServer:
    """A tool per mode, charged like the HTTP routes: a summary by default, the rest on
    request."""
    mcp: MCPServer = MCPServer(
        "CoinGlass liquidation maps",
        version=VERSION,
        instructions=(
            "Find CoinGlass futures instruments with search_symbols, then read where leveraged"
            " positions would be liquidated with liquidation_map, or how that has built up over"
            " time with liquidation_heatmap; rank every coin by its liquidation magnets with"
            " market_scan; read where real positions sit on Hyperliquid (measured, not"
            " modelled) with hyperliquid_positions."
        ),
    )
    for mode in MODES:
        mcp.add_tool(
            _tool_function(service, mode),
            name=mode.tool.name,
            description=mode.tool.description,
            annotations=READ_ONLY,
        )
    return mcp


def _tool_function(service: Service, mode: Mode) -> Any:
    """The function the MCP server calls for ``mode``'s tool. Its signature, from which the
    server takes the tool's parameters, carries the tool's arguments model's own schema of each
    field; the model itself validates them, so that a bad argument answers the same failure
    item as a bad query parameter."""
    arguments = mode.tool_arguments

    async def call(ctx: Context, **given: Any) -> dict[str, Any] | CallToolResult:
        try:
            chosen = arguments.model_validate(given)
        except ValidationError as error:
            refused = invalid_input(error, arguments, frozenset())
            return _error_result(input_failure(refused, {**given, "mode": mode.name}))
        answer = await service.answer(mode, chosen.fields(), _api_key(ctx))
        failures = [item for item in answer if isinstance(item, FailureItem)]
        if len(failures) == len(answer):
            return _error_result(failures[0])
        records = [record(item, exclude=chosen.left_out()) for item in answer]
        # A list of results (a scan's rows, and any coin that failed) comes in one object.
        structured = {"items": records} if mode.listed else records[0]
        # An agent reads the sentences first, then the item itself.
        sentences = "\n".join(each.get("summary_text") or each["message"] for each in records)
        return CallToolResult(
            content=[
                TextContent(type="text", text=sentences),
                TextContent(type="text", text=json.dumps(structured)),
            ],
            structured_content=structured,
        )

    schemas = arguments.model_json_schema()["properties"]
    parameters = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=field.default,
            annotation=Annotated[Any, WithJsonSchema(schemas[name])],
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
        **{parameter.name: parameter.annotation for parameter in parameters},
        "return": dict[str, Any],
    }
    return call


def _error_result(item: FailureItem) -> CallToolResult:
    """A failure as MCP says a tool reports one: an error result holding the failure item, and
    no structured content, which the tool's output schema keeps for successes."""
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(record(item)))], is_error=True
    )


def _api_key(ctx: Context) -> str | None:
    http = ctx.request_context.request
    return http.headers.get(API_KEY_HEADER) if isinstance(http, Request) else None
