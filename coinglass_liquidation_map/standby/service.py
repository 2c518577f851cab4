"""Standby's service: each request answered as a run would answer its input, over clients
shared by every request with the same key, through the answer cache, and charged."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from functools import partial
from typing import Any

from apify import Actor
from pydantic import ValidationError

from coinglass_liquidation_map.catalog import (
    BATCH_ONLY_FIELDS,
    ActorInput,
    Mode,
    input_failure,
    parse_input,
    secret_fields,
)
from coinglass_liquidation_map.coinglass.endpoints import Endpoints
from coinglass_liquidation_map.errors import ActorError, InvalidInput
from coinglass_liquidation_map.inputs import COMMON_FIELDS, InputModel, invalid_input
from coinglass_liquidation_map.outputs import ResultItem
from coinglass_liquidation_map.run import runner
from coinglass_liquidation_map.run.access import open_endpoints
from coinglass_liquidation_map.run.billing import Budget, affordable, at_most, charge_answer
from coinglass_liquidation_map.run.pairs import PairDirectory
from coinglass_liquidation_map.standby.answers import Answer, AnswerCache


class Service:
    """Answers requests: shared clients per API key, the answer cache, and charging."""

    def __init__(self, defaults: dict[str, Any]) -> None:
        # The Standby run's own input sets access and reliability for every request; a null
        # field takes its default, as in a run's input.
        self._defaults = {k: v for k, v in defaults.items() if k in COMMON_FIELDS and v is not None}
        try:
            settings = InputModel.model_validate(self._defaults)
        except ValidationError as error:
            refused = invalid_input(error, InputModel, secret_fields())
            Actor.log.error(f"The Standby input is ignored: {refused.message}")
            self._defaults = {}
            settings = InputModel()
        self._cache = AnswerCache(settings.standby_cache_secs)
        self._clients: dict[str, tuple[Endpoints, PairDirectory]] = {}
        self._budget = Budget(affordable(pushed=None))

    async def close(self) -> None:
        """Close every client, whatever happens to the others."""
        clients = [endpoints.client for endpoints, _ in self._clients.values()]
        await asyncio.gather(*(client.aclose() for client in clients), return_exceptions=True)

    async def answer(self, mode: Mode, fields: dict[str, Any], api_key: str | None) -> Answer:
        """The charged answer to one request: one item per result, as a run would push."""
        raw = {**self._defaults, **fields, "mode": mode.name}
        if api_key:
            raw["apiKey"] = api_key
        try:
            _refuse_per_request(fields)
            request = parse_input(raw)
            endpoints, instruments = self._client_for(request)
        except ActorError as error:
            return [input_failure(error, raw)]
        wanted = mode.charges(request)
        # Held from before the fetch until the answer is charged, so that concurrent requests
        # never spend CoinGlass quota on results the run's maximum charge cannot pay for.
        async with self._budget.hold(wanted) as held:
            room = dict(held.counts)
            key = _cache_key(request) + ("" if room == wanted else f" room {sorted(room.items())}")
            fetch = partial(
                runner.fulfil, request, endpoints, instruments, _answer_later, at_most(room)
            )
            answer = []
            for item in await self._cache.get(key, fetch):
                charged = await charge_answer(item)
                if charged.success:
                    # Counted by the run's charges now, not by the hold.
                    held.charged(mode.event)
                    if mode.add_on is not None and charged.carries_add_on():
                        held.charged(mode.add_on)
                answer.append(charged)
            return answer

    def _client_for(self, request: ActorInput) -> tuple[Endpoints, PairDirectory]:
        """One client per API key: its connections and rate limit serve all its requests."""
        key = _key_hash(request)
        if key not in self._clients:
            endpoints = open_endpoints(request, Actor.log)
            self._clients[key] = (
                endpoints,
                PairDirectory(endpoints.supported_pairs, request.symbol_cache_ttl_secs),
            )
        return self._clients[key]


def _refuse_per_request(fields: dict[str, Any]) -> None:
    """Settings that belong to the Standby run, and charts, which a warm answer leaves out."""
    settings = sorted(COMMON_FIELDS & fields.keys())
    if settings:
        raise InvalidInput(
            f"{', '.join(settings)} cannot be set per request: they are the Standby run's own"
            " settings, set in its input."
        )
    if fields.get("chart") not in (None, False, "false", "0"):
        raise InvalidInput("Charts are drawn by batch runs; Standby answers carry data only.")
    batch_only = sorted(BATCH_ONLY_FIELDS & fields.keys())
    if batch_only:
        raise InvalidInput(
            f"{', '.join(batch_only)} belongs to scheduled batch runs: a Standby answer is"
            " polled by many clients. Set it in the input of a run or a schedule."
        )


async def _answer_later(_: Sequence[ResultItem]) -> None:
    """Over HTTP, items are charged and sent together, once the whole answer is ready."""


def _key_hash(request: ActorInput) -> str:
    """The API key's identity without the key itself: its SHA-256, or "" when none is given."""
    secret = request.api_key.get_secret_value().encode() if request.api_key else b""
    return hashlib.sha256(secret).hexdigest() if secret else ""


def _cache_key(request: ActorInput) -> str:
    """A stable name for a request, with its key's hash: two keys may see different data."""
    dumped = request.model_dump(mode="json", by_alias=True, exclude={"api_key"})
    return json.dumps({**dumped, "apiKey": _key_hash(request)}, sort_keys=True)
