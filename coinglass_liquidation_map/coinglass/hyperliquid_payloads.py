"""CoinGlass's Hyperliquid position pages (``hyperliquid/position``): ``{"total_pages": ...,
"current_page": ..., "list": [...]}`` with one row per wallet and coin.

A module of its own, loaded only by runs that read positions. Every figure of a row is read
leniently (a number sent as text, an integer-looking size); a row without a wallet or a size
cannot be placed, and ``salvaged`` leaves it out and counts it.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from coinglass_liquidation_map.coinglass.payloads import Figure, SalvagedRows, lenient_number
from coinglass_liquidation_map.market_data import Position


def _page_number(value: Any) -> Any:
    """A page count or number as a whole number; anything else is none."""
    number = lenient_number(value)
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number if isinstance(number, int) else None


PageNumber = Annotated[int | None, BeforeValidator(_page_number)]


class PositionRow(BaseModel):
    """One position: of its fourteen documented fields, those a map of positions reads."""

    user: Annotated[str, Field(min_length=1)]
    symbol: str | None = None
    position_size: Annotated[float, BeforeValidator(lenient_number)]
    mark_price: Figure = None
    liq_price: Figure = None
    leverage: Figure = None
    position_value_usd: Figure = None

    def position(self, coin: str) -> Position:
        mark = self.mark_price
        value = self.position_value_usd
        if value is None:
            value = abs(self.position_size) * mark if mark else 0.0
        return Position(
            user=self.user,
            coin=self.symbol or coin,
            size=self.position_size,
            value_usd=float(abs(value)),
            leverage=self.leverage,
            liq_price=self.liq_price,
            mark_price=mark,
        )


class PositionsPage(SalvagedRows):
    """``data`` of one page: how many pages there are now, which one this is, its rows."""

    total_pages: PageNumber = None
    current_page: PageNumber = None
    rows: list[PositionRow] = Field(default_factory=list, alias="list")

    @classmethod
    def salvaged(cls, value: Any) -> Self:
        """What can be read of a page the published shape does not fit: an absent page is
        empty, a bare list is one page of rows, and rows that cannot be read are left out and
        counted.

        Raises ValidationError if what remains is still not a page.
        """
        if value is None or value == []:
            value = {}
        if isinstance(value, list):
            value = {"total_pages": 1, "current_page": 1, "list": value}
        if not isinstance(value, dict):
            return cls.model_validate(value)  # raises: nothing to salvage rows from
        rows = value.get("list")
        kept: list[Any] = []
        for row in rows if isinstance(rows, list) else []:
            try:
                kept.append(PositionRow.model_validate(row))
            except ValidationError:
                continue
        skipped = len(rows) - len(kept) if isinstance(rows, list) else 0
        return cls.model_validate({**value, "list": kept}).skipping(skipped)

    def pages(self) -> int:
        """How many pages there are, as this page says; a page that does not say is the last."""
        if self.total_pages is None:
            return self.current_page or 1
        return self.total_pages
