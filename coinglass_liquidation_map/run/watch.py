"""A scheduled run as a watcher: each map is compared with the snapshot the last run left in a
named key-value store, checked against the alert rules, and remembered for the next run; once
the maps are done, the alerts go to the webhook and Telegram (``outbox``). When the price
swept clusters since, what was liquidated in between comes from CoinGlass's liquidation
history. None of it is charged, and
none of it can cost the user a map: a store that fails or a record that cannot be read is a
warning in the log, a history that cannot be had a note in the item."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apify_client.errors import InvalidResponseBodyError
from pydantic import ValidationError

from coinglass_liquidation_map.analysis import alerts, changes
from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.analysis.liqmap import AnalysedMap
from coinglass_liquidation_map.records import PendingAlert, WatchRecord
from coinglass_liquidation_map.run.outbox import Chart, Outbox
from coinglass_liquidation_map.run.storage import (
    RecordStore,
    StoreOpener,
    named_store,
    store_key,
)
from coinglass_liquidation_map.schemas.maps import (
    LiquidationMapInput,
    LiquidationMapItem,
    Realized,
)

RealizedSource = Callable[
    [LiquidationMapItem, datetime, datetime], Awaitable[tuple[Realized | None, str | None]]
]
"""What was liquidated on each side of a map between two moments, or None and why not."""


def record_key(symbol: str, range_: str, bucketing: Bucketing) -> str:
    """The snapshot's key: readable, and unique for every symbol, range and bucketing even
    where the symbol's spelling has to be changed to make a valid key."""
    identity = json.dumps([symbol, range_, bucketing.price_step, bucketing.price_percent_step])
    digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
    steps = "".join(
        f"-{name}{value:g}"
        for name, value in (("step", bucketing.price_step), ("pct", bucketing.price_percent_step))
        if value is not None
    )
    return store_key(f"snapshot-{symbol}-{range_}{steps}", f"-{digest}")


@dataclasses.dataclass
class Watched:
    """One map as the watch saw it: the record to keep for the next run, and the alerts to
    send (this map's, and those an earlier run could not deliver)."""

    key: str
    record: WatchRecord
    to_send: list[PendingAlert]  # each with the rule it came from, should the rules change
    first: bool  # no earlier snapshot to compare with
    replaceable: bool  # False when the store could not be read: the record there is kept


class Watch:
    """The snapshot store of one run's maps, and the alerts they raised."""

    def __init__(
        self,
        request: LiquidationMapInput,
        bucketing: Bucketing,
        log: logging.Logger,
        realized: RealizedSource,
        *,
        snapshots: StoreOpener | None = None,
        run_records: StoreOpener | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        chart_key: Callable[[str, str], str] | None = None,
    ) -> None:
        """``chart_key`` gives the record of a map's chart (by symbol and range), in a run
        that draws them: the alerts go out with their map's chart where a channel shows it."""
        self._request = request
        self._bucketing = bucketing
        self._chart_key = chart_key
        self._log = log
        self._realized = realized
        self._open_snapshots = snapshots or named_store(request.snapshot_store)
        self._outbox = Outbox(request, log, run_records)
        self._clock = clock
        self._store: RecordStore | None = None
        self._opening = asyncio.Lock()
        self._observed: dict[tuple[str, str], Watched] = {}
        self._kept: list[Watched] = []

    async def observe(self, analysed: AnalysedMap) -> AnalysedMap:
        """The map with what changed since the last run and the alerts it raised; its
        snapshot is kept once the map is delivered."""
        item, request, now = analysed.item, self._request, self._clock()
        key = record_key(item.symbol, item.range, self._bucketing)
        replaceable, previous = await self._read(key, item)
        current = changes.snapshot(item.summary, now)
        changed = None
        if request.track_changes and previous is not None:
            changed = changes.changes(previous.snapshot, current, request.cluster_match_pct)
            if changed.swept_clusters:
                found, note = await self._realized(item, previous.snapshot.at, now)
                changed = changed.model_copy(update={"realized": found, "realized_note": note})
        reckoning = alerts.reckoned(
            alerts.fired(request.alerts, analysed, self._bucketing, changed),
            request.alerts,
            previous.sent if previous else [],
            previous.pending if previous else [],
            now=now,
            cooldown_mins=request.alert_cooldown_mins,
            match_pct=request.cluster_match_pct,
            has_channel=self._outbox.has_channel,
        )
        # A map without a price has nothing to compare with: the last priced one stays.
        kept = previous.snapshot if previous and current.current_price is None else current
        record = WatchRecord(
            symbol=item.symbol,
            range=item.range,
            price_step=self._bucketing.price_step,
            price_percent_step=self._bucketing.price_percent_step,
            snapshot=kept,
            sent=reckoning.sent,
            pending=reckoning.pending,
        )
        to_send, raised = reckoning.to_send, reckoning.raised
        watched = item.model_copy(update={"changes": changed, "alerts": raised})
        self._observed[(item.symbol, item.range)] = Watched(
            key, record, to_send, previous is None, replaceable
        )
        return dataclasses.replace(analysed, item=watched)

    async def keep(self, item: LiquidationMapItem) -> None:
        """Save a delivered map's snapshot for the next run."""
        watched = self._observed.pop((item.symbol, item.range), None)
        if watched is None:
            return
        self._kept.append(watched)
        if await self._write(watched) and watched.first and self._request.track_changes:
            record = watched.record
            self._log.info(
                f"First snapshot of {record.symbol} {record.range} saved in the store"
                f" {self._request.snapshot_store}: the next run reports what changed since"
                " this one."
            )

    async def finish(self) -> None:
        """Send the run's alerts that no cooldown holds back. Delivered, they start their
        cooldown; undelivered, they are owed, and the next run sends them again."""
        alerting = [watched for watched in self._kept if watched.to_send]
        chart_key = self._chart_key
        charts = [
            Chart(
                chart_key(watched.record.symbol, watched.record.range),
                [owed.alert for owed in watched.to_send],
            )
            for watched in alerting
            if chart_key is not None
        ]
        delivered = await self._outbox.send(
            [owed.alert for watched in alerting for owed in watched.to_send], charts
        )
        now = self._clock()
        for watched in self._kept:
            if not watched.to_send:
                continue
            update = alerts.settled(
                watched.record.sent,
                watched.to_send,
                delivered=delivered,
                has_channel=self._outbox.has_channel,
                now=now,
            )
            record = watched.record.model_copy(update=update)
            await self._write(dataclasses.replace(watched, record=record))

    async def _snapshots(self) -> RecordStore:
        async with self._opening:
            if self._store is None:
                self._store = await self._open_snapshots()
            return self._store

    async def _read(self, key: str, item: LiquidationMapItem) -> tuple[bool, WatchRecord | None]:
        """The last run's record, or None: absent, unreadable, or of another version; and
        whether this run may replace it (not when the store itself failed)."""
        named = f"{item.symbol} {item.range} in the store {self._request.snapshot_store}"
        try:
            store = await self._snapshots()
            value: Any = await store.get_value(key)
            # A record whose JSON is broken reads as None locally, like an absent one.
            unreadable = value is None and await store.record_exists(key)
        except InvalidResponseBodyError:  # the same, on the platform
            value, unreadable = None, True
        except Exception:
            self._log.exception(
                f"The snapshot of {named} could not be read: this map is compared with nothing,"
                " and the snapshot is left as it is."
            )
            return False, None
        if value is None and not unreadable:
            return True, None
        try:
            record = WatchRecord.model_validate(value)
        except ValidationError:
            record = None
        if record is None or (record.symbol, record.range) != (item.symbol, item.range):
            self._log.warning(
                f"The snapshot of {named} could not be read, so it counts as absent and is"
                " replaced by this run's."
            )
            return True, None
        return True, record

    async def _write(self, watched: Watched) -> bool:
        """Save ``watched``'s record; False when it is not, which the log says."""
        record = watched.record
        if not watched.replaceable:
            return False
        try:
            store = await self._snapshots()
            await store.set_value(watched.key, record.model_dump(mode="json"), "application/json")
        except Exception:
            self._log.exception(
                f"The snapshot of {record.symbol} {record.range} could not be saved in the store"
                f" {self._request.snapshot_store}; the next run compares with an older one."
            )
            return False
        return True
