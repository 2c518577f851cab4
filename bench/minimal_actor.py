"""The floor a Python actor cannot go below: start the SDK, read the input, push one item.

With ``MINIMAL_ACTOR_ITEM`` naming a JSON file, it pushes that item instead: the floor of an
actor whose output is that big.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from apify import Actor


async def main() -> None:
    async with Actor:
        actor_input = await Actor.get_input()
        item_file = os.environ.get("MINIMAL_ACTOR_ITEM")
        item = json.loads(Path(item_file).read_text()) if item_file else None
        await Actor.push_data(item or {"success": True, "input": actor_input})


if __name__ == "__main__":
    asyncio.run(main())
