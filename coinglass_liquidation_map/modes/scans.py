"""Mode ``market_scan``'s pipeline: every coin's max pain and market fetched in a few requests,
ranked, and the top coins' maps fetched beside their rows; one job per coin, delivered in rank
order. A source CoinGlass refuses leaves its columns empty and the scan goes on. Once every row
is delivered, the alerts go out and the scan's chart and report are saved."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from coinglass_liquidation_map.analysis import alerts, scan
from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.analysis.scan import Ranking, ScannedCoin
from coinglass_liquidation_map.catalog import Mode, mode_of
from coinglass_liquidation_map.coinglass.endpoints import Endpoints
from coinglass_liquidation_map.errors import ActorError, CoinGlassError, PlanTooLow, UnknownSymbol
from coinglass_liquidation_map.modes.maps import coin_map
from coinglass_liquidation_map.outputs import ResultItem
from coinglass_liquidation_map.plans import plan_title
from coinglass_liquidation_map.run.billing import Budget
from coinglass_liquidation_map.run.gallery import Gallery, Picture, picture_key
from coinglass_liquidation_map.run.pipeline import Job
from coinglass_liquidation_map.run.storage import run_store
from coinglass_liquidation_map.run.upstream import Upstream
from coinglass_liquidation_map.schemas.scans import (
    SCAN_SUCCESS_MESSAGE,
    MarketScanInput,
    MarketScanItem,
    SortBy,
)

if TYPE_CHECKING:
    from coinglass_liquidation_map.run.scan_alerts import ScanAlerts

T = TypeVar("T")
SCAN_CHART_KEY = picture_key("scan")
MAX_PAIN_COLUMNS = "max-pain columns"
MARKET_COLUMNS = "market columns (open interest, funding, long/short ratio, liquidations)"


def pipeline(
    request: MarketScanInput, upstream: Upstream, *, remember: bool, log: logging.Logger
) -> ScanPipeline:
    """The scan ``request`` asks for; a run that may ``remember`` holds its alerts' cooldowns
    between runs."""
    return ScanPipeline(request, upstream, remember=remember, log=log)


class ScanPipeline:
    """One scan: its sources, its ranking, a job per coin, and what closes it."""

    ordered = True

    def __init__(
        self, request: MarketScanInput, upstream: Upstream, *, remember: bool, log: logging.Logger
    ) -> None:
        self._request = request
        self._upstream = upstream
        self._log = log
        # Every row runs at once, as most wait for nothing; only the coin maps' own requests
        # are bounded, so a map is decoded and analysed while the next one is on its way.
        self.concurrency = None
        client = upstream.endpoints.client.bounded(asyncio.Semaphore(request.max_concurrency))
        self._mapping = replace(upstream, endpoints=Endpoints(client))
        self._bucketing = Bucketing()
        self._gallery = Gallery(run_store(), log) if request.chart else None
        self._delivered: list[MarketScanItem] = []
        self._alerts: ScanAlerts | None = None
        if remember and request.alerts:
            from coinglass_liquidation_map.run.scan_alerts import ScanAlerts  # noqa: PLC0415 - only scans with rules load it

            self._alerts = ScanAlerts(
                request, log, chart_key=SCAN_CHART_KEY if request.chart else None
            )

    async def jobs(self, budget: Budget) -> list[Job]:
        request, mode = self._request, mode_of(self._request)
        endpoints = self._upstream.endpoints
        # The pair list the maps resolve their coins against comes in the same wait.
        instruments = self._upstream.instruments() if request.map_coins else _nothing()
        max_pain, markets, _ = await asyncio.gather(
            _had(endpoints.max_pain(request.max_pain_range)),
            _had(endpoints.coins_markets()),
            _had(instruments),
        )
        if isinstance(max_pain, ActorError) and isinstance(markets, ActorError):
            raise _nothing_had(max_pain, markets, _Plans.of(mode))
        ranking = scan.ranked(
            None if isinstance(max_pain, ActorError) else max_pain,
            None if isinstance(markets, ActorError) else markets,
            coins=request.coins,
            sort_by=request.sort_by,
            max_coins=request.max_coins,
        )
        plans = _Plans.of(mode)
        notes = _source_notes(max_pain, markets, request.sort_by, ranking, plans)
        maps_wanted = min(request.map_coins, len(ranking.coins))
        if isinstance(max_pain, PlanTooLow):
            maps_wanted = 0  # maps need the plan max pain does
            if request.map_coins:
                notes.append(f"Coin maps need the {plans.max_pain} plan too, so none was fetched.")
        # The rows come first: maps take what room the budget has left once every row has its.
        rows = {mode.event: len(ranking.coins)}
        maps = maps_wanted
        while maps and mode.add_on and not budget.fits({**rows, mode.add_on: maps}):
            maps -= 1
        jobs = [
            Job(
                partial(
                    self._row,
                    scanned,
                    rank=index + 1,
                    sort_by=ranking.sort_by,
                    notes=notes,
                    mapped=index < maps,
                    map_wanted=index < maps_wanted,
                ),
                partial(mode.failure, source=scanned),
                add_on=index < maps,
            )
            for index, scanned in enumerate(ranking.coins)
        ]
        return jobs + [
            Job(partial(_unknown, coin), partial(mode.failure, source=_Coin(coin)), charged=False)
            for coin in ranking.unknown
        ]

    async def _row(
        self,
        scanned: ScannedCoin,
        *,
        rank: int,
        sort_by: SortBy,
        notes: list[str],
        mapped: bool,
        map_wanted: bool,
    ) -> MarketScanItem:
        """One coin's row, with its map's columns when it is ``mapped``; a map the budget
        left out (``map_wanted`` but not mapped) is said in the message."""
        request = self._request
        row, said = scanned.row, [*notes, *scanned.notes]
        fired = scan.max_pain_alerts(request.alerts, scanned.coin, request.max_pain_range, row)
        if mapped:
            try:
                analysed = await coin_map(
                    self._mapping, scanned.coin, request.range, self._bucketing
                )
            except CoinGlassError as error:
                said.append(
                    f"Its {request.range} map could not be had, and was not charged:"
                    f" {error.message}"
                )
            else:
                row = scan.with_map(row, analysed)
                # A scan keeps no map between runs: rules about changes have nothing to read.
                fired += alerts.fired(request.alerts, analysed, self._bucketing, None)
        elif map_wanted:
            said.append(
                "The run's maximum charge left no room for this coin's map once every row had"
                " its own."
            )
        item = MarketScanItem(
            message=" ".join([SCAN_SUCCESS_MESSAGE, *said]),
            coin=scanned.coin,
            rank=rank,
            sort_by=sort_by,
            max_pain_range=request.max_pain_range,
            data=row,
        )
        # Each alert is led by its row's sentence wherever it is sent.
        fired = [alert.model_copy(update={"summary_text": item.summary_text}) for alert in fired]
        if self._alerts is not None:
            fired = await self._alerts.raised(fired)
        return item.model_copy(update={"alerts": fired})

    async def delivered(self, item: ResultItem) -> None:
        """Keep a delivered row for the chart and the report."""
        if isinstance(item, MarketScanItem):
            self._delivered.append(item)

    async def finish(self) -> None:
        """Save the scan's chart, send its alerts (with the chart, where a channel shows it),
        and save its report."""
        if self._gallery is not None and self._delivered:
            await self._gallery.draw(picture(self._delivered, self._request))
        if self._alerts is not None:
            await self._alerts.finish()
        if self._gallery is not None and self._delivered:
            await self._gallery.save_report()


@dataclass(frozen=True)
class _Coin:
    """A coin asked for, as its failure echoes it."""

    coin: str


async def _unknown(coin: str) -> MarketScanItem:
    raise UnknownSymbol(
        f"CoinGlass lists no coin {coin!r} in max pain or coins markets, so it has no row and"
        " nothing was charged. Run mode search_symbols to find the coins it supports."
    )


async def _nothing() -> None:
    return None


async def _had(fetch: Awaitable[T]) -> T | ActorError:
    """What a source gave, or why it gave nothing."""
    try:
        return await fetch
    except ActorError as error:
        return error


@dataclass(frozen=True)
class _Plans:
    """The plans a scan's two sources need, from the catalog's reach of the mode: the lowest
    is the markets', the highest the whole scan's (max pain, and the maps)."""

    markets: str
    max_pain: str

    @classmethod
    def of(cls, mode: Mode) -> _Plans:
        return cls(plan_title(mode.reach[0].plan), plan_title(mode.reach[-1].plan))


def _nothing_had(max_pain: ActorError, markets: ActorError, plans: _Plans) -> ActorError:
    if isinstance(max_pain, PlanTooLow) and isinstance(markets, PlanTooLow):
        return PlanTooLow(
            "Your CoinGlass plan includes neither source of a market scan (CoinGlass says"
            f' "Upgrade plan"): coins markets needs the {plans.markets} plan and max pain the'
            f" {plans.max_pain} plan. Nothing was charged.",
            upstream_code=max_pain.upstream_code,
        )
    failed = max_pain if not isinstance(max_pain, PlanTooLow) else markets
    return failed.with_note(
        "Neither max pain nor coins markets could be had, so the scan has no row; nothing was"
        " charged."
    )


def _source_notes(
    max_pain: object, markets: object, asked: str, ranking: Ranking, plans: _Plans
) -> list[str]:
    """What every row's message says of a source that could not be had, and of a ranking
    that had to stand in for the one asked for."""
    notes = [
        _missing(columns, plan, failed)
        for columns, plan, failed in (
            (MAX_PAIN_COLUMNS, plans.max_pain, max_pain),
            (MARKET_COLUMNS, plans.markets, markets),
        )
        if isinstance(failed, ActorError)
    ]
    if ranking.sort_by != asked:
        notes.append(f"Ranked by {ranking.sort_by}: ranking by {asked} needs the missing source.")
    return notes


def _missing(columns: str, plan: str, failed: ActorError) -> str:
    if isinstance(failed, PlanTooLow):
        return f"The {columns} are null: they need CoinGlass's {plan} plan."
    return f"The {columns} are null: {failed.message}"


def picture(items: list[MarketScanItem], request: MarketScanInput) -> Picture:
    """How a scan is drawn (its top coins) and shown first in the report."""

    def render(fetched_at: datetime) -> bytes:
        # Imported here, so that matplotlib loads only when charts are asked for.
        from coinglass_liquidation_map.render.scan_chart import render_scan  # noqa: PLC0415

        return render_scan(items, fetched_at)

    def section() -> list[str]:
        from coinglass_liquidation_map.render.scan_section import scan_section  # noqa: PLC0415 - see render()

        return scan_section(items)

    return Picture(
        kind="market scan",
        name=f"scan {request.max_pain_range}",
        heading=f"Market scan · max pain {request.max_pain_range} · ranked by {items[0].sort_by}",
        alt="Market scan chart: the top coins' max-pain distances and fuel near the price",
        key=SCAN_CHART_KEY,
        render=render,
        section=section,
        leads=True,
    )
