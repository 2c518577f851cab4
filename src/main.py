"""CoinGlass liquidation maps and futures symbols, as clean JSON, one dataset item per request.

Input → validated request → CoinGlass client → normalised result → charged dataset item.
Every expected failure (input, key, plan, upstream) becomes an uncharged failure item and the
run still succeeds, so a caller of run-sync-get-dataset-items always has an item to read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from apify import Actor, Event, EventAbortingData

from src import modes
from src.billing import ensure_budget, push_result
from src.coinglass import CoinGlassClient
from src.errors import Aborted, ActorError, DeadlineExceeded
from src.models import ResultItem, failure_item, parse_input

Handler = Callable[[CoinGlassClient, Any], Awaitable[ResultItem]]
HANDLERS: dict[str, Handler] = {
    "search_symbols": modes.search_symbols,
    "liquidation_map": modes.liquidation_map,
}


async def main() -> None:
    """Read the input, serve the request, push one item."""
    async with Actor:
        raw_input = await Actor.get_input()
        work = asyncio.create_task(serve(raw_input))

        def on_abort(_: EventAbortingData) -> None:
            work.cancel()  # an aborted run still tells its caller why there is no result

        Actor.on(Event.ABORTING, on_abort)
        try:
            item = await work
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                raise  # not the abort: this task itself is being cancelled
            item = failure_item(Aborted(ABORTED_MESSAGE), raw_input)
        except Exception:
            # A bug: the caller still gets an item to read before the run fails.
            await push_result(
                failure_item(ActorError(INTERNAL_ERROR_MESSAGE), raw_input), raw_input
            )
            raise
        await push_result(item, raw_input)


async def serve(raw_input: object) -> ResultItem:
    """The result item for one run's input; expected failures become failure items."""
    try:
        request = parse_input(raw_input)
        ensure_budget(request.mode)
        try:
            async with asyncio.timeout(request.max_run_secs), modes.open_client(request) as client:
                return await HANDLERS[request.mode](client, request)
        except TimeoutError:
            raise DeadlineExceeded(
                f"The run's work did not finish within maxRunSecs ({request.max_run_secs} s);"
                " nothing was charged. Raise maxRunSecs or try again later."
            ) from None
    except ActorError as error:
        return failure_item(error, raw_input)


ABORTED_MESSAGE = "The run was aborted before CoinGlass answered; nothing was charged."
INTERNAL_ERROR_MESSAGE = (
    "The actor failed unexpectedly; nothing was charged. Please report this run to the"
    " actor's maintainer."
)
