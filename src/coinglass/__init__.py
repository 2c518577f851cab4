"""CoinGlass API v4: HTTP, auth, the envelope, error mapping, retries, the rate limit, TLS, and a
typed call per endpoint. It knows nothing of Apify: it may import httpx, pydantic and the
boundary models (``src.errors``, ``src.outputs``), and no CoinGlass path or parameter lives
outside it. ``payloads`` is pure pydantic, so the pure core may read its models.
"""
