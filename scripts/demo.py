"""Run the actor offline against the CoinGlass sandbox: a search, a map, a market scan, a coin's
Hyperliquid positions, and a watch (two scheduled runs with the market moved between them,
alerts posted to a loopback webhook), printed for a person.

`make demo` runs this. Each run is the real actor process with local storage
under `storage/demo-*`; only the API server is the loopback sandbox instead of CoinGlass, and
the webhook a loopback receiver instead of Slack.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sandbox"))

from local_run import ROOT, run_actor, show
from sandbox_server import SandboxServer
from webhook_receiver import WebhookReceiver

DEMO_RUNS: list[tuple[str, dict[str, Any]]] = [
    ("search", {"mode": "search_symbols", "keyword": "btc"}),
    ("map", {"mode": "liquidation_map", "symbol": "Binance_BTCUSDT", "range": "1d", "chart": True}),
    ("scan", {"mode": "market_scan", "maxCoins": 5, "mapCoins": 2, "chart": True}),
    ("positions", {"mode": "hyperliquid_positions", "symbol": "BTC", "maxPages": 10}),
]


WATCH_INPUT: dict[str, Any] = {
    "mode": "liquidation_map",
    "symbols": ["Binance_BTCUSDT"],
    "range": "1d",
    "alerts": [
        {"type": "cluster_within_pct", "pct": 1, "minLevel": 3_000_000, "side": "any"},
        {"type": "cluster_swept", "minLevel": 5_000_000},
        {"type": "imbalance_beyond", "value": 0.15},
    ],
    "webhookFormat": "slack",
    "chart": True,
}
MOVE_PCT = 1.5


def main() -> None:
    with SandboxServer() as sandbox:
        env = {
            **os.environ,
            "COINGLASS_BASE_URL": sandbox.url,
            "COINGLASS_API_KEY": SandboxServer.PRO_KEY,
        }
        for name, actor_input in DEMO_RUNS:
            print(f"\n=== {name}: input {json.dumps(actor_input)}")
            storage = ROOT / "storage" / f"demo-{name}"
            run_actor(actor_input, storage, env)
            show(storage)
        watch(sandbox, env)


def watch(sandbox: SandboxServer, env: dict[str, str]) -> None:
    """Two runs of a schedule over one storage, BTC moved between them."""
    storage = ROOT / "storage" / "demo-watch"
    with WebhookReceiver() as receiver:
        actor_input = {**WATCH_INPUT, "webhookUrl": receiver.url}
        shown = {**actor_input, "webhookUrl": "<a Slack incoming webhook>"}
        for run in (1, 2):
            if run == 2:
                sandbox.move_market("BTC", MOVE_PCT)
                print(f"\n(the sandbox's BTC price moves {MOVE_PCT:+}%)")
            print(f"\n=== watch, scheduled run {run}: input {json.dumps(shown)}")
            run_actor(actor_input, storage, env, keep_storage=run > 1)
            show(storage)
            bodies, receiver.bodies = receiver.bodies, []
            for body in bodies:
                print(f"webhook received: {json.dumps(body)}")
            if not bodies:
                print("webhook received: nothing (no alert left to send)")


if __name__ == "__main__":
    main()
