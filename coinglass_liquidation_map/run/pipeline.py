"""What the runner asks of a mode's pipeline: the jobs a request makes, what follows each result
once it is delivered, and what closes the run. Each mode's pipeline (``modes``) answers it;
the runner schedules the jobs without knowing which mode made them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

from coinglass_liquidation_map.catalog import Mode
from coinglass_liquidation_map.errors import ActorError
from coinglass_liquidation_map.inputs import Target
from coinglass_liquidation_map.outputs import FailureItem, ResultItem, SuccessItem
from coinglass_liquidation_map.run.billing import Budget
from coinglass_liquidation_map.run.upstream import Upstream


@dataclass(frozen=True)
class Job:
    """One result to fetch, and the failure item that stands in for it when it fails."""

    fetch: Callable[[], Awaitable[SuccessItem]]
    failed: Callable[[ActorError], FailureItem]
    add_on: bool = False  # room is held for its mode's add-on too (a scan row's coin map)
    charged: bool = True  # False: it can only fail (a coin no source lists), so holds no room


class Pipeline(Protocol):
    """One request's work in one mode."""

    @property
    def concurrency(self) -> int | None:
        """How many of its jobs may run at once; None: all of them, as a pipeline that bounds
        its own requests has it."""

    @property
    def ordered(self) -> bool:
        """Whether its results are delivered in the order of its jobs (a scan's rank order),
        rather than each as soon as it is ready."""

    async def jobs(self, budget: Budget) -> list[Job]:
        """Every result the request asks for, in the order it asks for them, as ``budget``
        (before any of them holds room in it) can pay for. Raises ActorError when the
        request as a whole fails."""

    async def delivered(self, item: ResultItem) -> None:
        """What follows a result once it is delivered (a watch keeps its snapshot)."""

    async def finish(self) -> None:
        """What closes the run once every result is delivered (alerts, the report)."""


TargetT = TypeVar("TargetT", bound=Target)


def per_target(
    mode: Mode, targets: Sequence[TargetT], fetch: Callable[[TargetT], Awaitable[SuccessItem]]
) -> list[Job]:
    """A job for each of ``targets``, each failing with its own target's fields echoed."""
    return [Job(partial(fetch, target), partial(mode.failure, source=target)) for target in targets]


class PipelineFactory(Protocol):
    """A mode's ``pipeline`` function: a validated request's pipeline. A run that may
    ``remember`` (a batch run, not a Standby answer) keeps what the input asks it to keep
    between runs."""

    def __call__(
        self, request: Any, upstream: Upstream, *, remember: bool, log: logging.Logger
    ) -> Pipeline: ...


class Steps:
    """A pipeline with nothing to do after a result or at the end, to build on."""

    ordered = False

    async def delivered(self, item: ResultItem) -> None:
        """Nothing follows a delivered result."""

    async def finish(self) -> None:
        """Nothing closes the run."""
