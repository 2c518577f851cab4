"""The actor, room by room, in the order a request flows:

main.py                        the lifecycle: input in, an item out whatever happens
inputs.py, outputs.py, errors.py  the models at the boundary
run/                           what touches Apify: the run's work, charging, storages, pictures
modes/                         what each mode does with a validated request
coinglass/                     CoinGlass API v4 over HTTP; nothing of Apify
analysis/                      the pure core: payloads in, maps and summaries out
render/                        charts and the HTML report
standby/                       the same modes over HTTP and MCP, from a warm process
"""
