"""Standby's HTTP face: the readiness probe, one route per mode, the OpenAPI document and the
MCP server, served on the Standby port until the platform stops the run."""

from __future__ import annotations

import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from apify import Actor
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from coinglass_liquidation_map.catalog import BATCH_ONLY_FIELDS, MODES, Mode, input_failure

# Callers send their CoinGlass key under CoinGlass's own header name, so one name serves both.
from coinglass_liquidation_map.coinglass.client import API_KEY_HEADER
from coinglass_liquidation_map.errors import InvalidInput
from coinglass_liquidation_map.outputs import FailureItem, record
from coinglass_liquidation_map.standby import READINESS_HEADER
from coinglass_liquidation_map.standby.answers import Answer
from coinglass_liquidation_map.standby.openapi import OPENAPI
from coinglass_liquidation_map.standby.service import Service
from coinglass_liquidation_map.standby.tools import build_mcp


def _takes_a_list(annotation: object) -> bool:
    """Whether a field of this type holds a list (``list[str] | None`` does)."""
    origins = {typing.get_origin(annotation), *map(typing.get_origin, typing.get_args(annotation))}
    return list in origins


# The fields a query may give several values for (``symbols``, ``ranges``, ...): the input
# models' lists, but for those only a scheduled run takes.
LIST_FIELDS = (
    frozenset(
        field.alias or name
        for mode in MODES
        for name, field in mode.input.model_fields.items()
        if _takes_a_list(field.annotation)
    )
    - BATCH_ONLY_FIELDS
)
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


def _query_fields(request: Request) -> dict[str, Any]:
    """Query parameters as input fields; the list fields take several values, each of them
    comma-separated or repeated."""
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
    """The ASGI app: readiness probe, a route per mode, the OpenAPI document and ``/mcp``."""
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
        routes = [*(mode.route for mode in MODES), "/openapi.json", "/mcp"]
        return JSONResponse({"routes": routes})

    def mode_route(mode: Mode) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            fields = _query_fields(request)
            if "apiKey" in fields:
                error = InvalidInput(
                    f"Send the CoinGlass key in the {API_KEY_HEADER} header: a key in the URL"
                    " ends up in logs and browser histories."
                )
                return _respond([input_failure(error, {"mode": mode.name})], as_list=False)
            answer = await service.answer(mode, fields, request.headers.get(API_KEY_HEADER))
            return _respond(answer, as_list=mode.listed or bool(LIST_FIELDS & fields.keys()))

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
            *(Route(mode.route, mode_route(mode)) for mode in MODES),
            Route("/openapi.json", openapi),
            Mount("/", app=mcp_app),
        ],
        lifespan=lifespan,
    )


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
