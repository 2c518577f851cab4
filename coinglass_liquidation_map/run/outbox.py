"""Where a run's alerts go once its results are delivered: the webhook, when the input sets
one, and the run's ``ALERTS`` record, which says what was sent and how it went. Shared by every
mode that checks alert rules."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from apify import Actor
from pydantic import SecretStr

from coinglass_liquidation_map.records import AlertsRecord, Delivery
from coinglass_liquidation_map.run.storage import StoreOpener, run_store
from coinglass_liquidation_map.schemas.alerts import Alert, WebhookFormat

if TYPE_CHECKING:
    from coinglass_liquidation_map.run.webhook import Webhook

ALERTS_KEY = "ALERTS"
CONSOLE_RUN_URL = "https://console.apify.com/view/runs/{run_id}"


class Outbox:
    """The webhook of one run, if any, and its ``ALERTS`` record."""

    def __init__(
        self,
        webhook_url: SecretStr | None,
        webhook_format: WebhookFormat,
        log: logging.Logger,
        run_records: StoreOpener | None = None,
    ) -> None:
        self._log = log
        self._run_records = run_records or run_store()
        self._webhook: Webhook | None = None
        if webhook_url:
            from coinglass_liquidation_map.run.webhook import Webhook  # noqa: PLC0415 - only runs with a webhook load it

            self._webhook = Webhook(webhook_url, webhook_format)

    @property
    def has_webhook(self) -> bool:
        """Whether alerts go anywhere but the items and the log."""
        return self._webhook is not None

    async def send(self, to_send: list[Alert]) -> bool:
        """Send ``to_send`` and record how it went; True when they were delivered (or there
        was nowhere, or nothing, to send them)."""
        if self._webhook is None:
            return True
        return bool((await self._deliver(self._webhook, to_send)).delivered)

    async def _deliver(self, webhook: Webhook, to_send: list[Alert]) -> Delivery:
        if to_send:
            delivery = await webhook.post(to_send, _run_info())
        else:
            delivery = Delivery(delivered=None, status=None, attempts=0, error=None)
        if not to_send:
            self._log.info("No alert to send: the webhook was not called.")
        elif delivery.delivered:
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
        outcome = AlertsRecord(alerts=to_send, format=webhook.format, **delivery.model_dump())
        try:
            store = await self._run_records()
            await store.set_value(ALERTS_KEY, outcome.model_dump(mode="json"), "application/json")
        except Exception:
            self._log.exception("The ALERTS record could not be stored.")
        return delivery


def _run_info() -> dict[str, str]:
    """The run's id and Console page, on the platform; nothing in a local run."""
    run_id = Actor.configuration.actor_run_id
    if not Actor.is_at_home() or not run_id:
        return {}
    return {"id": run_id, "console_url": CONSOLE_RUN_URL.format(run_id=run_id)}
