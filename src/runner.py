"""One run's work: each requested result fetched under the budget, the deadline and a bound on
concurrency, and pushed as soon as it is ready, so one failure never holds up the others."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from apify import Actor

from src import liqmap, modes
from src.billing import Budget, push_result
from src.cache import PairDirectory
from src.coinglass import CoinGlassClient
from src.errors import ActorError, DeadlineExceeded
from src.gallery import Gallery
from src.inputs import ActorInput, MapTarget, SearchSymbolsInput, parse_input
from src.outputs import FailureItem, ResultItem, input_failure, map_failure

Fetch = Callable[[], Awaitable[ResultItem]]
OnFailure = Callable[[ActorError], FailureItem]


async def serve(raw_input: object) -> None:
    """Validate the input, then fetch and push every result it asks for."""
    try:
        request = parse_input(raw_input)
        client = modes.open_client(request, Actor.log)
    except ActorError as error:
        await push_result(input_failure(error, raw_input))
        return
    async with client:
        instruments = PairDirectory(client, request.symbol_cache_ttl_secs)
        jobs: list[tuple[Fetch, OnFailure]]
        if isinstance(request, SearchSymbolsInput):
            search = partial(modes.search_symbols, request, instruments)
            jobs = [(search, partial(input_failure, raw_input=raw_input))]
            await _Limits(request, concurrency=1).run_all(jobs)
            return
        gallery = Gallery() if request.chart else None
        bucketing = liqmap.Bucketing(
            request.top_clusters, request.price_step, request.price_percent_step
        )
        jobs = [
            (
                partial(_map, client, instruments, target, bucketing, gallery),
                partial(map_failure, target=target),
            )
            for target in request.targets()
        ]
        await _Limits(request, request.max_concurrency).run_all(jobs)
        if gallery is not None:
            await gallery.save_report()


async def _map(
    client: CoinGlassClient,
    instruments: PairDirectory,
    target: MapTarget,
    bucketing: liqmap.Bucketing,
    gallery: Gallery | None,
) -> ResultItem:
    item = await modes.liquidation_map(client, instruments, target, bucketing)
    return item if gallery is None else await gallery.add(item)


class _Limits:
    """What every job of a run shares: the budget, the deadline and the concurrency bound."""

    def __init__(self, request: ActorInput, concurrency: int) -> None:
        loop = asyncio.get_running_loop()
        self._max_run_secs = request.max_run_secs
        self._deadline = loop.time() + request.max_run_secs if request.max_run_secs else None
        self._slots = asyncio.Semaphore(concurrency)
        self._budget = Budget()
        self._mode = request.mode

    async def run_all(self, jobs: list[tuple[Fetch, OnFailure]]) -> None:
        """Run every job; each pushes its own item, so one failure never stops the others."""
        await asyncio.gather(*(self._run(fetch, failed) for fetch, failed in jobs))

    async def _run(self, fetch: Fetch, failed: OnFailure) -> None:
        try:
            async with asyncio.timeout_at(self._deadline), self._slots:
                async with self._budget.reserve(self._mode):
                    item = await fetch()
                    await push_result(item)
                return
        except TimeoutError:
            error: ActorError = DeadlineExceeded(
                f"The run's work did not finish within maxRunSecs ({self._max_run_secs} s);"
                " this result was not fetched or charged. Raise maxRunSecs or try again later."
            )
        except ActorError as raised:
            error = raised
        await push_result(failed(error))
