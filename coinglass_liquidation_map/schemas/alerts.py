"""Alert rules as the input gives them, and the alerts they raise on a result: the boundary
models of a watch's alerts, shared by every mode that checks them."""

from __future__ import annotations

import typing
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr
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
AlertSide = Literal["long", "short", "any"]
WebhookFormat = Literal["json", "slack", "discord"]
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
    realized_usd: float | None = None  # cluster_swept: USD of its side liquidated in between
