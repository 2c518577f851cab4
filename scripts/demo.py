"""Run the actor offline against the CoinGlass sandbox: a search and a map, printed for a person.

`make demo` runs this. Each run is the real actor process (`python -m src`) with local storage
under `storage/demo-*`; only the API server is the loopback sandbox instead of CoinGlass.
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

DEMO_RUNS: list[tuple[str, dict[str, Any]]] = [
    ("search", {"mode": "search_symbols", "keyword": "btc"}),
    ("map", {"mode": "liquidation_map", "symbol": "Binance_BTCUSDT", "range": "1d", "chart": True}),
]


def main() -> None:
    with SandboxServer() as sandbox:
        for name, actor_input in DEMO_RUNS:
            print(f"\n=== {name}: input {json.dumps(actor_input)}")
            storage = ROOT / "storage" / f"demo-{name}"
            env = {
                **os.environ,
                "COINGLASS_BASE_URL": sandbox.url,
                "COINGLASS_API_KEY": SandboxServer.PRO_KEY,
            }
            run_actor(actor_input, storage, env)
            show(storage)


if __name__ == "__main__":
    main()
