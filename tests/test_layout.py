"""The house rules of the actor's package, read from the code itself with ``ast``: which room may
import what, where CoinGlass's paths live, and how long a room may grow. Each rule is also shown
to catch a deliberately broken copy of the package."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from local_run import PACKAGE

PKG = PACKAGE
SRC = Path(__file__).resolve().parent.parent / PKG
MAX_MODULE_LINES = 400
# What the pure core must never reach, directly or through another module of the package: I/O,
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
# The boundary models and the core: data in, data out, for any room to build on.
PURE_ROOMS = (
    f"{PKG}.analysis",
    f"{PKG}.market_data",
    f"{PKG}.coinglass.payloads",
    f"{PKG}.coinglass.heatmap_payloads",
    f"{PKG}.coinglass.hyperliquid_payloads",
    f"{PKG}.coinglass.history_payloads",
    f"{PKG}.coinglass.scan_payloads",
    f"{PKG}.plans",
    f"{PKG}.formatting",
    f"{PKG}.inputs",
    f"{PKG}.outputs",
    f"{PKG}.schemas",
    f"{PKG}.records",
    f"{PKG}.errors",
    f"{PKG}.catalog",
)
# Room → what it may not import, directly or through the modules of the package it imports.
FORBIDDEN: dict[str, frozenset[str]] = {
    **dict.fromkeys(PURE_ROOMS, IMPURE),
    f"{PKG}.coinglass": APIFY_AND_SERVERS | {"matplotlib"},
    f"{PKG}.modes": APIFY_AND_SERVERS - {"apify", "crawlee"},  # Apify through run's pieces only
    f"{PKG}.render": APIFY_AND_SERVERS | {"httpx"},
}
# Room → what it may not import itself (at the top of a module, or anywhere).
FORBIDDEN_DIRECTLY: dict[str, frozenset[str]] = {
    f"{PKG}.modes": frozenset({"apify", "crawlee", "matplotlib"}),
}
BOUNDARY_MODELS = (
    f"{PKG}.inputs",
    f"{PKG}.outputs",
    f"{PKG}.schemas",
    f"{PKG}.records",
    f"{PKG}.errors",
)
ROOMS_ABOVE_THE_BOUNDARY = (
    f"{PKG}.catalog",
    f"{PKG}.coinglass",
    f"{PKG}.analysis",
    f"{PKG}.modes",
    f"{PKG}.run",
    f"{PKG}.render",
    f"{PKG}.standby",
    f"{PKG}.main",
)
# Rooms that must not reach into the rooms built on them: imports run one way.
FORBIDDEN_ROOMS: dict[str, tuple[str, ...]] = {
    f"{PKG}.market_data": (PKG,),
    f"{PKG}.formatting": (
        f"{PKG}.analysis",
        f"{PKG}.render",
        *BOUNDARY_MODELS,
        f"{PKG}.catalog",
    ),
    **dict.fromkeys(BOUNDARY_MODELS, ROOMS_ABOVE_THE_BOUNDARY),
    # The catalog names each mode's pipeline; it imports none of them.
    f"{PKG}.catalog": ROOMS_ABOVE_THE_BOUNDARY[1:],
    # The client translates the wire into the core's own types, and knows no item or mode.
    f"{PKG}.coinglass": (
        f"{PKG}.analysis",
        f"{PKG}.modes",
        f"{PKG}.run",
        f"{PKG}.render",
        f"{PKG}.standby",
        f"{PKG}.catalog",
        *BOUNDARY_MODELS[:-1],
    ),
    # The core reads the core's types, never CoinGlass's wire models, and no picture.
    f"{PKG}.analysis": (
        f"{PKG}.coinglass",
        f"{PKG}.modes",
        f"{PKG}.run",
        f"{PKG}.render",
        f"{PKG}.standby",
    ),
    f"{PKG}.modes": (f"{PKG}.standby",),
    f"{PKG}.render": (
        f"{PKG}.coinglass",
        f"{PKG}.analysis",
        f"{PKG}.modes",
        f"{PKG}.run",
        f"{PKG}.standby",
    ),
    f"{PKG}.run": (
        f"{PKG}.modes",
        f"{PKG}.standby",
    ),
    # The webhook's and Telegram's clients have failures and a retry rule of their own, not
    # CoinGlass's.
    f"{PKG}.run.webhook": (f"{PKG}.coinglass", f"{PKG}.errors"),
    f"{PKG}.run.telegram": (f"{PKG}.coinglass", f"{PKG}.errors"),
}
# Rooms that import these only inside a function, when a run asks for what they draw.
LAZY_ONLY: dict[str, tuple[str, ...]] = {
    f"{PKG}.modes": (f"{PKG}.render",),
    f"{PKG}.run": (f"{PKG}.render",),
}
ERRORS = f"{PKG}.errors"
CATALOG = f"{PKG}.catalog"
SCHEMAS = f"{PKG}.schemas"
# A clock read, called or handed on (``clock=datetime.now``), and a file opened.
CLOCK_NAMES = frozenset({"now", "today", "utcnow", "monotonic", "perf_counter"})
CLIENT_PACKAGE = f"{PKG}.coinglass"
COINGLASS_PATH_PREFIX = "/api/"


@dataclass(frozen=True)
class Module:
    name: str  # <package>.analysis.liqmap
    path: Path
    tree: ast.Module
    shown: str  # <package>/analysis/liqmap.py

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


def imported(module: Module, known: set[str], *, top_level: bool = False) -> set[str]:
    """Every module ``module`` imports anywhere (lazily and for type checking too), or only at
    its top level: modules of the package by their full name, with the packages whose ``__init__``
    that runs, and the others by their top-level name."""
    names: set[str] = set()
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    nodes = module.tree.body if top_level else ast.walk(module.tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:  # from ..run import billing, inside <package>.analysis
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            names.add(source)
            # ``from <package>.modes import maps`` imports the module <package>.modes.maps
            names.update(
                f"{source}.{alias.name}"
                for alias in node.names
                if f"{source}.{alias.name}" in known
            )
    found: set[str] = set()
    for name in names:
        parts = name.split(".")
        if parts[0] != PKG:
            found.add(parts[0])
            continue
        found.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return {name for name in found if name.split(".")[0] != PKG or name in known}


def reached(start: str, graph: dict[str, set[str]]) -> Iterator[tuple[str, str]]:
    """Each (module of the package, what it imports) that ``start`` imports, directly or not."""
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
    for room, forbidden in FORBIDDEN_DIRECTLY.items():
        if in_room(name, room):
            for target in sorted(graph[name] & forbidden):
                yield f"{shown} imports {target} itself"
    for room, rooms in FORBIDDEN_ROOMS.items():
        if in_room(name, room):
            for target in sorted(graph[name]):
                if target != name and any(in_room(target, other) for other in rooms):
                    yield f"{shown} imports {target}, out of its room's reach"


def lazy_problems(module: Module, known: set[str]) -> Iterator[str]:
    """Rooms imported at the top of a module that may load them only when they are needed."""
    for room, rooms in LAZY_ONLY.items():
        if in_room(module.name, room):
            for target in sorted(imported(module, known, top_level=True)):
                if any(in_room(target, other) for other in rooms):
                    yield f"{module.shown} imports {target} at its top, not when it is needed"


def mode_schemas(found: dict[str, Module]) -> set[str]:
    """The modules of the package's ``schemas`` that hold a mode's models: an input or item
    model with a ``mode`` field."""
    return {
        name
        for name, module in found.items()
        if in_room(name, SCHEMAS)
        and any(
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "mode"
            for node in ast.walk(module.tree)
        )
    }


def catalog_words(found: dict[str, Module]) -> set[str]:
    """Each mode's name, event and route, as the catalog's entries spell them."""
    words: set[str] = set()
    catalog = found.get(CATALOG)
    for node in ast.walk(catalog.tree) if catalog else ():
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Mode":
            words.update(
                str(keyword.value.value)
                for keyword in node.keywords
                if keyword.arg in {"name", "event", "route"}
                and isinstance(keyword.value, ast.Constant)
            )
    return words


def catalog_problems(found: dict[str, Module], graph: dict[str, set[str]]) -> Iterator[str]:
    """Modes listed outside the catalog: a module that knows the models of several modes, or
    that names a mode, its event or its route, where only the catalog (and a mode's own
    schemas, for its name) may."""
    schemas = mode_schemas(found)
    words = catalog_words(found)
    for name, module in found.items():
        if name == CATALOG:
            continue
        known = sorted(graph[name] & schemas - {name})
        if len(known) > 1:
            yield f"{module.shown} lists modes: it imports {', '.join(known)}"
        for node in ast.walk(module.tree):
            if not (isinstance(node, ast.Constant) and node.value in words):
                continue
            if name in schemas and not str(node.value).isupper() and "/" not in node.value:
                continue  # a mode's own schemas declare its name
            yield f"{module.shown}:{node.lineno} names the mode's {node.value!r}"


def code_problems(module: Module) -> Iterator[str]:
    """CoinGlass paths outside the client, clocks or files in the pure rooms, and an error's
    message edited after it is built (an error says what it means when it is raised)."""
    pure = any(in_room(module.name, room) for room in PURE_ROOMS)
    for node in ast.walk(module.tree):
        if (
            module.name != ERRORS
            and isinstance(node, ast.Assign | ast.AugAssign)
            and any(
                isinstance(target, ast.Attribute) and target.attr == "message"
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            )
        ):
            yield f"{module.shown}:{node.lineno} edits an error's message after it is built"
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
    problems: set[str] = set(catalog_problems(found, graph))
    for module in found.values():
        problems.update(import_problems(module, graph))
        problems.update(lazy_problems(module, set(found)))
        problems.update(code_problems(module))
        problems.update(shape_problems(module))
    return sorted(problems)


def test_the_package_keeps_the_house_rules() -> None:
    assert violations(SRC) == []


def test_the_readme_walks_every_room() -> None:
    readme = (SRC.parent / "README.md").read_text()
    rooms = sorted(path.parent.name for path in SRC.glob("*/__init__.py"))
    assert rooms == ["analysis", "coinglass", "modes", "render", "run", "schemas", "standby"]
    assert f"`{PKG}/`" in readme
    assert [room for room in rooms if f"- `{room}/`" not in readme] == []


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of the package to break."""
    shutil.copytree(SRC, tmp_path / PKG, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / PKG


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


@pytest.mark.parametrize(
    ("module", "added", "reported"),
    [
        (
            "analysis/liqmap.py",
            "\nimport httpx\n",
            f"{PKG}/analysis/liqmap.py imports httpx",
        ),
        (
            "analysis/markets.py",
            "\n\ndef later() -> None:\n    from apify import Actor  # noqa\n",
            f"{PKG}/analysis/markets.py imports apify",
        ),
        ("outputs.py", "\nimport time\n", f"{PKG}/outputs.py imports time"),
        (
            "formatting.py",
            f"\nfrom {PKG}.run import billing\n",
            f"{PKG}/formatting.py imports apify through {PKG}.run.billing",
        ),
        (
            "analysis/alerts.py",
            f"\nfrom {PKG}.render import map_section\n",
            f"{PKG}/analysis/alerts.py imports {PKG}.render.map_section, out of its room's reach",
        ),
        (
            "analysis/markets.py",
            f"\nfrom {PKG}.coinglass.payloads import PairsMarkets\n",
            f"{PKG}/analysis/markets.py imports {PKG}.coinglass.payloads, out of its room's reach",
        ),
        (
            "coinglass/payloads.py",
            f"\nfrom {PKG}.outputs import record\n",
            f"{PKG}/coinglass/payloads.py imports {PKG}.outputs, out of its room's reach",
        ),
        (
            "run/runner.py",
            f"\nfrom {PKG}.modes import maps\n",
            f"{PKG}/run/runner.py imports {PKG}.modes.maps, out of its room's reach",
        ),
        (
            "modes/maps.py",
            f"\nfrom {PKG}.render.map_chart import render_chart\n",
            f"{PKG}/modes/maps.py imports {PKG}.render.map_chart at its top",
        ),
        (
            "modes/search.py",
            "\nfrom apify import Actor\n",
            f"{PKG}/modes/search.py imports apify itself",
        ),
        (
            "run/gallery.py",
            '\nKIND = "liquidation_heatmap"\n',
            f"{PKG}/run/gallery.py:",
        ),
        (
            "standby/routes.py",
            '\nROUTE = "/liquidation-map"\n',
            f"{PKG}/standby/routes.py:",
        ),
        (
            "run/billing.py",
            '\nMAP_EVENT = "LIQUIDATION_MAP"\n',
            f"{PKG}/run/billing.py:",
        ),
        (
            "render/report.py",
            f"\nfrom {PKG}.schemas import heatmaps, maps\n",
            f"{PKG}/render/report.py lists modes",
        ),
        (
            "coinglass/client.py",
            "\nfrom apify import Actor\n",
            f"{PKG}/coinglass/client.py imports apify",
        ),
        (
            "coinglass/endpoints.py",
            f"\nfrom {PKG}.modes import maps\n",
            f"{PKG}/coinglass/endpoints.py imports {PKG}.modes.maps, out of its room's reach",
        ),
        (
            "modes/maps.py",
            f"\nfrom {PKG}.standby import routes\n",
            f"{PKG}/modes/maps.py imports {PKG}.standby.routes, out of its room's reach",
        ),
        (
            "run/runner.py",
            '\nPATH = "/api/futures/liquidation/map"\n',
            f"{PKG}/run/runner.py:",
        ),
        ("render/__init__.py", "", f"{PKG}/render/__init__.py has no docstring"),
        (
            "modes/heatmaps.py",
            "\n\ndef later(error: Exception) -> None:\n    error.message += ' Try again.'\n",
            f"{PKG}/modes/heatmaps.py:",
        ),
        (
            "run/webhook.py",
            f"\nfrom {PKG}.retry import RetryPolicy\nfrom {PKG}.errors import NetworkError\n",
            f"{PKG}/run/webhook.py imports {PKG}.errors, out of its room's reach",
        ),
        (
            "render/map_chart.py",
            "\n" * MAX_MODULE_LINES,
            f"{PKG}/render/map_chart.py has",
        ),
        (
            "analysis/symbols.py",
            "\n\ndef stamp() -> object:\n    import datetime  # noqa\n\n"
            "    return datetime.datetime.now()\n",
            f"{PKG}/analysis/symbols.py:",
        ),
        (
            "outputs.py",
            "\nfrom datetime import datetime\nCLOCK = datetime.now\n",
            f"{PKG}/outputs.py:",
        ),
        (
            "errors.py",
            "\nTEXT = open('x').read()  # noqa\n",
            f"{PKG}/errors.py:",
        ),
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
    # Importing <package>.schemas.maps runs <package>/schemas/__init__.py first.
    append(broken / "schemas" / "__init__.py", "\nimport httpx\n")
    problems = violations(broken)
    assert f"{PKG}/analysis/liqmap.py imports httpx through {PKG}.schemas" in problems


@pytest.mark.parametrize(
    ("module", "added", "reported"),
    [
        (
            "analysis/markets.py",
            "\nfrom ..run import billing\n",
            f"{PKG}/analysis/markets.py imports apify through {PKG}.run.billing",
        ),
        (
            "analysis/markets.py",
            "\nfrom ..run.billing import EVENTS\n",
            f"{PKG}/analysis/markets.py imports apify through {PKG}.run.billing",
        ),
        (
            "analysis/__init__.py",
            "\nfrom . import symbols\nfrom ..run import billing\n",
            f"{PKG}/analysis/__init__.py imports apify through {PKG}.run.billing",
        ),
        (
            "formatting.py",
            "\nfrom .render import map_chart\n",
            f"{PKG}/formatting.py imports matplotlib through {PKG}.render.map_chart",
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
    append(broken / "market_data.py", "\nimport httpx\n")
    problems = violations(broken)
    assert f"{PKG}/analysis/liqmap.py imports httpx through {PKG}.market_data" in problems
