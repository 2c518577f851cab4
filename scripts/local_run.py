"""Local runs as a user sees them: the real actor process, the Console's prices, the results.

`python scripts/local_run.py '<input JSON>' [STORAGE]` runs `python -m src` with that input and
local storage (default `storage/`), then prints what it pushed and charged. `make run` calls it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def pricing_env() -> dict[str, str]:
    """Environment that prices events as `.actor/pay_per_event.json` lists them.

    The SDK's synthetic per-item event gets no price, as on the platform when the publisher
    does not set one (locally it would otherwise cost $1).
    """
    events = json.loads((ROOT / ".actor" / "pay_per_event.json").read_text())
    events["apify-default-dataset-item"] = {"eventTitle": "Dataset item", "eventPriceUsd": 0}
    pricing = {"pricingModel": "PAY_PER_EVENT", "pricingPerEvent": {"actorChargeEvents": events}}
    return {
        "APIFY_ACTOR_PRICING_INFO": json.dumps(pricing),
        # The SDK reads the pricing from the environment only with non-empty counts.
        "APIFY_CHARGED_ACTOR_EVENT_COUNTS": json.dumps(dict.fromkeys(events, 0)),
    }


def read_items(storage: Path, dataset: str = "default") -> list[dict[str, Any]]:
    """A local dataset's items, in push order (`charging-log` holds the charges)."""
    folder = storage / "datasets" / dataset
    return [
        json.loads(path.read_text())
        for path in sorted(folder.glob("*.json"))
        if path.name != "__metadata__.json"
    ]


def describe(item: dict[str, Any]) -> str:
    """A few lines that show what the item holds, with a taste of the JSON itself."""
    if not item.get("success"):
        return f"FAILED ({item['error']['type']}): {item['message']}"
    if item["mode"] == "search_symbols":
        lines = [f"{item['message']} keyword={item['keyword']!r}: {len(item['data'])} instruments"]
        lines += [
            f"  {i['symbol']:<32} {i['exchange']:<12} {i['base_asset']}/{i['quote_asset']}"
            for i in item["data"][:10]
        ]
        if len(item["data"]) > 10:
            lines.append(f"  ... and {len(item['data']) - 10} more")
        return "\n".join(lines)
    summary = item["summary"]
    lines = [
        f"{item['message']} {item['symbol']} {item['range']}: {len(item['data'])} price buckets,"
        f" {summary['level_count']} levels",
        f"  prices {summary['price_min']:,} .. {summary['price_max']:,}, current price"
        f" {summary['current_price']} ({summary['price_source']})",
    ]
    if summary["current_price"] is not None:
        lines.append(
            f"  longs below {summary['long_level_total']:,.0f} | shorts above"
            f" {summary['short_level_total']:,.0f} | imbalance {summary['imbalance']:+.3f}"
        )
        for side in ("long", "short"):
            cluster = summary[f"nearest_{side}_cluster"]
            if cluster:
                lines.append(
                    f"  nearest {side} cluster {cluster['price']:,}"
                    f" ({cluster['distance_pct']:+.2f}%), level {cluster['level']:,.0f}"
                )
    lines.append("  top clusters:")
    lines += [
        f"    {c['price']:>14,}  level {c['level']:>16,.0f}  {c['side'] or ''}"
        for c in summary["top_clusters"][:5]
    ]
    if item.get("chart_url"):
        lines.append(f"  chart: {item['chart_url']}")
    first = dict(list(item["data"].items())[:2])
    lines.append(f'  "data": {json.dumps(first)[:-1]}, ...}}')
    return "\n".join(lines)


def show(storage: Path) -> None:
    """Print the run's items and what it charged."""
    for item in read_items(storage):
        print(describe(item))
    charges = [
        f"{c['event_name']} x{c['charged_count']} (${c['event_price_usd'] * c['charged_count']:g})"
        for c in read_items(storage, "charging-log")
        if c["charged_count"] and c["event_price_usd"]
    ]
    print(f"charged: {', '.join(charges) or 'nothing'}")
    print(f"dataset: {storage / 'datasets' / 'default'}")
    report = storage / "key_value_stores" / "default" / "report.html"
    if report.exists():
        print(f"report: {report.as_uri()}")


def run_actor(
    actor_input: object,
    storage: Path,
    env: Mapping[str, str] = os.environ,
    *,
    command: Sequence[str] = ("-m", "src"),
    capture: bool = False,
    keep_storage: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the actor process on ``actor_input`` with local storage and Console prices.

    Storage starts empty unless ``keep_storage``, as a later run of the same Actor would see it.
    """
    if not keep_storage:
        shutil.rmtree(storage, ignore_errors=True)
    store = storage / "key_value_stores" / "default"
    store.mkdir(parents=True, exist_ok=True)
    (store / "INPUT.json").write_text(json.dumps(actor_input))
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={**env, "APIFY_LOCAL_STORAGE_DIR": str(storage), **pricing_env()},
        capture_output=capture,
        text=True,
        timeout=300,
        check=False,
    )


def main() -> None:
    actor_input = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    storage = Path(sys.argv[2] if len(sys.argv) > 2 else "storage")
    done = run_actor(actor_input, storage)
    show(storage)
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
