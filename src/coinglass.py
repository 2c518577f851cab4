"""The async CoinGlass API v4 client: auth, envelope check, error mapping, retries, rate limit.

It knows HTTP and CoinGlass, and nothing of Apify. Every httpx exception and every CoinGlass
error body is translated into the ``errors`` tree here, and only here.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import itertools
import logging
import math
import os
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Annotated, Any, Generic, Self, TypeVar

import httpx
from aiolimiter import AsyncLimiter
from pydantic import BaseModel, BeforeValidator, ValidationError

from src.errors import (
    BadResponse,
    CoinGlassError,
    EndpointNotFound,
    InvalidApiKey,
    InvalidParameter,
    NetworkError,
    PlanTooLow,
    RateLimited,
    TruncatedResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
)

DEFAULT_BASE_URL = "https://open-api-v4.coinglass.com"
API_KEY_HEADER = "CG-API-KEY"
RETRY_AFTER_CAP_SECS = 60.0
BACKOFF_BASE_SECS = 0.5
# CoinGlass counts requests per minute: after a 429, back off in seconds, not fractions.
RATE_LIMIT_BACKOFF_BASE_SECS = 2.0
BACKOFF_CAP_SECS = 30.0
# CoinGlass counts requests per minute; keeping a tenth below its limit absorbs clock skew
# between our window and theirs.
PLAN_LIMIT_HEADROOM = 0.9

PayloadT = TypeVar("PayloadT", bound=BaseModel)


def _code_text(code: object) -> object:
    # Documented as a string; a number is read as its text, anything else stays unreadable.
    return str(code) if isinstance(code, int) and not isinstance(code, bool) else code


class _Status(BaseModel):
    """What every CoinGlass body carries: ``code`` ("0" is success) and, sometimes, ``msg``."""

    code: Annotated[str, BeforeValidator(_code_text)]
    msg: str | None = None


class Envelope(_Status, Generic[PayloadT]):
    """``{"code": "0", "msg": "success", "data": ...}``."""

    data: PayloadT


class _UncheckedEnvelope(_Status):
    """A success whose ``data`` did not fit its payload, for the payload to salvage."""

    data: Any


@functools.cache
def _envelope_of(payload: type[PayloadT]) -> type[Envelope[PayloadT]]:
    # pydantic keeps parametrised generics only weakly: built once, not once per request.
    return Envelope[payload]  # type: ignore[valid-type]


class CoinGlassClient:
    """One connection pool, one rate limit and one retry policy for every request of a run."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_secs: float = 30.0,
        max_retries: int = 3,
        max_requests_per_minute: int = 1000,
        transport: httpx.AsyncBaseTransport | None = None,
        log: logging.Logger | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._api_key = api_key
        self._sleep = sleep  # the wait between attempts: tests pass one that does not wait
        self._log = log or logging.getLogger(__name__)
        self._timeout_secs = timeout_secs
        self._attempts = max_retries + 1
        self._requests_per_minute = max_requests_per_minute
        self._limiter = AsyncLimiter(max_requests_per_minute, 60)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            verify=tls_context(),
            headers={API_KEY_HEADER: api_key, "Accept": "application/json"},
            timeout=timeout_secs,
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    @property
    def requests_per_minute(self) -> int:
        """The rate the client holds itself to: the input's, or less if the key's plan says so."""
        return self._requests_per_minute

    async def get(
        self,
        path: str,
        params: dict[str, str],
        payload: type[PayloadT],
        *,
        salvage: Callable[[Any], PayloadT] | None = None,
    ) -> PayloadT:
        """GET ``path`` and return its ``data`` as ``payload``, retrying what a retry can mend.

        ``data`` is validated straight from the bytes. When a successful response's ``data``
        does not fit ``payload``, ``salvage`` (if given) reads what it can of it instead.

        Raises a ``CoinGlassError`` subclass; the API key never appears in its message.
        """
        for attempt in itertools.count(1):
            try:
                return await self._attempt(path, params, payload, salvage)
            except CoinGlassError as error:
                delay = retry_delay(error, attempt) if attempt < self._attempts else None
                if delay is None:
                    if error.retryable and attempt > 1:
                        error.message = f"{error.message} Gave up after {attempt} attempts."
                    raise
                # Said once per retry, so a user watching the log knows why the run waits.
                self._log.warning(
                    "CoinGlass %s failed (%s); attempt %d of %d in %.1f s.",
                    path,
                    error.type,
                    attempt + 1,
                    self._attempts,
                    delay,
                )
            await self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    async def _attempt(
        self,
        path: str,
        params: dict[str, str],
        payload: type[PayloadT],
        salvage: Callable[[Any], PayloadT] | None,
    ) -> PayloadT:
        await self._limiter.acquire()
        try:
            async with asyncio.timeout(self._timeout_secs):
                response = await self._http.get(path, params=params)
        except (TimeoutError, httpx.TimeoutException):
            raise UpstreamTimeout(
                f"CoinGlass did not answer within {self._timeout_secs:g} s (requestTimeoutSecs)."
                " It may be overloaded; try again later or raise requestTimeoutSecs."
            ) from None
        except httpx.TransportError as error:
            raise NetworkError(
                f"Could not reach CoinGlass ({type(error).__name__}: the connection failed or was"
                " cut). Try again later."
            ) from None
        self._obey_plan_limit(response.headers)
        return self._decode(response, payload, salvage)

    def _decode(
        self,
        response: httpx.Response,
        payload: type[PayloadT],
        salvage: Callable[[Any], PayloadT] | None,
    ) -> PayloadT:
        status = response.status_code
        if status in {429, 408} or status >= 500:
            raise _error_for_status(response)
        try:
            envelope: Envelope[PayloadT] = _envelope_of(payload).model_validate_json(
                response.content
            )
        except ValidationError:
            pass
        else:
            if envelope.code == "0" and response.is_success:
                return envelope.data
        if salvage is not None and response.is_success:
            try:
                unchecked = _UncheckedEnvelope.model_validate_json(response.content)
                if unchecked.code == "0":
                    return salvage(unchecked.data)
            except ValidationError:
                pass
        raise self._diagnose(response)

    def _diagnose(self, response: httpx.Response) -> CoinGlassError:
        """The error for a response that is not a successful envelope of the expected shape."""
        try:
            envelope = _Status.model_validate_json(response.content)
        except ValidationError as error:
            if not response.is_success:
                return _error_for_status(response)
            if any(problem["type"] == "json_invalid" for problem in error.errors()):
                return TruncatedResponse(
                    "CoinGlass sent a response that is not valid JSON (cut off or an error page)."
                    " Try again later.",
                    upstream_code=str(response.status_code),
                )
            return _bad_shape(response)
        if envelope.code != "0":
            return _error_for_code(envelope.code, self._redacted(envelope.msg or ""))
        if not response.is_success:
            return _error_for_status(response)
        return _bad_shape(response)

    def _redacted(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _obey_plan_limit(self, headers: httpx.Headers) -> None:
        """Slow down to the key's plan when CoinGlass reports a lower limit than ours."""
        try:
            plan_limit = int(headers.get("API-KEY-MAX-LIMIT", ""))
        except ValueError:
            return
        allowed = max(1, math.floor(plan_limit * PLAN_LIMIT_HEADROOM))
        if plan_limit > 0 and allowed < self._requests_per_minute:
            self._requests_per_minute = allowed
            self._limiter = AsyncLimiter(allowed, 60)


def tls_context() -> ssl.SSLContext:
    """What CoinGlass's certificate is verified against: ``SSL_CERT_FILE`` or ``SSL_CERT_DIR``
    when set (as httpx honours them), else the system's CA directory, else certifi's bundle.

    From a directory OpenSSL reads a CA only when a handshake needs it: about 1 ms and 0.4 MiB,
    where loading certifi's whole bundle up front costs every run about 20 ms and 1.7 MiB.
    """
    if cafile := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cafile)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=capath)
    system = ssl.get_default_verify_paths().openssl_capath
    if _holds_cas(system):
        return ssl.create_default_context(capath=system)
    import certifi  # noqa: PLC0415 - only where the system has no CA directory

    return ssl.create_default_context(cafile=certifi.where())


def _holds_cas(directory: str) -> bool:
    # OpenSSL looks a CA up by its subject's hash: files named like 002c0b4f.0.
    try:
        return any(re.fullmatch(r"[0-9a-f]{8}\.[0-9]+", name) for name in os.listdir(directory))
    except OSError:
        return False


def retry_delay(
    error: CoinGlassError, attempt: int, *, fraction: Callable[[], float] = random.random
) -> float | None:
    """The seconds to wait after failed attempt ``attempt`` (from 1), or None if no retry helps.

    A ``Retry-After`` from CoinGlass is obeyed; otherwise the wait after attempt ``n`` is drawn
    uniformly from 0 to base × 2**(n-1), capped at 30 s ("full jitter"), so that many
    scheduled runs that failed together do not retry together. The base is 2 s after a rate
    limit and 0.5 s after anything else.
    """
    if not error.retryable:
        return None
    base = BACKOFF_BASE_SECS
    if isinstance(error, RateLimited):
        if error.retry_after is not None:
            return error.retry_after
        base = RATE_LIMIT_BACKOFF_BASE_SECS
    return fraction() * min(BACKOFF_CAP_SECS, base * 2.0 ** (attempt - 1))


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_SECS)


def _error_for_status(response: httpx.Response) -> CoinGlassError:
    status = response.status_code
    code = str(status)
    if status == 429:
        return RateLimited(
            "CoinGlass is rate-limiting this API key (HTTP 429). Wait a minute, lower"
            " maxRequestsPerMinute, or use a plan with a higher limit.",
            upstream_code=code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status in (401, 403):
        return _invalid_key(code, "")
    if status == 404:
        return _endpoint_not_found(code)
    if status == 408 or status >= 500:
        return UpstreamUnavailable(
            f"CoinGlass is having trouble (HTTP {status}). Try again in a few minutes.",
            upstream_code=code,
        )
    return InvalidParameter(f"CoinGlass refused the request (HTTP {status}).", upstream_code=code)


def _error_for_code(code: str, msg: str) -> CoinGlassError:
    """Map an error envelope: transient codes first, then by text, since CoinGlass reuses codes
    ("401" means both a bad key and "Upgrade plan")."""
    text = msg.lower()
    if code == "429":
        return RateLimited(
            "CoinGlass is rate-limiting this API key. Wait a minute, lower maxRequestsPerMinute,"
            " or use a plan with a higher limit.",
            upstream_code=code,
        )
    if code == "408" or code.startswith("5"):
        return UpstreamUnavailable(
            f"CoinGlass reported a server error ({msg or code}). Try again in a few minutes.",
            upstream_code=code,
        )
    if "upgrade plan" in text or code == "40001":
        return PlanTooLow(
            'Your CoinGlass plan does not include this data (CoinGlass says "Upgrade plan").'
            " Liquidation maps need the Professional plan or higher: upgrade the plan or use a"
            " key that has it.",
            upstream_code=code,
        )
    if "api key" in text or code == "401":
        return _invalid_key(code, msg)
    if code == "404":
        return _endpoint_not_found(code)
    return InvalidParameter(
        f"CoinGlass refused a parameter of the request: {msg or 'no reason given'}."
        " Check symbol and range (run mode search_symbols to find valid symbols).",
        upstream_code=code,
    )


def _invalid_key(code: str, msg: str) -> InvalidApiKey:
    said = f' (CoinGlass says "{msg}")' if msg else ""
    return InvalidApiKey(
        f"CoinGlass rejected the API key{said}. Check the apiKey input (or COINGLASS_API_KEY):"
        " copy the v4 key from your CoinGlass account's API page.",
        upstream_code=code,
    )


def _endpoint_not_found(code: str) -> EndpointNotFound:
    return EndpointNotFound(
        "CoinGlass does not know this endpoint (Endpoint not found): its API may have changed."
        " Please report this to the actor's maintainer.",
        upstream_code=code,
    )


def _bad_shape(response: httpx.Response) -> BadResponse:
    return BadResponse(
        "CoinGlass answered with data of a shape it does not publish, so it cannot be read"
        " safely. Please report this to the actor's maintainer.",
        upstream_code=str(response.status_code),
    )
