"""CoinGlass's bodies as pydantic models: the envelope, and the ``data`` of each endpoint.

Every published variant is accepted here. A map as CoinGlass publishes it is validated straight
from the response's bytes, with no Python called per row, which keeps reading a big map close
to the cost of ``json.loads``; any other variant takes ``salvaged``, which repairs what it can.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    TypeAdapter,
    ValidationError,
)

from coinglass_liquidation_map.market_data import (
    Instrument,
    Instruments,
    LiquidationMap,
    LiquidationRow,
    Market,
    Markets,
    Number,
    PriceKeyedMap,
)

PayloadT = TypeVar("PayloadT", bound=BaseModel)


# ---------------------------------------------------------------- the envelope


def _code_text(code: object) -> object:
    # Documented as a string; a number is read as its text, anything else stays unreadable.
    return str(code) if isinstance(code, int) and not isinstance(code, bool) else code


class Status(BaseModel):
    """What every CoinGlass body carries: ``code`` ("0" is success) and, sometimes, ``msg``."""

    code: Annotated[str, BeforeValidator(_code_text)]
    msg: str | None = None


class Envelope(Status, Generic[PayloadT]):
    """``{"code": "0", "msg": "success", "data": ...}``."""

    data: PayloadT


class UncheckedEnvelope(Status):
    """A success whose ``data`` did not fit its payload, for the payload to salvage."""

    data: Any


@functools.cache
def envelope_of(payload: type[PayloadT]) -> type[Envelope[PayloadT]]:
    """``Envelope[payload]``, built once: pydantic keeps parametrised generics only weakly."""
    return Envelope[payload]  # type: ignore[valid-type]


# ---------------------------------------------------------------- the pair list


class UpstreamInstrument(BaseModel):
    """One row of ``supported-exchange-pairs``; copies differ in the extra fields they add."""

    model_config = ConfigDict(extra="allow")

    instrument_id: str
    base_asset: str
    quote_asset: str


class SupportedPairs(RootModel[dict[str, list[UpstreamInstrument]]]):
    """``data`` of ``supported-exchange-pairs``: exchange name → its instruments."""

    def instruments(self) -> Instruments:
        """Every instrument, named ``<exchange>_<instrument id>`` as the map mode expects."""
        return Instruments(
            [
                Instrument(
                    base_asset=row.base_asset,
                    quote_asset=row.quote_asset,
                    exchange=exchange,
                    symbol=f"{exchange}_{row.instrument_id}",
                    **(row.model_extra or {}),
                )
                for exchange, rows in self.root.items()
                for row in rows
            ]
        )


# ---------------------------------------------------------------- prices


class MarketRow(BaseModel):
    """One pair of ``pairs-markets``; only the fields the price needs are required."""

    model_config = ConfigDict(extra="allow")

    exchange_name: str
    instrument_id: str
    current_price: Number | None = None
    open_interest_usd: Number | None = None


class PairsMarkets(RootModel[list[MarketRow]]):
    """``data`` of ``pairs-markets``: one row per pair of the coin."""

    def markets(self) -> Markets:
        """The pairs in the core's terms."""
        return Markets(
            [
                Market(
                    exchange=row.exchange_name,
                    instrument_id=row.instrument_id,
                    price=row.current_price,
                    open_interest_usd=row.open_interest_usd,
                )
                for row in self.root
            ]
        )


# ---------------------------------------------------------------- liquidation maps


def _repaired(row: Any) -> Any:
    """A short row padded with nulls, members past the fourth (nobody publishes them) dropped,
    and a band of any other kind (true, a list) kept as its text: never fail on the band."""
    if not (isinstance(row, list) and len(row) >= 2):
        return row
    price, level, leverage, band = [*row, None, None][:4]
    return [price, level, leverage, band if band is None or isinstance(band, str) else str(band)]


# Integers stay integers (48935, not 48935.0); anything a float cannot hold is unreadable.
FiniteNumber = (
    Annotated[int, Field(ge=-(10**15), le=10**15)] | Annotated[float, Field(allow_inf_nan=False)]
)
# The band's meaning is undocumented ("h1".."h3" in one copy of the docs): kept as text.
Band = Annotated[str | None, Field(coerce_numbers_to_str=True)]
UpstreamRow = tuple[FiniteNumber, FiniteNumber, FiniteNumber | None, Band]
# A bucket key that is not a decimal number ("abc", "nan", "inf") is not a published shape.
# The spaces are spelt out in ASCII because Unicode's \s makes every run load large regex tables.
PriceKey = Annotated[
    str, Field(pattern=r"^[ \t\n\r]*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?[ \t\n\r]*$")
]
UpstreamMap = dict[PriceKey, list[UpstreamRow]]
_ROW: TypeAdapter[LiquidationRow] = TypeAdapter(UpstreamRow)
_KEY: TypeAdapter[str] = TypeAdapter(PriceKey)


def _readable(key: Any, row: Any) -> bool:
    try:
        _KEY.validate_python(key)
        _ROW.validate_python(row)
    except ValidationError:
        return False
    return True


class SalvagedRows(BaseModel):
    """A payload whose unreadable rows ``salvaged`` leaves out, and counts."""

    _skipped_rows: int = PrivateAttr(0)

    @property
    def skipped_rows(self) -> int:
        """Rows ``salvaged`` left out because they could not be read."""
        return self._skipped_rows

    def skipping(self, rows: int) -> Self:
        """This payload, with ``rows`` left out of it."""
        self._skipped_rows = rows
        return self


class _MapPayload(SalvagedRows):
    """A payload holding one map under ``MAP_FIELD``."""

    MAP_FIELD: ClassVar[str]

    @classmethod
    def salvaged(cls, value: Any) -> Self:
        """What can be read of a payload the published shape does not fit: an absent map is
        empty, short rows are padded, and rows that cannot be read are left out and counted
        (one garbled row should not cost the user the whole map).

        Raises ValidationError if what remains is still not a map.
        """
        map_field = cls.MAP_FIELD
        if value is None or value == []:
            value = {}
        if not isinstance(value, dict):
            return cls.model_validate(value)  # raises: no map to salvage rows from
        buckets = value.get(map_field)
        if buckets is None or buckets == []:
            buckets = {}
        if not isinstance(buckets, dict):
            return cls.model_validate(value)  # raises, as above
        kept: dict[Any, list[Any]] = {}
        skipped = 0
        for key, bucket in buckets.items():
            rows = [_repaired(row) for row in (bucket if isinstance(bucket, list) else [bucket])]
            readable = [row for row in rows if _readable(key, row)]
            skipped += len(rows) - len(readable)
            if readable:
                kept[key] = readable
        return cls.model_validate({**value, map_field: kept}).skipping(skipped)


class PairMapPayload(_MapPayload):
    """``data`` of the pair map, and of the merged coin map: ``{"data": {key: [row, ...]}}``."""

    MAP_FIELD = "data"
    data: UpstreamMap

    def liquidation_map(self) -> LiquidationMap:
        """The map with its buckets in ascending price order."""
        return LiquidationMap(_by_price(self.data), skipped_rows=self.skipped_rows)


# Field names in CoinGlass's own camelCase, as the list shape sends them.
class InstrumentName(BaseModel):
    """Which instrument one map of the coin map's list shape belongs to."""

    exName: str
    instrumentId: str


class InstrumentMap(_MapPayload):
    """One instrument's map in the coin map's list shape."""

    MAP_FIELD = "liqMapV2"
    instrument: InstrumentName
    liqMapV2: UpstreamMap


class CoinMapByInstrument(BaseModel):
    """The coin map's list shape: one map per instrument, and the coin's last price."""

    last_price: FiniteNumber | None = None
    data: list[InstrumentMap]


class CoinMapPayload(RootModel[CoinMapByInstrument | PairMapPayload]):
    """``data`` of the coin map, in either published shape."""

    @classmethod
    def salvaged(cls, value: Any) -> Self:
        """``_MapPayload.salvaged`` for either shape, each instrument's map on its own."""
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            maps = [InstrumentMap.salvaged(item) for item in value["data"]]
            return cls(CoinMapByInstrument.model_validate({**value, "data": maps}))
        return cls(PairMapPayload.salvaged(value))

    def liquidation_map(self) -> LiquidationMap:
        """One price-keyed map from either shape: rows of the same price bucket are put
        together, and each exchange's share is summed when the shape gives instruments."""
        shape = self.root
        if isinstance(shape, PairMapPayload):
            return shape.liquidation_map()
        merged: dict[str, list[LiquidationRow]] = defaultdict(list)
        by_exchange: dict[str, float] = defaultdict(float)
        for item in shape.data:
            for key, rows in item.liqMapV2.items():
                merged[key].extend(rows)
                by_exchange[item.instrument.exName] += sum(row[1] for row in rows)
        return LiquidationMap(
            _by_price(merged),
            shape.last_price,
            {name: round(total, 2) for name, total in by_exchange.items()},
            sum(item.skipped_rows for item in shape.data),
        )


def _by_price(data: dict[str, list[LiquidationRow]]) -> PriceKeyedMap:
    """The price-keyed map with its buckets in ascending price order."""
    return dict(sorted(data.items(), key=lambda bucket: float(bucket[0])))


MapPayloadT = TypeVar("MapPayloadT", PairMapPayload, CoinMapPayload)


# ---------------------------------------------------------------- figures of long lists


def lenient_number(value: Any) -> Any:
    """A figure as a number: numbers sent as text are read, anything unreadable (text, an
    infinity, a list) is no figure at all, so one odd field never costs a coin its row."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, int | float) else None


Figure = Annotated[Number | None, BeforeValidator(lenient_number)]
# A figure of a list that can be long, validated without Python per field: a number, or a
# number as text. Anything else fails the fast path, and the list's rows are then salvaged,
# each odd figure read by ``lenient_number``.
WireFigure = int | Annotated[float, Field(allow_inf_nan=False)] | None
