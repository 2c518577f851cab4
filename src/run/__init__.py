"""What touches Apify: the run's schedule of work (runner), charging and the budget (billing),
the key and server a request uses (access), the pair list kept between runs (pairs), the item
size limit, the key-value stores, and the charts and report saved beside the dataset (gallery).
The other rooms hand their calls in here; the pure core never imports from it.
"""
