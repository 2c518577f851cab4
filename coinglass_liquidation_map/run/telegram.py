"""A run's alerts in a Telegram chat, through the Bot API: their text in as few messages as
Telegram's length limit allows, then the chart of each result that raised them, as a photo.

The bot's token lies in the path of every request, so no URL is ever logged or kept: httpx's
loggers are held to warnings while the bot is called, a transport error is kept as its kind
only, and Telegram's own descriptions are kept with anything shaped like a token taken out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
from pydantic import SecretStr

from coinglass_liquidation_map.records import TelegramDelivery
from coinglass_liquidation_map.retry import RetryPolicy
from coinglass_liquidation_map.run.webhook import (
    TIMEOUT_SECS,
    PostFailure,
    alert_lines,
    at_most,
    post_until_taken,
)
from coinglass_liquidation_map.schemas.alerts import Alert
from coinglass_liquidation_map.transport import client_transport

API_BASE_URL = "https://api.telegram.org"
# Tests answer as Telegram on loopback; nothing else sets it.
API_BASE_URL_VARIABLE = "TELEGRAM_API_BASE_URL"
MAX_MESSAGE_CHARS = 4096
MAX_CAPTION_CHARS = 1024
# As the webhook's, but a flood-control wait of up to half a minute is obeyed: Telegram asks
# for whole seconds, and sending sooner only meets the same answer.
POLICY = RetryPolicy(
    max_retries=3, base_secs=1.0, rate_limit_base_secs=2.0, cap_secs=10.0, retry_after_cap_secs=30.0
)
TOKEN_SHAPE = re.compile(r"bot\d+:[A-Za-z0-9_-]+")
REDACTED = "<redacted>"
MAX_DESCRIPTION_CHARS = 200
# What the user can do about a refusal, by its HTTP status.
REMEDIES = {
    400: "check telegramChatId",
    401: "check telegramBotToken",
    403: "add the bot to the chat, or unblock it",
    404: "check telegramBotToken",
}


def redacted(text: str, token: str) -> str:
    """``text`` without the token, in a path (``bot<token>``, whatever the token) or alone."""
    shaped = TOKEN_SHAPE.sub(f"bot{REDACTED}", text)
    return shaped.replace(token, REDACTED) if token else shaped


def messages(lines: list[str], limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """``lines`` as messages of at most ``limit`` characters each, split between lines; a line
    longer than a message is split across several, so nothing is cut."""
    split: list[str] = []
    current: str | None = None
    for line in lines:
        for piece in [line[start : start + limit] for start in range(0, len(line), limit)]:
            if current is not None and len(current) + 1 + len(piece) <= limit:
                current = f"{current}\n{piece}"
                continue
            if current is not None:
                split.append(current)
            current = piece
    return [*split, current] if current is not None else split


def caption(alerts: list[Alert]) -> str:
    """A chart's caption: its result's alerts, one per line, as many as Telegram shows under a
    photo, with a last line saying how many more there are (the message holds them all)."""
    return at_most(alerts, MAX_CAPTION_CHARS)


@dataclass(frozen=True)
class Photo:
    """A chart the run stored, and the alerts of the result it shows."""

    name: str  # its file name: its record's key
    png: bytes
    alerts: list[Alert]


@dataclass
class _Tally:
    """What the calls of one delivery have come to so far."""

    attempts: int = 0
    status: int | None = None
    errors: list[str] = field(default_factory=list)
    moved_to: str | None = None  # the chat's new id, once Telegram named one


@dataclass(frozen=True)
class _ChatMoved(PostFailure):
    """A group that became a supergroup, which Telegram names by its new chat id."""

    chat_id: str = ""


@dataclass(frozen=True)
class TelegramChat:
    """The user's bot and the chat it posts to, and how Telegram is reached."""

    token: SecretStr
    chat_id: str
    transport: httpx.AsyncBaseTransport | None = None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def send(self, alerts: list[Alert], photos: list[Photo]) -> TelegramDelivery:
        """Send the alerts' text, then, once every message is taken, each photo; never
        raises. The alerts count as delivered when every message was taken: a chart that
        fails is reported, and costs no alert its delivery."""
        # Each result's sentence leads its alerts, as in the webhook's text.
        texts = messages([line for group in alert_lines(alerts) for line in group])
        tally = _Tally()
        sent_messages = sent_charts = 0
        preview = {"link_preview_options": {"is_disabled": True}}
        with _quiet_http_log():
            async with httpx.AsyncClient(
                timeout=TIMEOUT_SECS,
                transport=self.transport or client_transport(),
                follow_redirects=False,
            ) as client:
                for text in texts:

                    def message(chat: str, text: str = text) -> dict[str, Any]:
                        return {"json": {"chat_id": _chat(chat), "text": text} | preview}

                    if not await self._call(client, tally, "sendMessage", message):
                        break
                    sent_messages += 1
                # A chart follows only a text that got through: without it, its caption would
                # be all the chat sees of most alerts, and the next run sends them again.
                for photo in photos if sent_messages == len(texts) else []:

                    def chart(chat: str, photo: Photo = photo) -> dict[str, Any]:
                        form = {"chat_id": chat, "caption": caption(photo.alerts)}
                        return {
                            "data": form,
                            "files": {"photo": (photo.name, photo.png, "image/png")},
                        }

                    if await self._call(client, tally, "sendPhoto", chart):
                        sent_charts += 1
        return TelegramDelivery(
            delivered=sent_messages == len(texts) if texts else None,
            messages=len(texts),
            messages_sent=sent_messages,
            charts=len(photos),
            charts_sent=sent_charts,
            status=tally.status,
            attempts=tally.attempts,
            errors=tally.errors,
            moved_to_chat_id=tally.moved_to,
        )

    async def _call(
        self,
        client: httpx.AsyncClient,
        tally: _Tally,
        method: str,
        content: Callable[[str], dict[str, Any]],
    ) -> bool:
        """Call ``method`` with the ``content`` for the chat, retrying the network, flood
        control and 5xx; whether Telegram took it. A failure is added to the tally's errors.
        A group that became a supergroup is called again, once, by the id Telegram names,
        as every call after it is."""
        token = self.token.get_secret_value()
        base = os.environ.get(API_BASE_URL_VARIABLE) or API_BASE_URL
        while True:
            posted = await post_until_taken(
                client,
                f"{base.rstrip('/')}/bot{token}/{method}",
                refusal=partial(_refusal, method=method, token=token),
                reaching=f"Telegram ({method})",
                policy=POLICY,
                sleep=self.sleep,
                **content(tally.moved_to or self.chat_id),
            )
            tally.attempts += posted.attempts
            tally.status = posted.status
            failure = posted.failure
            if isinstance(failure, _ChatMoved) and tally.moved_to is None:
                tally.moved_to = failure.chat_id
                continue
            if failure is not None:
                tally.errors.append(failure.message)
            return failure is None


def _chat(chat_id: str) -> int | str:
    """The chat id as JSON carries it: a number, or a channel's @username."""
    return chat_id if chat_id.startswith("@") else int(chat_id)


def _refusal(response: httpx.Response, method: str, token: str) -> PostFailure | None:
    """The failure an answer stands for: none when Telegram says ``ok``; flood control and
    5xx can be retried, other refusals cannot."""
    status = response.status_code
    try:
        answer: Any = response.json()
    except ValueError:
        answer = None
    answer = answer if isinstance(answer, dict) else {}
    if status < 300 and answer.get("ok") is True:
        return None
    parameters = answer.get("parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    description = str(answer.get("description") or f"HTTP {status}")[:MAX_DESCRIPTION_CHARS]
    said = f"Telegram refused {method} with HTTP {status}: {redacted(description, token)}"
    if status == 429:
        wait = parameters.get("retry_after")
        if not isinstance(wait, int | float) or isinstance(wait, bool):
            wait = POLICY.header_wait(response.headers.get("Retry-After"))
        if wait is not None and wait > POLICY.retry_after_cap_secs:
            # Waiting less would only meet flood control again.
            return PostFailure(
                f"{said} (it asked for a wait of {wait:g} s, longer than a run waits)",
                retryable=False,
            )
        return PostFailure(said, retryable=True, rate_limited=True, retry_after=wait)
    if status >= 500:
        return PostFailure(said, retryable=True)
    moved = parameters.get("migrate_to_chat_id")
    if isinstance(moved, int) and not isinstance(moved, bool):
        return _ChatMoved(
            f"{said}; its new chat id is {moved}", retryable=False, chat_id=str(moved)
        )
    remedy = REMEDIES.get(status)
    return PostFailure(f"{said}; {remedy}" if remedy else said, retryable=False)


@contextlib.contextmanager
def _quiet_http_log() -> Iterator[None]:
    """httpx logs the URL of every request at INFO, and the URL holds the token: its loggers
    (and httpcore's, which serves it behind a proxy) say no less than warnings meanwhile."""
    loggers = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.level, logging.WARNING))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
