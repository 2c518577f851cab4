"""The floor a Python actor cannot go below: start the SDK, read the input, push one item.

With ``MINIMAL_ACTOR_ITEM`` naming a JSON file, it pushes that item instead: the floor of an
actor whose output is that big. With ``MINIMAL_ACTOR_FETCH`` holding a JSON list of URLs, it
first GETs each of them with one httpx client, sending ``COINGLASS_API_KEY`` as the actor does
and trusting the system's CA directory as the actor does here: the floor of an actor that makes
the same requests with httpx, before any code of its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
from pathlib import Path

from apify import Actor


async def main() -> None:
    async with Actor:
        actor_input = await Actor.get_input()
        if urls := os.environ.get("MINIMAL_ACTOR_FETCH"):
            await fetch(json.loads(urls))
        item_file = os.environ.get("MINIMAL_ACTOR_ITEM")
        item = json.loads(Path(item_file).read_text()) if item_file else None
        await Actor.push_data(item or {"success": True, "input": actor_input})


async def fetch(urls: list[str]) -> None:
    """GET every URL, one after the other, on one keep-alive connection, and read each answer;
    raise unless every one is a success, so the floor never measures a failure."""
    # As the actor's __main__.py does: httpx would otherwise load its command-line client.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    import httpx  # noqa: PLC0415 - the plain floor does not load it

    trust = ssl.create_default_context(capath=ssl.get_default_verify_paths().openssl_capath)
    headers = {"CG-API-KEY": os.environ["COINGLASS_API_KEY"]}
    async with httpx.AsyncClient(verify=trust, headers=headers) as client:
        for url in urls:
            answer = (await client.get(url)).raise_for_status().json()
            if answer.get("code") != "0":
                raise RuntimeError(f"{url}: CoinGlass answered {answer.get('code')}")


if __name__ == "__main__":
    asyncio.run(main())
