"""What every dataset item shares: the envelope existing callers parse, the failure item, and the
item as the dataset holds it. Each mode's own item model lives in ``schemas``.

Fields are only ever added, never renamed: ``success / message / mode / <request> / data`` is
the contract, and ``summary`` and ``levels`` come after it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from coinglass_liquidation_map.errors import ActorError

Side = Literal["long", "short"]


DEFERRED = ConfigDict(defer_build=True)
"""A model built when a run first makes one, so a run builds only its own mode's items, and a
failure's only when something fails."""


class SuccessItem(BaseModel):
    """What a successful item of every mode carries; each mode's model adds the rest."""

    model_config = DEFERRED

    success: Literal[True] = True
    message: str
    mode: str

    def carries_add_on(self) -> bool:
        """Whether the result is charged for its mode's add-on too (a scan row's coin map)."""
        return False

    def json_ready(self) -> dict[str, Any]:
        """The parts that are JSON-ready as built (validated numbers, text and null in lists,
        tuples and dicts): walking every row or cell of them through the serializer again
        buys nothing."""
        return {}


class ErrorInfo(BaseModel):
    """What went wrong, for programs: a stable type name and whether a retry can help."""

    model_config = DEFERRED

    type: str
    upstream_code: str | None
    retryable: bool


class FailureItem(BaseModel):
    """A failed request: the same envelope, ``data`` null, and an ``error`` object."""

    model_config = DEFERRED

    success: Literal[False] = False
    message: str
    mode: str | None
    keyword: str | None = None
    symbol: str | None = None
    range: str | None = None
    model: str | None = None
    coin: str | None = None
    data: None = None
    error: ErrorInfo


ResultItem = SuccessItem | FailureItem


def failure_item(error: ActorError, mode: str | None, **request: str | None) -> FailureItem:
    """The failure item for ``error``, echoing the request's own fields."""
    return FailureItem.model_validate(
        {
            "success": False,
            "message": error.message,
            "mode": mode,
            **request,
            "data": None,
            "error": {
                "type": error.type,
                "upstream_code": error.upstream_code,
                "retryable": error.retryable,
            },
        }
    )


def record(item: ResultItem, exclude: set[str] | None = None) -> dict[str, Any]:
    """An item as the dataset holds it: a failure carries only its own request's fields."""
    ready = item.json_ready() if isinstance(item, SuccessItem) else {}
    if not ready:
        return item.model_dump(
            mode="json", exclude_unset=isinstance(item, FailureItem), exclude=exclude
        )
    excluded = exclude or set()
    dumped = item.model_dump(mode="json", exclude=excluded | ready.keys())
    names = [*type(item).model_fields, *type(item).model_computed_fields]
    return {
        name: ready[name] if name in ready else dumped[name]
        for name in names
        if name not in excluded
    }
