"""The fixtures of every test: the CoinGlass sandbox on loopback and the actor as a real process.
What tests share besides fixtures lives in ``helpers``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import local_run
import pytest
import respx.mocks
from helpers import ITEM_SCHEMA, MOCKED_BASE_URL, ActorRun
from sandbox_server import SandboxServer

from coinglass_liquidation_map.coinglass.client import CoinGlassClient
from coinglass_liquidation_map.coinglass.endpoints import Endpoints
from coinglass_liquidation_map.retry import RetryPolicy

# The actor's clients send through their own transport, not httpcore, where respx intercepts by
# default: respx intercepts them at the client instead, whatever their transport.
respx.mocks.DEFAULT_MOCKER = respx.mocks.HTTPXMocker.name


@pytest.fixture
async def endpoints() -> AsyncIterator[Endpoints]:
    """The endpoints over a client of CoinGlass mocked at ``MOCKED_BASE_URL``, without retries
    or waits."""

    async def wait(_: float) -> None:
        return None

    async with CoinGlassClient(
        "key", base_url=MOCKED_BASE_URL, retry=RetryPolicy(max_retries=0), sleep=wait
    ) as client:
        yield Endpoints(client)


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
    """Run the actor (or ``command``) with the given input against the sandbox."""

    def run(
        actor_input: object,
        *,
        env: dict[str, str] | None = None,
        command: tuple[str, ...] = ("-m", local_run.PACKAGE),
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a test that runs the actor as a process without saying so with its marker, so
    that ``-m 'not process'`` leaves out every slow test."""
    unmarked = [
        item.nodeid
        for item in items
        if "run_actor" in getattr(item, "fixturenames", ())
        and item.get_closest_marker("process") is None
    ]
    if unmarked:
        raise pytest.UsageError(f"Mark these process-level tests: {', '.join(unmarked)}")
