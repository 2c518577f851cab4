"""The async CoinGlass API v4 client: auth, envelope check, error mapping, retries, rate limits.

Every httpx exception and every CoinGlass error body is translated into the ``errors`` tree
here, and only here. The API key never appears in an error's message.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from types import TracebackType
from typing import Any, Self

import httpx
from aiolimiter import AsyncLimiter
from pydantic import ValidationError

from coinglass_liquidation_map.coinglass.pacing import WINDOW_SECS, KeyWindow
from coinglass_liquidation_map.coinglass.payloads import (
    Envelope,
    PayloadT,
    Status,
    UncheckedEnvelope,
    envelope_of,
)
from coinglass_liquidation_map.errors import (
    BadResponse,
    CoinGlassError,
    EndpointNotFound,
    InvalidApiKey,
    InvalidParameter,
    NetworkError,
    NotServed,
    PlanTooLow,
    RateLimited,
    TruncatedResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from coinglass_liquidation_map.retry import RetryPolicy
from coinglass_liquidation_map.transport import client_transport

DEFAULT_BASE_URL = "https://open-api-v4.coinglass.com"
API_KEY_HEADER = "CG-API-KEY"


class CoinGlassClient:
    """One connection pool, one retry policy and the run's rate limits for every request of a
    run: its own (``max_requests_per_minute``) and the key's, shared with every run using it."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_secs: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so one shared default is safe
        max_requests_per_minute: int = 1000,
        rate_window_secs: float = WINDOW_SECS,
        transport: httpx.AsyncBaseTransport | None = None,
        log: logging.Logger | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api_key = api_key
        self._retry = retry
        self._sleep = sleep  # every wait: tests pass one that does not wait
        self._log = log or logging.getLogger(__name__)
        self._timeout_secs = timeout_secs
        self._limiter = AsyncLimiter(max_requests_per_minute, 60)
        self._key_window = KeyWindow(
            self._log, window_secs=rate_window_secs, clock=clock, sleep=sleep
        )
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={API_KEY_HEADER: api_key, "Accept": "application/json"},
            timeout=timeout_secs,
            transport=transport or client_transport(),
        )
        self._slots: asyncio.Semaphore | None = None

    def bounded(self, slots: asyncio.Semaphore) -> Self:
        """This client (its connections, retries and rate limits, so closing either closes
        both) with each request holding one of ``slots`` from its send until its answer is
        read: the answer is decoded once the slot is free for the next request, as a big one
        takes a while to decode."""
        view = copy.copy(self)
        view._slots = slots
        return view

    @property
    def key_id(self) -> str:
        """The key's identity without the key itself: its SHA-256, for what is kept per key."""
        return hashlib.sha256(self._api_key.encode()).hexdigest()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def get(
        self,
        path: str,
        params: dict[str, str],
        payload: type[PayloadT],
        *,
        salvage: Callable[[Any], PayloadT] | None = None,
        refusable: bool = False,
    ) -> PayloadT:
        """GET ``path`` and return its ``data`` as ``payload``, retrying what a retry can mend.

        ``data`` is validated straight from the bytes. When a successful response's ``data``
        does not fit ``payload``, ``salvage`` (if given) reads what it can of it instead.
        ``refusable`` says that CoinGlass may not serve ``params`` at all (a value it does not
        document, more history than a young coin has): its "500" body is then a refusal,
        tried once more only.

        Raises a ``CoinGlassError`` subclass.
        """
        for attempt in itertools.count(1):
            try:
                return await self._attempt(path, params, payload, salvage)
            except CoinGlassError as error:
                # CoinGlass answers what it does not serve with the same "500" body as an
                # outage: one more attempt tells a passing fault apart, more would only wait.
                refused = (
                    refusable
                    and isinstance(error, _ServerErrorBody)
                    and error.upstream_code == "500"
                )
                if refused and attempt >= min(2, self._retry.attempts):
                    raise _refused(error, attempt) from error
                delay = self._retry.delay(error, attempt)
                if delay is None:
                    if error.retryable and attempt > 1:
                        raise error.with_note(f"Gave up after {attempt} attempts.") from error
                    raise
                # Said once per retry, so a user watching the log knows why the run waits.
                self._log.warning(
                    "CoinGlass %s failed (%s); attempt %d of %d in %.1f s.",
                    path,
                    error.type,
                    attempt + 1,
                    self._retry.attempts,
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
        async with self._slots or nullcontext(), self._key_window.slot() as read_use:
            await self._limiter.acquire()
            try:
                async with asyncio.timeout(self._timeout_secs):
                    response = await self._http.get(path, params=params)
            except (TimeoutError, httpx.TimeoutException) as error:
                raise UpstreamTimeout(
                    f"CoinGlass did not answer within {self._timeout_secs:g} s"
                    " (requestTimeoutSecs). It may be overloaded; try again later or raise"
                    " requestTimeoutSecs."
                ) from error
            except httpx.TransportError as error:
                raise NetworkError(
                    f"Could not reach CoinGlass ({type(error).__name__}: the connection failed"
                    " or was cut). Try again later."
                ) from error
            read_use(response.headers)
        if self._slots is not None:
            await asyncio.sleep(0)  # the request handed the slot gets its turn to be sent
        return self._decode(response, payload, salvage)

    def _decode(
        self,
        response: httpx.Response,
        payload: type[PayloadT],
        salvage: Callable[[Any], PayloadT] | None,
    ) -> PayloadT:
        status = response.status_code
        wait = self._retry.header_wait(response.headers.get("Retry-After"))
        transient = _transient(str(status), f"HTTP {status}", retry_after=wait)
        if transient is not None:
            raise transient
        try:
            envelope: Envelope[PayloadT] = envelope_of(payload).model_validate_json(
                response.content
            )
        except ValidationError:
            pass
        else:
            if envelope.code == "0" and response.is_success:
                return envelope.data
        if salvage is not None and response.is_success:
            try:
                unchecked = UncheckedEnvelope.model_validate_json(response.content)
                if unchecked.code == "0":
                    return salvage(unchecked.data)
            except ValidationError:
                pass
        raise self._diagnose(response)

    def _diagnose(self, response: httpx.Response) -> CoinGlassError:
        """The error for a response that is not a successful envelope of the expected shape."""
        try:
            envelope = Status.model_validate_json(response.content)
        except ValidationError as error:
            if not response.is_success:
                return _error_for_status(response.status_code)
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
            return _error_for_status(response.status_code)
        return _bad_shape(response)

    def _redacted(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text


# ---------------------------------------------------------------- error mapping


class _ServerErrorBody(UpstreamUnavailable):
    """A server error CoinGlass sent as its code in a successful HTTP response: an outage, or,
    with code "500", its answer to what it does not serve."""


def _refused(error: CoinGlassError, attempts: int) -> NotServed:
    return NotServed(
        f"CoinGlass answered with a server error (code {error.upstream_code}) in a successful"
        f" response {'on both attempts' if attempts > 1 else 'on its only attempt'}, as it"
        " answers what it does not serve: this input is not available.",
        upstream_code=error.upstream_code,
    )


def _transient(
    code: str,
    reason: str,
    *,
    retry_after: float | None = None,
    unavailable: type[UpstreamUnavailable] = UpstreamUnavailable,
) -> CoinGlassError | None:
    """The failure a retry may mend, for an HTTP status or a CoinGlass code alike: 429 is a
    rate limit (to be waited out for ``retry_after``, if the server said), 408 and 5xx are server
    trouble (``unavailable``). None for any other code."""
    if code == "429":
        return RateLimited(
            f"CoinGlass is rate-limiting this API key ({reason}). Wait a minute, lower"
            " maxRequestsPerMinute, or use a plan with a higher limit.",
            upstream_code=code,
            retry_after=retry_after,
        )
    if code == "408" or code.startswith("5"):
        return unavailable(
            f"CoinGlass could not serve the request ({reason}). Try again in a few minutes.",
            upstream_code=code,
        )
    return None


def _error_for_status(status: int) -> CoinGlassError:
    """The error for a failed HTTP status that carries no CoinGlass envelope."""
    code = str(status)
    if status in (401, 403):
        return _invalid_key(code, "")
    if status == 404:
        return _endpoint_not_found(code)
    return InvalidParameter(f"CoinGlass refused the request (HTTP {status}).", upstream_code=code)


def _error_for_code(code: str, msg: str) -> CoinGlassError:
    """Map an error envelope: transient codes first, then by text, since CoinGlass reuses codes
    ("401" means both a bad key and "Upgrade plan")."""
    transient = _transient(code, msg or f"code {code}", unavailable=_ServerErrorBody)
    if transient is not None:
        return transient
    text = msg.lower()
    if "upgrade plan" in text or code == "40001":
        return PlanTooLow(
            'Your CoinGlass plan does not include this data (CoinGlass says "Upgrade plan"):'
            " upgrade the plan or use a key that has it.",
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
