"""What each mode does with a validated request: fetch through ``coinglass.endpoints``, read it
with ``analysis``, and return one result or raise an ``ActorError``. No Apify here: the pair
list comes in as an ``InstrumentSource`` the caller caches, and the caller delivers the result.
"""
