"""What every row shares: interleaved repetitions, medians, the machine, and the table.

A row compares our number with a baseline measured in the same run, repetitions interleaved
(A, B, A, B, ...) so that a slower moment of the machine hits both sides alike, and reports the
median of each side, their ratio, the goal and whether the goal is met.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TypeVar

DOCKERFILE = Path(__file__).resolve().parent.parent / "Dockerfile"
# The rows of the benchmark, in table order.
ROW_NAMES = (
    "Cold run",
    "Processing",
    "Batch",
    "Chart",
    "Watch",
    "Heatmap",
    "Scan",
    "Positions",
    "Standby",
)
NOT_RUN = "not run"

T = TypeVar("T")


def interleaved(
    variants: Mapping[str, Callable[[], T]], repetitions: int, *, warmup: int = 0
) -> dict[str, list[T]]:
    """Each variant's results, called in turn (A, B, A, B, ...) ``repetitions`` times.

    ``warmup`` rounds run first and are not kept: they fill the page cache and compile
    bytecode, which a deployed image has done before its first run.
    """
    for _ in range(warmup):
        for run in variants.values():
            run()
    results: dict[str, list[T]] = {name: [] for name in variants}
    for _ in range(repetitions):
        for name, run in variants.items():
            results[name].append(run())
    return results


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], share: float) -> float:
    """The value ``share`` (0..1) of the way up the sorted values, interpolated."""
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def spread(values: Sequence[float], unit: str) -> str:
    """``median (min–max, n=7)``, for the details below the table."""
    low, high = min(values), max(values)
    return f"{fmt(median(values), unit)} ({fmt(low, unit)}–{fmt(high, unit)}, n={len(values)})"


def fmt(value: float, unit: str) -> str:
    """A measured quantity as a reader wants it: ``0.94 s``, ``312 ms``, ``75.3 MiB``."""
    if unit == "s":
        return f"{value * 1000:.3g} ms" if abs(value) < 1 else f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    if unit == "x":
        return f"{value:.2f}×"
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    return f"{value:g} {unit}"


@dataclass(frozen=True)
class Row:
    """One line of the table: ours against a baseline, and the goal for their ratio.

    ``goal`` is the largest ratio that meets it (None: reported only). ``added`` shows the
    difference instead of the ratio, for costs that have no natural baseline ratio.
    """

    name: str
    what: str
    ours: float | None
    baseline: float | None
    unit: str
    goal: float | None = None
    added: bool = False

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.baseline:
            return None
        return self.ours / self.baseline

    @property
    def met(self) -> str:
        if self.ours is None:
            return NOT_RUN
        if self.goal is None or self.ratio is None:
            return "reported"
        return "yes" if self.ratio <= self.goal else "**no**"

    def cells(self) -> list[str]:
        if self.ours is None:
            return [self.name, self.what, NOT_RUN, "", "", self._goal_text(), self.met]
        baseline = "" if self.baseline is None else fmt(self.baseline, self.unit)
        if self.added and self.baseline is not None:
            compared = f"+{fmt(self.ours - self.baseline, self.unit)}"
        elif self.ratio is not None:
            compared = fmt(self.ratio, "x")
        else:
            compared = ""
        return [
            self.name,
            self.what,
            fmt(self.ours, self.unit),
            baseline,
            compared,
            self._goal_text(),
            self.met,
        ]

    def _goal_text(self) -> str:
        return "" if self.goal is None else f"≤ {self.goal:.2f}×"


TABLE_HEADER = ["Row", "What", "Ours (median)", "Baseline (median)", "Ratio", "Goal", "Met"]


def table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table, which reads as plain text too."""
    lines = [TABLE_HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(TABLE_HEADER))]

    def render(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([render(lines[0]), rule, *(render(line) for line in lines[1:])])


@dataclass(frozen=True)
class Machine:
    """What the numbers were measured on."""

    cpu: str
    cores: int
    python: str
    system: str
    date: str
    packages: dict[str, str] = field(default_factory=dict)
    image_python: str | None = None  # the actor image's Python, from the Dockerfile

    def markdown(self) -> str:
        versions = ", ".join(f"{name} {version}" for name, version in self.packages.items())
        python = f"Python {self.python} on {self.system}"
        if self.image_python and not self.python.startswith(f"{self.image_python}."):
            python += (
                f"; the image runs Python {self.image_python}, so these numbers are not quite"
                " the product's (`make` builds `.venv` from the image's Python where the"
                " machine has one)"
            )
        return "\n".join(
            [
                f"- CPU: {self.cpu}, {self.cores} cores available",
                f"- {python}",
                f"- Packages: {versions}",
                f"- Date: {self.date}",
            ]
        )


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name as the kernel reports it (``platform`` elsewhere)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return platform.processor() or platform.machine() or "unknown"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in {"model name", "Model", "cpu model"} and value.strip():
            return value.strip()
    return platform.machine() or "unknown"


def machine(packages: Sequence[str] = ("apify", "pydantic", "httpx", "matplotlib")) -> Machine:
    versions: dict[str, str] = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return Machine(
        cpu=cpu_model(),
        cores=len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count() or 1,
        python=platform.python_version(),
        system=f"{platform.system()} {platform.release()}",
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        packages=versions,
        image_python=image_python(),
    )


def image_python(dockerfile: Path = DOCKERFILE) -> str | None:
    """The Python version the actor's image runs: its base image's tag (``3.13``)."""
    found = re.search(r"^FROM apify/actor-python:(\d+\.\d+)", dockerfile.read_text(), re.M)
    return found[1] if found else None
