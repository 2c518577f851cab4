"""End-to-end fixtures: the CoinGlass sandbox on loopback and the actor as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sandbox_server import SandboxServer

ROOT = Path(__file__).resolve().parent.parent
PRO_KEY = SandboxServer.PRO_KEY
# Prices as set in the Console, and no price for the SDK's synthetic per-item event (as on the
# platform, where an unpriced event costs nothing).
PRICING = {
    "pricingModel": "PAY_PER_EVENT",
    "pricingPerEvent": {
        "actorChargeEvents": {
            "LIQUIDATION_MAP": {"eventTitle": "Liquidation map", "eventPriceUsd": 0.01},
            "SEARCH_SYMBOLS": {"eventTitle": "Symbol search", "eventPriceUsd": 0.001},
            "apify-default-dataset-item": {"eventTitle": "Dataset item", "eventPriceUsd": 0},
        }
    },
}


@dataclass
class ActorRun:
    """What a user sees of one run: exit code, dataset items, charges and the log."""

    exit_code: int
    items: list[dict[str, Any]]
    charges: list[dict[str, Any]]
    log: str
    storage: Path

    @property
    def item(self) -> dict[str, Any]:
        assert len(self.items) == 1, self.items
        return self.items[0]

    @property
    def charged_events(self) -> list[str]:
        """Our own charged events, one entry per charged unit."""
        return [
            charge["event_name"]
            for charge in self.charges
            for _ in range(charge["charged_count"])
            if not charge["event_name"].startswith("apify-")
        ]


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_session: SandboxServer) -> Iterator[SandboxServer]:
    sandbox_session.reset()
    yield sandbox_session
    sandbox_session.reset()


def read_dataset(folder: Path) -> list[dict[str, Any]]:
    return [
        json.loads(path.read_text())
        for path in sorted(folder.glob("*.json"))
        if path.name != "__metadata__.json"
    ]


@pytest.fixture
def run_actor(sandbox: SandboxServer, tmp_path: Path) -> Any:
    """Run ``python -m src`` with the given input against the sandbox, with pay-per-event on."""

    def run(actor_input: dict[str, Any] | None, *, env: dict[str, str] | None = None) -> ActorRun:
        storage = tmp_path / "storage"
        store = storage / "key_value_stores" / "default"
        store.mkdir(parents=True, exist_ok=True)
        if actor_input is not None:
            (store / "INPUT.json").write_text(json.dumps(actor_input))
        base_env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("APIFY_", "ACTOR_", "CRAWLEE_", "COINGLASS_"))
        }
        full_env = {
            **base_env,
            "APIFY_LOCAL_STORAGE_DIR": str(storage),
            "COINGLASS_BASE_URL": sandbox.url,
            "APIFY_ACTOR_PRICING_INFO": json.dumps(PRICING),
            "APIFY_CHARGED_ACTOR_EVENT_COUNTS": json.dumps({"LIQUIDATION_MAP": 0}),
            **(env or {}),
        }
        done = subprocess.run(
            [sys.executable, "-m", "src"],
            cwd=tmp_path,
            env={**full_env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return ActorRun(
            exit_code=done.returncode,
            items=read_dataset(storage / "datasets" / "default"),
            charges=read_dataset(storage / "datasets" / "charging-log"),
            log=done.stdout + done.stderr,
            storage=storage,
        )

    return run
