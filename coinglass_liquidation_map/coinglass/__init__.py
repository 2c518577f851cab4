"""CoinGlass API v4: auth, the envelope, error mapping, retries, the rate limit, a typed call per
endpoint, and the translation of its wire payloads into the core's own types (``market_data``).
It knows nothing of Apify nor of the actor's items: it may import httpx, pydantic, ``errors``,
``market_data``, ``retry`` and ``transport``, and no CoinGlass path or parameter lives outside
it. ``payloads`` is pure pydantic.
"""
