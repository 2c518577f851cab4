"""The run: the schedule of one request's work (runner), charging and the budget (billing), the
key and server it uses (access), the pair list kept between runs (pairs), the platform's item
size limit, the key-value stores (storage), and the charts and report saved beside the dataset
(gallery). This is where Apify is touched: its classes take the few Apify calls they make (a
store opener, a push limit) as arguments, so tests can hand them fakes. It may import every room
but ``standby``, and only ``standby`` and ``main`` import it.
"""
