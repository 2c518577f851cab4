"""Mode ``liquidation_map``'s pipeline: one job per map, an instrument's or a coin's across
exchanges, fetched with its current price and analysed; then, as the input asks, compared with
the last run's and checked against the alert rules, fitted to the item limit, appended to a
history and drawn. The alerts go out and the report is saved once every map is delivered."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from coinglass_liquidation_map.analysis import liqmap, markets, symbols
from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.analysis.liqmap import AnalysedMap
from coinglass_liquidation_map.catalog import mode_of
from coinglass_liquidation_map.coinglass.endpoints import DOCUMENTED_MAP_RANGES
from coinglass_liquidation_map.errors import CoinGlassError, InvalidParameter, NoData, NotServed
from coinglass_liquidation_map.inputs import HEATMAP_RANGE_NAMES
from coinglass_liquidation_map.market_data import LiquidationMap
from coinglass_liquidation_map.modes.resolve import (
    resolve_coin,
    resolve_instrument,
    resolved_heatmap,
)
from coinglass_liquidation_map.outputs import ResultItem
from coinglass_liquidation_map.run import item_limit
from coinglass_liquidation_map.run.billing import Budget
from coinglass_liquidation_map.run.gallery import Gallery, Picture, picture_key
from coinglass_liquidation_map.run.pipeline import Job, per_target
from coinglass_liquidation_map.run.refusals import MapKind, RefusedRanges
from coinglass_liquidation_map.run.storage import run_store
from coinglass_liquidation_map.run.upstream import Upstream, current_price
from coinglass_liquidation_map.schemas.maps import (
    LiquidationMapInput,
    LiquidationMapItem,
    MapTarget,
    Range,
)

if TYPE_CHECKING:
    from coinglass_liquidation_map.run.history import History
    from coinglass_liquidation_map.run.watch import Watch


def pipeline(
    request: LiquidationMapInput, upstream: Upstream, *, remember: bool, log: logging.Logger
) -> MapPipeline:
    """The maps ``request`` asks for; a run that may ``remember`` compares them with the last
    run's and keeps a history, as the input asks."""
    return MapPipeline(request, upstream, remember=remember, log=log)


class MapPipeline:
    """Every map of one request, and what follows each."""

    ordered = False

    def __init__(
        self,
        request: LiquidationMapInput,
        upstream: Upstream,
        *,
        remember: bool,
        log: logging.Logger,
    ) -> None:
        self._request = request
        self._upstream = upstream
        self.concurrency = request.max_concurrency
        self._bucketing = Bucketing(
            request.top_clusters, request.price_step, request.price_percent_step
        )
        self._gallery = Gallery(run_store(), log) if request.chart else None
        self._refusals = RefusedRanges(request.symbol_cache_ttl_secs)
        self._history: History | None = None
        self._watch: Watch | None = None
        if remember and request.history_dataset:
            from coinglass_liquidation_map.run.history import History  # noqa: PLC0415 - only runs that keep one load it

            self._history = History(request.history_dataset)
        if remember and request.watched:
            from coinglass_liquidation_map.run.realized import RealizedLiquidations  # noqa: PLC0415 - see Watch
            from coinglass_liquidation_map.run.watch import Watch  # noqa: PLC0415 - only runs that watch load it

            realized = RealizedLiquidations(upstream)
            self._watch = Watch(
                request,
                self._bucketing,
                log,
                realized.between,
                chart_key=chart_key if request.chart else None,
            )

    async def jobs(self, budget: Budget) -> list[Job]:
        return per_target(mode_of(self._request), self._request.targets(), self._map)

    async def _map(self, target: MapTarget) -> LiquidationMapItem:
        analysed = await liquidation_map(self._upstream, target, self._bucketing, self._refusals)
        if self._watch is not None:
            analysed = await self._watch.observe(analysed)
        fitted = item_limit.fitted(analysed)
        item = await item_limit.stored(fitted, run_store())
        if self._history is not None:
            await self._history.add(item)
        if self._gallery is None:
            return item
        return await self._gallery.add(item, picture(fitted.drawn))

    async def delivered(self, item: ResultItem) -> None:
        """Keep a delivered map's snapshot: a map that fails on the way, or is never
        delivered, leaves the last one in place."""
        if self._watch is not None and isinstance(item, LiquidationMapItem):
            await self._watch.keep(item)

    async def finish(self) -> None:
        """Send the run's alerts, and save the report."""
        if self._watch is not None:
            await self._watch.finish()
        if self._gallery is not None:
            await self._gallery.save_report()


def chart_key(symbol: str, range_: str) -> str:
    """The key-value store key of a map's chart: ``chart-Binance_BTCUSDT-1d.png``."""
    return picture_key(f"chart-{symbol}-{range_}")


def picture(drawn: LiquidationMapItem) -> Picture:
    """How a map is drawn (from every row, whatever its item had to leave out) and shown in the
    report."""

    def render(fetched_at: datetime) -> bytes:
        # Imported here, so that matplotlib loads only when charts are asked for.
        from coinglass_liquidation_map.render.map_chart import render_chart  # noqa: PLC0415

        return render_chart(drawn, fetched_at)

    def section() -> list[str]:
        from coinglass_liquidation_map.render.map_section import map_section  # noqa: PLC0415 - see render()

        return map_section(drawn)

    symbol, range_ = drawn.symbol, drawn.range
    return Picture(
        kind="map",
        name=f"{symbol} {range_}",
        heading=f"{symbol} · {range_}",
        alt=f"Liquidation map chart of {symbol}, range {range_}",
        key=chart_key(symbol, range_),
        render=render,
        section=section,
    )


# The heatmap a map over a range CoinGlass's maps refuse is read from: its first model, the one
# its own pages show first.
COLUMN_MODEL = "model1"
COLUMN_SOURCE = f"heatmap {COLUMN_MODEL}, latest column"


@dataclass(frozen=True)
class _FetchedMap:
    """A map as CoinGlass sent it, with what is known of the current price."""

    symbol: str
    map: LiquidationMap
    price: markets.CurrentPrice | None
    missing: str  # why there is no price, when there is none


async def liquidation_map(
    upstream: Upstream,
    target: MapTarget,
    bucketing: Bucketing,
    refusals: RefusedRanges | None = None,
) -> AnalysedMap:
    """One map, its summary and the placement of its levels. A range CoinGlass's maps refuse
    (as ``refusals`` remember from earlier runs, or as it answers now) is read from its
    heatmap of that range instead."""
    kind: MapKind = "coin" if target.is_coin else "pair"
    documented = target.range in DOCUMENTED_MAP_RANGES
    if not documented and refusals is not None and await refusals.refused(kind, target.range):
        return await _heatmap_column(upstream, target, bucketing)
    try:
        fetched = await (_coin_map if target.is_coin else _pair_map)(upstream, target)
    except InvalidParameter as refused:
        if documented:
            raise
        # Remembered only when it is the range CoinGlass refuses (its "500" body, or a 400
        # naming the range): a refusal of one pair must not send every other to the heatmap.
        if refusals is not None and _refuses_the_range(refused):
            await refusals.remember(kind, target.range, refused.message)
        return await _heatmap_column(upstream, target, bucketing)
    if not fetched.map.data:
        raise NoData(
            f"CoinGlass returned an empty liquidation map for {fetched.symbol} over"
            f" {target.range}, so there is nothing to deliver and nothing was charged. Try a"
            f" documented range ({', '.join(DOCUMENTED_MAP_RANGES)}) or a more traded instrument."
        )
    return liqmap.analysed_map(
        fetched.symbol,
        target.range,
        fetched.map.data,
        price=fetched.price,
        missing=fetched.missing,
        bucketing=bucketing,
        by_exchange=fetched.map.by_exchange,
        skipped_rows=fetched.map.skipped_rows,
    )


def _refuses_the_range(refused: InvalidParameter) -> bool:
    return isinstance(refused, NotServed) or "range" in refused.message.lower()


async def coin_map(
    upstream: Upstream, coin: str, range_: Range, bucketing: Bucketing
) -> AnalysedMap:
    """A coin's map across exchanges, as another mode reads it (a scan's mapped coins)."""
    return await liquidation_map(upstream, MapTarget(coin, range_), bucketing)


async def _heatmap_column(
    upstream: Upstream, target: MapTarget, bucketing: Bucketing
) -> AnalysedMap:
    """The map over a range CoinGlass's maps refuse, read from the latest column of its
    heatmap of that range: the current picture, as a map is."""
    range_ = HEATMAP_RANGE_NAMES.get(target.range, target.range)
    name = f"{COLUMN_MODEL} liquidation heatmap over {range_}"
    because = f"CoinGlass does not serve maps over {target.range}"
    try:
        symbol, _, heatmap = await resolved_heatmap(
            upstream.endpoints, upstream.instruments, target, range_, COLUMN_MODEL
        )
    except CoinGlassError as error:
        raise error.with_note(f"({because}, so this map was asked of its {name}.)") from error
    data = liqmap.latest_column_map(heatmap)
    if not data:
        raise NoData(
            f"{because}, and the latest column of its {name} of {symbol} holds no cell, so"
            " there is nothing to deliver and nothing was charged."
        )
    close = heatmap.candles[-1][4]
    return liqmap.analysed_map(
        symbol,
        target.range,
        data,
        price=markets.CurrentPrice(close, f"heatmap {COLUMN_MODEL} last candle close"),
        missing="",
        bucketing=bucketing,
        skipped_rows=heatmap.skipped_cells,
        source=COLUMN_SOURCE,
        origin=(
            f"{because} (it refuses that range), so this map is the latest column of its {name}:"
            " each level is a cell's value at its price, without leverage."
        ),
    )


async def _pair_map(upstream: Upstream, target: MapTarget) -> _FetchedMap:
    instrument = await resolve_instrument(upstream.instruments, target.symbol)
    exchange, instrument_id = instrument.exchange, symbols.instrument_id(instrument)
    # The price is fetched alongside the map, so it costs no extra wait.
    pricing = asyncio.create_task(
        current_price(
            upstream.prices,
            instrument.base_asset,
            lambda rows: markets.pair_price(rows, exchange, instrument_id),
        )
    )
    try:
        fetched = await upstream.endpoints.pair_map(exchange, instrument_id, target.range)
    except BaseException:
        pricing.cancel()
        raise
    price, missing = await pricing
    return _FetchedMap(instrument.symbol, fetched, price, missing)


async def _coin_map(upstream: Upstream, target: MapTarget) -> _FetchedMap:
    coin = await resolve_coin(upstream.instruments, target.symbol)
    coin_map = await upstream.endpoints.coin_map(coin, target.range)
    missing = ""
    # CoinGlass sends a last price of zero when it has none.
    price = (
        markets.CurrentPrice(coin_map.last_price, "aggregated-map last_price")
        if coin_map.last_price
        else None
    )
    if price is None:
        price, missing = await current_price(upstream.prices, coin, markets.coin_price)
    return _FetchedMap(coin, coin_map, price, missing)
