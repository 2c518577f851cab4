"""Each map of a run appended to a named dataset as it is made: the history scheduled runs build,
run after run, for dashboards and backtests. Never charged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apify import Actor

from coinglass_liquidation_map.analysis.history import history_row
from coinglass_liquidation_map.schemas.maps import LiquidationMapItem


class History:
    """The named dataset ``name``, one flat row per map."""

    def __init__(
        self, name: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._name = name
        self._clock = clock

    async def add(self, item: LiquidationMapItem) -> None:
        """Append ``item``'s row, stamped with the time it was made; a row that cannot be
        stored is reported in the log, never at the cost of the map."""
        at = self._clock().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        row: dict[str, Any] = {**history_row(item, at)}
        try:
            # A named dataset: Apify charges only for items of the run's default one.
            dataset = await Actor.open_dataset(name=self._name)
            await dataset.push_data(row)
        except Exception:  # the storage's failure must not cost the user the map they paid for
            Actor.log.exception(
                f"The history row of {item.symbol} {item.range} could not be appended to the"
                f" dataset {self._name}."
            )
