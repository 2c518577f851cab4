"""Money: which event each result is charged as, the budget check, and the charged push."""

from __future__ import annotations

from apify import Actor

from src.errors import BudgetExhausted
from src.models import FailureItem, Mode, ResultItem, failure_item

EVENTS: dict[Mode, str] = {"search_symbols": "SEARCH_SYMBOLS", "liquidation_map": "LIQUIDATION_MAP"}


def ensure_budget(mode: Mode) -> None:
    """Refuse, before any upstream quota is spent, a result the run could not be paid for."""
    room = Actor.get_charging_manager().compute_push_data_limit(
        1, EVENTS[mode], is_default_dataset=True
    )
    if room < 1:
        raise _budget_exhausted(mode)


async def push_result(item: ResultItem, raw_input: object) -> None:
    """Log and push one item; a success is charged as its event, a failure is never charged."""
    (Actor.log.info if item.success else Actor.log.warning)(item.message)
    if isinstance(item, FailureItem):
        await Actor.push_data(item.model_dump(mode="json", exclude_unset=True))
        return
    result = await Actor.push_data(
        item.model_dump(mode="json"), charged_event_name=EVENTS[item.mode]
    )
    if result.charged_count == 0 and result.event_charge_limit_reached:
        # The SDK silently drops an item the budget cannot pay for: report it instead of a gap.
        await push_result(failure_item(_budget_exhausted(item.mode), raw_input), raw_input)


def _budget_exhausted(mode: Mode) -> BudgetExhausted:
    return BudgetExhausted(
        f"The run's maximum total charge leaves no room for another {EVENTS[mode]} result,"
        " so it was not delivered or charged. Raise the run's maximum charge to continue."
    )
