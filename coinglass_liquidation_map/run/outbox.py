"""Where a run's alerts go once its results are delivered: the webhook and the Telegram chat,
as the input sets them, and the run's ``ALERTS`` record, which says what was sent and how it
went. Shared by every mode that checks alert rules.

An alert counts as delivered only when every channel took it. When one did not, the alert
stays owed and the next run sends it again to every channel: a channel that took it once may
get it twice, and none misses it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from apify import Actor
from pydantic import SecretStr

from coinglass_liquidation_map.records import AlertsRecord, Delivery, TelegramDelivery
from coinglass_liquidation_map.run.storage import StoreOpener, run_store
from coinglass_liquidation_map.schemas.alerts import Alert, WebhookFormat

if TYPE_CHECKING:
    from coinglass_liquidation_map.run.telegram import Photo, TelegramChat
    from coinglass_liquidation_map.run.webhook import Webhook

ALERTS_KEY = "ALERTS"
CONSOLE_RUN_URL = "https://console.apify.com/view/runs/{run_id}"
NOTHING_POSTED = Delivery(delivered=None, status=None, attempts=0, error=None)


class AlertChannels(Protocol):
    """Where an input sends its alerts."""

    @property
    def webhook_url(self) -> SecretStr | None: ...

    @property
    def webhook_format(self) -> WebhookFormat: ...

    @property
    def telegram_bot_token(self) -> SecretStr | None: ...

    @property
    def telegram_chat_id(self) -> str | None: ...


@dataclass(frozen=True)
class Chart:
    """A chart the run stored (its record's key), and the alerts of the result it shows."""

    key: str
    alerts: list[Alert]


class Outbox:
    """The alert channels of one run, if any, and its ``ALERTS`` record."""

    def __init__(
        self,
        channels: AlertChannels,
        log: logging.Logger,
        run_records: StoreOpener | None = None,
    ) -> None:
        self._log = log
        self._run_records = run_records or run_store()
        self._format = channels.webhook_format
        self._webhook: Webhook | None = None
        self._telegram: TelegramChat | None = None
        # Each channel's client is loaded by the runs that use it only.
        if channels.webhook_url:
            from coinglass_liquidation_map.run.webhook import Webhook  # noqa: PLC0415

            self._webhook = Webhook(channels.webhook_url, channels.webhook_format)
        if channels.telegram_bot_token and channels.telegram_chat_id:
            from coinglass_liquidation_map.run.telegram import TelegramChat  # noqa: PLC0415

            self._telegram = TelegramChat(channels.telegram_bot_token, channels.telegram_chat_id)

    @property
    def has_channel(self) -> bool:
        """Whether alerts go anywhere but the items and the log."""
        return self._webhook is not None or self._telegram is not None

    async def send(self, to_send: list[Alert], charts: Sequence[Chart] = ()) -> bool:
        """Send ``to_send`` to every channel, with ``charts`` where the channel shows them
        (Telegram), and record how it went; True when every channel took them (or there was
        nowhere, or nothing, to send them)."""
        if not self.has_channel:
            return True
        webhook = NOTHING_POSTED
        if self._webhook is not None:
            webhook = await self._post(self._webhook, to_send)
        telegram = None
        if self._telegram is not None:
            telegram = await self._tell(self._telegram, to_send, charts)
        outcome = AlertsRecord(
            alerts=to_send, format=self._format, telegram=telegram, **webhook.model_dump()
        )
        try:
            store = await self._run_records()
            await store.set_value(ALERTS_KEY, outcome.model_dump(mode="json"), "application/json")
        except Exception:
            self._log.exception("The ALERTS record could not be stored.")
        return webhook.delivered is not False and (
            telegram is None or telegram.delivered is not False
        )

    async def _post(self, webhook: Webhook, to_send: list[Alert]) -> Delivery:
        if not to_send:
            self._log.info("No alert to send: the webhook was not called.")
            return NOTHING_POSTED
        delivery = await webhook.post(to_send, _run_info())
        if delivery.delivered:
            self._log.info(
                f"Sent {len(to_send)} alert(s) to the webhook ({webhook.format}): HTTP"
                f" {delivery.status} after {delivery.attempts} attempt(s)."
            )
        else:
            self._log.warning(
                f"The {len(to_send)} alert(s) could not be delivered to the webhook after"
                f" {delivery.attempts} attempt(s): {delivery.error}. The run goes on, and the next"
                " run sends them again."
            )
        return delivery

    async def _tell(
        self, telegram: TelegramChat, to_send: list[Alert], charts: Sequence[Chart]
    ) -> TelegramDelivery:
        if not to_send:
            self._log.info("No alert to send: Telegram was not called.")
            return TelegramDelivery(
                delivered=None,
                messages=0,
                messages_sent=0,
                charts=0,
                charts_sent=0,
                status=None,
                attempts=0,
                errors=[],
            )
        delivery = await telegram.send(to_send, await self._photos(charts))
        if delivery.moved_to_chat_id is not None:
            went = (
                "the alerts went there" if delivery.delivered else "sending them there failed too"
            )
            self._log.warning(
                "Telegram says the group telegramChatId names became a supergroup, with chat id"
                f" {delivery.moved_to_chat_id}, and {went}. Set telegramChatId to"
                f" {delivery.moved_to_chat_id}, which the next runs will need."
            )
        sent = (
            f"{delivery.messages_sent} of {delivery.messages} message(s) and"
            f" {delivery.charts_sent} of {delivery.charts} chart(s) after {delivery.attempts}"
            " request(s)"
        )
        if not delivery.delivered:
            self._log.warning(
                f"The {len(to_send)} alert(s) could not be delivered to Telegram ({sent}):"
                f" {'; '.join(delivery.errors)}. The run goes on, and the next run sends them"
                " again, to every channel."
            )
        elif delivery.errors:
            self._log.warning(
                f"Sent {len(to_send)} alert(s) to Telegram ({sent}), but not every chart:"
                f" {'; '.join(delivery.errors)}."
            )
        else:
            self._log.info(f"Sent {len(to_send)} alert(s) to Telegram ({sent}).")
        return delivery

    async def _photos(self, charts: Sequence[Chart]) -> list[Photo]:
        """The charts as the run stored them; one it did not store (its drawing failed) is
        left out, which the log says."""
        from coinglass_liquidation_map.run.telegram import Photo  # noqa: PLC0415 - as in __init__

        photos: list[Photo] = []
        for chart in charts:
            try:
                store = await self._run_records()
                png = await store.get_value(chart.key)
            except Exception:
                self._log.exception(f"The chart {chart.key} could not be read for Telegram.")
                continue
            if isinstance(png, bytes | bytearray):
                photos.append(Photo(chart.key, bytes(png), chart.alerts))
            else:
                self._log.info(f"The chart {chart.key} was not stored: Telegram gets no picture.")
        return photos


def _run_info() -> dict[str, str]:
    """The run's id and Console page, on the platform; nothing in a local run."""
    run_id = Actor.configuration.actor_run_id
    if not Actor.is_at_home() or not run_id:
        return {}
    return {"id": run_id, "console_url": CONSOLE_RUN_URL.format(run_id=run_id)}
