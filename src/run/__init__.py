"""The run: the schedule of one request's work (runner), charging and the budget (billing), the
key and server it uses (access), the pair list kept between runs (pairs), the platform's item
size limit, the key-value stores (storage), and the charts and report saved beside the dataset
(gallery). This is where Apify is touched; what the other rooms need of it (a store, a push
limit) is handed to them as arguments. It may import every room but ``standby``, and only
``standby`` and ``main`` import it.
"""
