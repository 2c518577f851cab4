"""Actors as real processes: fresh local storage, the Console's prices, wall time and peak RSS.

Each run gets an empty storage folder, as a new run on the platform does; that includes the
named key-value store ``coinglass-cache``, so every run of the actor fetches the pair list
afresh (a cold cache: the fair cold case). Each run is spawned by ``bench/spawn.py``, which
times it and reads its own peak RSS (``ru_maxrss`` from ``os.wait4``) from a process small
enough not to inflate it.
"""

from __future__ import annotations

import compileall
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import local_run
from local_run import PACKAGE
from sandbox_server import SandboxServer

ROOT = Path(__file__).resolve().parent.parent
# Where each run keeps its local storage: in memory where the machine has such a folder. On a
# disk, the files the previous run left (a scan writes one per row) are still being deleted
# while the next run writes its own, and that wait would be measured as the actor's; on the
# platform, items go to the API and no file is written at all. A container's memory folder is
# often too small to hold a big map's runs, so it is used only with a GiB free.
MEMORY_FOLDER = (
    "/dev/shm"
    if os.access("/dev/shm", os.W_OK) and shutil.disk_usage("/dev/shm").free >= 1 << 30
    else None
)
ACTOR = ("-m", PACKAGE)
MINIMAL_ACTOR = (str(ROOT / "bench" / "minimal_actor.py"),)
SPAWN = ROOT / "bench" / "spawn.py"


@dataclass(frozen=True)
class ProcessRun:
    """One finished run: how long it took from spawn to exit, and its peak memory."""

    wall_s: float
    peak_rss_mib: float
    items: list[dict[str, Any]]


class RunFailed(RuntimeError):
    """A benchmarked run did not do what it was asked: its numbers would measure a failure."""


@functools.cache
def workdir() -> Path:
    """Where the runs start: a copy of the actor's package with its bytecode compiled, as the
    actor's image holds it (``COPY`` then ``compileall``), removed when the benchmark exits.

    A run on the platform never compiles the package; here neither does a measured run, even
    where ``PYTHONDONTWRITEBYTECODE`` is set, and nothing is written into the source tree. The
    copy is taken once, so edits made to the package while the benchmark runs do not mix in.
    """
    folder = tempfile.TemporaryDirectory(prefix="bench-actor-")
    _kept.append(folder)
    copy = Path(folder.name) / PACKAGE
    shutil.copytree(ROOT / PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    if not compileall.compile_dir(copy, quiet=1):
        raise RunFailed(f"{PACKAGE} does not compile: see python -m compileall {ROOT / PACKAGE}")
    return Path(folder.name)


_kept: list[tempfile.TemporaryDirectory[str]] = []


def actor_env(sandbox: SandboxServer) -> dict[str, str]:
    """The environment of a local run against ``sandbox``, with the publisher's key set."""
    return {
        **local_run.isolated_env(),
        **local_run.pricing_env(),
        "COINGLASS_BASE_URL": sandbox.url,
        "COINGLASS_API_KEY": SandboxServer.PRO_KEY,
    }


def run_process(
    command: Sequence[str],
    actor_input: object,
    env: Mapping[str, str],
    *,
    expect_items: int | None = 1,
    seed: Path | None = None,
) -> ProcessRun:
    """Run ``python <command>`` on ``actor_input`` with fresh local storage, holding a copy of
    the storage folder ``seed`` if given (what earlier runs left behind).

    Raises RunFailed unless it exits 0 with ``expect_items`` successful items (None: any).
    """
    storage = Path(tempfile.mkdtemp(prefix="bench-storage-", dir=MEMORY_FOLDER))
    try:
        if seed is not None:
            shutil.copytree(seed, storage, dirs_exist_ok=True)
        local_run.write_input(storage, actor_input)
        log_path, result_path = storage / "run.log", storage / "run.json"
        with log_path.open("wb") as log:
            launcher = [sys.executable, "-I", "-S", str(SPAWN), str(result_path)]
            subprocess.run(
                [*launcher, sys.executable, *command],
                cwd=workdir(),
                env={**env, "APIFY_LOCAL_STORAGE_DIR": str(storage)},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=600,
                check=True,
            )
        result = json.loads(result_path.read_text())
        items = local_run.read_items(storage)
        _check(command, result["exit_code"], items, expect_items, log_path)
        return ProcessRun(result["wall_s"], result["peak_rss_kib"] / 1024, items)
    finally:
        shutil.rmtree(storage, ignore_errors=True)


def _check(
    command: Sequence[str],
    code: int,
    items: list[dict[str, Any]],
    expected: int | None,
    log: Path,
) -> None:
    failed = [item for item in items if item.get("success") is False]
    if code == 0 and not failed and (expected is None or len(items) == expected):
        return
    what = f"exit code {code}, {len(items)} item(s), {len(failed)} failed"
    if failed:
        what += f" (first: {failed[0].get('message')})"
    tail = log.read_text(errors="replace")[-2000:]
    raise RunFailed(f"python {' '.join(command)}: {what}\n{tail}")


def import_profile(
    command: Sequence[str],
    actor_input: object,
    env: Mapping[str, str],
) -> str:
    """The ``-X importtime`` report of one run (stderr only; the SDK logs to stdout)."""
    storage = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    try:
        local_run.write_input(storage, actor_input)
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *command],
            cwd=workdir(),
            env={**env, "APIFY_LOCAL_STORAGE_DIR": str(storage)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RunFailed(f"python -X importtime {' '.join(command)}: {done.stderr[-2000:]}")
        return done.stderr
    finally:
        shutil.rmtree(storage, ignore_errors=True)
