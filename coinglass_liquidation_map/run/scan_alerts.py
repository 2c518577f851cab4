"""A scheduled scan's alerts: each row's alerts read against the cooldowns and the owed alerts
an earlier scan left in the snapshot store, then sent once every row is delivered. One record
serves the whole scan, since its coins change from run to run; nothing of it is charged, and a
store that fails costs no row, only a warning."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from coinglass_liquidation_map.analysis import alerts
from coinglass_liquidation_map.records import ScanAlertsRecord
from coinglass_liquidation_map.run.outbox import Chart, Outbox
from coinglass_liquidation_map.run.storage import (
    RecordStore,
    StoreOpener,
    named_store,
    store_key,
)
from coinglass_liquidation_map.schemas.alerts import Alert
from coinglass_liquidation_map.schemas.scans import MarketScanInput

# How near two alerts' prices must be, in % of the price, to be one alert across runs.
MATCH_PCT = 0.25


def record_key(request: MarketScanInput) -> str:
    """One record per kind of scan: its ranges, so a daily and a weekly scan cool apart."""
    identity = f"{request.max_pain_range}|{request.range}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
    return store_key(f"scan-alerts-{request.max_pain_range}-{request.range}", f"-{digest}")


class ScanAlerts:
    """The alert record of one scan, and the alerts its rows raised."""

    def __init__(
        self,
        request: MarketScanInput,
        log: logging.Logger,
        *,
        snapshots: StoreOpener | None = None,
        run_records: StoreOpener | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        chart_key: str | None = None,
    ) -> None:
        """``chart_key`` is the record of the scan's chart, in a scan that draws one: the
        alerts go out with it where a channel shows it."""
        self._request = request
        self._log = log
        self._chart_key = chart_key
        self._open = snapshots or named_store(request.snapshot_store)
        self._outbox = Outbox(request, log, run_records)
        self._clock = clock
        self._key = record_key(request)
        self._reading: asyncio.Task[tuple[RecordStore | None, ScanAlertsRecord]] | None = None
        self._raised: list[Alert] = []

    async def raised(self, fired: list[Alert]) -> list[Alert]:
        """A row's alerts, each marked when its cooldown holds it back; what is not held back
        goes out when the scan finishes."""
        _, record = await self._previous()
        request = self._request
        raised = alerts.held_back(
            fired,
            request.alerts,
            record.sent,
            now=self._clock(),
            cooldown_mins=request.alert_cooldown_mins,
            match_pct=MATCH_PCT,
        )
        self._raised.extend(raised)
        return raised

    async def finish(self) -> None:
        """Send the scan's alerts, then keep what the next scan needs of them."""
        store, record = await self._previous()
        request, now = self._request, self._clock()
        reckoning = alerts.reckoned(
            self._raised,
            request.alerts,
            record.sent,
            record.pending,
            now=now,
            cooldown_mins=request.alert_cooldown_mins,
            match_pct=MATCH_PCT,
            has_channel=self._outbox.has_channel,
        )
        to_send = [owed.alert for owed in reckoning.to_send]
        charts = [Chart(self._chart_key, to_send)] if self._chart_key and to_send else []
        delivered = await self._outbox.send(to_send, charts)
        kept = ScanAlertsRecord(sent=reckoning.sent, pending=reckoning.pending)
        if reckoning.to_send:
            update: dict[str, Any] = alerts.settled(
                kept.sent,
                reckoning.to_send,
                delivered=delivered,
                has_channel=self._outbox.has_channel,
                now=now,
            )
            kept = kept.model_copy(update=update)
        if store is None:
            return
        try:
            await store.set_value(self._key, kept.model_dump(mode="json"), "application/json")
        except Exception:
            self._log.exception(
                f"The scan's alert record could not be saved in the store"
                f" {request.snapshot_store}; its cooldowns start afresh next run."
            )

    async def _previous(self) -> tuple[RecordStore | None, ScanAlertsRecord]:
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read())
        return await asyncio.shield(self._reading)

    async def _read(self) -> tuple[RecordStore | None, ScanAlertsRecord]:
        """The store and the last scan's record; an empty record when there is none or it
        cannot be read, and no store when the store itself fails (its record is then kept)."""
        try:
            store = await self._open()
            value: Any = await store.get_value(self._key)
        except Exception:
            self._log.exception(
                f"The scan's alert record could not be read from the store"
                f" {self._request.snapshot_store}: no cooldown holds an alert back this run."
            )
            return None, ScanAlertsRecord()
        try:
            return store, ScanAlertsRecord.model_validate(value or {})
        except ValidationError:
            self._log.warning("The scan's alert record could not be read; it is replaced.")
            return store, ScanAlertsRecord()
