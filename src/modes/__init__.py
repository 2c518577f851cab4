"""What each mode does with a validated request: fetch through ``coinglass.endpoints``, read it
with ``analysis``, and return its result or raise an ``ActorError`` (a map comes back analysed,
its levels placed by the run, which knows how large an item may be). It may import the boundary
models, ``coinglass`` and ``analysis``, never apify, matplotlib, ``run``, ``render`` or
``standby``: the pair list comes in as an ``InstrumentSource`` the caller caches, and the
caller delivers the result.
"""
