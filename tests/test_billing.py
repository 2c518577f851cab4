"""The budget, in-process: room is held for each result before its upstream quota is spent."""

from __future__ import annotations

import pytest

from src.errors import BudgetExhausted
from src.run.billing import Budget


class Room:
    """A push limit with room for ``maps`` maps and ``searches`` searches, recording its calls."""

    def __init__(self, maps: int, searches: int) -> None:
        self.room = {"LIQUIDATION_MAP": maps, "SEARCH_SYMBOLS": searches}
        self.asked: list[tuple[int, str]] = []

    def __call__(self, count: int, event: str) -> int:
        self.asked.append((count, event))
        return min(count, self.room[event])


async def test_results_in_flight_hold_their_room_until_they_end() -> None:
    room = Room(maps=2, searches=5)
    budget = Budget(room)
    async with budget.reserve("liquidation_map"), budget.reserve("liquidation_map"):
        with pytest.raises(BudgetExhausted) as refused:
            async with budget.reserve("liquidation_map"):
                pass
        assert "no room for another LIQUIDATION_MAP result" in refused.value.message
        assert not refused.value.retryable
    # Both ended, so their room is free again.
    async with budget.reserve("liquidation_map"):
        pass
    assert room.asked == [(n, "LIQUIDATION_MAP") for n in (1, 2, 3, 1)]


async def test_each_event_has_its_own_room() -> None:
    budget = Budget(Room(maps=0, searches=1))
    async with budget.reserve("search_symbols"):
        with pytest.raises(BudgetExhausted):
            async with budget.reserve("liquidation_map"):
                pass


async def test_a_result_that_fails_frees_its_room() -> None:
    budget = Budget(Room(maps=1, searches=0))
    with pytest.raises(RuntimeError):
        async with budget.reserve("liquidation_map"):
            raise RuntimeError("the fetch failed")
    async with budget.reserve("liquidation_map"):
        pass
