"""The OpenAPI document of Standby's routes, one per mode of the catalog, their parameters taken
from the input models; also published as ``.actor/openapi.json``, the Actor's web server
schema."""

from __future__ import annotations

from typing import Any

from coinglass_liquidation_map.catalog import MODES, Mode
from coinglass_liquidation_map.coinglass.client import API_KEY_HEADER

VERSION = "1.2"
"""The Actor's version, as ``.actor/actor.json`` gives it (a test keeps the two equal)."""


def openapi_document() -> dict[str, Any]:
    """The OpenAPI description of the routes, its parameters taken from the input models."""

    def parameters(mode: Mode) -> list[dict[str, Any]]:
        properties = mode.input.model_json_schema(by_alias=True)["properties"]
        return [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in properties.items()
            if name not in {"mode", "apiKey", *mode.batch_only}
        ]

    def operation(mode: Mode) -> dict[str, Any]:
        return {
            "get": {
                "summary": mode.summary,
                "parameters": [
                    {
                        "name": API_KEY_HEADER,
                        "in": "header",
                        "required": False,
                        "description": "Your CoinGlass API key (else the Actor's configured one).",
                        "schema": {"type": "string"},
                    },
                    *parameters(mode),
                ],
                "responses": {
                    "200": {
                        "description": (
                            "The result items, a list"
                            if mode.listed
                            else "The result item (a list when symbols, ranges or models are"
                            " given)."
                        )
                    },
                    "default": {"description": "A failure item; error.type says which failure."},
                },
            }
        }

    return {
        "openapi": "3.0.3",
        "info": {"title": "CoinGlass Liquidation Map", "version": VERSION},
        "paths": {mode.route: operation(mode) for mode in MODES},
    }


OPENAPI = openapi_document()
