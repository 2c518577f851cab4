"""CoinGlass's liquidation heatmap bodies (time × price), in every published variant: numbers or
their text, the v3 names ``y`` / ``liq`` / ``prices``, with or without ``update_time``.

A module of its own, loaded only by runs that fetch a heatmap. The published shape is validated
straight from the response's bytes; a cell that cannot be read takes ``salvaged``, which leaves
it out and counts it.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import AliasChoices, BaseModel, Field, PrivateAttr, TypeAdapter, ValidationError

# Lax, as the published samples send prices and volumes as text: "61486" reads as 61486.0.
Finite = Annotated[float, Field(allow_inf_nan=False)]
Index = Annotated[int, Field(ge=0)]
HeatmapCell = tuple[Index, Index, Finite]
"""``[x, y, value]``: x indexes the candles (time), y the price axis."""
Candle = tuple[int, Finite, Finite, Finite, Finite, Finite]
"""``[time in seconds, open, high, low, close, volume in USD]``."""
_CELL: TypeAdapter[HeatmapCell] = TypeAdapter(HeatmapCell)


class HeatmapPayload(BaseModel):
    """``data`` of the pair and the coin heatmap, whichever names and number style it has."""

    y_axis: list[Finite] = Field(validation_alias=AliasChoices("y_axis", "y"))
    liquidation_leverage_data: list[HeatmapCell] = Field(
        validation_alias=AliasChoices("liquidation_leverage_data", "liq")
    )
    price_candlesticks: list[Candle] = Field(
        validation_alias=AliasChoices("price_candlesticks", "prices")
    )
    update_time: int | None = None  # milliseconds; absent from the official samples
    _skipped_cells: int = PrivateAttr(0)

    @property
    def skipped_cells(self) -> int:
        """Cells ``salvaged`` left out because they could not be read."""
        return self._skipped_cells

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
