"""Pacing on the key's shared window, in-process: a fake clock that only the waits move."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from coinglass_liquidation_map.coinglass.pacing import KeyWindow


class FakeTime:
    """A clock that stands still until something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def headers(limit: int, used: int) -> httpx.Headers:
    return httpx.Headers({"API-KEY-MAX-LIMIT": str(limit), "API-KEY-USE-LIMIT": str(used)})


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def window(fake_time: FakeTime) -> KeyWindow:
    log = logging.getLogger("test_pacing")
    return KeyWindow(log, window_secs=60, clock=fake_time.clock, sleep=fake_time.sleep)


async def settle() -> None:
    """Let every task that can run, run."""
    for _ in range(10):
        await asyncio.sleep(0)


async def sent_at_once(window: KeyWindow, count: int, answer: httpx.Headers) -> int:
    """How many of ``count`` requests the window lets out before any is answered; then each
    is answered with ``answer``."""
    inside = 0
    release = asyncio.Event()

    async def request() -> None:
        nonlocal inside
        async with window.slot() as read_use:
            inside += 1
            await release.wait()
            read_use(answer)

    tasks = [asyncio.create_task(request()) for _ in range(count)]
    await settle()
    release.set()
    await asyncio.gather(*tasks)
    return inside


async def test_the_first_request_goes_alone_until_its_answer(window: KeyWindow) -> None:
    sent: list[int] = []
    answer = asyncio.Event()

    async def request(number: int) -> None:
        async with window.slot() as read_use:
            sent.append(number)
            await answer.wait()
            read_use(headers(1200, number))

    tasks = [asyncio.create_task(request(number)) for number in range(3)]
    await settle()
    assert sent == [0]
    answer.set()
    await asyncio.gather(*tasks)
    assert sorted(sent) == [0, 1, 2]


async def test_without_the_headers_nothing_is_held_back(window: KeyWindow) -> None:
    async with window.slot() as read_use:
        read_use(httpx.Headers())
    # The limit alone, without the use, holds nothing back either.
    assert await sent_at_once(window, 5, httpx.Headers({"API-KEY-MAX-LIMIT": "30"})) == 5


async def test_requests_in_flight_count_against_the_room(
    window: KeyWindow, fake_time: FakeTime
) -> None:
    async with window.slot() as read_use:
        read_use(headers(100, 88))  # 90 allowed: room for two more
    sent: list[float] = []
    release = asyncio.Event()

    async def request() -> None:
        async with window.slot() as read_use:
            sent.append(fake_time.now)
            await release.wait()
            read_use(headers(100, 88 + len(sent)))

    tasks = [asyncio.create_task(request()) for _ in range(3)]
    await settle()
    assert sent == [1000.0, 1000.0]
    assert fake_time.sleeps == []  # the third waits for their answers, not for the clock
    release.set()
    await asyncio.gather(*tasks)
    # Their answers said 90: the third went only once the window had rolled over.
    assert fake_time.sleeps == [60.0]
    assert sent == [1000.0, 1000.0, 1060.0]


async def test_a_spent_window_is_waited_out_once_then_probed(
    window: KeyWindow, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    async with window.slot() as read_use:
        read_use(headers(30, 28))  # others used the key: 27 allowed
    fake_time.now += 15
    sent: list[float] = []
    answer = asyncio.Event()

    async def request() -> None:
        async with window.slot() as read_use:
            sent.append(fake_time.now)
            await answer.wait()
            read_use(headers(30, len(sent)))

    with caplog.at_level(logging.WARNING):
        tasks = [asyncio.create_task(request()) for _ in range(3)]
        await settle()
        # Everything the use counted has left the window 60 s after it was reported.
        assert sent == [1060.0]
        assert fake_time.sleeps[0] == 45.0
        answer.set()
        await asyncio.gather(*tasks)
    assert sent == [1060.0] * 3
    assert [record.getMessage() for record in caplog.records] == [
        "CoinGlass says this API key has used 28 of its 30 requests in the current minute"
        " (runs sharing the key count too); waiting 45.0 s for the window to roll over."
    ]


async def test_a_late_answer_to_an_earlier_request_does_not_lower_the_use(
    window: KeyWindow, fake_time: FakeTime
) -> None:
    async with window.slot() as read_use:
        read_use(headers(100, 80))
    first_answer, second_answer = asyncio.Event(), asyncio.Event()
    sent: list[float] = []

    async def request(answer: asyncio.Event, used: int) -> None:
        async with window.slot() as read_use:
            sent.append(fake_time.now)
            await answer.wait()
            read_use(headers(100, used))

    earlier = asyncio.create_task(request(first_answer, 81))
    later = asyncio.create_task(request(second_answer, 90))
    await settle()
    second_answer.set()  # the later request is answered first: 90 used, none left
    await later
    first_answer.set()  # the earlier one's answer, counted before the later one, says 81
    await earlier
    async with window.slot():
        pass
    assert fake_time.sleeps == [60.0]  # 90 still holds: the next request waited out the window


async def test_answers_that_stop_saying_the_use_hold_nothing_back_after_a_rollover(
    window: KeyWindow, fake_time: FakeTime
) -> None:
    async with window.slot() as read_use:
        read_use(headers(30, 29))
    async with window.slot() as read_use:  # waits out the window, then goes alone
        read_use(httpx.Headers())  # an error page from a proxy, say
    assert fake_time.sleeps == [60.0]
    assert await sent_at_once(window, 3, httpx.Headers()) == 3


async def test_each_wait_for_a_rollover_is_said_once(
    window: KeyWindow, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        for used in (29, 30):  # two windows spent, one after the other
            async with window.slot() as read_use:
                read_use(headers(30, used))
            async with window.slot():  # waits out the window
                pass
    said = [r.getMessage() for r in caplog.records]
    assert [message.split(" requests")[0] for message in said] == [
        "CoinGlass says this API key has used 29 of its 30",
        "CoinGlass says this API key has used 30 of its 30",
    ]


async def test_a_reading_older_than_the_window_is_forgotten(
    window: KeyWindow, fake_time: FakeTime
) -> None:
    async with window.slot() as read_use:
        read_use(headers(100, 88))  # room for two, while the reading holds
    fake_time.now += 60  # everything it counted has left the window since
    async with window.slot() as read_use:
        read_use(httpx.Headers())  # and answers no longer say the use
    assert await sent_at_once(window, 5, httpx.Headers()) == 5
    assert fake_time.sleeps == []
