"""One run's work: each requested result fetched under the budget, the deadline and a bound on
concurrency, and pushed as soon as it is ready, so one failure never holds up the others."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from apify import Actor

from src import liqmap, modes
from src.billing import Budget, push_result
from src.cache import PairDirectory
from src.errors import ActorError, DeadlineExceeded
from src.inputs import ActorInput, LiquidationMapInput, Mode, parse_input
from src.outputs import FailureItem, ResultItem, input_failure, map_failure

Job = tuple[Callable[[], Awaitable[ResultItem]], Callable[[ActorError], FailureItem]]


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
        jobs: list[Job]
        if isinstance(request, LiquidationMapInput):
            bucketing = liqmap.Bucketing(
                request.top_clusters, request.price_step, request.price_percent_step
            )
            jobs = [
                (
                    lambda target=target: modes.liquidation_map(  # type: ignore[misc]
                        client, instruments, target, bucketing
                    ),
                    lambda error, target=target: map_failure(error, target),  # type: ignore[misc]
                )
                for target in request.targets()
            ]
            concurrency = request.max_concurrency
        else:
            jobs = [
                (
                    lambda: modes.search_symbols(request, instruments),
                    lambda error: input_failure(error, raw_input),
                )
            ]
            concurrency = 1
        limit = _Limits(request, concurrency)
        await asyncio.gather(*(limit.run(request.mode, fetch, failed) for fetch, failed in jobs))


class _Limits:
    """What every job of a run shares: the budget, the deadline and the concurrency bound."""

    def __init__(self, request: ActorInput, concurrency: int) -> None:
        loop = asyncio.get_running_loop()
        self._max_run_secs = request.max_run_secs
        self._deadline = loop.time() + request.max_run_secs if request.max_run_secs else None
        self._slots = asyncio.Semaphore(concurrency)
        self._budget = Budget()

    async def run(
        self,
        mode: Mode,
        fetch: Callable[[], Awaitable[ResultItem]],
        failed: Callable[[ActorError], FailureItem],
    ) -> None:
        try:
            async with asyncio.timeout_at(self._deadline), self._slots:
                async with self._budget.reserve(mode):
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
