"""The key-value store calls the actor makes, as a protocol: what stores records takes a store
opener, so the run passes Apify's stores and tests pass one in memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from apify import Actor


class RecordStore(Protocol):
    """A key-value store, as far as the actor uses one."""

    async def get_value(self, key: str) -> Any: ...

    async def set_value(self, key: str, value: Any, content_type: str | None = None) -> None: ...

    async def get_public_url(self, key: str) -> str: ...


StoreOpener = Callable[[], Awaitable[RecordStore]]


def run_store() -> StoreOpener:
    """The run's own key-value store, which holds its charts and report."""

    async def opened() -> RecordStore:
        return await Actor.open_key_value_store()

    return opened


def named_store(name: str) -> StoreOpener:
    """The named key-value store ``name``, which outlives the run."""

    async def opened() -> RecordStore:
        return await Actor.open_key_value_store(name=name)

    return opened
