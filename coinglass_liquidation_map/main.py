"""CoinGlass liquidation maps, liquidation heatmaps and futures symbols, as clean JSON, one
dataset item per result.

Input → validated request → CoinGlass → analysed result → charged dataset item. Every expected
failure (input, key, plan, upstream) becomes an uncharged failure item and the run still
succeeds, so a caller of run-sync-get-dataset-items always has an item to read.
"""

from __future__ import annotations

import asyncio
import gc

from apify import Actor, Event, EventAbortingData

from coinglass_liquidation_map.catalog import input_failure
from coinglass_liquidation_map.errors import INTERNAL_ERROR_MESSAGE, Aborted, InternalError
from coinglass_liquidation_map.run import runner
from coinglass_liquidation_map.run.billing import push_result, warn_if_items_are_priced

# A map is many thousands of small objects that live until the run ends: the default
# thresholds would walk them again and again, and free nothing.
GC_THRESHOLDS = (100_000, 50, 1000)
ABORTED_MESSAGE = (
    "The run was aborted before all its results were fetched; those in the dataset are complete"
    " and only they were charged."
)


async def main() -> None:
    """Read the input, serve it, and leave an item behind whatever happens."""
    gc.set_threshold(*GC_THRESHOLDS)
    async with Actor:
        if Actor.configuration.meta_origin == "STANDBY":
            from coinglass_liquidation_map.standby import routes  # noqa: PLC0415 - the HTTP stack only for Standby runs

            await routes.serve_forever()
            return
        warn_if_items_are_priced()  # Standby answers over HTTP: it pushes no item
        raw_input = await Actor.get_input()
        work = asyncio.create_task(runner.serve(raw_input))

        def on_abort(_: EventAbortingData) -> None:
            work.cancel()  # an aborted run still tells its caller why results are missing

        Actor.on(Event.ABORTING, on_abort)
        try:
            if not await work:
                # Every other result is delivered; the bug still shows as a failed run.
                await Actor.fail(status_message=INTERNAL_ERROR_MESSAGE)
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                raise  # not the abort: this task itself is being cancelled
            await push_result(input_failure(Aborted(ABORTED_MESSAGE), raw_input))
        except Exception:
            # A bug: the caller still gets an item to read before the run fails.
            await push_result(input_failure(InternalError(INTERNAL_ERROR_MESSAGE), raw_input))
            raise
