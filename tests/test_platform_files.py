"""The .actor files: valid for the Apify CLI, and the input schema equal to the pydantic models."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import types
import typing
from pathlib import Path
from typing import Any

import annotated_types
import pytest
from helpers import STORE_SCHEMA, collection_of
from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from coinglass_liquidation_map.catalog import MODES, known_fields
from coinglass_liquidation_map.modes.heatmaps import heatmap_key
from coinglass_liquidation_map.modes.maps import chart_key
from coinglass_liquidation_map.outputs import FailureItem
from coinglass_liquidation_map.run.billing import UNDELIVERED_KEY
from coinglass_liquidation_map.run.gallery import REPORT_KEY
from coinglass_liquidation_map.run.item_limit import map_key
from coinglass_liquidation_map.run.outbox import ALERTS_KEY
from coinglass_liquidation_map.schemas.alerts import Alert
from coinglass_liquidation_map.standby.openapi import OPENAPI

ACTOR_DIR = Path(__file__).resolve().parent.parent / ".actor"
INPUT_SCHEMA = json.loads((ACTOR_DIR / "input_schema.json").read_text())
DATASET_SCHEMA = json.loads((ACTOR_DIR / "dataset_schema.json").read_text())
TABLE_FORMATS = {"text", "number", "date", "link", "boolean", "image", "array", "object"}


def model_fields() -> dict[str, FieldInfo]:
    """Every input field by its alias, as the models declare it (``mode`` from the union); a
    field several modes take is the one whose type takes the most values (the heatmap's
    ``range``), which the others' take a part of."""
    fields: dict[str, FieldInfo] = {}
    for mode in MODES:
        for name, field in mode.input.model_fields.items():
            alias = field.alias or name
            if alias not in fields or _values(field) > _values(fields[alias]):
                fields[alias] = field
    return fields


def _values(field: FieldInfo | Any) -> int:
    """How many values a field's type (or a type within it) spells out."""
    annotation = field.annotation if isinstance(field, FieldInfo) else field
    if typing.get_origin(annotation) is typing.Literal:
        return len(typing.get_args(annotation))
    return sum(_values(arg) for arg in typing.get_args(annotation))


def _type_schema(annotation: Any) -> dict[str, Any]:
    """The JSON-schema type (and enum, items) of a type annotation."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is typing.Literal:
        return {"type": "string", "enum": list(typing.get_args(annotation))}
    if typing.get_origin(annotation) is list:
        items = _type_schema(typing.get_args(annotation)[0])
        return {"type": "array", **({"items": items} if "enum" in items else {})}
    if annotation is SecretStr:
        return {"type": "string", "isSecret": True}
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return {"type": "object"}  # an alert rule: its models check each one
    return {"type": {bool: "boolean", int: "integer", float: "number", str: "string"}[annotation]}


def schema_of(field: FieldInfo) -> dict[str, Any]:
    """The input-schema keys a pydantic field implies."""
    annotation = field.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    expected = _type_schema(annotation)
    if field.default not in (None, PydanticUndefined):
        expected["default"] = field.default
    # Constraints of an optional field's type alias (``StorageName | None``) live in its type.
    aliased = (
        typing.get_args(annotation)[1:] if typing.get_origin(annotation) is typing.Annotated else ()
    )
    inner = [c for info in aliased if isinstance(info, FieldInfo) for c in info.metadata]
    for constraint in [*field.metadata, *inner]:
        if isinstance(constraint, annotated_types.Ge | annotated_types.Gt):
            # The input schema has no exclusive minimum; the model refuses the bound itself.
            expected["minimum"] = getattr(constraint, "ge", getattr(constraint, "gt", None))
        elif isinstance(constraint, annotated_types.Le):
            expected["maximum"] = constraint.le
        elif isinstance(constraint, annotated_types.MaxLen):
            key = "maxItems" if expected["type"] == "array" else "maxLength"
            expected[key] = constraint.max_length
        elif getattr(constraint, "pattern", None):
            expected["pattern"] = constraint.pattern
    return expected


def test_input_schema_lists_exactly_the_model_fields() -> None:
    assert set(INPUT_SCHEMA["properties"]) == set(known_fields())


@pytest.mark.parametrize("name", sorted(known_fields()))
def test_input_schema_property_matches_its_model_field(name: str) -> None:
    prop = INPUT_SCHEMA["properties"][name]
    expected = schema_of(model_fields()[name])
    if name == "mode":
        expected["enum"] = [mode.name for mode in MODES]
        expected["default"] = "liquidation_map"
    compared = (
        "type",
        "enum",
        "items",
        "default",
        "minimum",
        "maximum",
        "maxLength",
        "maxItems",
        "pattern",
    )
    shown = {key: prop[key] for key in (*compared, "isSecret") if key in prop}
    if "items" in shown:
        shown["items"] = {k: v for k, v in shown["items"].items() if k != "enumTitles"}
    assert shown == expected


def test_enum_titles_match_enums() -> None:
    for prop in INPUT_SCHEMA["properties"].values():
        for spec in (prop, prop.get("items", {})):
            if "enum" in spec:
                assert len(spec["enumTitles"]) == len(spec["enum"])


def test_dataset_views_show_only_the_fields_they_select() -> None:
    for view in DATASET_SCHEMA["views"].values():
        shown = view["display"]["properties"]
        assert set(shown) <= set(view["transformation"]["fields"])
        assert {prop["format"] for prop in shown.values()} <= TABLE_FORMATS


def test_the_alerts_view_has_a_row_per_alert_with_every_field() -> None:
    view = DATASET_SCHEMA["views"]["alerts"]
    assert view["transformation"]["unwind"] == ["alerts"]
    assert set(view["transformation"]["fields"]) == set(Alert.model_fields)


def test_pay_per_event_lists_the_charged_events() -> None:
    prices = json.loads((ACTOR_DIR / "pay_per_event.json").read_text())
    assert set(prices) == {mode.event for mode in MODES}
    assert prices["LIQUIDATION_MAP"]["eventPriceUsd"] == 0.01
    assert prices["SEARCH_SYMBOLS"]["eventPriceUsd"] == 0.001


@pytest.mark.process
@pytest.mark.skipif(shutil.which("npx") is None, reason="needs Node.js for the Apify CLI")
def test_apify_cli_validates_every_schema() -> None:
    done = subprocess.run(
        ["npx", "--yes", "apify-cli@1.10.0", "validate-schema"],
        cwd=ACTOR_DIR.parent,
        env={**os.environ, "APIFY_CLI_DISABLE_TELEMETRY": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for schema in ("Input", "Dataset", "Output", "Key-Value Store"):
        assert f"{schema} schema is valid" in output


def test_each_record_the_actor_writes_has_its_collection_and_output_link() -> None:
    records = {
        chart_key("ApeX Omni_BTC-USDT", "1d"): "charts",
        REPORT_KEY: "report",
        UNDELIVERED_KEY: "output",
        map_key("ApeX Omni_BTC-USDT", "1d", b"{}"): "maps",
        ALERTS_KEY: "alerts",
        heatmap_key("ApeX Omni_BTC-USDT", "24h", "model1"): "heatmaps",
    }
    outputs = json.loads((ACTOR_DIR / "output_schema.json").read_text())["properties"]
    templates = [output["template"] for output in outputs.values()]
    for key, collection in records.items():
        assert collection_of(key) == collection
        schema = STORE_SCHEMA["collections"][collection]
        link = f"/records/{key}" if "key" in schema else f"/keys?collection={collection}"
        assert any(template.endswith(link) for template in templates), link


def test_actor_json_points_to_the_changelog_of_its_version() -> None:
    actor = json.loads((ACTOR_DIR / "actor.json").read_text())
    assert actor["storages"]["keyValueStore"] == "./key_value_store_schema.json"
    changelog = (ACTOR_DIR / actor["changelog"]).read_text()
    assert f"## {actor['version']} " in changelog


def test_the_openapi_version_follows_the_actor_version() -> None:
    actor = json.loads((ACTOR_DIR / "actor.json").read_text())
    published = json.loads((ACTOR_DIR / "openapi.json").read_text())
    assert OPENAPI["info"]["version"] == actor["version"]
    assert published["info"]["version"] == actor["version"]


def test_every_dataset_view_belongs_to_the_overview_or_one_mode() -> None:
    owners = [view for mode in MODES for view in mode.views]
    assert sorted(owners) == sorted(set(owners))  # no view is two modes'
    assert set(DATASET_SCHEMA["views"]) == {"overview", *owners}


def test_each_mode_has_its_route_tool_and_echoed_fields() -> None:
    for mode in MODES:
        assert mode.route in OPENAPI["paths"]
        assert set(mode.echoed) <= set(mode.input.model_fields) | set(mode.item.model_fields)
        assert set(mode.echoed) <= set(FailureItem.model_fields)
        assert mode.item.model_fields["mode"].default == mode.name
        assert typing.get_args(mode.input.model_fields["mode"].annotation) == (mode.name,)
