"""One request's work: each result fetched under the budget, the deadline and a bound on
concurrency, and delivered as soon as it is ready, so one failure never holds up the others.

A batch run pushes each result to the dataset; the Standby server collects them for its answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

from apify import Actor

from src.analysis.buckets import Bucketing
from src.coinglass.endpoints import Endpoints
from src.errors import INTERNAL_ERROR_MESSAGE, ActorError, DeadlineExceeded, InternalError
from src.inputs import (
    ActorInput,
    HeatmapTarget,
    LiquidationHeatmapInput,
    MapTarget,
    SearchSymbolsInput,
    parse_input,
)
from src.modes import maps, search
from src.modes.upstream import InstrumentSource, MarketPrices, Upstream
from src.outputs import (
    FailureItem,
    LiquidationMapItem,
    ResultItem,
    heatmap_failure,
    input_failure,
    map_failure,
    request_failure,
)
from src.run import item_limit
from src.run.access import open_endpoints
from src.run.billing import Affordable, Budget, affordable, push_result
from src.run.gallery import Gallery
from src.run.pairs import CoinMarkets, PairDirectory
from src.run.storage import run_store

if TYPE_CHECKING:
    from src.run.history import History
    from src.run.watch import Watch

Fetch = Callable[[], Awaitable[ResultItem]]
OnFailure = Callable[[ActorError], FailureItem]
Deliver = Callable[[ResultItem], Awaitable[None]]


async def serve(raw_input: object) -> bool:
    """Validate the input, then fetch and push every result it asks for.

    True when every result is in the dataset; False when one hit a bug in the actor, which
    the run should then report by failing.
    """
    try:
        request = parse_input(raw_input)
        endpoints = open_endpoints(request, Actor.log)
    except ActorError as error:
        await push_result(input_failure(error, raw_input))
        return True
    async with endpoints.client:
        instruments = PairDirectory(endpoints.supported_pairs, request.symbol_cache_ttl_secs)
        items = await fulfil(request, endpoints, instruments, remember=True)
    return not any(
        isinstance(item, FailureItem) and item.error.type == InternalError.type for item in items
    )


async def fulfil(
    request: ActorInput,
    endpoints: Endpoints,
    instruments: InstrumentSource,
    deliver: Deliver = push_result,
    afford: Affordable | None = None,
    *,
    remember: bool = False,
) -> list[ResultItem]:
    """Fetch every result ``request`` asks for, hand each to ``deliver`` as soon as it is ready,
    and return them all in the order they were asked for. A result the budget (``afford``; the
    run's maximum charge by default) leaves no room for is not fetched: it fails as
    ``budget_exhausted``. A run that may ``remember`` (a batch run, not a Standby answer)
    compares its maps with the last run's and keeps a history, as its input asks."""
    budget = Budget(afford or affordable(pushed=True))
    jobs: list[tuple[Fetch, OnFailure]]
    if isinstance(request, SearchSymbolsInput):
        coin_markets = CoinMarkets(endpoints.pairs_markets, request.symbol_cache_ttl_secs)
        searching = partial(search.search_symbols, request, instruments, coin_markets)
        jobs = [(searching, partial(request_failure, source=request))]
        return await _Limits(request, 1, deliver, budget).run_all(jobs)
    if isinstance(request, LiquidationHeatmapInput):
        gallery = Gallery(run_store(), Actor.log) if request.chart else None
        heatmap = partial(_heatmap, endpoints, instruments, top=request.top_clusters)
        jobs = [
            (partial(heatmap, target, gallery), partial(heatmap_failure, target=target))
            for target in request.targets()
        ]
        items = await _Limits(request, request.max_concurrency, deliver, budget).run_all(jobs)
        if gallery is not None:
            await gallery.save_report()
        return items
    upstream = Upstream(endpoints, instruments, MarketPrices(endpoints))
    gallery = Gallery(run_store(), Actor.log) if request.chart else None
    bucketing = Bucketing(request.top_clusters, request.price_step, request.price_percent_step)
    history = watch = None
    if remember and request.history_dataset:
        from src.run.history import History  # noqa: PLC0415 - only runs that keep one load it

        history = History(request.history_dataset)
    if remember and request.watched:
        from src.run.watch import Watch  # noqa: PLC0415 - only runs that watch load it

        watch = Watch(request, bucketing, Actor.log)
        deliver = partial(_deliver_then_keep, deliver, watch)
    jobs = [
        (
            partial(
                _map, upstream, target, bucketing, gallery=gallery, history=history, watch=watch
            ),
            partial(map_failure, target=target),
        )
        for target in request.targets()
    ]
    items = await _Limits(request, request.max_concurrency, deliver, budget).run_all(jobs)
    upstream.prices.close()
    if watch is not None:
        await watch.finish()
    if gallery is not None:
        await gallery.save_report()
    return items


def result_count(request: ActorInput) -> int:
    """How many results ``request`` asks for: one item each."""
    return 1 if isinstance(request, SearchSymbolsInput) else len(request.targets())


async def _map(
    upstream: Upstream,
    target: MapTarget,
    bucketing: Bucketing,
    *,
    gallery: Gallery | None,
    history: History | None,
    watch: Watch | None,
) -> ResultItem:
    analysed = await maps.liquidation_map(upstream, target, bucketing)
    if watch is not None:
        analysed = await watch.observe(analysed)
    fitted = item_limit.fitted(analysed)
    item = await item_limit.stored(fitted, run_store())
    if history is not None:
        await history.add(item)
    return item if gallery is None else await gallery.add(item, fitted.drawn)


async def _heatmap(
    endpoints: Endpoints,
    instruments: InstrumentSource,
    target: HeatmapTarget,
    gallery: Gallery | None,
    *,
    top: int,
) -> ResultItem:
    from src.modes import heatmaps  # noqa: PLC0415 - only heatmap runs load their models

    item = await heatmaps.liquidation_heatmap(endpoints, instruments, target, top)
    if gallery is not None:
        item = await gallery.add_heatmap(item)  # drawn from every cell, whatever is stored apart
    return await item_limit.fitted_heatmap(item, run_store())


async def _deliver_then_keep(deliver: Deliver, watch: Watch, item: ResultItem) -> None:
    """Deliver ``item``, and only then keep its snapshot: a map that fails on the way, or
    is never delivered, leaves the last one in place."""
    await deliver(item)
    if isinstance(item, LiquidationMapItem):
        await watch.keep(item)


class _Limits:
    """What every job of a run shares: the budget, the deadline and the concurrency bound."""

    def __init__(
        self, request: ActorInput, concurrency: int, deliver: Deliver, budget: Budget
    ) -> None:
        loop = asyncio.get_running_loop()
        self._max_run_secs = request.max_run_secs
        self._deadline = loop.time() + request.max_run_secs if request.max_run_secs else None
        self._slots = asyncio.Semaphore(concurrency)
        self._budget = budget
        self._mode = request.mode
        self._deliver = deliver

    async def run_all(self, jobs: list[tuple[Fetch, OnFailure]]) -> list[ResultItem]:
        """Run every job; each delivers its own item, so one failure never stops the others."""
        return list(await asyncio.gather(*(self._run(fetch, failed) for fetch, failed in jobs)))

    async def _run(self, fetch: Fetch, failed: OnFailure) -> ResultItem:
        try:
            async with self._budget.reserve(self._mode):
                async with asyncio.timeout_at(self._deadline), self._slots:
                    item = await fetch()
                # Outside the slot, so the next fetch starts while this one is stored, and
                # outside the deadline, so a result fetched in time is never half delivered.
                await self._deliver(item)
                return item
        except TimeoutError:
            error: ActorError = DeadlineExceeded(
                f"The run's work did not finish within maxRunSecs ({self._max_run_secs} s);"
                " this result was not fetched or charged. Raise maxRunSecs or try again later."
            )
        except ActorError as raised:
            error = raised
        except Exception:
            # A bug in one result must not take the others down with it.
            Actor.log.exception("A result failed unexpectedly.")
            error = InternalError(INTERNAL_ERROR_MESSAGE)
        failure = failed(error)
        await self._deliver(failure)
        return failure
