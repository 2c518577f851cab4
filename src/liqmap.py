"""Pure functions from CoinGlass's liquidation-map payload to the actor's price-keyed map.

Upstream rows come in every published variant (numbers as strings, rows shorter than four
members, a band string or null); each leaves here as exactly
``[price, level, leverage or null, band or null]``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, AllowInfNan, BaseModel, BeforeValidator

from src.models import PriceKeyedMap

MAP_PATH = "/api/futures/liquidation/map"
DOCUMENTED_RANGES = ("1d", "7d", "30d")


def _four_members(row: Any) -> Any:
    """Pad a short row with nulls and drop members past the fourth, which nobody publishes."""
    if isinstance(row, list) and len(row) != 4 and len(row) >= 2:
        return ([*row, None, None])[:4]
    return row


def _band_text(band: Any) -> Any:
    # The band's meaning is undocumented ("h1".."h3" in one copy of the docs): keep it as text.
    return band if band is None or isinstance(band, str) else str(band)


def _price_key(key: str) -> str:
    float(key)  # a bucket key that is not a number is not a published shape
    return key


Number = Annotated[int | float, AllowInfNan(False)]
UpstreamRow = Annotated[
    tuple[Number, Number, Number | None, Annotated[str | None, BeforeValidator(_band_text)]],
    BeforeValidator(_four_members),
]
PriceKey = Annotated[str, AfterValidator(_price_key)]


class PairMapPayload(BaseModel):
    """``data`` of ``/api/futures/liquidation/map``: ``{"data": {price key: [row, ...]}}``."""

    data: dict[PriceKey, list[UpstreamRow]]


def normalise(payload: PairMapPayload) -> PriceKeyedMap:
    """The price-keyed map with its buckets in ascending price order."""
    return dict(sorted(payload.data.items(), key=lambda bucket: float(bucket[0])))
