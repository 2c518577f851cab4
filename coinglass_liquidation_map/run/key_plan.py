"""The CoinGlass plan of the key a run uses, asked of CoinGlass at most once per run and kept
between runs as the pair list is: per key, under its hash, never the key itself."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from pydantic import BaseModel

from coinglass_liquidation_map.errors import CoinGlassError
from coinglass_liquidation_map.plans import Plan, plan_named
from coinglass_liquidation_map.run.pairs import STORE_NAME, kept
from coinglass_liquidation_map.run.storage import StoreOpener, named_store, store_key


class KeptLevel(BaseModel):
    """The plan as CoinGlass's subscription named it, kept as sent: a name it does not
    document reads as an unknown plan, now and later."""

    level: str | None


class KeyPlan:
    """Callable source of the key's plan: None when CoinGlass does not say, or names a plan it
    does not document. Never raises: a plan unknown only makes what it words vaguer."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[str | None]],
        key_id: str,
        ttl_secs: int,
        log: logging.Logger,
        *,
        store: StoreOpener = named_store(STORE_NAME),  # noqa: B008 - opens nothing until called
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch  # CoinGlass's user/account/subscription: its level
        self._key = plan_key(key_id)
        self._ttl_secs = ttl_secs
        self._log = log
        self._store = store
        self._clock = clock
        self._lock = asyncio.Lock()
        self._asked = False
        self._plan: Plan | None = None

    async def __call__(self) -> Plan | None:
        async with self._lock:  # the results of one run share one answer
            if not self._asked:
                self._plan = await self._read()
                self._asked = True
            return self._plan

    async def _read(self) -> Plan | None:
        async def fetched() -> KeptLevel:
            return KeptLevel(level=await self._fetch())

        try:
            record = await kept(
                await self._store(),
                self._key,
                KeptLevel,
                fetched,
                ttl_secs=self._ttl_secs,
                clock=self._clock,
            )
        except CoinGlassError as error:
            self._log.warning(f"The key's CoinGlass plan could not be read ({error.type}).")
            return None
        except Exception:
            # A store that fails costs the refusal its note, never the refusal itself.
            self._log.exception("The key's CoinGlass plan could not be kept or read back.")
            return None
        return plan_named(record.value.level)


def plan_key(key_id: str) -> str:
    """The record of a key's plan, named by (part of) the key's hash: ``plan-3f2a...``."""
    return store_key(f"plan-{key_id[:32]}")
