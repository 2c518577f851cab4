"""The actor's own run with one part replaced, to see end to end what a user gets when that
part misbehaves: ``python -m tests.patched_actor PACKAGE SCENARIO [MODULE ...]`` from the
repository. After the replacement it runs the actor's package (``PACKAGE``) as ``python -m``
does.

- ``spy``: nothing replaced and nothing of the actor imported first, so the run loads exactly
  what ``python -m`` loads; at exit, prints ``LOADED <module> True|False`` for each MODULE.
- ``broken``: every map hits a bug.
- ``broken_for_btc``: the BTC map hits a bug; the others are fetched as usual.
- ``aborted_midway``: the platform aborts the run as its first map starts.
- ``named_datasets_down``: every named dataset fails to open; the run's own dataset works.
"""

from __future__ import annotations

import atexit
import runpy
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coinglass_liquidation_map.analysis.buckets import Bucketing
    from coinglass_liquidation_map.analysis.liqmap import AnalysedMap
    from coinglass_liquidation_map.run.refusals import RefusedRanges
    from coinglass_liquidation_map.run.upstream import Upstream
    from coinglass_liquidation_map.schemas.maps import MapTarget

    FetchMap = Callable[
        [Upstream, MapTarget, Bucketing, RefusedRanges | None],
        Coroutine[Any, Any, AnalysedMap],
    ]


def replaced(scenario: str, fetch_map: FetchMap) -> FetchMap:
    """The map fetch of ``scenario``, around the actor's own ``fetch_map``."""

    async def broken(
        upstream: Upstream,
        target: MapTarget,
        bucketing: Bucketing,
        refusals: RefusedRanges | None = None,
    ) -> AnalysedMap:
        if scenario == "broken" or target.symbol == "BTC":
            raise RuntimeError("a bug")
        return await fetch_map(upstream, target, bucketing, refusals)

    async def aborted_midway(
        upstream: Upstream,
        target: MapTarget,
        bucketing: Bucketing,
        refusals: RefusedRanges | None = None,
    ) -> AnalysedMap:
        from apify import Actor, Event, EventAbortingData  # noqa: PLC0415

        Actor.event_manager.emit(event=Event.ABORTING, event_data=EventAbortingData())
        return await fetch_map(upstream, target, bucketing, refusals)

    return {"broken": broken, "broken_for_btc": broken, "aborted_midway": aborted_midway}[scenario]


def report_loaded(modules: list[str]) -> None:
    for name in modules:
        print(f"LOADED {name}", name in sys.modules)


def run(package: str, scenario: str, modules: list[str]) -> None:
    if scenario == "spy":
        atexit.register(report_loaded, modules)
        runpy.run_module(package, run_name="__main__", alter_sys=True)
        return
    # Imported only here: unittest loads difflib, and the spy checks that a run does not.
    from unittest import mock  # noqa: PLC0415

    if scenario == "named_datasets_down":
        from apify import Actor  # noqa: PLC0415

        open_dataset = Actor.open_dataset

        async def default_only(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("name"):
                raise RuntimeError("the storage is down")
            return await open_dataset(*args, **kwargs)

        with mock.patch.object(Actor, "open_dataset", default_only):
            runpy.run_module(package, run_name="__main__", alter_sys=True)
        return

    from coinglass_liquidation_map.modes import maps  # noqa: PLC0415

    with mock.patch.object(maps, "liquidation_map", replaced(scenario, maps.liquidation_map)):
        runpy.run_module(package, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], sys.argv[3:])
