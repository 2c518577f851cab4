"""The OpenAPI document of Standby's routes, its parameters taken from the input models; also
published as ``.actor/openapi.json``, the Actor's web server schema."""

from __future__ import annotations

from typing import Any

from src.coinglass.client import API_KEY_HEADER
from src.inputs import BATCH_ONLY_FIELDS, INPUT_MODELS, ActorInput


def openapi_document() -> dict[str, Any]:
    """The OpenAPI description of the routes, its parameters taken from the input models."""

    def parameters(model: type[ActorInput]) -> list[dict[str, Any]]:
        properties = model.model_json_schema(by_alias=True)["properties"]
        return [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in properties.items()
            if name not in {"mode", "apiKey", *BATCH_ONLY_FIELDS}
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
                        "description": (
                            "The result item (a list when symbols, ranges or models are given)."
                        )
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
            "/liquidation-heatmap": operation(
                "Liquidation heatmaps (time × price) with a summary of their latest column",
                INPUT_MODELS["liquidation_heatmap"],
            ),
        },
    }


OPENAPI = openapi_document()
