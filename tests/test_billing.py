"""The budget, in-process: room is held for each result before its upstream quota is spent."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar

import pytest

from coinglass_liquidation_map.errors import BudgetExhausted
from coinglass_liquidation_map.run.billing import Budget, at_most


class Wallet:
    """A maximum charge of ``usd`` and the events' prices, recording what it was asked."""

    PRICES: ClassVar[dict[str, Decimal]] = {
        "LIQUIDATION_MAP": Decimal("0.01"),
        "SEARCH_SYMBOLS": Decimal("0.001"),
        "SCAN_ROW": Decimal("0.001"),
    }

    def __init__(self, usd: str) -> None:
        self.usd = Decimal(usd)
        self.asked: list[dict[str, int]] = []

    def __call__(self, counts: Mapping[str, int]) -> bool:
        self.asked.append(dict(counts))
        return sum(self.PRICES[event] * n for event, n in counts.items()) <= self.usd


async def test_results_in_flight_hold_their_room_until_they_end() -> None:
    wallet = Wallet("0.02")
    budget = Budget(wallet)
    async with budget.reserve("LIQUIDATION_MAP"), budget.reserve("LIQUIDATION_MAP"):
        with pytest.raises(BudgetExhausted) as refused:
            async with budget.reserve("LIQUIDATION_MAP"):
                pass
        assert "no room for another LIQUIDATION_MAP result" in refused.value.message
        assert not refused.value.retryable
    # Both ended, so their room is free again.
    async with budget.reserve("LIQUIDATION_MAP"):
        pass
    maps = [asked["LIQUIDATION_MAP"] for asked in wallet.asked]
    assert maps == [1, 2, 3, 1]


async def test_results_of_every_event_share_one_budget() -> None:
    budget = Budget(Wallet("0.0115"))
    async with budget.reserve("LIQUIDATION_MAP"):
        async with budget.reserve("SEARCH_SYMBOLS"):
            # A map and a search held: the 0.0005 left pays for no second search.
            with pytest.raises(BudgetExhausted):
                async with budget.reserve("SEARCH_SYMBOLS"):
                    pass
        async with budget.reserve("SEARCH_SYMBOLS"):
            pass


async def test_a_result_that_fails_frees_its_room() -> None:
    budget = Budget(Wallet("0.01"))
    with pytest.raises(RuntimeError):
        async with budget.reserve("LIQUIDATION_MAP"):
            raise RuntimeError("the fetch failed")
    async with budget.reserve("LIQUIDATION_MAP"):
        pass


async def test_a_request_holds_what_fits_of_its_results_until_it_ends() -> None:
    budget = Budget(Wallet("0.05"))
    async with (
        budget.hold({"LIQUIDATION_MAP": 3}) as first,
        budget.hold({"LIQUIDATION_MAP": 3}) as second,
        budget.hold({"LIQUIDATION_MAP": 1}) as third,
    ):
        counts = [held.counts["LIQUIDATION_MAP"] for held in (first, second, third)]
        assert counts == [3, 2, 0]
    async with budget.hold({"LIQUIDATION_MAP": 5}) as again:
        assert again.counts["LIQUIDATION_MAP"] == 5


async def test_an_add_on_gives_way_before_the_results_it_rides_on() -> None:
    # 0.025 pays for 5 rows (0.005) and 2 maps (0.02), not for 3 maps.
    budget = Budget(Wallet("0.025"))
    async with budget.hold({"SCAN_ROW": 5, "LIQUIDATION_MAP": 4}) as held:
        assert held.counts == {"SCAN_ROW": 5, "LIQUIDATION_MAP": 2}
        assert not budget.fits({"SCAN_ROW": 1})


async def test_a_result_and_its_add_on_are_reserved_together() -> None:
    budget = Budget(Wallet("0.01"))
    with pytest.raises(BudgetExhausted) as refused:
        async with budget.reserve("SCAN_ROW", "LIQUIDATION_MAP"):
            pass
    assert "LIQUIDATION_MAP" in refused.value.message
    async with budget.reserve("SCAN_ROW"), budget.reserve("SCAN_ROW"):
        pass  # the refused pair held nothing


async def test_a_charged_result_stops_holding_room() -> None:
    wallet = Wallet("0.03")
    budget = Budget(wallet)
    async with budget.hold({"LIQUIDATION_MAP": 2}) as first:
        first.charged("LIQUIDATION_MAP")  # the run's charges now count it: 0.01 is spent
        wallet.usd -= Decimal("0.01")
        async with budget.hold({"LIQUIDATION_MAP": 1}) as second:
            assert (first.counts["LIQUIDATION_MAP"], second.counts["LIQUIDATION_MAP"]) == (1, 1)


async def test_room_held_elsewhere_lets_through_only_that_many_results() -> None:
    budget = Budget(at_most({"LIQUIDATION_MAP": 2}))
    async with budget.reserve("LIQUIDATION_MAP"), budget.reserve("LIQUIDATION_MAP"):
        with pytest.raises(BudgetExhausted):
            async with budget.reserve("LIQUIDATION_MAP"):
                pass
    with pytest.raises(BudgetExhausted):
        async with budget.reserve("SEARCH_SYMBOLS"):
            pass  # no room was held for another event


async def test_results_charged_beyond_those_held_release_nothing() -> None:
    budget = Budget(Wallet("0.01"))
    async with budget.hold({"LIQUIDATION_MAP": 1}) as held:
        held.charged("LIQUIDATION_MAP")
        held.charged("LIQUIDATION_MAP")  # a shared answer may hold more than was held for it
        assert held.counts["LIQUIDATION_MAP"] == 0
        async with budget.hold({"LIQUIDATION_MAP": 2}) as other:
            # Nothing below zero lends room that is not there.
            assert other.counts["LIQUIDATION_MAP"] == 1
