"""The budget, in-process: room is held for each result before its upstream quota is spent."""

from __future__ import annotations

import pytest

from src.errors import BudgetExhausted
from src.run.billing import Budget, capped


class ChargeLimit:
    """A push limit that lets ``maps`` maps and ``searches`` searches through, recording its
    calls."""

    def __init__(self, maps: int, searches: int) -> None:
        self.room = {"LIQUIDATION_MAP": maps, "SEARCH_SYMBOLS": searches}
        self.asked: list[tuple[int, str]] = []

    def __call__(self, count: int, event: str) -> int:
        self.asked.append((count, event))
        return min(count, self.room[event])


async def test_results_in_flight_hold_their_room_until_they_end() -> None:
    limit = ChargeLimit(maps=2, searches=5)
    budget = Budget(limit)
    async with budget.reserve("liquidation_map"), budget.reserve("liquidation_map"):
        with pytest.raises(BudgetExhausted) as refused:
            async with budget.reserve("liquidation_map"):
                pass
        assert "no room for another LIQUIDATION_MAP result" in refused.value.message
        assert not refused.value.retryable
    # Both ended, so their room is free again.
    async with budget.reserve("liquidation_map"):
        pass
    assert limit.asked == [(n, "LIQUIDATION_MAP") for n in (1, 2, 3, 1)]


async def test_each_event_has_its_own_room() -> None:
    limit = ChargeLimit(maps=1, searches=1)
    budget = Budget(limit)
    async with budget.reserve("search_symbols"), budget.reserve("liquidation_map"):
        pass
    assert limit.asked == [(1, "SEARCH_SYMBOLS"), (1, "LIQUIDATION_MAP")]


async def test_a_result_that_fails_frees_its_room() -> None:
    budget = Budget(ChargeLimit(maps=1, searches=0))
    with pytest.raises(RuntimeError):
        async with budget.reserve("liquidation_map"):
            raise RuntimeError("the fetch failed")
    async with budget.reserve("liquidation_map"):
        pass


async def test_a_request_holds_what_fits_of_its_results_until_it_ends() -> None:
    budget = Budget(ChargeLimit(maps=5, searches=0))
    async with (
        budget.hold("liquidation_map", 3) as first,
        budget.hold("liquidation_map", 3) as second,
        budget.hold("liquidation_map", 1) as third,
    ):
        assert (first, second, third) == (3, 2, 0)
    async with budget.hold("liquidation_map", 5) as again:
        assert again == 5


async def test_a_capped_limit_lets_through_only_the_room_held_elsewhere() -> None:
    budget = Budget(capped(2))
    async with (
        budget.reserve("liquidation_map"),
        budget.reserve("search_symbols"),
        budget.reserve("liquidation_map"),
    ):
        with pytest.raises(BudgetExhausted):
            async with budget.reserve("liquidation_map"):
                pass
