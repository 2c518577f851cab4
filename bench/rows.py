"""The rows of the benchmark, each measured side by side with its baseline.

Every function returns a ``Section``: its table rows and the details a reader needs to trust
them (spreads, the split of the processing time, how the batch bound is derived, ...).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import local_run
import sandbox_data
from local_run import PACKAGE
from sandbox_server import RecordedRequest, SandboxServer

from bench import heatmaps, imports, processing
from bench import standby as standby_load
from bench.measure import Row, fmt, interleaved, median, percentile, spread
from bench.processes import (
    ACTOR,
    MINIMAL_ACTOR,
    ProcessRun,
    RunFailed,
    actor_env,
    import_profile,
    run_process,
)
from coinglass_liquidation_map.coinglass.endpoints import PAIR_MAP_PATH
from coinglass_liquidation_map.schemas.maps import LiquidationMapInput, LiquidationMapItem

MAP_INPUT = {"mode": "liquidation_map", "symbol": "Binance_BTCUSDT", "range": "1d"}
SEARCH_INPUT = {"mode": "search_symbols", "keyword": "btc"}
COLD_GOAL = 1.10
WATCH_GOAL = 1.05
PROCESSING_GOAL = 3.0
BATCH_GOAL = 1.25
BATCH_RANGES = ("1d", "7d", "30d")
# Rounds of a slow-upstream row run before it measures, and not kept.
SLOW_RUN_WARMUP = 1


@dataclass(frozen=True)
class Plan:
    """How much to measure; the defaults finish ``make bench`` in a few minutes on 2 cores."""

    cold_pairs: int = 7
    processing_pairs: int = 5
    map_rows: int = 100_000
    # About the largest map whose item, levels included, stays under the 9 MB item limit.
    levels_rows: int = 40_000
    batch_pairs: int = 5
    batch_instruments: int = 20
    latency_ms: float = 200
    chart_pairs: int = 5
    chart_renders: int = 5
    watch_pairs: int = 7
    heatmap_cells: int = heatmaps.HEATMAP_CELLS
    standby_warmup: int = 10
    standby_latency_requests: int = 200
    standby_rate_requests: int = 200
    standby_concurrency: int = 8
    standby_cache_secs: int = 300

    @property
    def standby_requests(self) -> int:
        """Map requests one Standby session sends: warm-up (the measured query, then one per
        concurrent query), the latency run and the throughput run."""
        return (
            self.standby_warmup
            + self.standby_concurrency
            + self.standby_latency_requests
            + self.standby_rate_requests
        )

    def scaled(self, repetitions: int) -> Plan:
        """The same plan with every row repeated ``repetitions`` times."""
        return dataclasses.replace(
            self,
            cold_pairs=repetitions,
            processing_pairs=repetitions,
            batch_pairs=repetitions,
            chart_pairs=repetitions,
            chart_renders=repetitions,
            watch_pairs=repetitions,
        )


@dataclass
class Section:
    """A row's part of the report: its lines of the table and the details below it, and
    samples a later row may reuse (the cold run's map wall times)."""

    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    samples: dict[str, list[float]] = field(default_factory=dict)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


Samples = dict[str, list[float]]


def walls_and_rss(runs: dict[str, list[ProcessRun]]) -> tuple[Samples, Samples]:
    """Each variant's wall times and peak RSS."""
    wall = {name: [run.wall_s for run in done] for name, done in runs.items()}
    rss = {name: [run.peak_rss_mib for run in done] for name, done in runs.items()}
    return wall, rss


def paired_rows(
    row: str, what: str, samples: tuple[Samples, Samples], pair: tuple[str, str], goal: float
) -> list[Row]:
    """A wall-time row and a peak-RSS row of ``pair``'s first variant against its second."""
    ours, baseline = pair
    return [
        Row(row, what.format(metric), median(values[ours]), median(values[baseline]), unit, goal)
        for metric, values, unit in zip(
            ("wall time", "peak RSS"), samples, ("s", "MiB"), strict=True
        )
    ]


# ---------------------------------------------------------------- 1. cold run


def cold(plan: Plan, sandbox: SandboxServer) -> Section:
    """A map run and a search run, each against the minimal actor: wall time and peak RSS."""
    env = actor_env(sandbox)
    section = Section()
    item, requests = _reference_map_run(sandbox, env)
    for label, actor_input in (("map", MAP_INPUT), ("search", SEARCH_INPUT)):
        progress(f"cold run, {label}: {plan.cold_pairs} interleaved pairs")
        variants = {
            "actor": partial(run_process, ACTOR, actor_input, env),
            "minimal": partial(run_process, MINIMAL_ACTOR, actor_input, env),
        }
        if label == "map":
            # For reference: the floor of an actor that delivers the same item, and of one
            # that also makes the same requests with httpx before pushing it.
            item_file = Path(tempfile.mkdtemp(prefix="bench-item-")) / "item.json"
            item_file.write_text(json.dumps(item))
            same_item = {**env, "MINIMAL_ACTOR_ITEM": str(item_file)}
            urls = [_url(sandbox, request) for request in requests]
            same_requests = {**same_item, "MINIMAL_ACTOR_FETCH": json.dumps(urls)}
            variants["same item"] = partial(run_process, MINIMAL_ACTOR, actor_input, same_item)
            variants["same requests"] = partial(
                run_process, MINIMAL_ACTOR, actor_input, same_requests
            )
        runs = interleaved(variants, plan.cold_pairs, warmup=1)
        wall, rss = walls_and_rss(runs)
        what = f"{label}: {{}}, the actor vs minimal actor"
        section.rows += paired_rows("Cold run", what, (wall, rss), ("actor", "minimal"), COLD_GOAL)
        section.samples[f"{label} wall"] = wall["actor"]
        section.details.append(
            f"- {label} `{json.dumps(actor_input)}`: actor {spread(wall['actor'], 's')},"
            f" minimal {spread(wall['minimal'], 's')}; peak RSS actor"
            f" {spread(rss['actor'], 'MiB')}, minimal {spread(rss['minimal'], 'MiB')}."
        )
        if label == "map":
            section.rows += [
                Row(
                    "Cold run",
                    f"{what.format('peak RSS')} {floor}",
                    median(rss["actor"]),
                    median(rss[name]),
                    "MiB",
                )
                for name, floor in (
                    ("same item", "pushing the actor's own item"),
                    ("same requests", "making the same requests with httpx, pushing the same item"),
                )
            ]
            section.details += [
                "  - The minimal actor pushing the actor's own item (its JSON read from a file,"
                f" {item_file.stat().st_size / 1000:.0f} kB): {spread(wall['same item'], 's')},"
                f" peak RSS {spread(rss['same item'], 'MiB')}. Local storage writes an item"
                " as indented JSON, whose memory grows with the item (before Python 3.13,"
                " indented JSON takes the pure-Python encoder); on the platform the SDK sends"
                " it compact.",
                f"  - The same, after GETting the {len(urls)} URLs the actor requests, one after"
                " the other, with one `httpx.AsyncClient` trusting the system's CA directory"
                f" (as the actor does here), each answer read as JSON:"
                f" {spread(wall['same requests'], 's')}, peak RSS"
                f" {spread(rss['same requests'], 'MiB')}. This client sends through httpx's"
                " default transport (httpcore and anyio); the actor's own transport"
                " (its `transport.py`: asyncio streams and h11) loads less than they do,"
                " which pays for its own code: validation, models, retries, the rate limit,"
                " the analysis.",
            ]
    section.details.append(_sandbox_share(sandbox, requests))
    return section


def _reference_map_run(
    sandbox: SandboxServer, env: dict[str, str]
) -> tuple[dict[str, Any], list[RecordedRequest]]:
    """One cold map run: the item it pushes, and the requests it made to the sandbox."""
    sandbox.reset()
    run = run_process(ACTOR, MAP_INPUT, env)
    return run.items[0], sandbox.requests


def _url(sandbox: SandboxServer, request: RecordedRequest) -> str:
    query = urllib.parse.urlencode(request.query)
    return f"{sandbox.url}{request.path}{'?' + query if query else ''}"


def _sandbox_share(sandbox: SandboxServer, requests: list[RecordedRequest]) -> str:
    """How long the sandbox takes to answer a map run's requests: part of the actor's wall
    time that is not the actor's."""
    started = time.perf_counter()
    for request in requests:
        fetch = urllib.request.Request(
            _url(sandbox, request), headers={"CG-API-KEY": SandboxServer.PRO_KEY}
        )
        with urllib.request.urlopen(fetch) as answer:
            answer.read()
    took = time.perf_counter() - started
    return (
        f"- A map run makes {len(requests)} requests to the sandbox"
        f" ({', '.join(r.path.rsplit('/', 1)[-1] for r in requests)}); the sandbox answers"
        f" them, one after the other, in {fmt(took, 's')} in all, which is in the actor's wall"
        " time but is not the actor's work."
    )


def import_costs(sandbox: SandboxServer, top: int = 12) -> Section:
    """What the actor imports beyond the minimal actor, from one ``-X importtime`` run each."""
    progress("import profile: one -X importtime run of each")
    env = actor_env(sandbox)
    ours = imports.parse(import_profile(ACTOR, MAP_INPUT, env))
    floor = imports.parse(import_profile(MINIMAL_ACTOR, MAP_INPUT, env))
    modules, floor_modules = {m.module for m in ours}, {m.module for m in floor}
    lines = [
        f"`python -X importtime`, one map run each: the actor imports {len(modules)}"
        f" modules in {imports.total_us(ours) / 1000:.0f} ms (own times summed), the minimal"
        f" actor {len(floor_modules)} in {imports.total_us(floor) / 1000:.0f} ms."
        " The report slows imports down, so these times rank costs rather than add up to the"
        " wall time. Packages only the actor imports, largest first:",
        "",
        "| package | own import time | modules | first imported by |",
        "|---|---|---|---|",
        *(
            f"| `{package.name}` | {package.self_us / 1000:.1f} ms | {package.modules} |"
            f" {_importer(package)} |"
            for package in imports.extra_packages(ours, floor)[:top]
        ),
        "",
        "The actor's own modules, with what they import first (so its `main` includes the SDK,"
        " which the minimal actor imports too):",
        "",
        "| module | own | cumulative |",
        "|---|---|---|",
        *(
            f"| `{module.module}` | {module.self_us / 1000:.1f} ms |"
            f" {module.cumulative_us / 1000:.1f} ms |"
            for module in imports.cumulative(ours, PACKAGE)[:top]
        ),
    ]
    return Section(details=lines)


def _importer(package: imports.Package) -> str:
    if package.imported_by:
        return f"`{package.imported_by}`"
    return "the program" if package.name == PACKAGE else "a function at run time (lazy import)"


# ---------------------------------------------------------------- 2. processing


def processing_row(plan: Plan) -> Section:
    """Validate, normalise and summarise a big map, against ``json.loads`` of it; and the same
    for the largest map size whose item still carries its levels."""
    rows: list[Row] = []
    details: list[str] = []
    for map_rows, what, goal in (
        (plan.map_rows, "validate, normalise, summarise", PROCESSING_GOAL),
        (plan.levels_rows, "the same, and place every level", None),
    ):
        progress(f"processing: {map_rows:,}-row map, {plan.processing_pairs} interleaved pairs")
        load = processing.payload(map_rows)
        runs = interleaved(
            {
                "actor": partial(processing.collected, processing.actor_pipeline, load),
                "json": partial(processing.collected, processing.json_loads, load),
            },
            plan.processing_pairs,
            warmup=1,
        )
        stages = processing.stage_medians(runs["actor"])
        storing, size, levels = processing.stored(processing.processed(load)[1])
        loads = [sample["total"] for sample in runs["json"]]
        row_what = f"{map_rows:,}-row map: {what} vs `json.loads`"
        rows.append(Row("Processing", row_what, stages["total"], median(loads), "s", goal))
        kept = (
            "keeps its levels"
            if levels
            else "leaves its levels out (with them it would pass the platform's 9 MB item"
            " limit), so they are not built"
        )
        details += [
            f"#### {map_rows:,} rows",
            "",
            f"- Body: {len(load.body) / 1e6:.1f} MB, {load.rows:,} rows in {load.buckets:,}"
            f" buckets (`sandbox_data.huge_map`), read against a current price of"
            f" {load.current_price:,.0f} (mid-map, so both sides are computed). The item {kept}.",
            f"- Actor {spread([s['total'] for s in runs['actor']], 's')}; `json.loads`"
            f" {spread(loads, 's')}.",
            "",
            "| stage | median | share |",
            "|---|---|---|",
            *(
                f"| {processing.STAGE_TITLES[stage]} | {fmt(stages[stage], 's')} |"
                f" {stages[stage] / stages['total']:.0%} |"
                for stage in processing.STAGES
            ),
            "",
            f"- Not in the row: the item is {size / 1e6:.1f} MB of compact JSON, and"
            " `Actor.push_data` on local storage then serialises it, indented, in"
            f" {fmt(storing, 's')} (measured once).",
            "",
        ]
    return Section(rows, details)


# ---------------------------------------------------------------- 3. batch


@dataclass(frozen=True)
class BatchBound:
    """The least time a batch can take, from the latency and from the rate limit.

    Every map job makes its map request and its pairs-markets request at once (one latency),
    after the run's single pair-list request; ``concurrency`` jobs run at a time. The client's
    limiter (aiolimiter, a leaky bucket) lets ``requests_per_minute`` requests pass at once
    and each further one a 1/rate of a minute later.
    """

    maps: int
    concurrency: int
    latency_s: float
    requests_per_minute: int
    shared_requests: int = 1
    requests_per_map: int = 2

    @property
    def rounds(self) -> int:
        return self.shared_requests + math.ceil(self.maps / self.concurrency)

    @property
    def latency_bound_s(self) -> float:
        return self.rounds * self.latency_s

    @property
    def requests(self) -> int:
        return self.shared_requests + self.maps * self.requests_per_map

    @property
    def rate_bound_s(self) -> float:
        excess = max(0, self.requests - self.requests_per_minute)
        return excess * 60 / self.requests_per_minute

    @property
    def bound_s(self) -> float:
        return max(self.latency_bound_s, self.rate_bound_s)


def default_of(field_name: str) -> int:
    """A map input field's default, as the actor's own input model declares it."""
    default = LiquidationMapInput.model_fields[field_name].default
    if not isinstance(default, int):
        raise TypeError(f"{field_name} has no integer default")
    return default


def batch_instruments(count: int) -> list[str]:
    """The first ``count`` instruments of the sandbox's pair list."""
    symbols = [
        f"{exchange}_{row['instrument_id']}"
        for exchange, rows in sandbox_data.supported_pairs().items()
        for row in rows
    ]
    return symbols[:count]


def request_window(requests: list[RecordedRequest], latency_s: float) -> float:
    """From the first request's arrival to the last answer's departure (about one latency
    after the last arrival)."""
    arrivals = [request.received_at for request in requests]
    return max(arrivals) + latency_s - min(arrivals)


@dataclass(frozen=True)
class Work:
    """A run through a slow upstream measured against a cold start: the wall times of each,
    interleaved, and the work between their medians."""

    walls: list[float]
    starts: list[float]

    @property
    def seconds(self) -> float:
        return median(self.walls) - median(self.starts)

    def detail(self, run: str, start: str) -> str:
        """The report's line on it: ``run`` ("batch run") and ``start`` ("a one-map run")."""
        return (
            f"- Work = {run} wall time {spread(self.walls, 's')} − cold start of {start}"
            f" against a sandbox without latency, interleaved with it,"
            f" {spread(self.starts, 's')} = {fmt(self.seconds, 's')}."
        )


def work_over_cold_start(
    slow_run: Callable[[], ProcessRun], single: Callable[[], ProcessRun], pairs: int
) -> Work:
    """``slow_run`` and ``single`` (one result against a sandbox without latency), ``pairs``
    times in turn, after one round that is not kept: it compiles bytecode when the row runs
    alone, and has the sandbox build the answers it keeps, which a real upstream has ready."""
    runs = interleaved({"slow": slow_run, "single": single}, pairs, warmup=SLOW_RUN_WARMUP)
    return Work([run.wall_s for run in runs["slow"]], [run.wall_s for run in runs["single"]])


def batch(plan: Plan) -> Section:
    """Many maps through a slow upstream, against the bound that latency and rate set."""
    instruments = batch_instruments(plan.batch_instruments)
    actor_input = {"mode": "liquidation_map", "symbols": instruments, "ranges": list(BATCH_RANGES)}
    maps = len(instruments) * len(BATCH_RANGES)
    bound = BatchBound(
        maps,
        default_of("max_concurrency"),
        plan.latency_ms / 1000,
        default_of("max_requests_per_minute"),
    )
    progress(f"batch: {maps} maps at {plan.latency_ms:g} ms, {plan.batch_pairs} interleaved pairs")
    windows: list[float] = []
    peaks: list[int] = []
    with SandboxServer(latency_ms=plan.latency_ms) as slow, SandboxServer() as fast:

        def batch_run() -> ProcessRun:
            slow.reset()
            run = run_process(ACTOR, actor_input, actor_env(slow), expect_items=maps)
            windows.append(request_window(slow.requests, bound.latency_s))
            peaks.append(slow.peak_in_flight(PAIR_MAP_PATH))
            return run

        single = partial(run_process, ACTOR, MAP_INPUT, actor_env(fast))
        work = work_over_cold_start(batch_run, single, plan.batch_pairs)
    windows, peaks = windows[SLOW_RUN_WARMUP:], peaks[SLOW_RUN_WARMUP:]  # as the runs kept
    row = Row(
        "Batch",
        f"{maps} maps at {plan.latency_ms:g} ms per request, maxConcurrency"
        f" {bound.concurrency} (default): work vs bound",
        work.seconds,
        bound.bound_s,
        "s",
        BATCH_GOAL,
    )
    details = [
        f"- Input: {len(instruments)} instruments (the sandbox's first, {instruments[0]} to"
        f" {instruments[-1]}) × ranges {', '.join(BATCH_RANGES)}; `maxConcurrency` and"
        " `maxRequestsPerMinute` left at the actor's defaults"
        f" ({bound.concurrency} and {bound.requests_per_minute}).",
        f"- Latency bound: (1 pair-list request + ⌈{maps}/{bound.concurrency}⌉ rounds of one"
        f" map job, whose map and price requests overlap) × {fmt(bound.latency_s, 's')} ="
        f" {bound.rounds} × {fmt(bound.latency_s, 's')} = {fmt(bound.latency_bound_s, 's')}.",
        f"- Rate bound: {bound.requests} requests at {bound.requests_per_minute}/min, of which"
        f" the limiter lets {bound.requests_per_minute} pass at once:"
        f" {fmt(bound.rate_bound_s, 's')} (does not bind)."
        if bound.rate_bound_s < bound.latency_bound_s
        else f"- Rate bound: {fmt(bound.rate_bound_s, 's')} (binds).",
        work.detail("batch run", "a one-map run"),
        f"- Cross-check from the sandbox's side: first request to last answer"
        f" {spread(windows, 's')}; at most {max(peaks)} map requests in flight at once.",
    ]
    return Section([row], details)


# ---------------------------------------------------------------- 4. chart


def chart(plan: Plan, sandbox: SandboxServer) -> Section:
    """Rendering one real chart, and what ``chart: true`` adds to a cold map run."""
    env = actor_env(sandbox)
    progress(f"chart: cold map runs with and without chart, {plan.chart_pairs} interleaved rounds")
    charted = {**MAP_INPUT, "chart": True}
    runs = interleaved(
        {
            "chart": partial(run_process, ACTOR, charted, env),
            "plain": partial(run_process, ACTOR, MAP_INPUT, env),
            "no font cache": partial(_without_matplotlib_cache, charted, env),
        },
        plan.chart_pairs,
        warmup=1,
    )
    item = LiquidationMapItem.model_validate(runs["plain"][0].items[0])
    progress(f"chart: {plan.chart_renders} renders of {item.symbol} {item.range}")
    started = time.perf_counter()
    from coinglass_liquidation_map.render import map_chart as charts  # noqa: PLC0415 - its import (matplotlib) is measured

    imported = time.perf_counter()
    charts.render_chart(item, datetime.now(UTC))
    first = time.perf_counter() - imported
    renders = []
    for _ in range(plan.chart_renders):
        begin = time.perf_counter()
        png = charts.render_chart(item, datetime.now(UTC))
        renders.append(time.perf_counter() - begin)
    walls = {name: [run.wall_s for run in done] for name, done in runs.items()}
    rss = {name: [run.peak_rss_mib for run in done] for name, done in runs.items()}
    rows = [
        Row(
            "Chart",
            f"render one chart ({item.symbol} {item.range}, warm process)",
            median(renders),
            None,
            "s",
        ),
        Row(
            "Chart",
            "cold map run with `chart: true` vs without: added wall time",
            median(walls["chart"]),
            median(walls["plain"]),
            "s",
            added=True,
        ),
    ]
    details = [
        f"- Render: {spread(renders, 's')}, {len(png) / 1024:.0f} KiB PNG; the first chart of"
        f" a process also imports `render.map_chart` (matplotlib, numpy)"
        f" {fmt(imported - started, 's')} and renders in {fmt(first, 's')}.",
        f"- Cold map run with chart {spread(walls['chart'], 's')}, without"
        f" {spread(walls['plain'], 's')}; peak RSS with chart {spread(rss['chart'], 'MiB')},"
        f" without {spread(rss['plain'], 'MiB')}.",
        f"- The same chart run with an empty matplotlib cache (`MPLCONFIGDIR`), as in a"
        f" container whose image was built without it: {spread(walls['no font cache'], 's')},"
        f" {fmt(median(walls['no font cache']) - median(walls['chart']), 's')} more (matplotlib"
        " rebuilds its font list).",
    ]
    return Section(rows, details)


def _without_matplotlib_cache(actor_input: object, env: dict[str, str]) -> ProcessRun:
    with tempfile.TemporaryDirectory(prefix="bench-matplotlib-") as config:
        return run_process(ACTOR, actor_input, {**env, "MPLCONFIGDIR": config})


# ---------------------------------------------------------------- 5. watch


def watch(plan: Plan, sandbox: SandboxServer) -> Section:
    """A cold map run that reads the last run's snapshot, compares and saves its own (the
    default), against the same run with ``trackChanges`` off."""
    env = actor_env(sandbox)
    seed = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    # What a scheduled run finds: only the named snapshot store outlives a run.
    earlier = local_run.run_actor(MAP_INPUT, seed / "earlier", env, capture=True)
    if earlier.returncode:
        raise RunFailed(f"the run that leaves a snapshot failed:\n{earlier.stdout}")
    store = Path("key_value_stores") / LiquidationMapInput.model_fields["snapshot_store"].default
    shutil.copytree(seed / "earlier" / store, seed / "next" / store)
    progress(f"watch: cold map runs with and without trackChanges, {plan.watch_pairs} pairs")
    untracked = {**MAP_INPUT, "trackChanges": False}
    runs = interleaved(
        {
            "tracked": partial(run_process, ACTOR, MAP_INPUT, env, seed=seed / "next"),
            "untracked": partial(run_process, ACTOR, untracked, env),
        },
        plan.watch_pairs,
        warmup=1,
    )
    shutil.rmtree(seed, ignore_errors=True)
    if runs["tracked"][0].items[0]["changes"] is None:
        raise RunFailed("the tracked run found no snapshot to compare with")
    walls, rss = walls_and_rss(runs)
    what = "map with `trackChanges` (a snapshot read, compared, written) vs without: {}"
    rows = paired_rows("Watch", what, (walls, rss), ("tracked", "untracked"), WATCH_GOAL)
    details = [
        f"- With trackChanges {spread(walls['tracked'], 's')}, peak RSS"
        f" {spread(rss['tracked'], 'MiB')}; without {spread(walls['untracked'], 's')},"
        f" {spread(rss['untracked'], 'MiB')}. Each tracked run starts from the snapshot an"
        " earlier run of the same map left in the snapshot store."
    ]
    return Section(rows, details)


# ---------------------------------------------------------------- 6. heatmaps


def heatmap_row(plan: Plan) -> Section:
    """Validate, read and record a big heatmap against ``json.loads`` of it, and draw one."""
    heatmap = heatmaps.load(plan.heatmap_cells)
    progress(f"heatmap: {plan.heatmap_cells:,} cells, {plan.processing_pairs} interleaved pairs")
    runs = interleaved(
        {
            "actor": partial(processing.collected, heatmaps.actor_pipeline, heatmap),
            "json": partial(processing.collected, heatmaps.json_loads, heatmap),
        },
        plan.processing_pairs,
        warmup=1,
    )
    ours = [sample["total"] for sample in runs["actor"]]
    loads = [sample["total"] for sample in runs["json"]]
    progress(f"heatmap: {plan.chart_renders} renders of a sandbox heatmap")
    from coinglass_liquidation_map.render.heatmap_chart import render_heatmap  # noqa: PLC0415 - matplotlib, measured

    drawn = heatmaps.item_of(heatmaps.sandbox_body("BTC", "24h", "model1"))
    renders = []
    for _ in range(plan.chart_renders + 1):
        begin = time.perf_counter()
        png = render_heatmap(drawn)
        renders.append(time.perf_counter() - begin)
    what = f"{plan.heatmap_cells:,}-cell heatmap: validate, read, fit, record vs `json.loads`"
    rows = [
        Row("Heatmap", what, median(ours), median(loads), "s", PROCESSING_GOAL),
        Row(
            "Heatmap",
            f"render one heatmap picture ({drawn.summary.cells:,} cells, warm process)",
            median(renders[1:]),
            None,
            "s",
        ),
    ]
    details = [
        f"- Body: {len(heatmap.body) / 1e6:.1f} MB (`sandbox_heatmaps.huge_heatmap`, 1,000"
        f" candles × 600 prices). Actor {spread(ours, 's')}; `json.loads` {spread(loads, 's')}.",
        f"- Render: {spread(renders[1:], 's')} after a first one of {fmt(renders[0], 's')},"
        f" {len(png) / 1024:.0f} KiB PNG.",
    ]
    return Section(rows, details)


# ---------------------------------------------------------------- 7. Standby

UPSTREAM_PER_MAP = 2  # the map and pairs-markets (the current price)


@dataclass(frozen=True)
class StandbySession:
    """What one Standby server process answered, under one ``standbyCacheSecs``."""

    cache_secs: int
    ready_s: float
    latencies: list[float]
    rps: float
    loaded_latencies: list[float]
    requests: int
    map_fetches: int
    upstream: int


def standby_upstream(plan: Plan) -> int:
    """Upstream requests of an uncached session: the pair list once, then every map's own."""
    return 1 + UPSTREAM_PER_MAP * plan.standby_requests


def standby_upstream_allowance() -> int:
    """Upstream requests that pass at once: the client's limiter lets its per-minute rate
    through as one burst, and the sandbox counts the Professional plan's per minute."""
    return min(default_of("max_requests_per_minute"), SandboxServer.RATE_LIMITS["PROFESSIONAL"])


def standby(plan: Plan, sandbox: SandboxServer, cold_walls: list[float] | None = None) -> Section:
    """A warm Standby server's ``GET /liquidation-map``, cached and uncached, against the cold
    batch run of the same map (the cold-run row's, else measured here between the sessions)."""
    if standby_upstream(plan) > standby_upstream_allowance():
        raise ValueError(
            f"an uncached Standby session would make {standby_upstream(plan)} upstream requests,"
            f" more than the {standby_upstream_allowance()} that pass at once: it would measure"
            " the rate limiter"
        )
    env = actor_env(sandbox)
    query = {"symbol": str(MAP_INPUT["symbol"]), "range": str(MAP_INPUT["range"])}
    queries = [
        {"symbol": symbol, "range": query["range"]}
        for symbol in batch_instruments(plan.standby_concurrency)
    ]
    distinct = len({json.dumps(q, sort_keys=True) for q in [query, *queries]})
    walls = cold_walls or []

    def cold_run() -> None:
        walls.append(run_process(ACTOR, MAP_INPUT, env).wall_s)

    def session(cache_secs: int) -> StandbySession:
        progress(
            f"standby, standbyCacheSecs {cache_secs}: {plan.standby_latency_requests}"
            f" sequential requests, {plan.standby_rate_requests} at {plan.standby_concurrency}"
            " at a time"
        )
        sandbox.reset()  # forgets the sandbox's per-minute count and recorded requests
        with standby_load.standby_server(env, {"standbyCacheSecs": cache_secs}) as server:
            standby_load.sequential_latencies(server.url, query, plan.standby_warmup)
            for warm in queries:
                standby_load.sequential_latencies(server.url, warm, 1)
            latencies = standby_load.sequential_latencies(
                server.url, query, plan.standby_latency_requests
            )
            rps, loaded = standby_load.throughput(server.url, queries, plan.standby_rate_requests)
        recorded = sandbox.requests
        return StandbySession(
            cache_secs,
            server.ready_s,
            latencies,
            rps,
            loaded,
            plan.standby_requests,
            sum(r.path == PAIR_MAP_PATH for r in recorded),
            len(recorded),
        )

    if cold_walls is None:
        progress("standby: cold map runs before, between and after the sessions")
        run_process(ACTOR, MAP_INPUT, env)  # unrecorded, as the cold-run row's warm-up round
        cold_run()
    cached = session(plan.standby_cache_secs)
    if cold_walls is None:
        cold_run()
    uncached = session(0)
    if cold_walls is None:
        cold_run()
    if cached.map_fetches != distinct:
        raise RunFailed(
            f"cached session: {cached.map_fetches} map fetches for {distinct} distinct queries"
        )
    if uncached.map_fetches != uncached.requests:
        raise RunFailed(
            f"uncached session: {uncached.map_fetches} map fetches for {uncached.requests}"
            " requests: answers were shared"
        )
    if uncached.upstream != standby_upstream(plan):
        raise RunFailed(
            f"uncached session: {uncached.upstream} upstream requests, not the"
            f" {standby_upstream(plan)} expected: some were retried"
        )
    hit, miss = median(cached.latencies), median(uncached.latencies)
    cold_wall = median(walls)
    concurrency = plan.standby_concurrency
    rows = [
        Row(
            "Standby",
            "warm `GET /liquidation-map`, median latency: uncached (`standbyCacheSecs: 0`)"
            f" vs cached (`standbyCacheSecs: {plan.standby_cache_secs}`)",
            miss,
            hit,
            "s",
        ),
        Row(
            "Standby",
            f"warm `GET /liquidation-map`, requests per second, {concurrency} at a time:"
            " cached vs uncached",
            cached.rps,
            uncached.rps,
            "req/s",
        ),
        Row(
            "Standby",
            "cold batch run of the same map (the actor) vs warm uncached latency",
            cold_wall,
            miss,
            "s",
        ),
    ]
    cold_source = (
        f"the cold-run row's map runs, {spread(walls, 's')}"
        if cold_walls is not None
        else f"{len(walls)} cold map runs of the actor measured here, one before, between"
        f" and after the two sessions after one unrecorded run, {spread(walls, 's')}"
    )
    details = [
        f"- Query `GET /liquidation-map?symbol={query['symbol']}&range={query['range']}`, the"
        " cold-run row's map, against the sandbox without added latency. One Standby server"
        " process per configuration (the actor with `APIFY_META_ORIGIN=STANDBY`, from the"
        " same compiled copy of its package and with the same environment as the cold runs,"
        " the run's input only `standbyCacheSecs`), started once, polled every 50 ms until"
        f" the readiness probe answers (cached {fmt(cached.ready_s, 's')}, uncached"
        f" {fmt(uncached.ready_s, 's')} from spawn), then warmed with {plan.standby_warmup}"
        " requests of the query and one of each concurrent query; terminated after.",
        f"- Latency: {plan.standby_latency_requests} requests one after the other on one"
        " keep-alive connection (sync httpx), from sending to the whole body read. Cached"
        f" {_latencies(cached.latencies)}; uncached {_latencies(uncached.latencies)}.",
        f"- Throughput: {plan.standby_rate_requests} requests by {concurrency} async httpx"
        f" workers on {concurrency} keep-alive connections, each worker asking its own map"
        f" (the sandbox's first {concurrency} instruments, range {query['range']}, maps of"
        " about the same size) until the count is reached; requests per second = count ÷"
        f" elapsed. Cached {fmt(cached.rps, 'req/s')}, latency under that load"
        f" {_latencies(cached.loaded_latencies)}; uncached {fmt(uncached.rps, 'req/s')},"
        f" {_latencies(uncached.loaded_latencies)}. Distinct queries are used because, with"
        " the cache at 0 s, concurrent identical requests still share one in-flight fetch:"
        " the same query from every worker would not be uncached.",
        f"- Upstream, from the sandbox's log: the cached session fetched {cached.map_fetches}"
        f" maps for {cached.requests} requests (one per distinct query), {cached.upstream}"
        f" requests in all; the uncached session fetched {uncached.map_fetches} maps for"
        f" {uncached.requests} requests, {uncached.upstream} requests in all (the pair list"
        f" once, then the map and pairs-markets per answer), within the"
        f" {standby_upstream_allowance()} the rate limits let through at once.",
        f"- Cold batch run: {cold_source}. The ratio is cold wall time ÷ warm uncached median"
        " latency: how many uncached answers a warm server gives in the time one batch run"
        " takes.",
        "- The client and the sandbox share the benchmark's process (and its GIL); the Standby"
        " server has its own. Every answer is charged (`LIQUIDATION_MAP`) on local storage,"
        " as on the platform.",
    ]
    return Section(rows, details)


def _latencies(values: list[float]) -> str:
    return f"{spread(values, 's')}, p90 {fmt(percentile(values, 0.9), 's')}"
