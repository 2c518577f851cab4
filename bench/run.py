"""`make bench`: measure the actor against its floor, print the table, write BENCHMARKS.md.

    python bench/run.py                        # every row, writes BENCHMARKS.md
    python bench/run.py --only processing      # some rows, printed only
    python bench/run.py --reps 2 --rows 20000  # fewer repetitions, a smaller map

Rows: cold run (map and search) against a minimal actor, processing of a big map against
``json.loads``, a batch of maps through a slow upstream against its bound, charts, a map run
that tracks changes against one that does not, a big heatmap against ``json.loads`` and the
drawing of one, a market scan's reading against ``json.loads`` and a scan through a slow
upstream against its bound, a 50-page Hyperliquid positions run through a slow upstream
against its bound, and a warm Standby server's map answers (cached and uncached)
against the cold run.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# As a script, bench/ itself heads the path: its modules are imported as bench.* only.
sys.path = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
for folder in (ROOT / "scripts", ROOT / "sandbox", ROOT):
    if str(folder) not in sys.path:  # lets the file run as a script from any cwd
        sys.path.insert(0, str(folder))

from local_run import FOREIGN_PREFIXES, PACKAGE  # noqa: E402
from sandbox_server import SandboxServer  # noqa: E402

from bench import positions, rows, scan  # noqa: E402
from bench.measure import ROW_NAMES, Machine, Row, machine, table  # noqa: E402

DOCUMENT = ROOT / "BENCHMARKS.md"
ROW_KEYS = dict(
    zip(
        (
            "cold",
            "processing",
            "batch",
            "chart",
            "watch",
            "heatmap",
            "scan",
            "positions",
            "standby",
        ),
        ROW_NAMES,
        strict=True,
    )
)


def measure(only: Sequence[str], plan: rows.Plan, *, imports: bool) -> dict[str, rows.Section]:
    """The sections of the rows asked for, keyed by row name, in table order."""
    sections: dict[str, rows.Section] = {}
    with SandboxServer() as sandbox:
        steps: dict[str, Callable[[], rows.Section]] = {
            "cold": lambda: rows.cold(plan, sandbox),
            "processing": lambda: rows.processing_row(plan),
            "batch": lambda: rows.batch(plan),
            "chart": lambda: rows.chart(plan, sandbox),
            "watch": lambda: rows.watch(plan, sandbox),
            "heatmap": lambda: rows.heatmap_row(plan),
            "scan": lambda: scan.section(plan),
            "positions": lambda: positions.section(plan),
            # reuses the cold-run row's map runs when that row ran first
            "standby": lambda: rows.standby(plan, sandbox, _cold_map_walls(sections)),
        }
        for key, name in ROW_KEYS.items():
            if key in only:
                sections[name] = steps[key]()
        if imports:
            sections["Import costs"] = rows.import_costs(sandbox)
    return sections


def _cold_map_walls(sections: dict[str, rows.Section]) -> list[float] | None:
    cold = sections.get("Cold run")
    return cold.samples.get("map wall") if cold else None


def table_rows(sections: dict[str, rows.Section]) -> list[Row]:
    """Every row of the table; a row that was not measured says so."""
    result: list[Row] = []
    for name in ROW_NAMES:
        section = sections.get(name)
        result += section.rows if section else [Row(name, "", None, None, "")]
    return result


def verdict(measured: list[Row]) -> str:
    judged = [row for row in measured if row.met in {"yes", "**no**"}]
    met = sum(row.met == "yes" for row in judged)
    return f"Goals met: {met} of {len(judged)}."


def document(sections: dict[str, rows.Section], plan: rows.Plan, host: Machine) -> str:
    measured = table_rows(sections)
    parts = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); run it again rather than editing this file.",
        "",
        "## Machine",
        "",
        host.markdown(),
        "",
        "## Results",
        "",
        table(measured),
        "",
        verdict(measured),
        "",
        "## Method",
        "",
        "- Each row is measured side by side with its baseline in one run, repetitions"
        " interleaved (ours, baseline, ours, baseline, ...), and reports medians. Ratio is ours"
        " ÷ baseline; a goal is the largest ratio that meets it.",
        f"- Repetitions: {plan.cold_pairs} pairs per cold-run row, {plan.processing_pairs} for"
        f" processing, {plan.batch_pairs} for the batch, the scan and the positions; for charts"
        f" {plan.chart_pairs} rounds"
        " of three cold runs (with a chart, without, with a chart and an empty matplotlib"
        f" cache) and {plan.chart_renders} renders. Cold runs, processing and charts first run"
        " one unrecorded round (page cache, pydantic schemas, matplotlib's font cache); so do"
        " the batch, the scan and the positions (bytecode, and the answers the sandbox builds"
        " once and keeps, as a real upstream has them ready). Standby: one server process per cache"
        f" setting, {plan.standby_warmup} warm-up requests, {plan.standby_latency_requests}"
        f" sequential requests for latency, {plan.standby_rate_requests} at"
        f" {plan.standby_concurrency} at a time for throughput.",
        f"- Cold runs are real processes (`python -m {PACKAGE}` and"
        " `python bench/minimal_actor.py`,"
        " which does `async with Actor`, `Actor.get_input()` and one `Actor.push_data`) in the"
        " same interpreter, on local storage (in `/dev/shm` where the machine has it, so the"
        " last run's files being deleted does not slow the next run's writes) with the"
        " Console's event prices, against the"
        " loopback CoinGlass sandbox without added latency. Wall time is from spawn to exit;"
        " peak RSS is the child's own `ru_maxrss` from `os.wait4`, read by a small launcher"
        " (`bench/spawn.py`): spawned from the benchmark itself, which holds big maps, a child"
        " would report the benchmark's peak, as Linux starts it from the image exec replaced.",
        "- The actor runs from a copy of its package taken when the benchmark starts, its bytecode"
        " compiled ahead as the image's `compileall` step does; both actors start in that"
        " folder. Their environment is the benchmark's without the variables that change what"
        f" a run does ({', '.join(f'`{prefix}*`' for prefix in FOREIGN_PREFIXES)}), as the image"
        " sets none of them.",
        "- Every run starts on empty storage, as a new run on the platform does. That includes"
        " the named key-value store `coinglass-cache`, so each actor run fetches the pair list"
        " (a cold cache: the fair cold case; a scheduled run within `symbolCacheTtlSecs` of the"
        " previous one saves that request).",
        "",
        "## Details",
    ]
    for name, section in sections.items():
        if section.details:
            parts += ["", f"### {name}", "", *section.details]
    return "\n".join(parts) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--only",
        default=",".join(ROW_KEYS),
        help=f"comma-separated rows to measure, of {', '.join(ROW_KEYS)} (default: all)",
    )
    parser.add_argument("--reps", type=int, help="repetitions of every row (default: per row)")
    parser.add_argument(
        "--rows",
        type=int,
        help="rows of the processed map (default 100000; the map that keeps its levels: 2/5 of it)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the report (default: BENCHMARKS.md when every row is measured)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    only = [key.strip() for key in args.only.split(",") if key.strip()]
    unknown = sorted(set(only) - set(ROW_KEYS))
    if unknown:
        print(f"unknown row(s) {', '.join(unknown)}; choose from {', '.join(ROW_KEYS)}")
        return 2
    plan = rows.Plan() if args.reps is None else rows.Plan().scaled(args.reps)
    if args.rows is not None:
        plan = dataclasses.replace(plan, map_rows=args.rows, levels_rows=args.rows * 2 // 5)
    complete = set(only) == set(ROW_KEYS)
    sections = measure(only, plan, imports="cold" in only)
    measured = table_rows(sections)
    print(table(measured))
    print(verdict(measured))
    output = args.output or (DOCUMENT if complete else None)
    if output is not None:
        output.write_text(document(sections, plan, machine()))
        print(f"written: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
