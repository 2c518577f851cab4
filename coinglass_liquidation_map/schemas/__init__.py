"""Each mode's boundary models, one module a mode: the input that asks for its results, the item
that answers each, and the parameters of its MCP tool; ``alerts`` holds the alert rules and
alerts the watched modes share. Pure pydantic, on the shared pieces of ``inputs`` and
``outputs``.
"""
