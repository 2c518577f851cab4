"""Standby mode: both modes as an always-on HTTP API and an MCP server, from one warm process.

Each HTTP request is a run's input in miniature: its query parameters are the input fields,
the route is the mode, and the answer is the same envelope the dataset would hold. Clients,
connection pools and rate limits are shared across requests, and identical requests within a
few seconds share one upstream fetch.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from apify import Actor
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from src import modes, runner
from src.billing import charge_answer
from src.cache import PairDirectory
from src.coinglass import CoinGlassClient
from src.errors import ActorError, InvalidInput
from src.inputs import COMMON_FIELDS, INPUT_MODELS, ActorInput, parse_input
from src.outputs import FailureItem, ResultItem, input_failure, record

API_KEY_HEADER = "CG-API-KEY"
READINESS_HEADER = "x-apify-container-server-readiness-probe"
LIST_FIELDS = frozenset({"symbols", "ranges"})
# The HTTP status that tells a caller what kind of failure an answer is.
STATUS_BY_ERROR = {
    "invalid_input": 400,
    "invalid_parameter": 400,
    "missing_api_key": 401,
    "invalid_api_key": 401,
    "plan_too_low": 402,
    "budget_exhausted": 402,
    "unknown_symbol": 404,
    "no_data": 404,
    "rate_limited": 429,
    "bad_response": 502,
    "endpoint_not_found": 502,
    "network_error": 502,
    "upstream_unavailable": 503,
    "upstream_timeout": 504,
    "deadline_exceeded": 504,
}

Answer = list[ResultItem]


class AnswerCache:
    """Identical requests within ``ttl_secs`` get one answer; concurrent ones share one fetch.

    Answers holding a failure are not kept, so a transient upstream error is retried by the
    next caller instead of being repeated for the whole window.
    """

    def __init__(self, ttl_secs: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_secs = ttl_secs
        self._clock = clock
        self._entries: dict[str, tuple[asyncio.Task[Answer], list[float]]] = {}

    async def get(self, key: str, fetch: Callable[[], Awaitable[Answer]]) -> Answer:
        """The answer for ``key``: shared if one is in flight or fresh, else fetched now."""
        now = self._clock()
        self._entries = {k: e for k, e in self._entries.items() if self._alive(e, now)}
        if key not in self._entries:
            task = asyncio.ensure_future(fetch())
            finished_at: list[float] = []
            task.add_done_callback(lambda done: self._settle(key, done, finished_at))
            self._entries[key] = (task, finished_at)
        # shield: one caller hanging up must not cancel the fetch the others wait for
        return await asyncio.shield(self._entries[key][0])

    def _alive(self, entry: tuple[asyncio.Task[Answer], list[float]], now: float) -> bool:
        task, finished_at = entry
        return not task.done() or (bool(finished_at) and now - finished_at[0] < self._ttl_secs)

    def _settle(self, key: str, task: asyncio.Task[Answer], finished_at: list[float]) -> None:
        finished_at.append(self._clock())
        failed = task.cancelled() or task.exception() is not None
        # Only this fetch's own entry: a newer one for the same key may be in flight.
        mine = self._entries.get(key, (None,))[0] is task
        if mine and (failed or any(not item.success for item in task.result())):
            del self._entries[key]


class Service:
    """Answers requests: shared clients per API key, the answer cache, and charging."""

    def __init__(self, defaults: dict[str, Any]) -> None:
        # The Standby run's own input sets access and reliability for every request.
        self._defaults = {k: v for k, v in defaults.items() if k in COMMON_FIELDS}
        try:
            settings = parse_input({"mode": "search_symbols", **self._defaults})
        except InvalidInput as error:
            Actor.log.error(f"The Standby input is ignored: {error.message}")
            self._defaults = {}
            settings = parse_input({"mode": "search_symbols"})
        self._cache = AnswerCache(settings.standby_cache_secs)
        self._clients: dict[str, tuple[CoinGlassClient, PairDirectory]] = {}

    async def close(self) -> None:
        """Close every client, whatever happens to the others."""
        clients = [client for client, _ in self._clients.values()]
        await asyncio.gather(
            *(c.__aexit__(None, None, None) for c in clients), return_exceptions=True
        )

    async def answer(self, mode: str, fields: dict[str, Any], api_key: str | None) -> Answer:
        """The charged answer to one request: one item per result, as a run would push."""
        raw = {**self._defaults, **fields, "mode": mode}
        if api_key:
            raw["apiKey"] = api_key
        try:
            _refuse_per_request(fields)
            request = parse_input(raw)
            client, instruments = self._client_for(request)
        except ActorError as error:
            return [input_failure(error, raw)]
        items = await self._cache.get(
            _cache_key(request),
            lambda: runner.fulfil(request, raw, client, instruments, _answer_later),
        )
        return [await charge_answer(item) for item in items]

    def _client_for(self, request: ActorInput) -> tuple[CoinGlassClient, PairDirectory]:
        """One client per API key: its connections and rate limit serve all its requests."""
        key = _key_hash(request)
        if key not in self._clients:
            client = modes.open_client(request, Actor.log)
            self._clients[key] = (client, PairDirectory(client, request.symbol_cache_ttl_secs))
        return self._clients[key]


def _refuse_per_request(fields: dict[str, Any]) -> None:
    """Settings that belong to the Standby run, and charts, which a warm answer leaves out."""
    settings = sorted(COMMON_FIELDS & fields.keys())
    if settings:
        raise InvalidInput(
            f"{', '.join(settings)} cannot be set per request: they are the Standby run's own"
            " settings, set in its input."
        )
    if fields.get("chart") not in (None, False, "false", "0"):
        raise InvalidInput("Charts are drawn by batch runs; Standby answers carry data only.")


async def _answer_later(_: ResultItem) -> None:
    """Over HTTP, items are charged and sent together, once the whole answer is ready."""


def _key_hash(request: ActorInput) -> str:
    """The API key's identity without the key itself: its SHA-256, or "" when none is given."""
    secret = request.api_key.get_secret_value().encode() if request.api_key else b""
    return hashlib.sha256(secret).hexdigest() if secret else ""


def _cache_key(request: ActorInput) -> str:
    """A stable name for a request, with its key's hash: two keys may see different data."""
    dumped = request.model_dump(mode="json", by_alias=True, exclude={"api_key"})
    return json.dumps({**dumped, "apiKey": _key_hash(request)}, sort_keys=True)


def _query_fields(request: Request) -> dict[str, Any]:
    """Query parameters as input fields; ``symbols`` and ``ranges`` take lists."""
    fields: dict[str, Any] = {}
    for name in request.query_params:
        values = request.query_params.getlist(name)
        if name in LIST_FIELDS:
            fields[name] = [part.strip() for value in values for part in value.split(",")]
        else:
            fields[name] = values[-1]
    return fields


def _respond(answer: Answer, *, as_list: bool) -> JSONResponse:
    """One item as itself, or a list; the status is the failure's when nothing succeeded."""
    failures = [item for item in answer if isinstance(item, FailureItem)]
    status = _status(failures[0]) if len(failures) == len(answer) else 200
    items = [record(item) for item in answer]
    return JSONResponse(items if as_list or len(items) != 1 else items[0], status_code=status)


def _status(item: FailureItem) -> int:
    return STATUS_BY_ERROR.get(item.error.type, 500)


def build_app(service: Service) -> Starlette:
    """The ASGI app: readiness probe, the two modes, the OpenAPI document and ``/mcp``."""
    mcp = build_mcp(service)
    mcp_app = mcp.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        # The Standby URL's host is the platform's, not known here; Apify authenticates callers.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )

    async def root(request: Request) -> Response:
        if READINESS_HEADER in request.headers:
            return Response("ok")
        return JSONResponse({"routes": ["/symbols", "/liquidation-map", "/openapi.json", "/mcp"]})

    def mode_route(mode: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            fields = _query_fields(request)
            if "apiKey" in fields:
                error = InvalidInput(
                    f"Send the CoinGlass key in the {API_KEY_HEADER} header: a key in the URL"
                    " ends up in logs and browser histories."
                )
                return _respond([input_failure(error, {"mode": mode})], as_list=False)
            answer = await service.answer(mode, fields, request.headers.get(API_KEY_HEADER))
            return _respond(answer, as_list=bool(LIST_FIELDS & fields.keys()))

        return endpoint

    async def openapi(_: Request) -> Response:
        return JSONResponse(OPENAPI)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield
        await service.close()

    return Starlette(
        routes=[
            Route("/", root),
            Route("/symbols", mode_route("search_symbols")),
            Route("/liquidation-map", mode_route("liquidation_map")),
            Route("/openapi.json", openapi),
            Mount("/", app=mcp_app),
        ],
        lifespan=lifespan,
    )


def build_mcp(service: Service) -> MCPServer:
    """Two tools, charged like the HTTP routes: a summary by default, levels on request."""
    mcp: MCPServer = MCPServer(
        "CoinGlass liquidation maps",
        instructions=(
            "Find CoinGlass futures instruments with search_symbols, then read where leveraged"
            " positions would be liquidated with liquidation_map."
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

    return mcp


async def serve_forever() -> None:
    """Serve on the Standby port until the platform stops the run."""
    service = Service(await Actor.get_input() or {})
    config = uvicorn.Config(
        build_app(service),
        host="0.0.0.0",  # the platform routes the Standby URL to this container
        port=Actor.configuration.web_server_port,
        log_level="warning",
    )
    await uvicorn.Server(config).serve()


def openapi_document() -> dict[str, Any]:
    """The OpenAPI description of the routes, its parameters taken from the input models."""

    def parameters(model: type[ActorInput]) -> list[dict[str, Any]]:
        properties = model.model_json_schema(by_alias=True)["properties"]
        return [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in properties.items()
            if name not in {"mode", "apiKey"}
        ]

    def operation(summary: str, model: type[ActorInput]) -> dict[str, Any]:
        return {
            "get": {
                "summary": summary,
                "parameters": [
                    {
                        "name": API_KEY_HEADER,
                        "in": "header",
                        "required": False,
                        "description": "Your CoinGlass API key (else the Actor's configured one).",
                        "schema": {"type": "string"},
                    },
                    *parameters(model),
                ],
                "responses": {
                    "200": {
                        "description": "The result item (a list when symbols/ranges are given)."
                    },
                    "default": {"description": "A failure item; error.type says which failure."},
                },
            }
        }

    return {
        "openapi": "3.0.3",
        "info": {"title": "CoinGlass Liquidation Map", "version": "1.0"},
        "paths": {
            "/symbols": operation("Search futures symbols", INPUT_MODELS["search_symbols"]),
            "/liquidation-map": operation(
                "Liquidation maps with summary and levels", INPUT_MODELS["liquidation_map"]
            ),
        },
    }


OPENAPI = openapi_document()
