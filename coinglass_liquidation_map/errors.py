"""Every failure the actor reports, as one small exception tree.

Each class carries the stable ``type`` name that lands in the failure item's ``error.type`` and
whether retrying the same request can help. Mapping an exception to the user's envelope is then
one function (``outputs.failure_item``), not a chain of ``if``s. Catch as broadly as you need:

    ActorError
    ├── InternalError         a bug in the actor
    ├── InvalidInput
    ├── BudgetExhausted
    ├── DeadlineExceeded      retryable
    ├── Aborted               retryable
    └── CoinGlassError
        ├── MissingApiKey
        ├── InvalidApiKey
        ├── PlanTooLow
        ├── InvalidParameter
        ├── UnknownSymbol
        ├── NoData
        ├── EndpointNotFound
        ├── RateLimited           retryable
        ├── UpstreamUnavailable   retryable
        ├── UpstreamTimeout       retryable
        ├── NetworkError          retryable
        └── BadResponse
            └── TruncatedResponse retryable

httpx's own exceptions and CoinGlass's error bodies become these in one place, the CoinGlass
client.
"""

from __future__ import annotations

import copy
from typing import ClassVar, Self

INTERNAL_ERROR_MESSAGE = (
    "The actor failed unexpectedly; nothing was charged for this result. Please report this"
    " run to the actor's maintainer."
)


class ActorError(Exception):
    """Base of every failure the actor reports to the user as a failure item."""

    type: ClassVar[str]
    retryable: ClassVar[bool] = False
    rate_limited: ClassVar[bool] = False
    retry_after: float | None = None  # the seconds the server asked to wait, if it asked

    def __init__(self, message: str, *, upstream_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.upstream_code = upstream_code

    def with_note(self, note: str) -> Self:
        """A new error of the same kind and code whose message goes on with ``note``: what a
        caller that knows more says when it raises it again (``from`` this one)."""
        noted = copy.copy(self)
        noted.message = f"{self.message} {note}"
        noted.args = (noted.message,)
        return noted


class InternalError(ActorError):
    """A bug in the actor: the run reports it by failing, after every other result is in."""

    type = "internal_error"


class InvalidInput(ActorError):
    """The run's input does not fit the input schema."""

    type = "invalid_input"


class BudgetExhausted(ActorError):
    """The run's maximum total charge leaves no room for another result."""

    type = "budget_exhausted"


class DeadlineExceeded(ActorError):
    """The work did not finish within ``maxRunSecs``."""

    type = "deadline_exceeded"
    retryable = True


class Aborted(ActorError):
    """The run was aborted (``Event.ABORTING``) before its work finished."""

    type = "aborted"
    retryable = True


class CoinGlassError(ActorError):
    """CoinGlass refused the request or could not answer it; only its subclasses are raised."""


class MissingApiKey(CoinGlassError):
    """No API key was given and none is configured; raised before any request is sent."""

    type = "missing_api_key"


class InvalidApiKey(CoinGlassError):
    """CoinGlass rejected the API key (or says it received none)."""

    type = "invalid_api_key"


class PlanTooLow(CoinGlassError):
    """The key's CoinGlass plan does not include the endpoint ("Upgrade plan")."""

    type = "plan_too_low"


class InvalidParameter(CoinGlassError):
    """CoinGlass refused a parameter of the request (code 400)."""

    type = "invalid_parameter"


class NotServed(InvalidParameter):
    """CoinGlass serves nothing for this input, and says so only with its "500" body: a value it
    does not document, or more history than a young coin has."""


class UnknownSymbol(CoinGlassError):
    """The instrument is not in CoinGlass's list of supported pairs."""

    type = "unknown_symbol"


class NoData(CoinGlassError):
    """CoinGlass answered with an empty map: nothing to deliver, so nothing to charge."""

    type = "no_data"


class EndpointNotFound(CoinGlassError):
    """CoinGlass does not know the path (code 404): the API has changed under us."""

    type = "endpoint_not_found"


class RateLimited(CoinGlassError):
    """CoinGlass answered HTTP 429 on every attempt."""

    type = "rate_limited"
    retryable = True
    rate_limited = True

    def __init__(
        self, message: str, *, upstream_code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, upstream_code=upstream_code)
        self.retry_after = retry_after


class UpstreamUnavailable(CoinGlassError):
    """CoinGlass answered with a server error (HTTP 5xx or 408)."""

    type = "upstream_unavailable"
    retryable = True


class UpstreamTimeout(CoinGlassError):
    """CoinGlass did not answer within ``requestTimeoutSecs``."""

    type = "upstream_timeout"
    retryable = True


class NetworkError(CoinGlassError):
    """The connection to CoinGlass failed (refused, reset, DNS, TLS)."""

    type = "network_error"
    retryable = True


class BadResponse(CoinGlassError):
    """CoinGlass answered with a body that is not JSON or not of a published shape."""

    type = "bad_response"


class TruncatedResponse(BadResponse):
    """The body was cut off or is not JSON at all, which a repeat usually mends."""

    retryable = True
