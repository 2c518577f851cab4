"""The actor's input and output, as pydantic models: the single source of truth for both.

``.actor/input_schema.json`` mirrors the input models (a test keeps them equal); the output models
are the envelope existing callers parse, field for field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_core import ErrorDetails

from src.errors import ActorError, InvalidInput

Mode = Literal["search_symbols", "liquidation_map"]
Range = Literal["1d", "7d", "30d", "90d", "180d", "365d"]
DEFAULT_MODE: Mode = "liquidation_map"

SEARCH_SUCCESS_MESSAGE = "Futures symbols fetched successfully."
MAP_SUCCESS_MESSAGE = "Liquidation map data fetched successfully."


# ---------------------------------------------------------------- input


def _header_safe(key: SecretStr) -> SecretStr:
    # The key travels in an HTTP header: refuse here what httpx would refuse as a transport error.
    text = key.get_secret_value()
    if len(text) > 512 or not all(" " < char <= "~" for char in text.strip()):
        msg = "must be a CoinGlass API key: up to 512 letters, digits or punctuation, no spaces"
        raise ValueError(msg)
    return SecretStr(text.strip())


ApiKey = Annotated[SecretStr, AfterValidator(_header_safe)]


class _InputModel(BaseModel):
    # Fields of the other mode are dropped before validation (see parse_input); anything left
    # that the schema does not know is refused there, with its name.
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    api_key: ApiKey | None = Field(default=None, alias="apiKey")
    request_timeout_secs: int = Field(default=30, alias="requestTimeoutSecs", ge=1, le=300)
    max_retries: int = Field(default=3, alias="maxRetries", ge=0, le=10)
    max_requests_per_minute: int = Field(default=1000, alias="maxRequestsPerMinute", ge=1, le=6000)
    max_run_secs: int | None = Field(default=None, alias="maxRunSecs", ge=1, le=3600)


class SearchSymbolsInput(_InputModel):
    """Find the futures instruments CoinGlass supports."""

    mode: Literal["search_symbols"]
    keyword: str = Field(default="", max_length=100)


def _exchange_and_instrument(symbol: str) -> str:
    exchange, _, instrument = symbol.partition("_")
    if not exchange.strip() or not instrument.strip():
        msg = (
            "must be <exchange>_<instrument id>, such as Binance_BTCUSDT or OKX_BTC-USDT-SWAP;"
            " run mode search_symbols to find one"
        )
        raise ValueError(msg)
    return symbol


Symbol = Annotated[
    str, Field(min_length=3, max_length=100), AfterValidator(_exchange_and_instrument)
]


class LiquidationMapInput(_InputModel):
    """Fetch CoinGlass's liquidation map for one instrument and range."""

    mode: Literal["liquidation_map"]
    symbol: Symbol = "Binance_BTCUSDT"
    range: Range = "1d"

    @property
    def exchange(self) -> str:
        """The v4 ``exchange`` parameter: the symbol up to its first underscore."""
        return self.symbol.partition("_")[0]

    @property
    def instrument_id(self) -> str:
        """The v4 ``symbol`` parameter: the symbol after its first underscore."""
        return self.symbol.partition("_")[2]


ActorInput = SearchSymbolsInput | LiquidationMapInput
INPUT_MODELS: dict[str, type[ActorInput]] = {
    "search_symbols": SearchSymbolsInput,
    "liquidation_map": LiquidationMapInput,
}


def _aliases(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


SECRET_FIELDS = frozenset({"apiKey"})
KNOWN_FIELDS: frozenset[str] = frozenset().union(*(_aliases(m) for m in INPUT_MODELS.values()))


def parse_input(raw: object) -> ActorInput:
    """Validate the run's input, or raise InvalidInput naming each bad field and what it accepts.

    A Console form sends every field, so the other mode's fields are accepted and ignored;
    a field no mode knows is refused, since it is most likely a misspelt one. A null field
    takes its default.
    """
    if not isinstance(raw, dict):
        raise InvalidInput(f"The input must be a JSON object, not {type(raw).__name__}.")
    # A null is how API clients leave a field unset: it means the default.
    raw = {key: value for key, value in raw.items() if value is not None}
    mode = raw.get("mode", DEFAULT_MODE)
    if not isinstance(mode, str) or mode not in INPUT_MODELS:
        raise InvalidInput(
            f"Input field 'mode' must be one of {_quoted(INPUT_MODELS)}, not {_shown(mode)}."
        )
    unknown = sorted(_shown(key) for key in raw if key not in KNOWN_FIELDS)
    if unknown:
        raise InvalidInput(
            f"Unknown input field(s) {', '.join(unknown)}; accepted fields are"
            f" {_quoted(sorted(KNOWN_FIELDS))}."
        )
    try:
        return INPUT_MODELS[mode].model_validate({**raw, "mode": mode})
    except ValidationError as error:
        problems = "; ".join(_problem(problem) for problem in error.errors(include_url=False))
        raise InvalidInput(f"Invalid input field {problems}.") from None


def _problem(problem: ErrorDetails) -> str:
    field = ".".join(str(part) for part in problem["loc"]) or "input"
    reason = problem["msg"].removeprefix("Value error, ")
    # Never echo a secret back, not even a malformed one.
    given = "" if field in SECRET_FIELDS else f" (got {_shown(problem['input'])})"
    return f"'{field}': {reason}{given}"


def _quoted(names: object) -> str:
    return ", ".join(f"'{name}'" for name in names)  # type: ignore[attr-defined]


def _shown(value: object, limit: int = 60) -> str:
    """A short, printable rendering of a user's value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…"


# ---------------------------------------------------------------- output


class Instrument(BaseModel):
    """One futures instrument CoinGlass supports, in the actor's ``symbol`` form."""

    base_asset: str
    quote_asset: str
    exchange: str
    symbol: str


LiquidationRow = tuple[int | float, int | float, int | float | None, str | None]
"""``[price, level, leverage or null, band or null]``, exactly as CoinGlass's rows, normalised."""

PriceKeyedMap = dict[str, list[LiquidationRow]]


class SearchSymbolsItem(BaseModel):
    """A successful search: every matching instrument, best matches first."""

    success: Literal[True] = True
    message: str = SEARCH_SUCCESS_MESSAGE
    mode: Literal["search_symbols"] = "search_symbols"
    keyword: str
    data: list[Instrument]


class LiquidationMapItem(BaseModel):
    """A successful map: CoinGlass's price buckets, each with its rows."""

    success: Literal[True] = True
    message: str = MAP_SUCCESS_MESSAGE
    mode: Literal["liquidation_map"] = "liquidation_map"
    symbol: str
    range: str
    data: PriceKeyedMap


class ErrorInfo(BaseModel):
    """What went wrong, for programs: a stable type name and whether a retry can help."""

    type: str
    upstream_code: str | None
    retryable: bool


class FailureItem(BaseModel):
    """A failed request: the same envelope, ``data`` null, and an ``error`` object."""

    success: Literal[False] = False
    message: str
    mode: str | None
    keyword: str | None = None
    symbol: str | None = None
    range: str | None = None
    data: None = None
    error: ErrorInfo


ResultItem = SearchSymbolsItem | LiquidationMapItem | FailureItem

_REQUEST_FIELDS: dict[str, tuple[str, ...]] = {
    "search_symbols": ("keyword",),
    "liquidation_map": ("symbol", "range"),
}


def failure_item(error: ActorError, raw_input: object) -> FailureItem:
    """The failure item for ``error``, echoing the request's own fields as the user gave them."""
    raw = raw_input if isinstance(raw_input, dict) else {}
    mode = raw.get("mode", DEFAULT_MODE)
    model = INPUT_MODELS.get(mode) if isinstance(mode, str) else None
    echoed = (
        {
            name: _echo(raw.get(name, model.model_fields[name].default))
            for name in _REQUEST_FIELDS[mode]
        }
        if model
        else {}
    )
    return FailureItem.model_validate(
        {
            "success": False,
            "message": error.message,
            "mode": mode if model else None,
            **echoed,
            "data": None,
            "error": {
                "type": error.type,
                "upstream_code": error.upstream_code,
                "retryable": error.retryable,
            },
        }
    )


def _echo(value: object) -> str | None:
    return value if isinstance(value, str) and len(value) <= 200 else None
