"""The pure core: the core's own types (``market_data``) in, the actor's maps, heatmaps,
summaries, changes, alerts, instruments and prices out. No I/O, no clock, no Apify: it may
import the standard library, pydantic, the boundary models (``inputs``, ``outputs``,
``schemas``, ``records``, ``errors``), ``market_data`` and ``formatting``; never CoinGlass's wire
models, a picture, httpx, apify, starlette or matplotlib.
"""
