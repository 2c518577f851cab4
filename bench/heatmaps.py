"""The heatmap row: what the actor does with a heatmap once its bytes have arrived, against
``json.loads`` of them, and the drawing of its picture.

The actor's path, as ``modes.heatmaps``, ``run.runner`` and ``run.billing.push_result`` take
it: validate the body (``Envelope[HeatmapPayload]``), read the grid
(``analysis.heatmap.analysed_heatmap``: the cells kept, the latest column, the hot zones), fit
it to the item limit (``modes.heatmaps.fitted_heatmap``) and make the record ``Actor.push_data`` is
given.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import sandbox_heatmaps

from coinglass_liquidation_map.analysis.heatmap import analysed_heatmap
from coinglass_liquidation_map.coinglass.heatmap_payloads import HeatmapPayload
from coinglass_liquidation_map.coinglass.payloads import Envelope
from coinglass_liquidation_map.modes.heatmaps import fitted_heatmap
from coinglass_liquidation_map.outputs import record
from coinglass_liquidation_map.run.storage import RecordStore
from coinglass_liquidation_map.schemas.heatmaps import LiquidationHeatmapItem

HEATMAP_CELLS = 300_000


@dataclass(frozen=True)
class Load:
    """The upstream body of one heatmap, built once."""

    body: bytes
    cells: int


def load(cells: int = HEATMAP_CELLS) -> Load:
    """A v4 heatmap body of exactly ``cells`` cells (``sandbox_heatmaps.huge_heatmap``)."""
    envelope = {"code": "0", "msg": "success", "data": sandbox_heatmaps.huge_heatmap(cells)}
    return Load(json.dumps(envelope, separators=(",", ":")).encode(), cells)


def sandbox_body(coin: str, range_: str, model: str) -> bytes:
    """The sandbox's coin heatmap as CoinGlass publishes it, as a body."""
    data = sandbox_heatmaps.encoded(sandbox_heatmaps.coin_heatmap(coin, range_, model), "published")
    return json.dumps({"code": "0", "msg": "success", "data": data}).encode()


def item_of(body: bytes) -> LiquidationHeatmapItem:
    """The item the actor makes of ``body``."""
    payload = Envelope[HeatmapPayload].model_validate_json(body).data
    return analysed_heatmap(payload.heatmap(), 10).item("BTC", "24h", "model1")


class _Kept:
    """A key-value store in memory: where a heatmap too large for its item keeps its data."""

    def __init__(self) -> None:
        self.records: dict[str, Any] = {}

    async def get_value(self, key: str) -> Any:
        return self.records.get(key)

    async def record_exists(self, key: str) -> bool:
        return key in self.records

    async def set_value(self, key: str, value: Any, content_type: str | None = None) -> None:
        self.records[key] = value

    async def get_public_url(self, key: str) -> str:
        return f"memory://{key}"


async def _opened() -> RecordStore:
    return _Kept()


def actor_pipeline(heatmap: Load) -> dict[str, float]:
    """The actor's processing of ``heatmap`` (seconds), its fit to the item limit included."""
    start = time.perf_counter()
    item = asyncio.run(fitted_heatmap(item_of(heatmap.body), _opened))
    pushed: dict[str, Any] = record(item)
    took = time.perf_counter() - start
    if pushed["summary"]["cells"] != heatmap.cells:
        raise AssertionError(f"{pushed['summary']['cells']} cells read from {heatmap.cells}")
    return {"total": took}


def json_loads(heatmap: Load) -> dict[str, float]:
    """The floor: the standard library's parse of the same bytes, nothing else."""
    start = time.perf_counter()
    json.loads(heatmap.body)
    return {"total": time.perf_counter() - start}
