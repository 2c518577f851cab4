"""The actor's own run with one part replaced, to see end to end what a user gets when that
part misbehaves: ``python -m tests.patched_actor SCENARIO [MODULE ...]`` from the repository.

- ``spy``: nothing replaced; at exit, prints ``LOADED <module> True|False`` for each MODULE.
- ``broken``: every map hits a bug.
- ``broken_for_btc``: the BTC map hits a bug; the others are fetched as usual.
- ``aborted_midway``: the platform aborts the run as its first map starts.
"""

from __future__ import annotations

import asyncio
import atexit
import sys

from apify import Actor, Event, EventAbortingData

from src import main
from src.analysis.liqmap import AnalysedMap, Bucketing
from src.inputs import MapTarget
from src.modes import maps
from src.modes.upstream import Upstream

fetch_map = maps.liquidation_map


async def broken(upstream: Upstream, target: MapTarget, bucketing: Bucketing) -> AnalysedMap:
    raise RuntimeError("a bug")


async def broken_for_btc(
    upstream: Upstream, target: MapTarget, bucketing: Bucketing
) -> AnalysedMap:
    if target.symbol == "BTC":
        raise RuntimeError("a bug")
    return await fetch_map(upstream, target, bucketing)


async def aborted_midway(
    upstream: Upstream, target: MapTarget, bucketing: Bucketing
) -> AnalysedMap:
    Actor.event_manager.emit(event=Event.ABORTING, event_data=EventAbortingData())
    return await fetch_map(upstream, target, bucketing)


def report_loaded(modules: list[str]) -> None:
    for name in modules:
        print(f"LOADED {name}", name in sys.modules)


REPLACEMENTS = {
    "broken": broken,
    "broken_for_btc": broken_for_btc,
    "aborted_midway": aborted_midway,
}


if __name__ == "__main__":
    scenario, *modules = sys.argv[1:]
    if scenario == "spy":
        atexit.register(report_loaded, modules)
    else:
        maps.liquidation_map = REPLACEMENTS[scenario]
    asyncio.run(main.main())
