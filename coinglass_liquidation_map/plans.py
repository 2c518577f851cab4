"""CoinGlass's plans, lowest first, and the words that say what a key's plan lets this actor
run. Which plan each mode needs is the catalog's; this module only orders and phrases them."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Plan = Literal["HOBBYIST", "STARTUP", "STANDARD", "PROFESSIONAL", "ENTERPRISE"]
PLANS: tuple[Plan, ...] = typing.get_args(Plan)
"""From the lowest to the highest: a plan reaches every endpoint a lower one does."""


def plan_named(level: object) -> Plan | None:
    """The plan CoinGlass's subscription ``level`` names (any case), or None for a value it
    does not document."""
    if not isinstance(level, str):
        return None
    upper = level.strip().upper()
    return next((plan for plan in PLANS if plan == upper), None)


def plan_title(plan: Plan) -> str:
    """``Standard`` for ``STANDARD``."""
    return plan.capitalize()


def at_least(plan: Plan, needed: Plan) -> bool:
    """Whether ``plan`` is ``needed`` or a higher one."""
    return PLANS.index(plan) >= PLANS.index(needed)


@dataclass(frozen=True)
class Reach:
    """What a mode does from a plan up, as a sentence names it (``searches``)."""

    plan: Plan
    can: str


def runnable(plan: Plan, reaches: Sequence[Sequence[Reach]]) -> list[str]:
    """What ``plan`` runs: for each mode (its reaches, lowest plan first), the most it does
    on that plan, if anything."""
    found = ([reach.can for reach in each if at_least(plan, reach.plan)] for each in reaches)
    return [can[-1] for can in found if can]


def refusal_note(needed: Reach, plan: Plan | None, reaches: Sequence[Sequence[Reach]]) -> str:
    """What a key on ``plan`` (None when unknown) is told when CoinGlass answers "Upgrade plan"
    to a request that needs ``needed``: what its plan runs with this actor, and what this
    request needs."""
    needs = f"{needed.can[0].upper()}{needed.can[1:]} need the {plan_title(needed.plan)} plan"
    if plan is None:
        return f"This key's plan is unknown. {needs} or higher."
    on = f"This key is on CoinGlass's {plan_title(plan)} plan"
    if at_least(plan, needed.plan):
        return (
            f"{on}. {needs}, so CoinGlass may have changed what its plans include, or the"
            " subscription may have lapsed."
        )
    can = runnable(plan, reaches)
    return f"{on}: with this actor it can run {_listed(can) or 'nothing'}. {needs} or higher."


def _listed(words: list[str]) -> str:
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"
