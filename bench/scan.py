"""The market scan's rows: reading and ranking every coin's max pain and market against
``json.loads`` of the same bodies, and a scan with mapped coins through a slow upstream against
the bound latency sets."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from functools import partial

import sandbox_data
from sandbox_server import SandboxServer

from bench import processing
from bench.measure import Row, fmt, interleaved, median, spread
from bench.processes import ACTOR, ProcessRun, actor_env, run_process
from bench.rows import BATCH_GOAL, PROCESSING_GOAL, Plan, Section, progress, work_over_cold_start
from coinglass_liquidation_map.analysis import scan
from coinglass_liquidation_map.coinglass.endpoints import COINS_MARKETS_PAGE_SIZE
from coinglass_liquidation_map.coinglass.payloads import envelope_of
from coinglass_liquidation_map.coinglass.scan_payloads import CoinMarketsPage, MaxPainList
from coinglass_liquidation_map.schemas.scans import MarketScanInput

SCAN_COINS = 500
SCAN_MAPS = 20


@dataclass(frozen=True)
class Bodies:
    """The sandbox's max-pain answer and its coins-markets pages, as the wire sends them."""

    max_pain: bytes
    pages: list[bytes]

    @property
    def size(self) -> int:
        return len(self.max_pain) + sum(map(len, self.pages))


def bodies() -> Bodies:
    rows = sandbox_data.coins_markets({})
    pages = [
        rows[start : start + COINS_MARKETS_PAGE_SIZE]
        for start in range(0, len(rows), COINS_MARKETS_PAGE_SIZE)
    ]
    return Bodies(
        json.dumps({"code": "0", "data": sandbox_data.max_pain("24h", {})}).encode(),
        [json.dumps({"code": "0", "data": page}).encode() for page in pages],
    )


def actor_reading(load: Bodies) -> dict[str, float]:
    """What a scan does with the bodies before its rows: validate, translate, rank them all."""
    start = time.perf_counter()
    max_pain = envelope_of(MaxPainList).model_validate_json(load.max_pain).data.max_pain()
    markets = [
        market
        for page in load.pages
        for market in envelope_of(CoinMarketsPage).model_validate_json(page).data.markets()
    ]
    scan.ranked(max_pain, markets, coins=None, sort_by="max_pain_proximity", max_coins=1000)
    return {"total": time.perf_counter() - start}


def json_loads(load: Bodies) -> dict[str, float]:
    """The floor: the standard library's parse of the same bytes, nothing else."""
    start = time.perf_counter()
    json.loads(load.max_pain)
    for page in load.pages:
        json.loads(page)
    return {"total": time.perf_counter() - start}


def section(plan: Plan) -> Section:
    """Both of the scan's rows."""
    progress(f"scan: reading the sources, {plan.processing_pairs} interleaved pairs")
    reading, read_details = processing_row(plan.processing_pairs)
    progress(
        f"scan: {SCAN_COINS} coins, {SCAN_MAPS} mapped, at {plan.latency_ms:g} ms,"
        f" {plan.batch_pairs} interleaved pairs"
    )
    scanning, scan_details = batch_row(plan.batch_pairs, plan.latency_ms)
    return Section([*reading, *scanning], [*read_details, *scan_details])


def processing_row(pairs: int) -> tuple[list[Row], list[str]]:
    load = bodies()
    runs = interleaved(
        {
            "actor": partial(processing.collected, actor_reading, load),
            "json": partial(processing.collected, json_loads, load),
        },
        pairs,
        warmup=1,
    )
    ours = [sample["total"] for sample in runs["actor"]]
    loads = [sample["total"] for sample in runs["json"]]
    coins = len(sandbox_data.max_pain("24h", {}))
    what = (
        f"{coins} max-pain and {len(sandbox_data.coins_markets({}))} market rows: validate,"
        " translate, rank vs `json.loads`"
    )
    details = [
        f"- Bodies: {load.size / 1e3:.0f} kB in {1 + len(load.pages)} answers (the sandbox's"
        f" max pain and its coins-markets pages of {COINS_MARKETS_PAGE_SIZE}). Actor"
        f" {spread(ours, 's')}; `json.loads` {spread(loads, 's')}.",
    ]
    return [Row("Scan", what, median(ours), median(loads), "s", PROCESSING_GOAL)], details


def batch_row(pairs: int, latency_ms: float) -> tuple[list[Row], list[str]]:
    """A scan of the sandbox's coins, its top ones mapped, through a slow upstream."""
    latency_s = latency_ms / 1000
    concurrency = MarketScanInput.model_fields["max_concurrency"].default
    # A key's first request goes alone, to read how much of the key's window is used (the
    # client's pacing, as in every run); the other sources and the pair list come in the next
    # wait, then the maps, ``concurrency`` at a time.
    rounds = 2 + math.ceil(SCAN_MAPS / concurrency)
    actor_input = {"mode": "market_scan", "maxCoins": SCAN_COINS, "mapCoins": SCAN_MAPS}
    with SandboxServer(latency_ms=latency_ms) as slow, SandboxServer() as fast:
        # CoinGlass sends the coin map as one list per exchange with its last price, as live.
        slow.aggregated_shape = fast.aggregated_shape = "by_instrument"

        def scan_run() -> ProcessRun:
            slow.reset()
            slow.aggregated_shape = "by_instrument"
            return run_process(ACTOR, actor_input, actor_env(slow), expect_items=SCAN_COINS)

        single_input = {"mode": "market_scan", "maxCoins": 1, "mapCoins": 0}
        single = partial(run_process, ACTOR, single_input, actor_env(fast))
        work = work_over_cold_start(scan_run, single, pairs)
    bound = rounds * latency_s
    row = Row(
        "Scan",
        f"{SCAN_COINS} coins, {SCAN_MAPS} mapped, at {latency_ms:g} ms per request,"
        f" maxConcurrency {concurrency} (default): work vs bound",
        work.seconds,
        bound,
        "s",
        BATCH_GOAL,
    )
    details = [
        f"- Latency bound: (max pain, alone, as a key's first request goes to read the key's"
        " window + 1 wait for the coins-markets pages and the pair list +"
        f" ⌈{SCAN_MAPS}/{concurrency}⌉ rounds of coin maps) × {fmt(latency_s, 's')} ="
        f" {fmt(bound, 's')}. The rate limit does not bind.",
        work.detail("scan run", "a one-row scan"),
    ]
    return [row], details
