"""Hyperliquid positions through a slow upstream: a run that reads many pages of one coin's
positions, against the bound latency sets."""

from __future__ import annotations

import math
from functools import partial

import sandbox_positions
from sandbox_server import SandboxServer

from bench.measure import Row, fmt
from bench.processes import ACTOR, ProcessRun, actor_env, run_process
from bench.rows import BATCH_GOAL, Plan, Section, progress, work_over_cold_start
from coinglass_liquidation_map.schemas.positions import HyperliquidPositionsInput

COIN = "BTC"
PAGES = 50


def section(plan: Plan) -> Section:
    """The positions' row."""
    progress(
        f"positions: {PAGES} pages of {COIN} at {plan.latency_ms:g} ms,"
        f" {plan.batch_pairs} interleaved pairs"
    )
    return batch_row(plan.batch_pairs, plan.latency_ms)


def batch_row(pairs: int, latency_ms: float) -> Section:
    """A positions run of ``PAGES`` pages through a slow upstream, against its latency bound."""
    total_pages = math.ceil(sandbox_positions.position_count(COIN) / sandbox_positions.PAGE_SIZE)
    assert total_pages > PAGES, "the coin must have more pages than the run reads"
    latency_s = latency_ms / 1000
    at_once = HyperliquidPositionsInput.model_fields["max_concurrency"].default
    # The first page goes alone: it says how many pages there are, and a key's first request
    # reads how much of the key's window is used (the client's pacing, as in every run). The
    # others follow ``at_once`` at a time, with pairs-markets in the first of those waits.
    rounds = 1 + math.ceil((PAGES - 1) / at_once)
    actor_input = {"mode": "hyperliquid_positions", "symbol": COIN, "maxPages": PAGES}
    with SandboxServer(latency_ms=latency_ms) as slow, SandboxServer() as fast:

        def positions_run() -> ProcessRun:
            slow.reset()
            return run_process(ACTOR, actor_input, actor_env(slow))

        single_input = {"mode": "hyperliquid_positions", "symbol": COIN, "maxPages": 1}
        single = partial(run_process, ACTOR, single_input, actor_env(fast))
        work = work_over_cold_start(positions_run, single, pairs)
    bound = rounds * latency_s
    row = Row(
        "Positions",
        f"{PAGES} pages of Hyperliquid {COIN} positions at {latency_ms:g} ms per request,"
        f" maxConcurrency {at_once} (default): work vs bound",
        work.seconds,
        bound,
        "s",
        BATCH_GOAL,
    )
    details = [
        f"- Latency bound: (page 1, alone, as it says how many pages there are and a key's first"
        f" request reads the key's window + ⌈{PAGES - 1}/{at_once}⌉ waves of pages, pairs-markets"
        f" in the first) × {fmt(latency_s, 's')} = {fmt(bound, 's')}. The rate limit does not"
        " bind.",
        work.detail("run", "a one-page run"),
    ]
    return Section([row], details)
