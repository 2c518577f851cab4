"""Alert rules as the input gives them, and the alerts they raise on a result: the boundary
models of a watch's alerts, shared by every mode that checks them."""

from __future__ import annotations

import re
import typing
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)
from pydantic_core import Url

from coinglass_liquidation_map.market_data import Number
from coinglass_liquidation_map.outputs import Side


def _http_url(url: SecretStr) -> SecretStr:
    text = url.get_secret_value()
    try:
        parsed = Url(text)
    except ValueError:
        parsed = None
    if (
        len(text) > 2000
        or not all(" " < char <= "~" for char in text)  # what an HTTP client can send as is
        or parsed is None
        or parsed.scheme not in ("http", "https")
        or not parsed.host
    ):
        msg = (
            "must be an http:// or https:// URL of printable characters, such as a Slack or"
            " Discord incoming webhook"
        )
        raise ValueError(msg)
    return SecretStr(text)


WebhookUrl = Annotated[SecretStr, AfterValidator(_http_url)]
# As @BotFather gives it: the bot's id, a colon, the secret.
BOT_TOKEN_PATTERN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,200}")
# A user, group or channel id (groups and channels are negative, and may exceed 32 bits), or a
# public channel's @username.
CHAT_ID_PATTERN = re.compile(r"-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31}")


def _bot_token(token: SecretStr) -> SecretStr:
    if not BOT_TOKEN_PATTERN.fullmatch(token.get_secret_value()):
        msg = "must be a Telegram bot token as @BotFather gives it: <bot id>:<secret>"
        raise ValueError(msg)
    return token


def _chat_id(chat_id: str) -> str:
    if not CHAT_ID_PATTERN.fullmatch(chat_id):
        msg = (
            "must be a Telegram chat id, such as 123456789 or -1001234567890, or a public"
            " channel's @username"
        )
        raise ValueError(msg)
    return chat_id


TelegramBotToken = Annotated[SecretStr, AfterValidator(_bot_token)]
TelegramChatId = Annotated[str, AfterValidator(_chat_id)]


def rules_for(channel: object, data: dict[str, object]) -> None:
    """Refuse an alert channel (a webhook, a Telegram bot) set without any alert rule: nothing
    would ever be sent to it. ``data`` holds the fields validated before it."""
    if channel is not None and "alerts" in data and not data["alerts"]:
        msg = "is set, but alerts has no rule, so nothing would ever be sent to it"
        raise ValueError(msg)


def both_telegram_fields(chat_id: str | None, data: dict[str, object]) -> None:
    """Refuse a Telegram chat without its bot's token, or a token without its chat: alerts go
    to Telegram only with both. ``data`` holds the fields validated before the chat id."""
    if "telegram_bot_token" not in data:
        return  # the token itself was refused, which says enough
    token = data["telegram_bot_token"]
    if chat_id is not None and token is None:
        msg = "is set, but telegramBotToken is not: alerts go to Telegram only with both"
        raise ValueError(msg)
    if chat_id is None and token is not None:
        msg = "is required when telegramBotToken is set: the chat the bot posts the alerts to"
        raise ValueError(msg)


class AlertChannels(BaseModel):
    """The checks every mode with alert rules makes of its channels (the webhook, Telegram).
    Each mode declares the fields, with the types below, after its ``alerts``, which the checks
    read."""

    @field_validator("webhook_url", "telegram_bot_token", check_fields=False)
    @classmethod
    def _rules_for_the_channel(
        cls, channel: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        rules_for(channel, info.data)
        return channel

    @field_validator("telegram_chat_id", check_fields=False)
    @classmethod
    def _both_telegram_fields(cls, chat_id: str | None, info: ValidationInfo) -> str | None:
        both_telegram_fields(chat_id, info.data)
        return chat_id


AlertSide = Literal["long", "short", "any"]
WebhookFormat = Literal["json", "slack", "discord"]
# The channels' fields as every mode with alert rules declares them.
CooldownMins = Annotated[int, Field(alias="alertCooldownMins", ge=0, le=10080)]
WebhookUrlField = Annotated[WebhookUrl | None, Field(alias="webhookUrl")]
WebhookFormatField = Annotated[WebhookFormat, Field(alias="webhookFormat")]
TelegramBotTokenField = Annotated[TelegramBotToken | None, Field(alias="telegramBotToken")]
# Checked even when absent: a token needs its chat.
TelegramChatIdField = Annotated[
    TelegramChatId | None, Field(alias="telegramChatId", validate_default=True)
]
Pct = Annotated[float, Field(gt=0, le=100)]
MinLevel = Annotated[float, Field(ge=0, alias="minLevel")]


class Rule(BaseModel):
    """What every alert rule shares: its type, which names it in the input."""

    # A misspelt parameter is refused with its name rather than silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str


class ClusterWithinPct(Rule):
    """A price bucket of at least ``minLevel`` within ``pct`` % of the price: the nearest one."""

    type: Literal["cluster_within_pct"]
    pct: Pct
    min_level: MinLevel = 0
    side: AlertSide = "any"


class LiquidityWithinPct(Rule):
    """At least ``minLevel`` in total within ``pct`` % of the price, on a side."""

    type: Literal["liquidity_within_pct"]
    pct: Pct
    min_level: MinLevel
    side: AlertSide = "any"


class ImbalanceBeyond(Rule):
    """One side outweighs the other: |imbalance| of at least ``value``."""

    type: Literal["imbalance_beyond"]
    value: float = Field(ge=0, le=1)


class ClusterSwept(Rule):
    """The price has traded through a previous top cluster of at least ``minLevel``."""

    type: Literal["cluster_swept"]
    min_level: MinLevel = 0


class NewCluster(Rule):
    """A new top cluster of at least ``minLevel``, within ``pct`` % of the price if given."""

    type: Literal["new_cluster"]
    min_level: MinLevel = 0
    pct: Pct | None = None


AlertRule = Annotated[
    ClusterWithinPct | LiquidityWithinPct | ImbalanceBeyond | ClusterSwept | NewCluster,
    Field(discriminator="type"),
]
_RULE_MODELS: tuple[type[Rule], ...] = typing.get_args(typing.get_args(AlertRule)[0])
RULE_TYPES = frozenset(
    typing.get_args(rule.model_fields["type"].annotation)[0] for rule in _RULE_MODELS
)
CHANGE_RULES = frozenset({"cluster_swept", "new_cluster"})
"""Rules that read what changed since the last run, so they need ``trackChanges``."""


class Alert(BaseModel):
    """One alert rule that fired on a map."""

    rule: int  # its index in the input's rules
    type: str
    symbol: str
    range: str
    side: Side | None
    price: Number | None  # the cluster's, for rules about one
    level: float | None
    distance_pct: float | None
    current_price: Number | None
    message: str
    suppressed: bool = False  # held back by the cooldown: seen, but not sent again
    summary_text: str | None = None  # the sentence of the result that raised it, which leads it
    realized_usd: float | None = None  # cluster_swept: USD of its side liquidated in between
