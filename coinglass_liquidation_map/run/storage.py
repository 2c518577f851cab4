"""The key-value store calls the actor makes, as a protocol: what stores records takes a store
opener, so the run passes Apify's stores and tests pass one in memory."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from apify import Actor

# A key-value store key holds at most 256 of these characters.
KEY_FORBIDDEN = re.compile(r"[^a-zA-Z0-9!\-_.'()]")
MAX_KEY_LENGTH = 256


def store_key(name: str, suffix: str = "") -> str:
    """``name`` as a valid record key ending in ``suffix``: any other character becomes ``-``,
    and a name too long is cut, so ``ApeX Omni_BTC-USDT`` is a key too."""
    return KEY_FORBIDDEN.sub("-", name)[: MAX_KEY_LENGTH - len(suffix)] + suffix


class RecordStore(Protocol):
    """A key-value store, as far as the actor uses one."""

    async def get_value(self, key: str) -> Any: ...

    async def record_exists(self, key: str) -> bool: ...

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
