"""A key shared by many runs: actor processes pace on the use CoinGlass reports, end to end.

The sandbox counts each key's requests over a sliding window, whichever process sent them, and
answers 429 past the key's limit. Its window is a few seconds here, and the actor is told so, so
that a rollover is waited out in the time of a test rather than a minute: long enough that
processes started together overlap in it, however slowly they start.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

import local_run
import pytest
from helpers import ITEM_SCHEMA
from sandbox_server import SandboxServer

# Each test runs the actor, or a server, as a real process.
pytestmark = pytest.mark.process

SHARED_KEY = "sandbox-shared-pro-key"
SYMBOLS = [
    "Binance_BTCUSDT",
    "Binance_ETHUSDT",
    "Binance_SOLUSDT",
    "Binance_XRPUSDT",
    "Binance_DOGEUSDT",
]
PACING_SAID = "requests in the current minute (runs sharing the key count too); waiting"


def run(
    sandbox: SandboxServer, storage: Path, actor_input: dict[str, Any]
) -> tuple[list[dict[str, Any]], str]:
    """One actor process on the shared key, told the sandbox's window: its items and log."""
    env = {
        **local_run.isolated_env(),
        "COINGLASS_BASE_URL": sandbox.url,
        "COINGLASS_RATE_WINDOW_SECS": str(sandbox.rate_window_secs),
    }
    done = local_run.run_actor({**actor_input, "apiKey": SHARED_KEY}, storage, env, capture=True)
    assert done.returncode == 0, done.stdout + done.stderr
    items = local_run.read_items(storage)
    for item in items:
        ITEM_SCHEMA.validate(item)
    return items, done.stdout + done.stderr


def test_a_window_nearly_spent_by_others_is_waited_out(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    sandbox.rate_window_secs = 2.0  # the spending below happens when the run starts sending
    sandbox.add_key(SHARED_KEY, limit=20)
    sandbox.spend(SHARED_KEY, 17, on_next_request=True)  # other runs, just before this one
    items, log = run(sandbox, tmp_path, {"symbols": SYMBOLS[:2], "ranges": ["1d", "7d"]})
    assert [item["success"] for item in items] == [True] * 4, items
    # The run needed more requests than the window had left, and none was refused.
    assert len(sandbox.requests) > 20 - 17
    assert sandbox.limit_refusals == 0
    assert log.count(PACING_SAID) == 1
    assert "used 18 of its 20 requests" in log


def test_concurrent_runs_on_one_key_all_succeed_without_a_429(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    sandbox.rate_window_secs = 5.0
    sandbox.meet(3)  # each run's first request waits for the others': the runs overlap
    # Three runs with at most two requests in flight each stay within the tenth of the limit
    # that pacing leaves to what a run cannot see.
    limit = 60
    sandbox.add_key(SHARED_KEY, limit=limit)
    actor_input = {"symbols": SYMBOLS, "ranges": ["1d", "7d", "30d"], "maxConcurrency": 1}
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda n: run(sandbox, tmp_path / f"run-{n}", actor_input), range(3)))
    for items, _ in runs:
        assert len(items) == 15
        assert all(item["success"] for item in items), items
    # Together they sent more than one window holds, and none was refused.
    assert len(sandbox.requests) > limit
    assert sandbox.limit_refusals == 0
    assert any(PACING_SAID in log for _, log in runs)


def test_a_wait_longer_than_max_run_secs_ends_the_run_as_its_deadline(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    sandbox.rate_window_secs = 60.0  # CoinGlass's own minute: far longer than the run may take
    sandbox.add_key(SHARED_KEY, limit=20)
    sandbox.spend(SHARED_KEY, 18, on_next_request=True)
    items, log = run(sandbox, tmp_path, {"symbols": SYMBOLS[:2], "maxRunSecs": 2})
    assert [item["error"]["type"] for item in items] == ["deadline_exceeded"] * 2
    assert all("maxRunSecs (2 s)" in item["message"] for item in items)
    assert log.count(PACING_SAID) == 1
    assert sandbox.limit_refusals == 0
    assert len(sandbox.requests) == 1  # the instrument list; no map was asked for
