"""What a person looks at: the chart of a map or a heatmap (matplotlib, imported only when a
chart is asked for), the run's HTML report, and the number formats they share. Data in, bytes or
text out: it may import the boundary models and ``analysis``, never apify, httpx or the rooms that
fetch and deliver (``coinglass``, ``modes``, ``run``, ``standby``).
"""
