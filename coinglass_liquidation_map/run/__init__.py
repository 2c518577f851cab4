"""The run: the schedule of one request's work (runner), what it asks of each mode's pipeline
(pipeline), what its results share upstream (upstream), charging and the budget (billing), the
key and server it uses (access), the pair list kept between runs (pairs), the map ranges
CoinGlass refused (refusals), the platform's item size limit, the key-value stores (storage), a
watch's snapshots and alerts (watch; outbox sends them through webhook and telegram), the
history (history), and the charts and report saved beside the dataset (gallery). This is
where Apify is touched: its classes take the few Apify calls they make (a store opener, a push
limit) as arguments, so tests can hand them fakes. It may import the boundary models, the
catalog, ``coinglass``, ``analysis`` and ``render``; never ``modes`` (the runner loads a mode's
pipeline by the name the catalog gives) or ``standby``.
"""
