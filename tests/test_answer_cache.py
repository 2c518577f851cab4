"""The Standby answer cache, with a fake clock: sharing, expiry, and failures never kept."""

from __future__ import annotations

import asyncio

from coinglass_liquidation_map.errors import RateLimited
from coinglass_liquidation_map.outputs import FailureItem, ResultItem, failure_item
from coinglass_liquidation_map.schemas.search import SearchSymbolsItem
from coinglass_liquidation_map.standby.answers import AnswerCache

SUCCESS = SearchSymbolsItem(keyword="btc", data=[])
FAILURE: FailureItem = failure_item(RateLimited("slow down"), "search_symbols", keyword="btc")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_and_fresh_requests_share_one_fetch_until_it_expires() -> None:
    clock = Clock()
    cache = AnswerCache(5, clock)
    fetches = 0
    release = asyncio.Event()

    async def fetch() -> list[ResultItem]:
        nonlocal fetches
        fetches += 1
        await release.wait()
        return [SUCCESS]

    waiting = [asyncio.create_task(cache.get("k", fetch)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    assert [await task for task in waiting] == [[SUCCESS]] * 3
    clock.now += 4.9
    assert await cache.get("k", fetch) == [SUCCESS]
    assert fetches == 1
    clock.now += 0.2  # 5.1 s after the answer: stale
    await cache.get("k", fetch)
    assert fetches == 2
    await cache.get("other", fetch)
    assert fetches == 3


async def test_failures_are_not_kept() -> None:
    cache = AnswerCache(60, Clock())
    answers: list[list[ResultItem]] = [[FAILURE], [SUCCESS], [FAILURE]]
    calls = 0

    async def fetch() -> list[ResultItem]:
        nonlocal calls
        calls += 1
        return answers[calls - 1]

    assert await cache.get("k", fetch) == [FAILURE]
    assert await cache.get("k", fetch) == [SUCCESS]
    assert await cache.get("k", fetch) == [SUCCESS]
    assert calls == 2


async def test_a_caller_that_hangs_up_does_not_cancel_the_shared_fetch() -> None:
    cache = AnswerCache(5, Clock())
    release = asyncio.Event()

    async def fetch() -> list[ResultItem]:
        await release.wait()
        return [SUCCESS]

    impatient = asyncio.create_task(cache.get("k", fetch))
    patient = asyncio.create_task(cache.get("k", fetch))
    await asyncio.sleep(0)
    impatient.cancel()
    release.set()
    assert await patient == [SUCCESS]
