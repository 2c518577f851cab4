"""What a person looks at: the chart of a map (matplotlib, imported only when a chart is asked
for), the run's HTML report, and the number formats both share. Data in, bytes or text out:
no Apify and no HTTP here.
"""
