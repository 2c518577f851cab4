"""End-to-end fixtures: the CoinGlass sandbox on loopback and the actor as a real process."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import local_run
import pytest
from jsonschema import Draft7Validator
from sandbox_server import RecordedRequest, SandboxServer

ROOT = Path(__file__).resolve().parent.parent
PRO_KEY = SandboxServer.PRO_KEY


ITEM_SCHEMA = Draft7Validator(
    json.loads((ROOT / ".actor" / "dataset_schema.json").read_text())["fields"]
)
MAP_PATH = "/api/futures/liquidation/map"
COIN_MAP_PATH = "/api/futures/liquidation/aggregated-map"
PAIRS_PATH = "/api/futures/supported-exchange-pairs"
MARKETS_PATH = "/api/futures/pairs-markets"


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a PNG must start with."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@dataclass(frozen=True)
class StoredRecord:
    value: Any
    content_type: str | None


class MemoryStore:
    """A key-value store in memory, for what the run stores in Apify's."""

    def __init__(self) -> None:
        self.records: dict[str, StoredRecord] = {}
        self.opened = 0  # how often the store was opened

    async def open(self) -> MemoryStore:
        self.opened += 1
        return self

    async def get_value(self, key: str) -> Any:
        record = self.records.get(key)
        return None if record is None else record.value

    async def record_exists(self, key: str) -> bool:
        return key in self.records

    async def set_value(self, key: str, value: Any, content_type: str | None = None) -> None:
        self.records[key] = StoredRecord(value, content_type)

    async def get_public_url(self, key: str) -> str:
        return f"memory://store/{key}"


def record(storage: Path, key: str) -> Path:
    """The file of a record in a run's default key-value store."""
    return storage / "key_value_stores" / "default" / key


STORE_SCHEMA = json.loads((ROOT / ".actor" / "key_value_store_schema.json").read_text())


def assert_records_fit_the_store_schema(storage: Path) -> None:
    """Every record the run wrote (its input aside) falls in one collection of the store
    schema, with a content type that collection allows, as the platform checks them."""
    folder = storage / "key_value_stores" / "default"
    for metadata_file in folder.glob("*.__metadata__.json"):
        metadata = json.loads(metadata_file.read_text())
        if metadata["key"] in ("INPUT", "INPUT.json"):
            continue
        collection = STORE_SCHEMA["collections"][collection_of(metadata["key"])]
        assert metadata["content_type"] in collection["contentTypes"], metadata


def collection_of(key: str) -> str:
    """The one collection of the key-value store schema that holds ``key``."""
    names: list[str] = [
        name
        for name, collection in STORE_SCHEMA["collections"].items()
        if collection.get("key") == key or key.startswith(collection.get("keyPrefix", "\0"))
    ]
    assert len(names) == 1, (key, names)
    return names[0]


def calls(sandbox: SandboxServer, path: str) -> list[RecordedRequest]:
    """The requests the sandbox received on one endpoint."""
    return [request for request in sandbox.requests if request.path == path]


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
        return charged_events(self.charges)


def charged_events(charges: list[dict[str, Any]]) -> list[str]:
    """Our own charged events in a charging log, one entry per charged unit."""
    return [
        charge["event_name"]
        for charge in charges
        for _ in range(charge["charged_count"])
        if not charge["event_name"].startswith("apify-")
    ]


def patched(scenario: str, *modules: str) -> tuple[str, ...]:
    """A command for ``run_actor``: the actor's run with a part replaced, as
    ``tests/patched_actor.py`` describes its scenarios."""
    return ("-m", "tests.patched_actor", scenario, *modules)


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_session: SandboxServer) -> Iterator[SandboxServer]:
    sandbox_session.reset()
    yield sandbox_session
    sandbox_session.reset()


@pytest.fixture
def run_actor(sandbox: SandboxServer, tmp_path: Path) -> Any:
    """Run ``python -m src`` (or ``command``) with the given input against the sandbox."""

    def run(
        actor_input: object,
        *,
        env: dict[str, str] | None = None,
        command: tuple[str, ...] = ("-m", "src"),
        keep_storage: bool = False,
    ) -> ActorRun:
        # Nothing from the developer's own shell: no platform variables, no real key.
        storage = tmp_path / "storage"
        done = local_run.run_actor(
            actor_input,
            storage,
            {**local_run.isolated_env(), "COINGLASS_BASE_URL": sandbox.url, **(env or {})},
            command=command,
            capture=True,
            keep_storage=keep_storage,
        )
        items = local_run.read_items(storage)
        for item in items:
            # The platform refuses a push that does not fit the dataset schema's fields.
            ITEM_SCHEMA.validate(item)
        return ActorRun(
            exit_code=done.returncode,
            items=items,
            charges=local_run.read_items(storage, "charging-log"),
            log=done.stdout + done.stderr,
            storage=storage,
        )

    return run
