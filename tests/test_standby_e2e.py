"""Standby mode end to end: the actor as a warm HTTP server and MCP server, against the sandbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import local_run
import pytest
import sandbox_data
import sandbox_heatmaps
import sandbox_positions
from helpers import ITEM_SCHEMA, MAP_PATH, PRO_KEY, ROOT, calls, charged_events
from mcp import Client
from mcp.types import CallToolResult, TextContent
from sandbox_server import SandboxServer

# Each test runs the actor, or a server, as a real process.
pytestmark = pytest.mark.process

KEY = {"CG-API-KEY": PRO_KEY}


@dataclass
class Standby:
    url: str
    storage: Path

    def charged(self) -> list[str]:
        return charged_events(local_run.read_items(self.storage, "charging-log"))


@pytest.fixture(scope="module")
def standby(
    sandbox_session: SandboxServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Standby]:
    storage = tmp_path_factory.mktemp("standby") / "storage"
    env = {
        **local_run.isolated_env(),
        "COINGLASS_BASE_URL": sandbox_session.url,
        "COINGLASS_API_KEY": PRO_KEY,  # the publisher's key, for callers that send none
    }
    with local_run.standby_server(
        {"standbyCacheSecs": 30, "maxRetries": 0}, storage, env, ready_within_s=30
    ) as server:
        yield Standby(server.url, storage)
    assert PRO_KEY not in server.log.read_text()


def test_readiness_probe_and_index(standby: Standby) -> None:
    assert httpx.get(standby.url, headers=local_run.READINESS_PROBE).text == "ok"
    assert "/liquidation-map" in httpx.get(standby.url).json()["routes"]


def test_map_answer_is_the_batch_envelope_and_is_charged(
    standby: Standby, sandbox: SandboxServer
) -> None:
    before = standby.charged()
    response = httpx.get(
        f"{standby.url}/liquidation-map",
        params={"symbol": "Binance_ETHUSDT", "range": "7d"},
        headers=KEY,
    )
    assert response.status_code == 200
    item = response.json()
    ITEM_SCHEMA.validate(item)
    assert (item["success"], item["symbol"], item["range"]) == (True, "Binance_ETHUSDT", "7d")
    raw = sandbox_data.liquidation_map("Binance", "ETHUSDT", "7d")
    assert item["data"] == {k: raw[k] for k in sorted(raw, key=float)}
    assert item["summary"]["current_price"] == sandbox_data.current_price("Binance", "ETHUSDT")
    assert standby.charged()[len(before) :] == ["LIQUIDATION_MAP"]
    # An answer polled by many compares with no earlier one and leaves no snapshot behind.
    assert (item["changes"], item["alerts"]) == (None, [])
    assert not (standby.storage / "key_value_stores" / "liquidation-map-snapshots").exists()


def test_search_answer(standby: Standby) -> None:
    response = httpx.get(
        f"{standby.url}/symbols",
        params={"keyword": "sol", "exchange": "okx", "quoteAsset": "usdt"},
        headers=KEY,
    )
    assert response.status_code == 200
    assert [i["symbol"] for i in response.json()["data"]] == ["OKX_SOL-USDT-SWAP"]


def test_identical_requests_share_one_fetch_and_each_is_charged(
    standby: Standby, sandbox: SandboxServer
) -> None:
    sandbox.latency_ms = 300
    before = standby.charged()
    params = {"symbol": "Bybit_BTCUSDT", "range": "30d"}

    async def ask_many() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=standby.url, headers=KEY, timeout=30) as http:
            return await asyncio.gather(
                *(http.get("/liquidation-map", params=params) for _ in range(6))
            )

    answers = asyncio.run(ask_many())
    answers.append(
        httpx.get(f"{standby.url}/liquidation-map", params=params, headers=KEY)
    )  # cached
    assert [a.status_code for a in answers] == [200] * 7
    assert len({a.content for a in answers}) == 1
    assert len(calls(sandbox, MAP_PATH)) == 1
    assert standby.charged()[len(before) :] == ["LIQUIDATION_MAP"] * 7


def test_lists_answer_an_array(standby: Standby) -> None:
    response = httpx.get(
        f"{standby.url}/liquidation-map",
        params={"symbols": "Binance_BTCUSDT,Binance_NOSUCH", "ranges": "1d"},
        headers=KEY,
    )
    assert response.status_code == 200
    assert [(i["symbol"], i["success"]) for i in response.json()] == [
        ("Binance_BTCUSDT", True),
        ("Binance_NOSUCH", False),
    ]


@pytest.mark.parametrize(
    ("params", "status", "error_type"),
    [
        ({"range": "2d"}, 400, "invalid_input"),
        ({"symbl": "x"}, 400, "invalid_input"),
        ({"apiKey": "in-the-url"}, 400, "invalid_input"),
        ({"maxRetries": "9"}, 400, "invalid_input"),  # the Standby run's own setting
        ({"chart": "true"}, 400, "invalid_input"),
        ({"historyDataset": "btc-history"}, 400, "invalid_input"),  # a scheduled run's own
        ({"trackChanges": "false"}, 400, "invalid_input"),
        ({"alerts": '[{"type": "imbalance_beyond", "value": 0.1}]'}, 400, "invalid_input"),
        (
            {
                "webhookUrl": "https://hooks.example.com/T0KEN",
                "alerts": '[{"type": "imbalance_beyond", "value": 0.1}]',
            },
            400,
            "invalid_input",
        ),
        ({"symbol": "Binance_NOSUCH"}, 404, "unknown_symbol"),
    ],
)
def test_bad_requests_answer_the_failure_envelope(
    standby: Standby, params: dict[str, str], status: int, error_type: str
) -> None:
    before = standby.charged()
    response = httpx.get(f"{standby.url}/liquidation-map", params=params, headers=KEY)
    assert response.status_code == status
    item = response.json()
    ITEM_SCHEMA.validate(item)
    assert item["success"] is False
    assert item["error"]["type"] == error_type
    assert standby.charged() == before
    assert "in-the-url" not in response.text
    assert "T0KEN" not in response.text


@pytest.mark.parametrize(
    "params",
    [
        {"historyDataset": "btc-history"},
        {"trackChanges": "false"},
        {"alerts": '[{"type": "imbalance_beyond", "value": 0.1}]'},
        {"alerts": "[]", "webhookUrl": "https://hooks.example.com/T0KEN"},
        {"telegramBotToken": "123456789:T0KEN", "telegramChatId": "42"},
    ],
)
def test_a_scheduled_run_s_settings_are_refused_by_name(
    standby: Standby, params: dict[str, str]
) -> None:
    response = httpx.get(f"{standby.url}/liquidation-map", params=params, headers=KEY)
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith(", ".join(sorted(params)))
    assert "belongs to scheduled batch runs" in message
    assert "T0KEN" not in response.text


@pytest.mark.parametrize(
    ("fault", "status", "error_type"),
    [("upgrade_plan", 402, "plan_too_low"), ("http_500_spring", 503, "upstream_unavailable")],
)
def test_upstream_failures_answer_their_status(
    standby: Standby, sandbox: SandboxServer, fault: str, status: int, error_type: str
) -> None:
    sandbox.set_fault(fault, path=MAP_PATH)
    response = httpx.get(
        f"{standby.url}/liquidation-map",
        params={"symbol": "OKX_ETH-USDT-SWAP"},
        headers=KEY,
    )
    assert response.status_code == status
    assert response.json()["error"]["type"] == error_type


def test_openapi_document_is_served_and_published(standby: Standby) -> None:
    served = httpx.get(f"{standby.url}/openapi.json").json()
    assert served == json.loads((ROOT / ".actor" / "openapi.json").read_text())
    assert set(served["paths"]) == {
        "/symbols",
        "/liquidation-map",
        "/liquidation-heatmap",
        "/market-scan",
        "/hyperliquid-positions",
    }
    heatmap = {p["name"] for p in served["paths"]["/liquidation-heatmap"]["get"]["parameters"]}
    assert {"symbol", "range", "model", "symbols", "ranges", "models"} <= heatmap
    actor = json.loads((ROOT / ".actor" / "actor.json").read_text())
    assert (actor["usesStandbyMode"], actor["webServerSchema"], actor["webServerMcpPath"]) == (
        True,
        "./openapi.json",
        "/mcp",
    )


def test_mcp_tools_answer_and_charge(standby: Standby) -> None:
    before = standby.charged()

    async def use_tools() -> tuple[
        set[str], dict[str, Any], list[Any], dict[str, Any], CallToolResult
    ]:
        async with Client(f"{standby.url}/mcp") as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            summary = await client.call_tool("liquidation_map", {"symbol": "Binance_SOLUSDT"})
            levels = await client.call_tool(
                "liquidation_map",
                {"symbol": "Binance_SOLUSDT", "include_levels": True, "range": "7d"},
            )
            unknown = await client.call_tool("liquidation_map", {"symbol": "Binance_NOSUCH"})
            assert (summary.is_error, levels.is_error) == (False, False)
            return (
                tools,
                summary.structured_content or {},
                list(summary.content),
                levels.structured_content or {},
                unknown,
            )

    tools, summary, summary_content, with_levels, unknown = asyncio.run(use_tools())
    assert tools == {
        "search_symbols",
        "liquidation_map",
        "liquidation_heatmap",
        "market_scan",
        "hyperliquid_positions",
    }
    # A failure is an error result that holds the failure item, and is not charged.
    assert (unknown.is_error, unknown.structured_content) == (True, None)
    [content] = unknown.content
    assert isinstance(content, TextContent)
    failure = json.loads(content.text)
    ITEM_SCHEMA.validate(failure)
    assert (failure["success"], failure["symbol"], failure["error"]["type"]) == (
        False,
        "Binance_NOSUCH",
        "unknown_symbol",
    )
    assert summary["success"] is True
    # An agent reads the item's sentence first, then the item.
    sentence, full = summary_content
    assert isinstance(sentence, TextContent)
    assert sentence.text == summary["summary_text"]
    assert sentence.text.startswith("Binance_SOLUSDT at ")
    assert isinstance(full, TextContent)
    assert json.loads(full.text) == summary
    assert "levels" not in summary
    assert "data" not in summary
    assert summary["summary"]["current_price"] == sandbox_data.current_price("Binance", "SOLUSDT")
    assert len(with_levels["levels"]) == with_levels["summary"]["level_count"]
    assert standby.charged()[len(before) :] == ["LIQUIDATION_MAP"] * 2


def test_a_heatmap_answer_is_the_batch_item_and_is_charged(
    standby: Standby, sandbox: SandboxServer
) -> None:
    before = standby.charged()
    response = httpx.get(
        f"{standby.url}/liquidation-heatmap",
        params={"symbol": "ETH", "range": "365d", "model": "model2"},
        headers=KEY,
    )
    assert response.status_code == 200
    item = response.json()
    ITEM_SCHEMA.validate(item)
    assert (item["mode"], item["symbol"], item["range"], item["model"]) == (
        "liquidation_heatmap",
        "ETH",
        "365d",
        "model2",
    )
    heatmap = sandbox_heatmaps.coin_heatmap("ETH", "1y", "model2")
    assert item["data"]["y_axis"] == heatmap["y_axis"]
    assert item["summary"]["current_price"] == heatmap["price_candlesticks"][-1][4]
    both = httpx.get(
        f"{standby.url}/liquidation-heatmap",
        params={"symbol": "Binance_BTCUSDT", "models": "model1,model3"},
        headers=KEY,
    ).json()
    assert [answer["model"] for answer in both] == ["model1", "model3"]
    unknown = httpx.get(
        f"{standby.url}/liquidation-heatmap", params={"symbol": "Binance_NOSUCH"}, headers=KEY
    )
    assert unknown.status_code == 404
    assert standby.charged()[len(before) :] == ["LIQUIDATION_HEATMAP"] * 3


def test_the_mcp_heatmap_tool_answers_the_summary_and_the_data_on_request(
    standby: Standby,
) -> None:
    async def use_tool() -> tuple[dict[str, Any], dict[str, Any]]:
        async with Client(f"{standby.url}/mcp") as client:
            args = {"symbol": "Binance_SOLUSDT", "range": "3d", "model": "model3"}
            summary = await client.call_tool("liquidation_heatmap", args)
            full = await client.call_tool("liquidation_heatmap", {**args, "include_data": True})
            return summary.structured_content or {}, full.structured_content or {}

    summary, full = asyncio.run(use_tool())
    heatmap = sandbox_heatmaps.pair_heatmap("Binance", "SOLUSDT", "3d", "model3")
    assert "data" not in summary
    assert summary["summary"]["cells"] == len(heatmap["liquidation_leverage_data"])
    assert [level["price"] for level in summary["levels"]] == [
        level["price"] for level in full["levels"]
    ]
    assert full["data"]["price_candlesticks"] == heatmap["price_candlesticks"]


def test_concurrent_requests_fetch_only_the_maps_the_budget_pays_for(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    sandbox.latency_ms = 300  # so that the three requests are all in flight at once
    env = {
        **local_run.isolated_env(),
        "COINGLASS_BASE_URL": sandbox.url,
        "COINGLASS_API_KEY": PRO_KEY,
        "ACTOR_MAX_TOTAL_CHARGE_USD": "0.025",  # two maps at $0.01
    }
    symbols = ["Binance_BTCUSDT", "Binance_ETHUSDT", "Binance_SOLUSDT"]

    async def ask_at_once(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            return await asyncio.gather(
                *(http.get("/liquidation-map", params={"symbol": s}) for s in symbols)
            )

    storage = tmp_path / "storage"
    with local_run.standby_server({"maxRetries": 0}, storage, env, ready_within_s=30) as server:
        answers = [answer.json() for answer in asyncio.run(ask_at_once(server.url))]
    assert sorted(answer["success"] for answer in answers) == [False, True, True]
    refused = next(answer for answer in answers if not answer["success"])
    assert refused["error"]["type"] == "budget_exhausted"
    # The refused map was never asked of CoinGlass: its quota is spent only on paid answers.
    fetched = {request.query["symbol"] for request in calls(sandbox, MAP_PATH)}
    assert len(calls(sandbox, MAP_PATH)) == 2
    assert refused["symbol"].partition("_")[2] not in fetched
    assert charged_events(local_run.read_items(storage, "charging-log")) == ["LIQUIDATION_MAP"] * 2


def test_a_scan_answers_its_rows_as_an_array_over_http_and_mcp(standby: Standby) -> None:
    before = standby.charged()
    response = httpx.get(
        f"{standby.url}/market-scan", params={"maxCoins": 3, "mapCoins": 1}, headers=KEY
    )
    assert response.status_code == 200
    rows = response.json()
    by_open_interest = sorted(
        sandbox_data.coins_markets({}), key=lambda row: -row["open_interest_usd"]
    )
    assert [row["coin"] for row in rows] == [row["symbol"] for row in by_open_interest[:3]]
    assert [row["data"]["map_range"] for row in rows] == ["1d", None, None]
    assert standby.charged()[len(before) :] == [
        "SCAN_ROW",
        "LIQUIDATION_MAP",
        "SCAN_ROW",
        "SCAN_ROW",
    ]

    async def scan() -> CallToolResult:
        async with Client(f"{standby.url}/mcp") as client:
            return await client.call_tool("market_scan", {"coins": ["eth", "NOPE"]})

    answer = asyncio.run(scan())
    assert answer.is_error is False
    items = (answer.structured_content or {})["items"]
    assert [(item["success"], item["coin"]) for item in items] == [(True, "ETH"), (False, "NOPE")]
    assert standby.charged()[len(before) + 4 :] == ["SCAN_ROW"]


def test_hyperliquid_positions_answer_over_http_and_mcp_and_are_charged(
    standby: Standby,
) -> None:
    before = standby.charged()
    response = httpx.get(
        f"{standby.url}/hyperliquid-positions",
        params={"symbol": "SOL", "maxPages": 3, "topClusters": 2},
        headers={"CG-API-KEY": SandboxServer.STANDARD_KEY},
    )
    assert response.status_code == 200
    item = response.json()
    ITEM_SCHEMA.validate(item)
    read = sandbox_positions.positions("SOL")[: 3 * sandbox_positions.PAGE_SIZE]
    assert (item["mode"], item["symbol"], item["provenance"]) == (
        "hyperliquid_positions",
        "SOL",
        "observed",
    )
    assert (item["coverage"]["positions"], item["coverage"]["pages_fetched"]) == (len(read), 3)
    assert len(item["closest_positions"]) == 2

    async def tool() -> CallToolResult:
        async with Client(f"{standby.url}/mcp") as client:
            return await client.call_tool(
                "hyperliquid_positions", {"symbol": "sol", "max_pages": 1}
            )

    answer = asyncio.run(tool())
    assert answer.is_error is False
    content = answer.structured_content or {}
    assert "data" not in content
    assert "levels" not in content
    assert content["coverage"]["positions"] == sandbox_positions.PAGE_SIZE
    assert standby.charged()[len(before) :] == ["HYPERLIQUID_POSITIONS"] * 2
