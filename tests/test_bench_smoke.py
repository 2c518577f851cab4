"""`make bench` in miniature: one small processing row and the report, no timings asserted."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from helpers import MARKETS_PATH, PAIRS_PATH
from sandbox_server import SandboxServer

from bench import imports, run
from bench.measure import ROW_NAMES, Row, fmt, image_python, machine, percentile, table
from bench.processes import MINIMAL_ACTOR, RunFailed, actor_env, run_process
from bench.rows import BatchBound, Plan, standby_upstream, standby_upstream_allowance

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |     sniffio
import time:       200 |        200 |     click
import time:       300 |        620 |   httpx._main
import time:       500 |       1120 | httpx
import time:        80 |         80 | coinglass_liquidation_map.errors
"""


def test_processing_row_prints_the_table_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "BENCHMARKS.md"
    argv = ["--only", "processing", "--reps", "1", "--rows", "2000", "--output", str(report)]
    assert run.main(argv) == 0
    printed = capsys.readouterr().out
    for name in ROW_NAMES:
        assert name in printed
    assert "2,000-row map" in printed
    written = report.read_text()
    assert "## Machine" in written
    assert "parse: Envelope[PairMapPayload]" in written  # the split of the processing time


def test_table_says_whether_each_goal_is_met() -> None:
    rows = [
        Row("Cold run", "wall time", 1.0, 0.8, "s", goal=1.10),
        Row("Processing", "map", 0.2, 0.1, "s", goal=3.0),
        Row("Batch", "", None, None, ""),
        Row("Chart", "added", 1.5, 1.0, "s", added=True),
    ]
    assert [row.cells()[4:] for row in rows] == [
        ["1.25×", "≤ 1.10×", "**no**"],
        ["2.00×", "≤ 3.00×", "yes"],
        ["", "", "not run"],
        ["+500 ms", "", "reported"],
    ]
    lines = table(rows).splitlines()
    assert len(lines) == 2 + len(rows)
    assert len({len(line) for line in lines}) == 1  # columns line up


def test_batch_bound_is_the_latency_bound_when_the_rate_limit_does_not_bind() -> None:
    bound = BatchBound(maps=60, concurrency=4, latency_s=0.2, requests_per_minute=1000)
    assert bound.requests == 121
    assert bound.rate_bound_s == 0
    assert bound.bound_s == pytest.approx(0.2 * 16)
    slow = BatchBound(maps=60, concurrency=4, latency_s=0.2, requests_per_minute=60)
    assert slow.bound_s == pytest.approx(61)  # 61 requests beyond the first 60, one a second


def test_import_report_names_who_imported_a_package() -> None:
    ours = imports.parse(IMPORTTIME)
    floor = imports.parse(IMPORTTIME.replace("httpx", "other").replace("click", "other"))
    httpx, click = imports.extra_packages(ours, floor)
    assert (httpx.name, httpx.self_us, httpx.modules, httpx.imported_by) == ("httpx", 800, 2, None)
    assert (click.name, click.self_us, click.imported_by) == ("click", 200, "httpx._main")


def test_standby_plan_stays_within_what_the_rate_limits_let_through_at_once() -> None:
    plan = Plan()
    assert plan.standby_requests == 10 + 8 + 200 + 200
    assert standby_upstream(plan) == 1 + 2 * plan.standby_requests
    assert standby_upstream(plan) <= standby_upstream_allowance()  # else it measures a limiter
    assert percentile([4.0, 1.0, 3.0, 2.0, 5.0], 0.9) == pytest.approx(4.6)
    assert fmt(1234.4, "req/s") == "1,234 req/s"


def test_report_says_when_the_numbers_were_not_measured_on_the_images_python(
    tmp_path: Path,
) -> None:
    assert image_python() == "3.13"  # apify/actor-python:3.13, the Dockerfile's base
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("# image\nFROM apify/actor-python:3.12-preview\nUSER myuser\n")
    assert image_python(dockerfile) == "3.12"
    here = machine()
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    same = dataclasses.replace(here, python=f"{running}.4", image_python=running)
    other = dataclasses.replace(here, python="3.11.7", image_python="3.1")
    assert "not quite the product's" not in same.markdown()
    assert "; the image runs Python 3.1, so these numbers are not quite" in other.markdown()


def test_httpx_floor_makes_the_requests_it_is_given_and_never_measures_a_failure(
    sandbox: SandboxServer,
) -> None:
    pairs = f"{sandbox.url}{PAIRS_PATH}"
    prices = f"{sandbox.url}{MARKETS_PATH}?symbol=BTC"
    env = {**actor_env(sandbox), "MINIMAL_ACTOR_FETCH": f'["{pairs}", "{prices}"]'}
    floor = run_process(MINIMAL_ACTOR, {"mode": "liquidation_map"}, env)
    assert floor.items == [{"success": True, "input": {"mode": "liquidation_map"}}]
    asked = [(r.path, r.query, r.headers["cg-api-key"]) for r in sandbox.requests]
    assert asked == [
        (PAIRS_PATH, {}, SandboxServer.PRO_KEY),
        (MARKETS_PATH, {"symbol": "BTC"}, SandboxServer.PRO_KEY),
    ]
    sandbox.add_faults("invalid_key_200")  # HTTP 200, CoinGlass code 400
    with pytest.raises(RunFailed, match="supported-exchange-pairs: CoinGlass answered 400"):
        run_process(MINIMAL_ACTOR, {}, env)
