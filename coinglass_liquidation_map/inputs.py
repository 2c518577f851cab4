"""What every mode's input shares: the access and reliability settings, the symbol, storage names
and targets, and the words an invalid field is refused with. Each mode's own input model lives
in ``schemas``, and the catalog (``catalog``) picks the one a run's input asks for.

``.actor/input_schema.json`` mirrors the models; a test keeps both equal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, ClassVar, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_core import ErrorDetails

from coinglass_liquidation_map.errors import InvalidInput

TargetT = TypeVar("TargetT", bound="Target")
COIN_PATTERN = re.compile(r"[A-Za-z0-9]{1,20}")


def header_safe_key(key: str) -> str:
    """The key without surrounding spaces, or ValueError if it could not travel in a header."""
    # Refused here, it is a clear input error; sent, httpx would fail it as a transport error.
    text = key.strip()
    if len(text) > 512 or not all(" " < char <= "~" for char in text):
        msg = "must be a CoinGlass API key: up to 512 letters, digits or punctuation, no spaces"
        raise ValueError(msg)
    return text


def _header_safe(key: SecretStr) -> SecretStr:
    return SecretStr(header_safe_key(key.get_secret_value()))


ApiKey = Annotated[SecretStr, AfterValidator(_header_safe)]


class InputModel(BaseModel):
    """The fields every mode shares: access and reliability settings, not what to fetch."""

    # Fields of the other modes are dropped before validation (see catalog.parse_input);
    # anything left that the schema does not know is refused there, with its name. Each
    # model's validator is built when a run first validates it, so a run builds only its own.
    model_config = ConfigDict(
        extra="ignore", frozen=True, str_strip_whitespace=True, defer_build=True
    )

    LOCATION_TAGS: ClassVar[frozenset[str]] = frozenset()
    """Names pydantic puts in an error's location that are no field of the input (a tagged
    union's tag): the message leaves them out."""

    api_key: ApiKey | None = Field(default=None, alias="apiKey")
    request_timeout_secs: int = Field(default=30, alias="requestTimeoutSecs", ge=1, le=300)
    max_retries: int = Field(default=3, alias="maxRetries", ge=0, le=10)
    max_requests_per_minute: int = Field(default=1000, alias="maxRequestsPerMinute", ge=1, le=6000)
    max_run_secs: int | None = Field(default=None, alias="maxRunSecs", ge=1, le=3600)
    symbol_cache_ttl_secs: int = Field(default=3600, alias="symbolCacheTtlSecs", ge=0, le=86400)
    standby_cache_secs: int = Field(default=5, alias="standbyCacheSecs", ge=0, le=300)

    def result_count(self) -> int:
        """How many results the input asks for: one item each."""
        return 1

    def add_ons(self) -> int:
        """How many of its results may carry their mode's add-on (a scan row's coin map)."""
        return 0


def aliases(model: type[BaseModel]) -> set[str]:
    """The input field names of ``model``, as the user writes them."""
    return {field.alias or name for name, field in model.model_fields.items()}


COMMON_FIELDS = frozenset(aliases(InputModel))
"""The fields every mode shares: access and reliability settings, not what to fetch."""


def _instrument_or_coin(symbol: str) -> str:
    exchange, underscore, instrument = symbol.partition("_")
    if underscore and exchange.strip() and instrument.strip():
        return symbol
    if not underscore and COIN_PATTERN.fullmatch(symbol):
        return symbol
    msg = (
        "must be <exchange>_<instrument id> such as Binance_BTCUSDT or OKX_BTC-USDT-SWAP,"
        " or a coin such as BTC for its map across exchanges; run mode search_symbols to find one"
    )
    raise ValueError(msg)


Symbol = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_instrument_or_coin)]
SYMBOL_HELP = (
    "An instrument as <exchange>_<instrument id>, exactly as search_symbols returns it (e.g."
    " Binance_BTCUSDT or OKX_BTC-USDT-SWAP), or a coin such as BTC across exchanges."
)
"""What a symbol is, as an agent reads it."""
TopClusters = Annotated[int, Field(ge=0, le=100)]
"""How many of the largest clusters (or cells) a summary lists."""
# How Apify names a storage: up to 63 letters, digits and hyphens.
StorageName = Annotated[str, Field(max_length=63, pattern=r"^[a-zA-Z0-9-]+$")]


# CoinGlass's heatmap ranges under the map names of two of them, for a heatmap asked with a
# map's range (by a heatmap's input, or by a map CoinGlass's maps refuse).
HEATMAP_RANGE_NAMES = {"1d": "24h", "365d": "1y"}


@dataclass(frozen=True)
class Target:
    """One result a run fetches, of an instrument (``Binance_BTCUSDT``) or a coin (``BTC``)."""

    symbol: str

    @property
    def is_coin(self) -> bool:
        """A coin-wide result across exchanges, rather than one instrument's."""
        return "_" not in self.symbol

    @property
    def identity(self) -> tuple[str, ...]:
        """What makes two targets one result: symbols are matched ignoring case, as they
        resolve ignoring it."""
        return (self.symbol.casefold(),)


def each_once(targets: Iterable[TargetT]) -> list[TargetT]:
    """``targets`` in input order, each result once."""
    kept: dict[tuple[str, ...], TargetT] = {}
    for target in targets:
        kept.setdefault(target.identity, target)
    return list(kept.values())


def invalid_input(
    error: ValidationError,
    model: type[InputModel] | type[ToolArguments],
    secret_fields: frozenset[str],
) -> InvalidInput:
    """The refusal of an input (or a tool's arguments) ``model`` did not validate, naming each
    bad field and what it accepts, and never echoing a secret."""
    problems = "; ".join(
        _problem(problem, model, secret_fields) for problem in error.errors(include_url=False)
    )
    return InvalidInput(f"Invalid input field {problems}.")


def _problem(
    problem: ErrorDetails,
    model: type[InputModel] | type[ToolArguments],
    secret_fields: frozenset[str],
) -> str:
    # A rule's type is how pydantic picks its model: the user knows it as the rule's index.
    parts = [part for part in problem["loc"] if part not in model.LOCATION_TAGS]
    # A field checked while absent (its default validated) is located by its name in the
    # code: the user knows it by its alias.
    fields = model.model_fields
    if parts and isinstance(parts[0], str) and parts[0] in fields:
        parts[0] = fields[parts[0]].alias or parts[0]
    field = ".".join(str(part) for part in parts) or "input"
    reason = problem["msg"].removeprefix("Value error, ")
    # Never echo a secret back, not even a malformed one.
    given = "" if field in secret_fields else f" (got {shown(problem['input'])})"
    return f"'{field}': {reason}{given}"


def quoted(names: Iterable[object]) -> str:
    """``'a', 'b'``: names as a message lists them."""
    return ", ".join(f"'{name}'" for name in names)


def shown(value: object, limit: int = 60) -> str:
    """A short, printable rendering of a user's value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…"


class ToolArguments(BaseModel):
    """The parameters of a mode's MCP tool: what an agent may set, and what it reads back."""

    # Built when Standby first serves a tool, so a batch run pays nothing for it.
    model_config = ConfigDict(defer_build=True)

    LOCATION_TAGS: ClassVar[frozenset[str]] = frozenset()  # as an input's: none here

    def fields(self) -> dict[str, object]:
        """The input fields the arguments stand for, as a run's input names them."""
        raise NotImplementedError

    def left_out(self) -> set[str] | None:
        """The item's fields the answer leaves out (bulky ones the agent did not ask for)."""
        return None
