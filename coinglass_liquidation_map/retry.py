"""When to try a request again, and how long to wait first: one small frozen policy, which each
HTTP client of the actor sets for itself (CoinGlass's, the webhook's) over its own failures.

The wait after failed attempt ``n`` is drawn uniformly from 0 to base × 2**(n-1), capped
("full jitter"), so that many scheduled runs that failed together do not retry together. A
``Retry-After`` the server sent is obeyed instead, up to its own cap.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Failure(Protocol):
    """What the policy reads of a failed attempt."""

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed if tried again."""

    @property
    def rate_limited(self) -> bool:
        """Whether the server said the client sends too much (HTTP 429)."""

    @property
    def retry_after(self) -> float | None:
        """The seconds the server asked the client to wait, if it asked."""


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a request gets and how long to wait between them."""

    max_retries: int = 3
    """Attempts after the first, for the failures a retry can mend."""
    base_secs: float = 0.5
    """The longest first wait; each later one may be twice the one before."""
    rate_limit_base_secs: float = 2.0
    """The same after a rate limit: servers count requests per minute, so waits start in
    seconds, not fractions of one."""
    cap_secs: float = 30.0
    """No wait of the backoff is longer."""
    retry_after_cap_secs: float = 60.0
    """No ``Retry-After`` is obeyed for longer."""

    @property
    def attempts(self) -> int:
        """The first attempt and every retry."""
        return self.max_retries + 1

    def delay(
        self, error: Failure, attempt: int, *, fraction: Callable[[], float] = random.random
    ) -> float | None:
        """The seconds to wait after failed attempt ``attempt`` (from 1), or None when no
        retry is left or none can help."""
        if not error.retryable or attempt >= self.attempts:
            return None
        base = self.base_secs
        if error.retry_after is not None:
            return error.retry_after
        if error.rate_limited:
            base = self.rate_limit_base_secs
        return fraction() * min(self.cap_secs, base * 2.0 ** (attempt - 1))

    def header_wait(self, value: str | None, *, now: float | None = None) -> float | None:
        """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), capped;
        None when there is no header or it cannot be read."""
        if not value:
            return None
        value = value.strip()
        # isdigit() alone also accepts digits float() cannot read, such as "²".
        if value.isascii() and value.isdigit():
            seconds = float(value)
        else:
            try:
                when = email.utils.parsedate_to_datetime(value)
                seconds = when.timestamp() - (time.time() if now is None else now)
            except (TypeError, ValueError, OverflowError):
                return None
        return min(max(seconds, 0.0), self.retry_after_cap_secs)
