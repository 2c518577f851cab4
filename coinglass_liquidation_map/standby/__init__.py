"""Standby mode: the modes as an always-on HTTP API and an MCP server, from one warm process.

Each HTTP request is a run's input in miniature: its query parameters are the input fields,
the route is the mode, and the answer is the same envelope the dataset would hold. Clients,
connection pools and rate limits are shared across requests, and identical requests within a
few seconds share one upstream fetch (``answers``). ``service`` answers, ``routes`` and
``tools`` (MCP) face the callers, ``openapi`` describes them. It runs the same ``run.runner``
as a batch run, and may import every room; nothing imports it but ``main``.
"""

# Here rather than in routes, so that the local launcher can name it without loading the
# HTTP stack.
READINESS_HEADER = "x-apify-container-server-readiness-probe"
"""The header of the platform's readiness probe, which ``GET /`` answers with 200."""
