"""The records the actor keeps in storages besides its dataset items, as pydantic models and
typed dicts: a history's rows, a watch's snapshots and cooldowns between runs, and how a run's
alerts were delivered."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict
from typing_extensions import TypedDict

from coinglass_liquidation_map.market_data import Number
from coinglass_liquidation_map.outputs import Side
from coinglass_liquidation_map.schemas.alerts import Alert, WebhookFormat
from coinglass_liquidation_map.schemas.maps import Cluster, SideTotals


class HistoryRow(TypedDict):
    """One map's summary as a flat row of the history dataset: a time series that exports as
    CSV, one column per figure."""

    at: str
    symbol: str
    range: str
    current_price: Number | None
    long_level_total: float | None
    short_level_total: float | None
    imbalance: float | None
    within_1_long: float | None
    within_1_short: float | None
    within_2_long: float | None
    within_2_short: float | None
    within_5_long: float | None
    within_5_short: float | None
    within_10_long: float | None
    within_10_short: float | None
    nearest_long_price: Number | None
    nearest_long_level: float | None
    nearest_long_distance_pct: float | None
    nearest_short_price: Number | None
    nearest_short_level: float | None
    nearest_short_distance_pct: float | None
    top_cluster_price: Number | None
    top_cluster_level: float | None
    top_cluster_side: Side | None


class Snapshot(BaseModel):
    """What the next run compares a map with: its figures and top clusters, never its rows."""

    # Built when a run first watches, so a run that does not pays nothing for it.
    model_config = ConfigDict(defer_build=True)

    at: AwareDatetime
    current_price: Number | None
    long_level_total: float | None
    short_level_total: float | None
    imbalance: float | None
    within_pct: dict[str, SideTotals] | None
    top_clusters: list[Cluster]


class SentAlert(BaseModel):
    """An alert delivered, which its cooldown holds back until it lapses."""

    # Built when a run first watches, so a run that does not pays nothing for it.
    model_config = ConfigDict(defer_build=True)

    rule: str  # the rule itself as JSON, so an edited rule starts afresh
    symbol: str | None = None  # the coin or instrument, where one record holds several
    side: Side | None
    price: Number | None
    at: AwareDatetime


class PendingAlert(SentAlert):
    """An alert a channel (the webhook, Telegram) did not take, sent again by the next run: at
    least once."""

    alert: Alert


class WatchRecord(BaseModel):
    """The snapshot store's record of one symbol, range and bucketing."""

    # Built when a run first watches, so a run that does not pays nothing for it.
    model_config = ConfigDict(defer_build=True)

    version: Literal[1] = 1
    symbol: str
    range: str
    price_step: float | None
    price_percent_step: float | None
    snapshot: Snapshot
    sent: list[SentAlert] = []
    pending: list[PendingAlert] = []


class ScanAlertsRecord(BaseModel):
    """The snapshot store's record of a scan's alerts: those sent, which their cooldown holds
    back, and those owed to a channel that did not take them."""

    model_config = ConfigDict(defer_build=True)

    version: Literal[1] = 1
    sent: list[SentAlert] = []
    pending: list[PendingAlert] = []


class Delivery(BaseModel):
    """How a POST of alerts to the webhook went."""

    delivered: bool | None  # None: nothing was posted (no alert to send, or no webhook)
    status: int | None  # the last answer's HTTP status; None when none came
    attempts: int
    error: str | None  # why it was not delivered, in words that never hold the URL


class TelegramDelivery(BaseModel):
    """How the alerts went to Telegram: their messages, then the charts of the results that
    raised them."""

    delivered: bool | None  # whether every message was taken; None: there was no alert
    messages: int  # the messages the alerts' text took (split at Telegram's limit)
    messages_sent: int
    charts: int  # the charts to send, one per result that raised an alert
    charts_sent: int
    status: int | None  # the last answer's HTTP status; None when none came
    attempts: int  # every request, retries included
    errors: list[str]  # what Telegram refused or could not be reached for, never the token
    # The chat's new id, when Telegram said the group became a supergroup: the rest went there.
    moved_to_chat_id: str | None = None


class AlertsRecord(Delivery):
    """The run's ``ALERTS`` record: what was sent and how it went, to the webhook (its own
    fields, for runs with ``webhookUrl``) and to Telegram."""

    alerts: list[Alert]
    format: WebhookFormat
    telegram: TelegramDelivery | None = None  # None: the run has no Telegram chat
