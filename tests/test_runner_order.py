"""The runner's schedule in-process, for a pipeline whose results go in order (a scan's rows):
each result waits for those before it, results ready together go in one delivery, a failure
keeps its place, and a delivery that raises leaves no result waiting for ever."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial

import pytest

from coinglass_liquidation_map.analysis import scan
from coinglass_liquidation_map.catalog import BY_NAME, parse_input
from coinglass_liquidation_map.errors import UnknownSymbol
from coinglass_liquidation_map.outputs import FailureItem, ResultItem
from coinglass_liquidation_map.run.billing import Budget, at_most
from coinglass_liquidation_map.run.pipeline import Job, Steps
from coinglass_liquidation_map.run.runner import _Schedule
from coinglass_liquidation_map.schemas.scans import MarketScanInput, MarketScanItem

SCAN = BY_NAME["market_scan"]


def a_row(coin: str, rank: int) -> MarketScanItem:
    row = scan.scanned(None, None).row  # every column null
    return MarketScanItem(
        coin=coin, rank=rank, sort_by="open_interest", max_pain_range="24h", data=row
    )


class InOrder(Steps):
    """Three rows whose fetches end in the order the test sets, the second failing."""

    ordered = True
    concurrency = 3

    def __init__(self) -> None:
        self.done = [asyncio.Event() for _ in range(3)]

    async def jobs(self, budget: Budget) -> list[Job]:
        return [
            Job(partial(self._fetch, index), partial(SCAN.failure, source=a_row(coin, index + 1)))
            for index, coin in enumerate(("BTC", "ETH", "SOL"))
        ]

    async def _fetch(self, index: int) -> MarketScanItem:
        await self.done[index].wait()
        if index == 1:
            raise UnknownSymbol("no such coin")
        return a_row(("BTC", "ETH", "SOL")[index], index + 1)


async def schedule(pipeline: InOrder, deliver: object) -> _Schedule:
    async def no_plan() -> None:
        return None

    return _Schedule(
        scheduled_request(),
        SCAN,
        pipeline,
        deliver,  # type: ignore[arg-type]
        Budget(at_most({"SCAN_ROW": 3})),
        plan=no_plan,
    )


async def test_results_go_in_order_and_those_ready_together_in_one_delivery() -> None:
    pipeline = InOrder()
    deliveries: list[list[str]] = []

    async def deliver(items: Sequence[ResultItem]) -> None:
        deliveries.append(
            [
                item.coin if isinstance(item, MarketScanItem) else f"failed {item.coin}"
                for item in items
                if isinstance(item, MarketScanItem | FailureItem)
            ]
        )

    scheduled = await schedule(pipeline, deliver)
    running = asyncio.create_task(scheduled.run_all(scheduled_request()))
    # The last row is ready first, then the failing second: neither may go before the first.
    pipeline.done[2].set()
    pipeline.done[1].set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert deliveries == []
    pipeline.done[0].set()
    items = await running
    assert deliveries == [["BTC", "failed ETH", "SOL"]]
    assert isinstance(items[1], FailureItem)
    assert items[1].error.type == "unknown_symbol"


async def test_a_delivery_that_raises_leaves_no_result_waiting() -> None:
    pipeline = InOrder()

    async def deliver(items: Sequence[ResultItem]) -> None:
        raise OSError("the dataset is gone")

    scheduled = await schedule(pipeline, deliver)
    for event in pipeline.done:
        event.set()
    with pytest.raises(OSError, match="the dataset is gone"):
        await asyncio.wait_for(scheduled.run_all(scheduled_request()), timeout=5)


def scheduled_request() -> MarketScanInput:
    request = parse_input({"mode": "market_scan", "maxCoins": 3, "mapCoins": 0})
    assert isinstance(request, MarketScanInput)
    return request
