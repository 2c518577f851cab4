"""The house rules of ``src/``, read from the code itself with ``ast``: which room may import
what, where CoinGlass's paths live, and how long a room may grow. Each rule is also shown to
catch a deliberately broken copy of ``src``."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
MAX_MODULE_LINES = 400
# What the pure core must never reach, directly or through another module of src: I/O,
# clocks, chance, Apify, HTTP, web servers and drawing.
IMPURE = frozenset(
    {
        "apify",
        "crawlee",
        "httpx",
        "aiolimiter",
        "starlette",
        "uvicorn",
        "mcp",
        "matplotlib",
        "asyncio",
        "os",
        "socket",
        "time",
        "random",
        "pathlib",
        "shutil",
        "subprocess",
        "tempfile",
        "urllib",
        "ssl",
    }
)
APIFY_AND_SERVERS = frozenset({"apify", "crawlee", "starlette", "uvicorn", "mcp"})
# Room → what it may not import, directly or through the modules of src it imports.
FORBIDDEN: dict[str, frozenset[str]] = {
    "src.analysis": IMPURE,
    "src.coinglass.payloads": IMPURE,
    "src.coinglass.heatmap_payloads": IMPURE,
    "src.render.formatting": IMPURE,
    "src.inputs": IMPURE,
    "src.outputs": IMPURE,
    "src.records": IMPURE,
    "src.errors": IMPURE,
    "src.coinglass": APIFY_AND_SERVERS | {"matplotlib"},
    "src.modes": APIFY_AND_SERVERS | {"matplotlib"},
    "src.render": APIFY_AND_SERVERS | {"httpx"},
}
# Rooms that must not reach into the rooms built on them.
FORBIDDEN_ROOMS: dict[str, tuple[str, ...]] = {
    "src.analysis": ("src.coinglass.client", "src.coinglass.endpoints", "src.modes", "src.run"),
    "src.coinglass": ("src.analysis", "src.modes", "src.run", "src.render", "src.standby"),
    "src.modes": ("src.run", "src.render", "src.standby"),
    "src.render": ("src.coinglass", "src.modes", "src.run", "src.standby"),
    "src.run": ("src.standby",),
}
# Rooms that read no clock: results must follow from their inputs alone.
PURE_ROOMS = (
    "src.analysis",
    "src.coinglass.payloads",
    "src.coinglass.heatmap_payloads",
    "src.render.formatting",
    "src.inputs",
    "src.outputs",
    "src.records",
    "src.errors",
)
# A clock read, called or handed on (``clock=datetime.now``), and a file opened.
CLOCK_NAMES = frozenset({"now", "today", "utcnow", "monotonic", "perf_counter"})
CLIENT_PACKAGE = "src.coinglass"
COINGLASS_PATH_PREFIX = "/api/"


@dataclass(frozen=True)
class Module:
    name: str  # src.analysis.liqmap
    path: Path
    tree: ast.Module
    shown: str  # src/analysis/liqmap.py

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


def modules(root: Path) -> dict[str, Module]:
    """Every module of the package at ``root``, by dotted name."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text(), str(path))
        found[name] = Module(name, path, tree, str(path.relative_to(root.parent)))
    return found


def imported(module: Module, known: set[str]) -> set[str]:
    """Every module ``module`` imports anywhere (lazily and for type checking too): modules of
    src by their full name, with the packages whose ``__init__`` that runs, and the others by
    their top-level name."""
    names: set[str] = set()
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:  # from ..run import billing, inside src.analysis
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            names.add(source)
            # ``from src.modes import maps`` imports the module src.modes.maps
            names.update(
                f"{source}.{alias.name}"
                for alias in node.names
                if f"{source}.{alias.name}" in known
            )
    found: set[str] = set()
    for name in names:
        parts = name.split(".")
        if parts[0] != "src":
            found.add(parts[0])
            continue
        found.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return {name for name in found if name.split(".")[0] != "src" or name in known}


def reached(start: str, graph: dict[str, set[str]]) -> Iterator[tuple[str, str]]:
    """Each (module of src, what it imports) that ``start`` imports, directly or not."""
    seen, todo = {start}, [start]
    while todo:
        current = todo.pop()
        for name in sorted(graph[current]):
            yield current, name
            if name in graph and name not in seen:
                seen.add(name)
                todo.append(name)


def in_room(name: str, room: str) -> bool:
    return name == room or name.startswith(f"{room}.")


def import_problems(module: Module, graph: dict[str, set[str]]) -> Iterator[str]:
    """Libraries and rooms ``module`` may not reach."""
    name, shown = module.name, module.shown
    for room, forbidden in FORBIDDEN.items():
        if in_room(name, room):
            for importer, target in reached(name, graph):
                if target in forbidden:
                    via = "" if importer == name else f" through {importer}"
                    yield f"{shown} imports {target}{via}"
    for room, rooms in FORBIDDEN_ROOMS.items():
        if in_room(name, room):
            for target in sorted(graph[name]):
                if any(in_room(target, other) for other in rooms):
                    yield f"{shown} imports {target}, a room built on it"


def code_problems(module: Module) -> Iterator[str]:
    """CoinGlass paths outside the client, and clocks or files in the pure rooms."""
    pure = any(in_room(module.name, room) for room in PURE_ROOMS)
    for node in ast.walk(module.tree):
        if (
            not in_room(module.name, CLIENT_PACKAGE)
            and isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and COINGLASS_PATH_PREFIX in node.value
        ):
            yield f"{module.shown}:{node.lineno} names the CoinGlass path {node.value!r}"
        if pure and isinstance(node, ast.Attribute) and node.attr in CLOCK_NAMES:
            yield f"{module.shown}:{node.lineno} reads the clock ({node.attr})"
        if pure and isinstance(node, ast.Name) and node.id == "open":
            yield f"{module.shown}:{node.lineno} opens a file"


def shape_problems(module: Module) -> Iterator[str]:
    """A package that does not say what lives there, and a room grown too long."""
    if module.is_package and not ast.get_docstring(module.tree):
        yield f"{module.shown} has no docstring saying what lives there"
    lines = len(module.path.read_text().splitlines())
    if lines > MAX_MODULE_LINES:
        yield f"{module.shown} has {lines} lines, more than {MAX_MODULE_LINES}"


def violations(root: Path) -> list[str]:
    """What breaks the house rules in the package at ``root``, one sentence each."""
    found = modules(root)
    graph = {name: imported(module, set(found)) for name, module in found.items()}
    problems: set[str] = set()
    for module in found.values():
        problems.update(import_problems(module, graph))
        problems.update(code_problems(module))
        problems.update(shape_problems(module))
    return sorted(problems)


def test_src_keeps_the_house_rules() -> None:
    assert violations(SRC) == []


def test_the_readme_walks_every_room() -> None:
    readme = (SRC.parent / "README.md").read_text()
    rooms = sorted(path.parent.name for path in SRC.glob("*/__init__.py"))
    assert rooms == ["analysis", "coinglass", "modes", "render", "run", "standby"]
    assert [room for room in rooms if f"`src/{room}/`" not in readme] == []


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of src to break."""
    shutil.copytree(SRC, tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "src"


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


@pytest.mark.parametrize(
    ("module", "added", "reported"),
    [
        ("analysis/liqmap.py", "\nimport httpx\n", "src/analysis/liqmap.py imports httpx"),
        (
            "analysis/markets.py",
            "\n\ndef later() -> None:\n    from apify import Actor  # noqa\n",
            "src/analysis/markets.py imports apify",
        ),
        ("outputs.py", "\nimport time\n", "src/outputs.py imports time"),
        (
            "render/formatting.py",
            "\nfrom src.run import billing\n",
            "src/render/formatting.py imports apify through src.run.billing",
        ),
        (
            "coinglass/client.py",
            "\nfrom apify import Actor\n",
            "src/coinglass/client.py imports apify",
        ),
        (
            "coinglass/endpoints.py",
            "\nfrom src.modes import maps\n",
            "src/coinglass/endpoints.py imports src.modes.maps, a room built on it",
        ),
        (
            "modes/maps.py",
            "\nfrom src.run import item_limit\n",
            "src/modes/maps.py imports src.run.item_limit, a room built on it",
        ),
        (
            "run/runner.py",
            '\nPATH = "/api/futures/liquidation/map"\n',
            "src/run/runner.py:",
        ),
        ("render/__init__.py", "", "src/render/__init__.py has no docstring"),
        ("render/chart.py", "\n" * MAX_MODULE_LINES, "src/render/chart.py has"),
        (
            "analysis/symbols.py",
            "\n\ndef stamp() -> object:\n    import datetime  # noqa\n\n"
            "    return datetime.datetime.now()\n",
            "src/analysis/symbols.py:",
        ),
        (
            "outputs.py",
            "\nfrom datetime import datetime\nCLOCK = datetime.now\n",
            "src/outputs.py:",
        ),
        ("errors.py", "\nTEXT = open('x').read()  # noqa\n", "src/errors.py:"),
    ],
)
def test_a_broken_copy_is_caught(broken: Path, module: str, added: str, reported: str) -> None:
    path = broken / module
    if path.name == "__init__.py" and not added:
        path.write_text("")
    else:
        append(path, added)
    assert any(problem.startswith(reported) for problem in violations(broken)), violations(broken)


def test_a_package_whose_init_imports_httpx_is_caught(broken: Path) -> None:
    # Importing src.coinglass.payloads runs src/coinglass/__init__.py first.
    append(broken / "coinglass" / "__init__.py", "\nimport httpx\n")
    problems = violations(broken)
    assert "src/analysis/liqmap.py imports httpx through src.coinglass" in problems


@pytest.mark.parametrize(
    ("module", "added", "reported"),
    [
        (
            "analysis/markets.py",
            "\nfrom ..run import billing\n",
            "src/analysis/markets.py imports apify through src.run.billing",
        ),
        (
            "analysis/markets.py",
            "\nfrom ..run.billing import EVENTS\n",
            "src/analysis/markets.py imports apify through src.run.billing",
        ),
        (
            "analysis/__init__.py",
            "\nfrom . import symbols\nfrom ..run import billing\n",
            "src/analysis/__init__.py imports apify through src.run.billing",
        ),
        (
            "render/formatting.py",
            "\nfrom . import chart\n",
            "src/render/formatting.py imports matplotlib through src.render.chart",
        ),
    ],
)
def test_a_relative_import_is_read_as_the_module_it_names(
    broken: Path, module: str, added: str, reported: str
) -> None:
    append(broken / module, added)
    assert reported in violations(broken)


def test_the_analysis_reaching_httpx_through_another_module_is_caught(broken: Path) -> None:
    # A pure module imports nothing impure itself, but a module it imports does.
    append(broken / "coinglass" / "payloads.py", "\nimport httpx\n")
    problems = violations(broken)
    assert "src/analysis/liqmap.py imports httpx through src.coinglass.payloads" in problems
