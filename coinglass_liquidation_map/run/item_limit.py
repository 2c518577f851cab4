"""The platform's limit on one dataset item, and how a result too large for it is still
delivered: any result's data in a record of its own, and a map's levels left out first."""

from __future__ import annotations

import hashlib
import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic_core import to_json

from coinglass_liquidation_map.analysis.liqmap import AnalysedMap
from coinglass_liquidation_map.market_data import LiquidationRow, PriceKeyedMap
from coinglass_liquidation_map.outputs import SuccessItem, record
from coinglass_liquidation_map.run.storage import MAX_KEY_LENGTH, StoreOpener, store_key
from coinglass_liquidation_map.schemas.maps import LiquidationMapItem

# Apify stores a dataset item of up to 9 MB; only maps of tens of thousands of rows come near it.
MAX_ITEM_BYTES = 9_000_000
LIMIT_MB = MAX_ITEM_BYTES // 1_000_000
LARGE_MAP_ROWS = 20_000
# The fewest bytes a level takes as JSON (one-digit numbers and a null side), so levels these
# alone put past the limit are known too big to build.
MIN_LEVEL_BYTES = 94
# The most bytes a row takes as JSON with a null band: three numbers of at most 24 characters
# each ("-2.2250738585072014e-308"), the null, brackets and commas.
MAX_ROW_BYTES = 3 * 24 + 4 + 5
# Room for what an item gains after it is measured: notes in its message, and two URLs of a
# store key each.
ADDED_AFTER_MEASURE_BYTES = 1_000 + 2 * (200 + MAX_KEY_LENGTH)
_band: Callable[[LiquidationRow], str | None] = operator.itemgetter(3)
ItemT = TypeVar("ItemT", bound=SuccessItem)


@dataclass(frozen=True)
class FittedMap:
    """The item the dataset gets; the map a chart is drawn from (every row, and its levels
    whenever they are few enough to build, whatever the item had to leave out); and the key of
    the record its data goes to, when it must be stored apart from the item."""

    item: LiquidationMapItem
    drawn: LiquidationMapItem
    data_key: str | None = None


def map_key(symbol: str, range_: str, data: bytes) -> str:
    """The key-value store key of a map's data too large for its item, named by its content
    too (``map-BTC-1d-5f1c0a9e2b7d.json``), so a later map of the same symbol and range never
    replaces what an earlier answer links to."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    return store_key(f"map-{symbol}-{range_}-{digest}", ".json")


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
    if rows <= LARGE_MAP_ROWS:
        return FittedMap(drawn, drawn)
    # Each part is serialized at most once and the sizes added up, null standing in for the
    # data, which is serialized only when its bound leaves the answer open.
    data_bound = data_bytes_at_most(item.data or {})
    data: bytes | None = None
    apart = item.model_copy(update={"data": None})
    with_levels = apart.model_copy(update={"levels": levels})
    apart_size = _size(apart) - len(b"null")
    levels_size = _size(with_levels) - len(b"null") if levels is not None else None

    def fits_with_data(size: int) -> bool:
        nonlocal data
        if fits(size + data_bound):
            return True
        data = data or to_json(item.data)
        return fits(size + len(data))

    if levels_size is not None and fits_with_data(levels_size):
        return FittedMap(drawn, drawn)
    if fits_with_data(apart_size):
        message = (
            f"{item.message} The levels were left out: with them the item would exceed the"
            f" platform's {LIMIT_MB} MB item limit; {_fewer_levels(item)}."
        )
        return FittedMap(item.model_copy(update={"message": message}), drawn)
    data = data or to_json(item.data)
    key = map_key(item.symbol, item.range, data)
    message = f"{item.message} {_apart_note(f'{rows:,} rows', data, key)}"
    if levels_size is not None and fits(levels_size + len(b"null")):
        return FittedMap(with_levels.model_copy(update={"message": message}), drawn, key)
    message += f" The levels were left out too; {_fewer_levels(item)}."
    return FittedMap(apart.model_copy(update={"message": message}), drawn, key)


async def stored(fitted_map: FittedMap, store: StoreOpener) -> LiquidationMapItem:
    """The item, with its data stored apart first when it had to be, and ``data_url`` set."""
    item, key = fitted_map.item, fitted_map.data_key
    if key is None:
        return item
    opened = await store()
    # The map itself, not its JSON: Apify's storages write a JSON record from the value.
    await opened.set_value(key, fitted_map.drawn.data, content_type="application/json")
    return item.model_copy(update={"data_url": await opened.get_public_url(key)})


async def with_data_apart(
    item: ItemT,
    store: StoreOpener,
    *,
    bound: int,
    key_of: Callable[[bytes], str],
    counted: str,
) -> ItemT:
    """The item as the platform takes it: whole, or, when its data would take it past the item
    limit, with the data in a record of its own that ``data_url`` links. ``bound`` is a bound on
    the item's size as JSON had from its counts, so that one known to fit is never serialized;
    ``key_of`` names the record after the data, and ``counted`` says how much data there is."""
    if fits(bound):
        return item
    pushed = record(item)
    if fits(len(to_json(pushed))):
        return item
    data = to_json(pushed["data"])
    key = key_of(data)
    opened = await store()
    await opened.set_value(key, pushed["data"], content_type="application/json")
    message = f"{item.message} {_apart_note(counted, data, key)}"
    return item.model_copy(
        update={"data": None, "data_url": await opened.get_public_url(key), "message": message}
    )


def _apart_note(counted: str, data: bytes, key: str) -> str:
    """What an item says of its data stored apart."""
    return (
        f"Its data ({counted}, {len(data) / 1e6:.1f} MB) exceeds the platform's {LIMIT_MB} MB"
        f" item limit, so it is stored in the run's key-value store as {key}: data_url links it."
    )


def fits(size: int) -> bool:
    """Whether an item measured at ``size`` stays within the limit once what is added after
    its measure (the message's notes, ``data_url``, ``chart_url``) is there too."""
    return size + ADDED_AFTER_MEASURE_BYTES <= MAX_ITEM_BYTES


def _fewer_levels(item: LiquidationMapItem) -> str:
    if item.summary.bucket_width is None:
        return "set priceStep to re-bucket them"
    return "a wider priceStep or pricePercentStep makes them fewer"


def data_bytes_at_most(data: PriceKeyedMap) -> int:
    """A bound on the size of ``data`` as JSON, had without serializing its rows: each number
    at a double's longest, and each band as text all escaped. CoinGlass's integers (prices,
    leverage tiers) are far shorter than a double's 24 characters."""
    rows = sum(map(len, data.values()))
    bands = filter(None, map(_band, itertools.chain.from_iterable(data.values())))
    # The keys as they are quoted, then per bucket a colon and brackets, per row a comma.
    return (
        len(to_json(list(data)))
        + 3 * len(data)
        + rows * (MAX_ROW_BYTES + 1)
        + sum(6 * len(band) + 2 - len(b"null") for band in bands)
    )


def _size(item: LiquidationMapItem) -> int:
    return len(to_json(record(item)))
