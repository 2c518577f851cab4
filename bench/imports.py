"""Where a cold start's import time goes: ``-X importtime`` reports, read and compared.

The actor's report is compared with the minimal actor's: what only the actor imports is the
part of the start-up that is ours to shrink. ``-X importtime`` slows imports down a little, so
its times are for ranking, not for adding up to the wall time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

PREFIX = "import time:"


@dataclass(frozen=True)
class Imported:
    """One module of the report: its own time and the time with everything it imported."""

    module: str
    self_us: int
    cumulative_us: int
    depth: int = 0  # nesting in the report: 0 for a module the program imported itself
    importer: str | None = None  # the module whose import brought this one in

    @property
    def package(self) -> str:
        return self.module.split(".")[0]


def parse(report: str) -> list[Imported]:
    """Every module of an ``-X importtime`` report, in the order they finished importing.

    The report lists a module after everything it imported, indented one step (two spaces)
    deeper than its importer, so a module's importer is the next line that is less indented.
    """
    rows: list[tuple[str, int, int, int]] = []
    for line in report.splitlines():
        if not line.startswith(PREFIX):
            continue
        own, cumulative, name = line[len(PREFIX) :].split("|", 2)
        if not own.strip().isdigit():  # the header line
            continue
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        rows.append((name.strip(), int(own), int(cumulative), depth))
    modules: list[Imported] = []
    for index, (name, own_us, cumulative_us, depth) in enumerate(rows):
        importer = next((later[0] for later in rows[index + 1 :] if later[3] < depth), None)
        modules.append(Imported(name, own_us, cumulative_us, depth, importer))
    return modules


@dataclass(frozen=True)
class Package:
    """A top-level package only one program imports: its modules' own times summed, and who
    imported it first."""

    name: str
    self_us: int
    modules: int
    imported_by: str | None


def extra_packages(ours: list[Imported], floor: list[Imported]) -> list[Package]:
    """Packages (by top-level name) whose modules only ``ours`` imports, largest first."""
    seen = {module.module for module in floor}
    totals: dict[str, int] = defaultdict(int)
    names: dict[str, set[str]] = defaultdict(set)
    entry: dict[str, Imported] = {}
    for module in ours:
        if module.module in seen:
            continue
        totals[module.package] += module.self_us
        names[module.package].add(module.module)  # a failed import is listed at each try
        # The package's shallowest module is where it was entered from outside.
        if module.package not in entry or module.depth < entry[module.package].depth:
            entry[module.package] = module
    packages = [
        Package(name, totals[name], len(names[name]), _outside_importer(entry[name], ours))
        for name in totals
    ]
    return sorted(packages, key=lambda package: -package.self_us)


def _outside_importer(module: Imported, modules: list[Imported]) -> str | None:
    by_name = {m.module: m for m in modules}
    importer = module.importer
    while importer is not None and importer.split(".")[0] == module.package:
        importer = by_name[importer].importer if importer in by_name else None
    return importer


def cumulative(modules: list[Imported], prefix: str) -> list[Imported]:
    """The modules named ``prefix`` or under it, slowest (with what they import) first."""
    chosen = [m for m in modules if m.module == prefix or m.module.startswith(prefix + ".")]
    return sorted(chosen, key=lambda module: -module.cumulative_us)


def total_us(modules: list[Imported]) -> int:
    return sum(module.self_us for module in modules)
