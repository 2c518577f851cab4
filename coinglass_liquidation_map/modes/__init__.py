"""Each mode's pipeline, one module a mode, named in the catalog and imported only by the runs of
that mode: which jobs a validated request makes, each fetching through ``coinglass.endpoints``
and reading with ``analysis``, and what follows each result (fitting the item limit, storing,
watching, history, pictures) and closes the run. The runner (``run.runner``) schedules the jobs.
It may import the boundary models, the catalog, ``coinglass``, ``analysis`` and the pieces of
``run``; ``render`` only lazily, when a picture is asked for; never apify itself or ``standby``.
``resolve`` is what several modes share: a symbol resolved against CoinGlass's instruments.
"""
