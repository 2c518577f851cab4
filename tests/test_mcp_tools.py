"""The MCP tools as an agent's client lists them: one per mode, each parameter typed and with its
default, so an agent can call them without guessing."""

from __future__ import annotations

from typing import Any

from coinglass_liquidation_map.standby.service import Service
from coinglass_liquidation_map.standby.tools import build_mcp

TEXT, NUMBER, FLAG = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
EXPECTED: dict[str, dict[str, tuple[dict[str, Any], Any]]] = {
    "search_symbols": {
        "keyword": (TEXT, ""),
        "exchange": ({"anyOf": [TEXT, {"type": "null"}]}, None),
        "max_results": (NUMBER, 50),
    },
    "liquidation_map": {
        "symbol": (TEXT, "Binance_BTCUSDT"),
        "range": (TEXT, "1d"),
        "include_levels": (FLAG, False),
        "top_clusters": (NUMBER, 10),
    },
    "liquidation_heatmap": {
        "symbol": (TEXT, "Binance_BTCUSDT"),
        "range": (TEXT, "1d"),
        "model": (TEXT, "model1"),
        "include_data": (FLAG, False),
        "top_clusters": (NUMBER, 10),
    },
    "market_scan": {
        "coins": ({"anyOf": [{"type": "array", "items": TEXT}, {"type": "null"}]}, None),
        "max_coins": (NUMBER, 20),
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
        "map_coins": (NUMBER, 0),
        "range": ({"type": "string", "enum": ["1d", "7d", "30d"]}, "1d"),
    },
}


async def test_each_tool_lists_its_parameters_typed_with_their_defaults() -> None:
    tools = {tool.name: tool for tool in await build_mcp(Service({})).list_tools()}
    assert set(tools) == set(EXPECTED)
    for name, parameters in EXPECTED.items():
        schema = tools[name].input_schema
        assert schema["title"] == f"{name}Arguments"
        assert schema.get("required", []) == []  # every parameter has a default
        listed = {
            parameter: ({k: v for k, v in spec.items() if k not in ("default", "title")}, spec)
            for parameter, spec in schema["properties"].items()
        }
        assert {p: typed for p, (typed, _) in listed.items()} == {
            p: typed for p, (typed, _) in parameters.items()
        }
        assert {p: spec["default"] for p, (_, spec) in listed.items()} == {
            p: default for p, (_, default) in parameters.items()
        }
        assert "ctx" not in schema["properties"]  # the request's context is not the agent's
        assert tools[name].description
