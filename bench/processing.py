"""Row 2: what the actor does with a map once its bytes have arrived, against ``json.loads``.

The actor's path, as ``modes.maps`` and ``run.billing.push_result`` take it: validate the
upstream body (``Envelope[PairMapPayload]``, the client's first reading), sort the buckets
(``PairMapPayload.liquidation_map``), make the item (``liqmap.analysed_map`` for the summary, then
``item_limit.fitted`` for the levels if the item can carry them) and its record, the
JSON-ready data ``Actor.push_data`` is given.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sandbox_data

from bench.measure import median
from coinglass_liquidation_map.analysis import buckets, liqmap
from coinglass_liquidation_map.analysis.markets import CurrentPrice
from coinglass_liquidation_map.coinglass.payloads import Envelope, PairMapPayload
from coinglass_liquidation_map.main import GC_THRESHOLDS
from coinglass_liquidation_map.outputs import record
from coinglass_liquidation_map.run.item_limit import fitted

LoadT = TypeVar("LoadT")
STAGES = ("parse", "item", "record")
STAGE_TITLES = {
    "parse": "parse: Envelope[PairMapPayload].model_validate_json, liquidation_map()",
    "item": "item: liqmap.analysed_map, fitted (summary, levels if they fit)",
    "record": "record: outputs.record(item), what Actor.push_data is given",
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
    """The stage times of the actor's processing of ``load``, and the record it would push."""
    clock = time.perf_counter
    start = clock()
    envelope = Envelope[PairMapPayload].model_validate_json(load.body)
    data = envelope.data.liquidation_map().data
    parsed = clock()
    price = CurrentPrice(load.current_price, "benchmark")
    item = fitted(
        liqmap.analysed_map(
            "Binance_BTCUSDT", "1d", data, price=price, missing="", bucketing=buckets.Bucketing()
        )
    ).item
    built = clock()
    pushed = record(item)
    done = clock()
    if item.summary.level_count != load.rows:
        raise AssertionError(f"{item.summary.level_count} rows read from {load.rows}")
    times = {"parse": parsed - start, "item": built - parsed, "record": done - built}
    times["total"] = done - start
    return times, pushed


def stored(pushed: dict[str, Any]) -> tuple[float, int, bool]:
    """What ``Actor.push_data`` then does with the record on local storage (crawlee's
    ``json_dumps``: indented, which before Python 3.13 takes the pure-Python encoder): seconds,
    the record's bytes, and whether it carries its levels."""
    start = time.perf_counter()
    json.dumps(pushed, ensure_ascii=False, indent=2, default=str)
    took = time.perf_counter() - start
    size = len(json.dumps(pushed, separators=(",", ":")).encode())
    return took, size, pushed["levels"] is not None


def json_loads(load: Payload) -> dict[str, float]:
    """The floor: the standard library's parse of the same bytes, nothing else."""
    start = time.perf_counter()
    json.loads(load.body)
    return {"total": time.perf_counter() - start}


def collected(run: Callable[[LoadT], dict[str, float]], load: LoadT) -> dict[str, float]:
    """``run(load)`` after a full collection, so one side does not pay for the other's garbage,
    under the collector thresholds the actor sets (both sides alike)."""
    gc.collect()
    gc.set_threshold(*GC_THRESHOLDS)
    return run(load)


def stage_medians(samples: list[dict[str, float]]) -> dict[str, float]:
    """The median of each stage, and of the total, over the samples."""
    return {stage: median([sample[stage] for sample in samples]) for stage in (*STAGES, "total")}
