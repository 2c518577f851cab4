"""The MCP tools as an agent's client sees them over Standby's streamable HTTP endpoint: one per
mode, each parameter typed, described and with its default (closed sets as enums), annotated as
read-only, the Actor's version in the handshake, and every failure an error result holding the
failure item."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from helpers import ROOT
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent

from coinglass_liquidation_map.standby.routes import build_app
from coinglass_liquidation_map.standby.service import Service

BASE_URL = "http://standby.test"
TEXT, NUMBER, FLAG = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
MAP_RANGES = ["1d", "7d", "30d", "90d", "180d", "365d"]
HEATMAP_RANGES = [*MAP_RANGES, "12h", "24h", "3d", "1y"]
TOP_CLUSTERS = {**NUMBER, "minimum": 0, "maximum": 100}
EXPECTED: dict[str, dict[str, tuple[dict[str, Any], Any]]] = {
    "search_symbols": {
        "keyword": (TEXT, ""),
        "exchange": ({"anyOf": [TEXT, {"type": "null"}]}, None),
        "max_results": ({**NUMBER, "minimum": 1, "maximum": 10000}, 50),
    },
    "liquidation_map": {
        "symbol": (TEXT, "Binance_BTCUSDT"),
        "range": ({**TEXT, "enum": MAP_RANGES}, "1d"),
        "include_levels": (FLAG, False),
        "top_clusters": (TOP_CLUSTERS, 10),
    },
    "liquidation_heatmap": {
        "symbol": (TEXT, "Binance_BTCUSDT"),
        "range": ({**TEXT, "enum": HEATMAP_RANGES}, "1d"),
        "model": ({**TEXT, "enum": ["model1", "model2", "model3"]}, "model1"),
        "include_data": (FLAG, False),
        "top_clusters": (TOP_CLUSTERS, 10),
    },
    "market_scan": {
        "coins": ({"anyOf": [{"type": "array", "items": TEXT}, {"type": "null"}]}, None),
        "max_coins": ({**NUMBER, "minimum": 1, "maximum": 1000}, 20),
        "sort_by": (
            {
                "type": "string",
                "enum": [
                    "open_interest",
                    "max_pain_proximity",
                    "liquidations_24h",
                    "funding_rate",
                    "oi_change_24h",
                ],
            },
            "open_interest",
        ),
        "max_pain_range": (
            {"type": "string", "enum": ["12h", "24h", "48h", "3d", "7d", "14d", "30d"]},
            "24h",
        ),
        "map_coins": ({**NUMBER, "minimum": 0, "maximum": 100}, 0),
        "range": ({"type": "string", "enum": ["1d", "7d", "30d"]}, "1d"),
    },
    "hyperliquid_positions": {
        "symbol": (TEXT, "BTC"),
        "max_pages": ({**NUMBER, "minimum": 1, "maximum": 200}, 20),
        "include_levels": (FLAG, False),
        "top_clusters": (TOP_CLUSTERS, 10),
    },
}


@asynccontextmanager
async def standby_mcp(headers: dict[str, str] | None = None) -> AsyncIterator[Client]:
    """An MCP client connected, with the initialize handshake, to a Standby app's ``/mcp``."""
    app = build_app(Service({"maxRetries": 0}))
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport, base_url=BASE_URL, headers=headers or {}
        ) as http:
            mcp = streamable_http_client(f"{BASE_URL}/mcp", http_client=http)
            async with Client(mcp, mode="legacy") as client:
                yield client


async def test_each_tool_lists_its_parameters_typed_described_with_their_defaults() -> None:
    async with standby_mcp() as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == set(EXPECTED)
    for name, parameters in EXPECTED.items():
        schema = tools[name].input_schema
        assert schema.get("required", []) == []  # every parameter has a default
        assert "ctx" not in schema["properties"]  # the request's context is not the agent's
        listed = {
            parameter: {
                k: v for k, v in spec.items() if k not in ("default", "title", "description")
            }
            for parameter, spec in schema["properties"].items()
        }
        assert listed == {p: typed for p, (typed, _) in parameters.items()}
        assert {p: spec["default"] for p, spec in schema["properties"].items()} == {
            p: default for p, (_, default) in parameters.items()
        }
        for parameter, spec in schema["properties"].items():
            assert len(spec["description"]) > 20, (name, parameter)
        assert tools[name].description


async def test_each_tool_is_annotated_read_only_and_open_world() -> None:
    async with standby_mcp() as client:
        tools = (await client.list_tools()).tools
    for tool in tools:
        assert tool.annotations is not None
        hints = tool.annotations.model_dump(by_alias=True, exclude_none=True)
        assert hints == {
            "readOnlyHint": True,
            "destructiveHint": False,
            "idempotentHint": False,  # each call is charged again
            "openWorldHint": True,
        }


async def test_initialize_reports_the_actor_s_version() -> None:
    actor = json.loads((ROOT / ".actor" / "actor.json").read_text())
    async with standby_mcp() as client:
        assert client.server_info is not None
        assert client.server_info.version == actor["version"]


def failure_of(result: Any) -> dict[str, Any]:
    """The failure item an error result holds, checking that it is one."""
    assert result.is_error is True
    assert result.structured_content is None  # the output schema is the successes'
    [content] = result.content
    assert isinstance(content, TextContent)
    item: dict[str, Any] = json.loads(content.text)
    assert item["success"] is False
    assert item["data"] is None
    return item


async def test_a_bad_argument_answers_an_error_result_naming_it() -> None:
    async with standby_mcp() as client:
        result = await client.call_tool(
            "liquidation_heatmap", {"symbol": "ETH", "range": "2d", "top_clusters": 500}
        )
    item = failure_of(result)
    assert (item["mode"], item["symbol"], item["range"]) == ("liquidation_heatmap", "ETH", "2d")
    assert item["error"] == {"type": "invalid_input", "upstream_code": None, "retryable": False}
    assert item["message"].startswith("Invalid input field 'range': Input should be '1d'")
    assert "'top_clusters': Input should be less than or equal to 100 (got 500)" in item["message"]


async def test_a_call_without_a_key_answers_an_error_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COINGLASS_API_KEY", raising=False)
    async with standby_mcp() as client:
        result = await client.call_tool("search_symbols", {"keyword": "btc"})
    item = failure_of(result)
    assert (item["mode"], item["keyword"]) == ("search_symbols", "btc")
    assert item["error"]["type"] == "missing_api_key"
