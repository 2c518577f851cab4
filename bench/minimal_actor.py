"""The floor a Python actor cannot go below: start the SDK, read the input, push one item."""

from __future__ import annotations

import asyncio

from apify import Actor


async def main() -> None:
    async with Actor:
        actor_input = await Actor.get_input()
        await Actor.push_data({"success": True, "input": actor_input})


if __name__ == "__main__":
    asyncio.run(main())
