"""What a person looks at: each mode's picture (matplotlib, imported only when a chart is asked
for) and its section of the run's HTML report, what the pictures share, and the page. Data in,
bytes or text out: it may import the boundary models and ``formatting``, never apify, httpx,
``analysis`` or the rooms that fetch and deliver (``coinglass``, ``modes``, ``run``,
``standby``).
"""
