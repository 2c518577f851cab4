"""CoinGlass's realized liquidations and the key's subscription, as pydantic models: the
``data`` of ``liquidation/history``, ``liquidation/aggregated-history`` and
``user/account/subscription``.

Amounts come as text in one endpoint's documentation and as numbers in the other's: both are
read from either. A row without a readable time cannot be placed and is left out; an amount
that cannot be read counts as nothing liquidated.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, RootModel

from coinglass_liquidation_map.coinglass.payloads import Figure
from coinglass_liquidation_map.market_data import LiquidationBucket


class HistoryRow(BaseModel):
    """One bucket of either history: its start in ms, and USD liquidated on each side."""

    time: Annotated[int, Field(ge=0)]
    long_liquidation_usd: Figure = None
    short_liquidation_usd: Figure = None
    aggregated_long_liquidation_usd: Figure = None
    aggregated_short_liquidation_usd: Figure = None

    def bucket(self) -> LiquidationBucket:
        long = self.long_liquidation_usd or self.aggregated_long_liquidation_usd or 0
        short = self.short_liquidation_usd or self.aggregated_short_liquidation_usd or 0
        return LiquidationBucket(self.time, float(long), float(short))


def _rows_with_a_time(value: Any) -> Any:
    if value is None:
        return []
    if not isinstance(value, list):
        return value  # no list to salvage rows from: fails validation as it is
    return [
        row
        for row in value
        if isinstance(row, dict)
        and isinstance(row.get("time"), int)
        and not isinstance(row.get("time"), bool)
        and row["time"] >= 0
    ]


class LiquidationHistory(RootModel[list[HistoryRow]]):
    """``data`` of either liquidation history: a list of buckets, oldest first."""

    @classmethod
    def salvaged(cls, value: Any) -> Self:
        """The rows that carry a time, of an answer the published shape does not fit."""
        return cls.model_validate(_rows_with_a_time(value))

    def buckets(self) -> list[LiquidationBucket]:
        return [row.bucket() for row in self.root]


class Subscription(BaseModel):
    """``data`` of ``user/account/subscription``: the key's plan as CoinGlass names it."""

    level: str | None = None
