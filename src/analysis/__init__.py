"""The pure core: CoinGlass's payloads in, the actor's maps, heatmaps, summaries, changes,
alerts, instruments and prices out. No I/O, no clock, no Apify: it may import the standard
library, pydantic, the boundary models (``src.inputs``, ``src.outputs``, ``src.records``,
``src.errors``), the wire models (``src.coinglass.payloads``, ``src.coinglass.heatmap_payloads``)
and ``src.render.formatting``, never httpx, apify, starlette or matplotlib.
"""
