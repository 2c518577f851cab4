"""One POST of a run's alerts to the user's webhook, as JSON, Slack or Discord expect it, with
retries of its own. The URL carries the receiver's token: it is never logged, stored or echoed,
only sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from coinglass_liquidation_map.records import Delivery
from coinglass_liquidation_map.retry import RetryPolicy
from coinglass_liquidation_map.schemas.alerts import Alert, WebhookFormat
from coinglass_liquidation_map.transport import client_transport

TIMEOUT_SECS = 10.0
# Its own settings: a chat webhook asks for patience, not the fractions of a second CoinGlass
# retries start with, and no Retry-After holds the end of the run back for long.
POLICY = RetryPolicy(
    max_retries=3, base_secs=1.0, rate_limit_base_secs=2.0, cap_secs=10.0, retry_after_cap_secs=10.0
)
# Discord refuses a message longer than this.
DISCORD_MAX_CHARS = 2000


def alert_lines(alerts: list[Alert]) -> list[list[str]]:
    """The alerts as people read them, a group of lines each: the sentence of the result that
    raised it, before the first alert of each result, then the alert."""
    groups: list[list[str]] = []
    previous: str | None = None
    for alert in alerts:
        sentence = alert.summary_text
        group = [sentence] if sentence and sentence != previous else []
        group.append(f"• {alert.message}" if sentence else alert.message)
        groups.append(group)
        previous = sentence
    return groups


def body(alerts: list[Alert], format_: WebhookFormat, run: dict[str, str]) -> dict[str, Any]:
    """The request body ``format_`` asks for."""
    text = "\n".join(line for lines in alert_lines(alerts) for line in lines)
    if format_ == "slack":
        return {"text": text}
    if format_ == "discord":
        return {"content": at_most(alerts, DISCORD_MAX_CHARS)}
    return {"alerts": [alert.model_dump(mode="json") for alert in alerts], "text": text, "run": run}


def at_most(alerts: list[Alert], limit: int) -> str:
    """The messages, one per line, as many as fit in ``limit`` characters with a last line
    saying how many more there are."""
    lines: list[str] = []
    groups = alert_lines(alerts)
    for index, group in enumerate(groups):
        rest = len(groups) - index
        more = f"… and {rest - 1} more alert(s)" if rest > 1 else ""
        kept = "\n".join([*lines, *group, more]).strip()
        if len(kept) > limit:
            return "\n".join([*lines, f"… and {rest} more alert(s)"])[:limit]
        lines.extend(group)
    return "\n".join(lines)[:limit]


@dataclass(frozen=True)
class PostFailure:
    """Why one POST of alerts failed (to the webhook, to Telegram), in words that never hold
    the secret in its URL: the network, 429 and 5xx may pass if tried again; any other refusal
    will not."""

    message: str
    retryable: bool
    rate_limited: bool = False
    retry_after: float | None = None


@dataclass(frozen=True)
class Posted:
    """How one request of alerts went: its last failure (None: it was taken), its last HTTP
    status (None: no answer came), and how many attempts it took."""

    failure: PostFailure | None
    status: int | None
    attempts: int


async def post_until_taken(
    client: httpx.AsyncClient,
    url: str,
    *,
    refusal: Callable[[httpx.Response], PostFailure | None],
    reaching: str,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]],
    **content: Any,
) -> Posted:
    """POST ``content`` to ``url`` until it is taken (``refusal`` says it is not) or ``policy``
    gives up; never raises. ``reaching`` names the receiver in a network failure's words."""
    attempt = 0
    while True:
        attempt += 1
        status: int | None = None
        try:
            async with asyncio.timeout(TIMEOUT_SECS):  # httpx's own timeout is per phase
                response = await client.post(url, **content)
        except Exception as failure:
            # The exception's own text may quote the URL, and so its secret: only its kind is
            # kept.
            error = PostFailure(f"{type(failure).__name__} reaching {reaching}", retryable=True)
        else:
            status = response.status_code
            refused = refusal(response)
            if refused is None:
                return Posted(None, status, attempt)
            error = refused
        delay = policy.delay(error, attempt)
        if delay is None:
            return Posted(error, status, attempt)
        await sleep(delay)


@dataclass(frozen=True)
class Webhook:
    """The user's webhook: its secret URL, the format it takes, and how it is reached."""

    url: SecretStr
    format: WebhookFormat
    transport: httpx.AsyncBaseTransport | None = None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def post(self, alerts: list[Alert], run: dict[str, str]) -> Delivery:
        """POST ``alerts``, retrying network errors, 429 and 5xx; never raises."""
        secret = self.url.get_secret_value()
        redaction = _Redacted(_spellings(secret))
        logging.getLogger("httpx").addFilter(redaction)  # httpx logs every URL it requests
        try:
            async with httpx.AsyncClient(
                timeout=TIMEOUT_SECS,
                transport=self.transport or client_transport(),
                follow_redirects=False,
            ) as client:
                return await self._attempts(client, secret, body(alerts, self.format, run))
        finally:
            logging.getLogger("httpx").removeFilter(redaction)

    async def _attempts(
        self, client: httpx.AsyncClient, url: str, payload: dict[str, Any]
    ) -> Delivery:
        posted = await post_until_taken(
            client,
            url,
            refusal=_refusal,
            reaching="the webhook",
            policy=POLICY,
            sleep=self.sleep,
            json=payload,
        )
        return Delivery(
            delivered=posted.failure is None,
            status=posted.status,
            attempts=posted.attempts,
            error=posted.failure and posted.failure.message,
        )


def _refusal(response: httpx.Response) -> PostFailure | None:
    """The failure a status stands for: 2xx is none; 429 and 5xx can be retried, other 4xx
    cannot."""
    status = response.status_code
    if status < 300:
        return None
    if status == 429:
        wait = POLICY.header_wait(response.headers.get("Retry-After"))
        return PostFailure(
            "The webhook answered HTTP 429", retryable=True, rate_limited=True, retry_after=wait
        )
    if status >= 500:
        return PostFailure(f"The webhook answered HTTP {status}", retryable=True)
    return PostFailure(f"The webhook refused the alerts with HTTP {status}", retryable=False)


def _spellings(url: str) -> set[str]:
    """The URL as given, and as httpx normalises it for its log (lower-case host, no default
    port, escapes)."""
    try:
        return {url, str(httpx.URL(url))}
    except Exception:  # a URL httpx cannot parse is never sent, so never logged either
        return {url}


class _Redacted(logging.Filter):
    """Replaces the webhook URL in httpx's log records, whatever the level."""

    def __init__(self, spellings: set[str]) -> None:
        super().__init__()
        self._spellings = spellings

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                "<webhook URL>" if any(url in str(arg) for url in self._spellings) else arg
                for arg in record.args
            )
        return True
