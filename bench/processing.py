"""Row 2: what the actor does with a map once its bytes have arrived, against ``json.loads``.

The actor's path, as ``modes._pair_map``, ``modes._item`` and ``billing.push_result`` take it:
validate the upstream body (``Envelope[PairMapPayload]``), sort the buckets
(``liqmap.normalise``), summarise and place every level (``liqmap.analyse``), build the
``LiquidationMapItem`` and dump it to JSON-ready data for ``Actor.push_data``.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sandbox_data

from bench.measure import median
from src import liqmap
from src.coinglass import Envelope
from src.main import GC_THRESHOLDS
from src.outputs import LiquidationMapItem

STAGES = ("parse", "analyse", "item", "dump")
STAGE_TITLES = {
    "parse": "parse: Envelope[PairMapPayload].model_validate_json",
    "analyse": "analyse: liqmap.normalise + liqmap.analyse",
    "item": "item: LiquidationMapItem.model_construct(...)",
    "dump": 'dump: item.model_dump(mode="json")',
}


@dataclass(frozen=True)
class Payload:
    """The upstream body of one map, built once, and the current price it is read against."""

    body: bytes
    rows: int
    buckets: int
    current_price: float


def payload(rows: int) -> Payload:
    """A v4 map body of exactly ``rows`` rows (``sandbox_data.huge_map``), priced mid-map so
    that both sides, every distance and both cumulative curves are computed."""
    liq_map = sandbox_data.huge_map(rows)
    envelope = {"code": "0", "msg": "success", "data": {"data": liq_map}}
    body = json.dumps(envelope, separators=(",", ":")).encode()
    prices = [float(key) for key in liq_map]
    return Payload(body, rows, len(liq_map), (min(prices) + max(prices)) / 2)


def actor_pipeline(load: Payload) -> dict[str, float]:
    """The actor's processing of ``load``, timed per stage (seconds)."""
    return processed(load)[0]


def processed(load: Payload) -> tuple[dict[str, float], dict[str, Any]]:
    """The stage times of the actor's processing of ``load``, and the item it would push."""
    clock = time.perf_counter
    start = clock()
    envelope = Envelope[liqmap.PairMapPayload].model_validate_json(load.body)
    parsed = clock()
    data = liqmap.normalise(envelope.data.data)
    summary, levels = liqmap.analyse(
        data, load.current_price, liqmap.Bucketing(), price_source="benchmark"
    )
    analysed = clock()
    # As modes._item does: every part is already validated.
    item = LiquidationMapItem.model_construct(
        symbol="Binance_BTCUSDT", range="1d", data=data, summary=summary, levels=levels
    )
    built = clock()
    dumped = item.model_dump(mode="json")
    done = clock()
    if len(dumped["levels"]) != load.rows:
        raise AssertionError(f"{len(dumped['levels'])} levels from {load.rows} rows")
    times = {"parse": parsed - start, "analyse": analysed - parsed, "item": built - analysed}
    times.update(dump=done - built, total=done - start)
    return times, dumped


def stored(dumped: dict[str, Any]) -> tuple[float, int]:
    """What ``Actor.push_data`` then does with the item on local storage (crawlee's
    ``json_dumps``: indented, so the pure-Python encoder): seconds, and the item's bytes."""
    start = time.perf_counter()
    json.dumps(dumped, ensure_ascii=False, indent=2, default=str)
    took = time.perf_counter() - start
    return took, len(json.dumps(dumped, separators=(",", ":")).encode())


def json_loads(load: Payload) -> dict[str, float]:
    """The floor: the standard library's parse of the same bytes, nothing else."""
    start = time.perf_counter()
    json.loads(load.body)
    return {"total": time.perf_counter() - start}


def collected(run: Callable[[Payload], dict[str, float]], load: Payload) -> dict[str, float]:
    """``run(load)`` after a full collection, so one side does not pay for the other's garbage,
    under the collector thresholds the actor sets (both sides alike)."""
    gc.collect()
    gc.set_threshold(*GC_THRESHOLDS)
    return run(load)


def stage_medians(samples: list[dict[str, float]]) -> dict[str, float]:
    """The median of each stage, and of the total, over the samples."""
    return {stage: median([sample[stage] for sample in samples]) for stage in (*STAGES, "total")}
