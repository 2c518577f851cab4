"""One request's work: each result fetched under the budget, the deadline and the pipeline's
bound on concurrency, and delivered as soon as it is ready, so one failure never holds up the
others.

A batch run pushes each result to the dataset; the Standby server collects them for its answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from apify import Actor

from coinglass_liquidation_map.catalog import (
    ActorInput,
    Mode,
    input_failure,
    mode_of,
    parse_input,
    plan_refusal,
    request_failure,
)
from coinglass_liquidation_map.coinglass.endpoints import Endpoints
from coinglass_liquidation_map.errors import (
    INTERNAL_ERROR_MESSAGE,
    ActorError,
    BudgetExhausted,
    DeadlineExceeded,
    InternalError,
    PlanTooLow,
)
from coinglass_liquidation_map.outputs import FailureItem, ResultItem
from coinglass_liquidation_map.run.access import open_endpoints
from coinglass_liquidation_map.run.billing import Affordable, Budget, affordable, push_results
from coinglass_liquidation_map.run.key_plan import KeyPlan
from coinglass_liquidation_map.run.pairs import PairDirectory
from coinglass_liquidation_map.run.pipeline import Job, Pipeline, PipelineFactory
from coinglass_liquidation_map.run.upstream import (
    InstrumentSource,
    MarketPrices,
    PlanSource,
    Upstream,
)

Deliver = Callable[[Sequence[ResultItem]], Awaitable[None]]
"""Where results go once ready (pushed and charged, or kept for an HTTP answer), in order."""


async def serve(raw_input: object) -> bool:
    """Validate the input, then fetch and push every result it asks for.

    True when every result is in the dataset; False when one hit a bug in the actor, which
    the run should then report by failing.
    """
    try:
        request = parse_input(raw_input)
        endpoints = open_endpoints(request, Actor.log)
    except ActorError as error:
        await push_results([input_failure(error, raw_input)])
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
    deliver: Deliver = push_results,
    afford: Affordable | None = None,
    *,
    remember: bool = False,
) -> list[ResultItem]:
    """Fetch every result ``request`` asks for, hand each to ``deliver`` as soon as it is ready,
    and return them all in the order they were asked for. A result the budget (``afford``; the
    run's maximum charge by default) leaves no room for is not fetched: it fails as
    ``budget_exhausted``. A run that may ``remember`` (a batch run, not a Standby answer)
    keeps what its input asks it to keep between runs."""
    mode = mode_of(request)
    build: PipelineFactory = mode.load_pipeline().pipeline
    plan = KeyPlan(
        endpoints.plan_level, endpoints.client.key_id, request.symbol_cache_ttl_secs, Actor.log
    )
    upstream = Upstream(endpoints, instruments, MarketPrices(endpoints), plan)
    pipeline = build(request, upstream, remember=remember, log=Actor.log)
    budget = Budget(afford or affordable(pushed=mode.event))
    limits = _Schedule(request, mode, pipeline, deliver, budget, plan=plan)
    items = await limits.run_all(request)
    upstream.prices.close()
    await pipeline.finish()
    return items


class _Schedule:
    """What every job of a run shares: the budget, the deadline, the concurrency bound, and
    the order its results are delivered in."""

    def __init__(
        self,
        request: ActorInput,
        mode: Mode,
        pipeline: Pipeline,
        deliver: Deliver,
        budget: Budget,
        *,
        plan: PlanSource,
    ) -> None:
        loop = asyncio.get_running_loop()
        self._max_run_secs = request.max_run_secs
        self._deadline = loop.time() + request.max_run_secs if request.max_run_secs else None
        bound = pipeline.concurrency
        self._slots: AbstractAsyncContextManager[Any] = (
            asyncio.Semaphore(bound) if bound is not None else nullcontext()
        )
        self._budget = budget
        self._mode = mode
        self._pipeline = pipeline
        self._deliver = deliver
        self._plan = plan

    async def run_all(self, request: ActorInput) -> list[ResultItem]:
        """Run every job; each delivers its own item, so one failure never stops the others.
        A request that fails as a whole delivers its one failure."""
        try:
            async with asyncio.timeout_at(self._deadline):
                jobs = await self._pipeline.jobs(self._budget)
        except Exception as raised:
            failure = request_failure(await self._explained(raised), request)
            await self._deliver([failure])
            return [failure]
        self._handed: dict[int, ResultItem] = {}
        self._next = 0  # the first result not yet delivered, when they go in order
        self._delivered = [asyncio.Event() for _ in jobs]
        self._delivering = asyncio.Lock()
        return list(await asyncio.gather(*(self._run(job, i) for i, job in enumerate(jobs))))

    async def _run(self, job: Job, index: int) -> ResultItem:
        events = (self._mode.event, self._mode.add_on) if job.add_on else (self._mode.event,)
        try:
            # A job that can only fail (a coin no source lists) holds no room.
            async with self._budget.reserve(*filter(None, events if job.charged else ())):
                try:
                    async with asyncio.timeout_at(self._deadline), self._slots:
                        item: ResultItem = await job.fetch()
                except Exception as raised:
                    item = job.failed(await self._explained(raised))
                # Outside the slot, so the next fetch starts while this one is stored, and
                # outside the deadline, so a result fetched in time is never half delivered;
                # inside the reservation, which holds its room until it is charged.
                await self._hand_over(index, item)
                return item
        except BudgetExhausted as refused:  # no room for it: it was never fetched
            failure = job.failed(refused)
        await self._hand_over(index, failure)
        return failure

    async def _hand_over(self, index: int, item: ResultItem) -> None:
        """Deliver ``item``: at once, or, when the pipeline's results go in order, with every
        result ready after it, once those before it are delivered. A delivery that raises (a
        storage failure: a bug, not a result's) raises here, and never leaves a later result
        waiting."""
        if not self._pipeline.ordered:
            await self._deliver_all([item])
            return
        self._handed[index] = item
        async with self._delivering:
            ready: list[ResultItem] = []
            while self._next in self._handed:
                ready.append(self._handed.pop(self._next))
                self._next += 1
            try:
                if ready:
                    await self._deliver_all(ready)
            finally:
                for delivered in range(self._next - len(ready), self._next):
                    self._delivered[delivered].set()
        await self._delivered[index].wait()

    async def _deliver_all(self, items: list[ResultItem]) -> None:
        await self._deliver(items)
        for item in items:
            await self._pipeline.delivered(item)

    async def _explained(self, raised: Exception) -> ActorError:
        """What a user is told of a result that failed; a refusal for the key's plan says
        what that plan runs with this actor, and what this mode needs."""
        error = self._failure(raised)
        if not isinstance(error, PlanTooLow):
            return error
        return error.with_note(plan_refusal(self._mode, await self._plan()))

    def _failure(self, raised: Exception) -> ActorError:
        """What a user is told of a result that failed."""
        if isinstance(raised, TimeoutError):
            return DeadlineExceeded(
                f"The run's work did not finish within maxRunSecs ({self._max_run_secs} s);"
                " this result was not fetched or charged. Raise maxRunSecs or try again later."
            )
        if isinstance(raised, ActorError):
            return raised
        # A bug in one result must not take the others down with it.
        Actor.log.error("A result failed unexpectedly.", exc_info=raised)
        return InternalError(INTERNAL_ERROR_MESSAGE)
