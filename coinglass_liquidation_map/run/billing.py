"""Money: which event each result is charged as, the budget check, and the charged push."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from itertools import groupby

from apify import Actor
from apify._charging import ChargeResult  # the result type push_data and charge return

from coinglass_liquidation_map.catalog import mode_of, request_failure
from coinglass_liquidation_map.errors import BudgetExhausted
from coinglass_liquidation_map.outputs import FailureItem, ResultItem, SuccessItem, record

# Apify's own event for every item of the default dataset, which it turns on for new
# pay-per-event actors: failure items then cost the user too.
DATASET_ITEM_EVENT = "apify-default-dataset-item"
# Where failures the dataset refused are kept, so a caller still learns why it got nothing.
UNDELIVERED_KEY = "OUTPUT"

Affordable = Callable[[Mapping[str, int]], bool]
"""Whether the run's maximum total charge can pay for these many results of each event."""


def affordable(*, pushed: str | None) -> Affordable:
    """The run's own ``Affordable``: each result's event, and Apify's per-item event too for
    the results of event ``pushed`` to the default dataset (a batch run's; Standby answers
    over HTTP). An add-on (a scan row's map) is charged beside its row's item, never as one."""

    def fits(counts: Mapping[str, int]) -> bool:
        manager = Actor.get_charging_manager()
        pricing = manager.get_pricing_info()

        def price(event: str) -> Decimal:
            # As the SDK prices an event missing from the pricing: free on the platform, $1
            # in a local run.
            found = pricing.per_event_prices.get(event)
            return found if found is not None else Decimal(0 if Actor.is_at_home() else 1)

        per_item = price(DATASET_ITEM_EVENT)

        def cost_of(event: str) -> Decimal:
            return price(event) + (per_item if event == pushed else Decimal(0))

        cost = sum((cost_of(event) * n for event, n in counts.items()), Decimal(0))
        return cost <= pricing.max_total_charge_usd - manager.calculate_total_charged_amount()

    return fits


class Budget:
    """The run's maximum total charge, checked before any upstream quota is spent.

    Results being fetched hold a reservation, whatever their event, so concurrent fetches
    never start more work than the budget can pay for.
    """

    def __init__(self, affordable: Affordable) -> None:
        self._affordable = affordable
        self._held: Counter[str] = Counter()  # results by event

    def fits(self, counts: Mapping[str, int]) -> bool:
        """Whether there is room for these many more results of each event, besides those
        held."""
        return self._affordable(self._held + Counter(counts))

    @asynccontextmanager
    async def hold(self, wanted: Mapping[str, int]) -> AsyncIterator[Held]:
        """Hold room for up to ``wanted`` results of each event until they end or are charged;
        where there is not room for all, the events listed last give way first."""
        granted = Counter(wanted)
        for event in reversed(list(granted)):
            while granted[event] and not self.fits(granted):
                granted[event] -= 1
        held = Held(self._held, granted)
        self._held += granted
        try:
            yield held
        finally:
            self._held -= held.counts

    @asynccontextmanager
    async def reserve(self, *events: str) -> AsyncIterator[None]:
        """Hold room for one result of each of ``events`` (a result and its add-on), or raise
        BudgetExhausted if there is none."""
        async with self.hold(dict.fromkeys(events, 1)) as held:
            short = [event for event in events if not held.counts[event]]
            if short:
                raise budget_exhausted(short[0])
            yield


class Held:
    """Room held in a budget for a number of results of each event."""

    def __init__(self, held: Counter[str], granted: Counter[str]) -> None:
        self._held = held
        self.counts = granted

    def charged(self, event: str) -> None:
        """One result of ``event`` was charged: the run's charges count it from now on. A
        result charged beyond those held (a shared answer's) releases nothing."""
        if self.counts[event]:
            self._held[event] -= 1
            self.counts[event] -= 1


def at_most(room: Mapping[str, int]) -> Affordable:
    """Room for ``room`` results of each event: room already held in a budget elsewhere."""
    return lambda counts: all(n <= room.get(event, 0) for event, n in counts.items() if n)


def warn_if_items_are_priced() -> None:
    """Say at start when the publisher prices every dataset item: failures are then charged,
    and a run whose maximum charge is spent cannot store them."""
    prices = Actor.get_charging_manager().get_pricing_info().per_event_prices
    price = prices.get(DATASET_ITEM_EVENT)
    if price:
        Actor.log.warning(
            f"Every dataset item of this actor is priced ({DATASET_ITEM_EVENT}, ${price}), so"
            " failure items are charged too, and one the run's maximum charge cannot pay for is"
            f" kept in the key-value store record {UNDELIVERED_KEY} instead of the dataset."
            " The publisher can remove that event's price in the Console (Publication →"
            " Monetization)."
        )


class _Undelivered:
    """Failures the dataset refused, in the ``OUTPUT`` record and the run's status message."""

    def __init__(self) -> None:
        self._items: list[dict[str, object]] = []
        self._lock = asyncio.Lock()  # each write holds every item, in order

    async def keep(self, item: FailureItem) -> None:
        async with self._lock:
            self._items.append(record(item))
            await Actor.set_value(UNDELIVERED_KEY, self._items, content_type="application/json")
            await Actor.set_status_message(
                f"{len(self._items)} failure(s) could not be stored in the dataset within the"
                f" run's maximum charge; they are in the {UNDELIVERED_KEY} record. Last:"
                f" {item.message}"
            )


_undelivered = _Undelivered()


async def push_result(item: ResultItem) -> None:
    """Log and push one item; a success is charged as its event, a failure is never charged."""
    await push_results([item])


async def push_results(items: Sequence[ResultItem]) -> None:
    """Log and push ``items`` in order, each success charged as its event (and its add-on):
    the successes of one mode that come together go in one push, and one charge per event,
    since each push is a storage write (a request, on the platform)."""
    # Items in a row with one message are said once: a scan's hundreds of rows are one line.
    for (success, message), alike in groupby(items, key=lambda item: (item.success, item.message)):
        count = len(list(alike))
        said = message if count == 1 else f"{message} ({count} results)"
        (Actor.log.info if success else Actor.log.warning)(said)
    for run in _runs(items):
        if isinstance(run, FailureItem):
            await _push_failure(run)
        else:
            await _push_successes(run)


def _runs(items: Sequence[ResultItem]) -> list[FailureItem | list[SuccessItem]]:
    """``items`` cut into runs of successes of one mode, and failures, each on its own."""
    runs: list[FailureItem | list[SuccessItem]] = []
    for item in items:
        last = runs[-1] if runs else None
        if isinstance(item, FailureItem):
            runs.append(item)
        elif isinstance(last, list) and last[-1].mode == item.mode:
            last.append(item)
        else:
            runs.append([item])
    return runs


async def _push_failure(item: FailureItem) -> None:
    pushed = await Actor.push_data(record(item))
    if _refused(pushed):
        # Only when the publisher prices every dataset item: the SDK drops the item
        # silently, and a caller reading the dataset would get nothing and no reason.
        Actor.log.error(
            f"This failure could not be stored within the run's budget; it is in the"
            f" {UNDELIVERED_KEY} record."
        )
        await _undelivered.keep(item)


async def _push_successes(items: list[SuccessItem]) -> None:
    mode = mode_of(items[0])
    pushed = await Actor.push_data([record(item) for item in items], charged_event_name=mode.event)
    # Under pay per event the SDK pushes only what it can charge for, and drops the rest
    # silently: report each item it did not charge for instead of leaving a gap.
    pricing = Actor.get_charging_manager().get_pricing_info()
    stored = pushed.charged_count if pricing.is_pay_per_event else len(items)
    add_ons = sum(item.carries_add_on() for item in items[:stored])
    if mode.add_on is not None and add_ons:
        # Their room was held with the results', so the charge is never refused for money.
        await Actor.charge(mode.add_on, count=add_ons)
    for unpaid in items[stored:]:
        await push_result(_unpaid(unpaid))


async def charge_answer(item: ResultItem) -> ResultItem:
    """Charge a success answered over HTTP, and its add-on; one the budget cannot pay for
    becomes its failure."""
    if isinstance(item, FailureItem):
        return item
    mode = mode_of(item)
    if _refused(await Actor.charge(mode.event)):
        return _unpaid(item)
    if mode.add_on is not None and item.carries_add_on():
        await Actor.charge(mode.add_on)
    return item


def _refused(result: ChargeResult) -> bool:
    return result.charged_count == 0 and bool(result.event_charge_limit_reached)


def _unpaid(item: SuccessItem) -> FailureItem:
    return request_failure(budget_exhausted(mode_of(item).event), item)


def budget_exhausted(event: str) -> BudgetExhausted:
    """The refusal for a result of ``event`` the run's maximum total charge cannot pay for."""
    return BudgetExhausted(
        f"The run's maximum total charge leaves no room for another {event} result,"
        " so it was not fetched or charged. Raise the run's maximum charge to continue."
    )
