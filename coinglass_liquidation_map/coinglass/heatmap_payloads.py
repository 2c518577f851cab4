"""CoinGlass's liquidation heatmap bodies (time × price), in every published variant: numbers or
their text, the v3 names ``y`` / ``liq`` / ``prices``, with or without ``update_time``.

A module of its own, loaded only by runs that fetch a heatmap. The published shape is validated
straight from the response's bytes; a cell that cannot be read takes ``salvaged``, which leaves
it out and counts it.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from coinglass_liquidation_map.market_data import Heatmap

# Lax, as the published samples send prices and volumes as text: "61486" reads as 61486.0.
# Bounded as the maps' numbers are: anything outside is not a published heatmap.
Price = Annotated[float, Field(gt=0, le=1e15, allow_inf_nan=False)]
Amount = Annotated[float, Field(ge=0, le=1e15, allow_inf_nan=False)]
Seconds = Annotated[int, Field(ge=0, lt=10**11)]  # candle times are seconds, not milliseconds
Index = Annotated[int, Field(ge=0)]
HeatmapCell = tuple[Index, Index, Amount]
"""``[x, y, value]``: x indexes the candles (time), y the price axis."""
Candle = tuple[Seconds, Price, Price, Price, Price, Amount]
"""``[time in seconds, open, high, low, close, volume in USD]``."""
_CELL: TypeAdapter[HeatmapCell] = TypeAdapter(HeatmapCell)


class HeatmapPayload(BaseModel):
    """``data`` of the pair and the coin heatmap, whichever names and number style it has."""

    y_axis: list[Price] = Field(validation_alias=AliasChoices("y_axis", "y"))
    liquidation_leverage_data: list[HeatmapCell] = Field(
        validation_alias=AliasChoices("liquidation_leverage_data", "liq")
    )
    price_candlesticks: list[Candle] = Field(
        validation_alias=AliasChoices("price_candlesticks", "prices")
    )
    update_time: int | None = None  # milliseconds; absent from the official samples
    _skipped_cells: int = PrivateAttr(0)

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        # Rows and columns are read by position: an axis out of order is not a grid.
        prices, times = self.y_axis, [candle[0] for candle in self.price_candlesticks]
        if any(a >= b for a, b in itertools.pairwise(prices)):
            raise ValueError("y_axis must list each price once, ascending")
        if any(a >= b for a, b in itertools.pairwise(times)):
            raise ValueError("price_candlesticks must list each time once, ascending")
        return self

    @property
    def skipped_cells(self) -> int:
        """Cells ``salvaged`` left out because they could not be read."""
        return self._skipped_cells

    def heatmap(self) -> Heatmap:
        """The heatmap in the core's terms."""
        return Heatmap(
            self.y_axis,
            self.liquidation_leverage_data,
            self.price_candlesticks,
            self.update_time,
            self.skipped_cells,
        )

    @classmethod
    def salvaged(cls, value: Any) -> Self:
        """What can be read of a heatmap the published shape does not fit: an absent one is
        empty, and cells that cannot be read are left out and counted. A candle or a price
        cannot be left out, since the cells index them by position.

        Raises ValidationError if what remains is still not a heatmap.
        """
        if value is None or value in ([], {}):
            value = {"y_axis": [], "liquidation_leverage_data": [], "price_candlesticks": []}
        if not isinstance(value, dict):
            return cls.model_validate(value)  # raises: nothing to salvage cells from
        name = "liq" if "liq" in value else "liquidation_leverage_data"
        cells = value.get(name)
        kept: list[Any] = []
        skipped = 0
        for cell in cells if isinstance(cells, list) else []:
            try:
                kept.append(_CELL.validate_python(cell))
            except ValidationError:
                skipped += 1
        model = cls.model_validate({**value, name: kept})
        model._skipped_cells = skipped
        return model
