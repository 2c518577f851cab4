"""The platform's limit on one dataset item, and how a map too large for it is still delivered."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_core import to_json

from src.analysis.liqmap import AnalysedMap
from src.outputs import LiquidationMapItem, record
from src.run.storage import StoreOpener, store_key

# Apify stores a dataset item of up to 9 MB; only maps of tens of thousands of rows come near it.
MAX_ITEM_BYTES = 9_000_000
LIMIT_MB = MAX_ITEM_BYTES // 1_000_000
LARGE_MAP_ROWS = 20_000
# The fewest bytes a row of ``data`` and a level take as JSON (``[1,1,1,""]``, and a level of
# one-digit numbers and null side), so a map these alone put past the limit is known too big.
MIN_ROW_BYTES = 10
MIN_LEVEL_BYTES = 94


@dataclass(frozen=True)
class FittedMap:
    """The item the dataset gets; the map a chart is drawn from (every row, and its levels
    whenever they are few enough to build, whatever the item had to leave out); and whether
    the data must be stored apart from the item."""

    item: LiquidationMapItem
    drawn: LiquidationMapItem
    data_apart: bool = False


def map_key(symbol: str, range_: str) -> str:
    """The key-value store key of a map's data too large for its item: ``map-BTC-1d.json``."""
    return store_key(f"map-{symbol}-{range_}", ".json")


def fitted(analysed: AnalysedMap) -> FittedMap:
    """The map's item with its levels, unless they would take it past the item limit, which
    the platform refuses: then it keeps its data and summary, and says why. A map whose data
    alone passes the limit gives up its data instead, to a record of its own (``stored``), and
    keeps its levels when they fit."""
    item, placement = analysed.item, analysed.placement
    rows, level_count = item.summary.level_count, len(placement.rows)  # fewer, if re-bucketed
    # Levels that could never be delivered are not even built: a map that big is all work.
    levels = placement.levels() if level_count * MIN_LEVEL_BYTES <= MAX_ITEM_BYTES else None
    drawn = item.model_copy(update={"levels": levels}) if levels is not None else item
    if rows * MIN_ROW_BYTES + level_count * MIN_LEVEL_BYTES <= MAX_ITEM_BYTES and (
        rows <= LARGE_MAP_ROWS or _size(drawn) <= MAX_ITEM_BYTES
    ):
        return FittedMap(drawn, drawn)
    data = to_json(item.data)
    apart = item.model_copy(update={"data": None})
    # The item's size with its data, from the data serialized once: null stands in its place.
    if _size(apart) - len(b"null") + len(data) <= MAX_ITEM_BYTES:
        message = (
            f"{item.message} The levels were left out: with them the item would exceed the"
            f" platform's {LIMIT_MB} MB item limit; set priceStep to re-bucket them."
        )
        return FittedMap(item.model_copy(update={"message": message}), drawn)
    message = (
        f"{item.message} Its data ({rows:,} rows, {len(data) / 1e6:.1f} MB) exceeds the platform's"
        f" {LIMIT_MB} MB item limit, so it is stored in the run's key-value store as"
        f" {map_key(item.symbol, item.range)}: data_url links it."
    )
    with_levels = apart.model_copy(update={"levels": levels, "message": message})
    if levels is not None and _size(with_levels) <= MAX_ITEM_BYTES:
        return FittedMap(with_levels, drawn, data_apart=True)
    message += " The levels were left out too; set priceStep to re-bucket them small enough."
    return FittedMap(apart.model_copy(update={"message": message}), drawn, data_apart=True)


async def stored(fitted: FittedMap, store: StoreOpener) -> LiquidationMapItem:
    """The item, with its data stored apart first when it had to be, and ``data_url`` set."""
    if not fitted.data_apart:
        return fitted.item
    item = fitted.item
    key = map_key(item.symbol, item.range)
    opened = await store()
    # The map itself, not its JSON: Apify's storages write a JSON record from the value.
    await opened.set_value(key, fitted.drawn.data, content_type="application/json")
    return item.model_copy(update={"data_url": await opened.get_public_url(key)})


def _size(item: LiquidationMapItem) -> int:
    return len(to_json(record(item)))
