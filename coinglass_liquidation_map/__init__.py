"""The actor, room by room, from the lifecycle down to the boundary it rests on:

main.py                the lifecycle: input in, an item out whatever happens
standby/               the same modes over HTTP and MCP, from a warm process
catalog.py             the modes, one entry each: the one place that lists them
modes/                 one pipeline a mode: its jobs, and what follows each result
run/                   what touches Apify: the runner, charging, storages, watch, pictures
coinglass/             CoinGlass API v4, translated into the core's types; nothing of Apify
analysis/              the pure core: the core's types in, maps, heatmaps and summaries out
render/                each mode's picture and report section, and the HTML report
schemas/               each mode's input, item and tool models
inputs.py, outputs.py, records.py, errors.py   the models every mode shares
market_data.py         the core's own types
formatting.py          numbers, times and leverage tiers as people read them
transport.py, tls.py, retry.py   HTTP for every client: connections, certificates, backoff
"""
