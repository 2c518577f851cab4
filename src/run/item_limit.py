"""The platform's limit on one dataset item, and what a map too large for it gives up."""

from __future__ import annotations

from pydantic_core import to_json

from src.analysis.liqmap import AnalysedMap
from src.outputs import LiquidationMapItem, record

# Apify stores a dataset item of up to 9 MB; only maps of tens of thousands of rows come near it.
MAX_ITEM_BYTES = 9_000_000
LARGE_MAP_ROWS = 20_000
# The fewest bytes a row of ``data`` and a level take as JSON (``[1,1,1,""]``, and a level of
# one-digit numbers and null side), so a map these alone put past the limit is known too big.
MIN_ROW_BYTES = 10
MIN_LEVEL_BYTES = 94


def with_levels(analysed: AnalysedMap) -> LiquidationMapItem:
    """The map's item with its levels, unless they would take it past the item limit, which
    the platform refuses: then it keeps its map and summary, and says why."""
    item, placement = analysed.item, analysed.placement
    rows, level_count = item.summary.level_count, len(placement.rows)  # fewer, if re-bucketed
    if rows * MIN_ROW_BYTES + level_count * MIN_LEVEL_BYTES <= MAX_ITEM_BYTES:
        complete = item.model_copy(update={"levels": placement.levels()})
        # data holds every row however few the levels are: its size counts as much.
        if rows <= LARGE_MAP_ROWS or len(to_json(record(complete))) <= MAX_ITEM_BYTES:
            return complete
    # Levels that could not be delivered are not even built: a map that big is all work.
    return item.model_copy(
        update={
            "message": f"{item.message} The levels were left out: with them the item would"
            f" exceed the platform's {MAX_ITEM_BYTES // 1_000_000} MB item limit;"
            " set priceStep to re-bucket them."
        }
    )
