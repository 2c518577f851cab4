"""The pure core: CoinGlass's payloads in, the actor's maps, summaries, instruments and prices
out. No I/O, no clock, no Apify: it may import the standard library, pydantic, the boundary
models (``src.inputs``, ``src.outputs``, ``src.errors``) and ``src.coinglass.payloads``, never
httpx, apify, starlette or matplotlib.
"""
