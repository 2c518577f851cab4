"""Local runs as a user sees them: the real actor process, the Console's prices, the results.

`python scripts/local_run.py [--sandbox] '<input JSON>' [STORAGE]` runs the actor
(`python -m PACKAGE`) with that input and local storage (default `storage/`), then prints what
it pushed and charged. With `--sandbox` it runs against the bundled CoinGlass sandbox, started
as a process on loopback for the run, with the sandbox's Professional key unless the input has
a key of its own. `make run` calls it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, which puts only scripts/ on the path
    sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "sandbox"))

from sandbox_server import SandboxServer  # noqa: E402

from coinglass_liquidation_map.run.access import API_KEY_ENV, BASE_URL_ENV  # noqa: E402
from coinglass_liquidation_map.standby import READINESS_HEADER  # noqa: E402

# Variables of a developer's shell that would change what a run does: platform settings, a
# key, a CA file the actor's image does not have.
PACKAGE = "coinglass_liquidation_map"
"""The actor's package, which ``python -m`` runs."""
FOREIGN_PREFIXES = ("APIFY_", "ACTOR_", "CRAWLEE_", "COINGLASS_", "SSL_CERT_", "TELEGRAM_")
READINESS_PROBE = {READINESS_HEADER: "1"}
SANDBOX_SCRIPT = ROOT / "sandbox" / "sandbox_server.py"
SANDBOX_NOTE = (
    "Data from the bundled CoinGlass sandbox at {url}, an offline imitation with made-up"
    " figures: not CoinGlass's market data."
)
SANDBOX_MARK = "[sandbox] "
"""What begins each item printed from a sandbox run."""


def isolated_env(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """``environ`` without the variables that would change what a run does."""
    return {key: value for key, value in environ.items() if not key.startswith(FOREIGN_PREFIXES)}


def write_input(storage: Path, actor_input: object) -> None:
    """Put ``actor_input`` where the actor reads its input from local storage."""
    store = storage / "key_value_stores" / "default"
    store.mkdir(parents=True, exist_ok=True)
    (store / "INPUT.json").write_text(json.dumps(actor_input))


def pricing_env(dataset_item_usd: float = 0) -> dict[str, str]:
    """Environment that prices events as `.actor/pay_per_event.json` lists them.

    The SDK's synthetic per-item event costs ``dataset_item_usd``: by default nothing, as on
    the platform when the publisher removes its price (locally it would otherwise cost $1).
    """
    events = json.loads((ROOT / ".actor" / "pay_per_event.json").read_text())
    events["apify-default-dataset-item"] = {
        "eventTitle": "Dataset item",
        "eventPriceUsd": dataset_item_usd,
    }
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
    described = {
        "search_symbols": _describe_search,
        "liquidation_map": _describe_map,
        "liquidation_heatmap": _describe_heatmap,
        "market_scan": _describe_scan_row,
        "hyperliquid_positions": _describe_positions,
    }.get(item["mode"])
    if described is None:  # a mode this printout does not know yet
        return f"{item['message']} ({item['mode']})\n  {json.dumps(item)[:300]} ..."
    return described(item)


def _describe_search(item: dict[str, Any]) -> str:
    """A search: its matches, the first ten."""
    lines = [f"{item['message']} keyword={item['keyword']!r}: {len(item['data'])} instruments"]
    lines += [
        f"  {i['symbol']:<32} {i['exchange']:<12} {i['base_asset']}/{i['quote_asset']}"
        for i in item["data"][:10]
    ]
    if len(item["data"]) > 10:
        lines.append(f"  ... and {len(item['data']) - 10} more")
    return "\n".join(lines)


def _describe_map(item: dict[str, Any]) -> str:
    """A map: its buckets and levels, its price and sides, its nearest and top clusters."""
    summary = item["summary"]
    lines = [
        f"{item['message']} {item['symbol']} {item['range']}: {summary['level_count']} levels",
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
    lines += _watched(item)
    if item.get("chart_url"):
        lines.append(f"  chart: {item['chart_url']}")
    if item["data"] is None:  # too large for one item: stored apart
        lines.append(f"  data: {item['data_url']}")
    else:
        first = dict(list(item["data"].items())[:2])
        lines.append(f'  "data": {json.dumps(first)[:-1]}, ...}}')
    return "\n".join(lines)


def _describe_positions(item: dict[str, Any]) -> str:
    """A coin's Hyperliquid positions: its sentence, how much it covers, the nearest ones."""
    coverage = item["coverage"]
    lines = [
        item["summary_text"],
        f"  {coverage['positions']:,} positions ({coverage['positions_without_liq_price']:,}"
        f" without a usable liquidation price) from {coverage['pages_fetched']} of"
        f" {coverage['total_pages']} pages: {coverage['covered_notional_usd']:,.0f} USD,"
        f" {coverage['coverage_pct']}% of open interest",
        "  nearest to liquidation:",
    ]
    lines += [
        f"    {p['side']:<5} {p['size_usd']:>16,.0f} USD  liq {p['liq_price']:,}"
        f" ({p['distance_pct']:+.2f}%)  {p['user']}"
        for p in item["closest_positions"][:5]
    ]
    if item.get("chart_url"):
        lines.append(f"  chart: {item['chart_url']}")
    return "\n".join(lines)


def _describe_scan_row(item: dict[str, Any]) -> str:
    """A scan's row: the coin at its rank, its max pain on each side, its market, its map."""
    data = item["data"]

    def figure(value: float | None, form: str = ",.0f") -> str:
        return "n/a" if value is None else format(value, form)

    def pain(side: str) -> str:
        price, distance = data[f"{side}_max_pain_price"], data[f"{side}_max_pain_distance_pct"]
        if price is None:
            return f"{side} max pain n/a"
        shown = "n/a" if distance is None else f"{distance:+.2f}%"
        return f"{side} max pain {price:,} ({shown})"

    lines = [
        f"#{item['rank']} {item['coin']} at {figure(data['price'], ',')}: {pain('long')} |"
        f" {pain('short')} ({item['max_pain_range']}, ranked by {item['sort_by']})",
        f"  open interest {figure(data['open_interest_usd'])} | funding"
        f" {figure(data['funding_rate'], '.4f')} | liquidations 24h long"
        f" {figure(data['long_liquidations_usd_24h'])} / short"
        f" {figure(data['short_liquidations_usd_24h'])}",
    ]
    if data["map_range"] is not None:
        lines.append(
            f"  {data['map_range']} map: longs within 2% {figure(data['long_within_2pct'])} |"
            f" shorts within 2% {figure(data['short_within_2pct'])} | imbalance"
            f" {figure(data['imbalance'], '+.3f')}"
        )
    lines += [f"  ALERT {alert['message']}" for alert in item["alerts"]]
    if item["message"] != "Market scan row fetched successfully.":
        lines.append(f"  {item['message']}")
    return "\n".join(lines)


def _describe_heatmap(item: dict[str, Any]) -> str:
    """A heatmap: its grid, its latest column against the price, and its hot zones."""
    summary, latest = item["summary"], item["summary"]["latest"]
    lines = [
        f"{item['message']} {item['symbol']} {item['range']} {item['model']}:"
        f" {summary['columns']} columns x {summary['price_levels']} price levels,"
        f" {summary['cells']} cells",
        f"  {summary['start_time']} .. {summary['end_time']}, current price"
        f" {summary['current_price']:,} ({summary['price_source']})",
        f"  latest column: above {latest['total_above']:,.0f} | below"
        f" {latest['total_below']:,.0f} | imbalance "
        + ("n/a" if latest["imbalance"] is None else f"{latest['imbalance']:+.3f}"),
    ]
    for side in ("above", "below"):
        level = latest[f"nearest_{side}"]
        if level:
            lines.append(
                f"  nearest hot level {side} {level['price']:,}"
                f" ({level['distance_pct']:+.2f}%), value {level['value']:,.0f}"
            )
    lines.append("  hot zones:")
    lines += [
        f"    {zone['price_low']:>12,} .. {zone['price_high']:<12,} total {zone['total']:>16,.0f}"
        f"  {zone['side'] or 'at the price'} ({zone['distance_pct']:+.2f}%)"
        for zone in summary["hot_zones"][:5]
    ]
    for link in ("chart_url", "data_url"):
        if item.get(link):
            lines.append(f"  {link.removesuffix('_url')}: {item[link]}")
    return "\n".join(lines)


def _watched(item: dict[str, Any]) -> list[str]:
    """What a watching run adds to a map: the changes since the last run, and the alerts."""
    lines = []
    changes = item.get("changes")
    if changes:
        moved = ", ".join(
            f"{name} {changes[field]:+.3f}{unit}"
            for name, field, unit in (
                ("price", "price_change_pct", "%"),
                ("longs", "long_level_total_change_pct", "%"),
                ("shorts", "short_level_total_change_pct", "%"),
                ("imbalance", "imbalance_change", ""),
            )
            if changes[field] is not None
        )
        lines.append(
            f"  changes since {changes['previous_at']} ({changes['elapsed_secs']:.0f} s ago):"
            f" {moved or 'nothing comparable without a price'}"
        )
        for kind in ("new", "swept", "faded"):
            prices = ", ".join(f"{c['price']:,}" for c in changes[f"{kind}_clusters"] or [])
            lines.append(f"    {kind} clusters: {prices or 'none'}")
    elif "changes" in item:
        lines.append("  changes: null (the first snapshot of this map)")
    for alert in item.get("alerts") or []:
        held = " (held back by the cooldown)" if alert["suppressed"] else ""
        lines.append(f"  alert: {alert['message']}{held}")
    return lines


def show(storage: Path, mark: str = "") -> None:
    """Print the run's items, each begun with ``mark``, and what it charged."""
    for item in read_items(storage):
        print(f"{mark}{describe(item)}")
    charges = [
        f"{c['event_name']} x{c['charged_count']} (${c['event_price_usd'] * c['charged_count']:g})"
        for c in read_items(storage, "charging-log")
        if c["charged_count"] and c["event_price_usd"]
    ]
    print(f"charged: {', '.join(charges) or 'nothing'}")
    print(f"dataset: {storage / 'datasets' / 'default'}")
    report = storage / "key_value_stores" / "default" / "report.html"
    if report.exists():
        print(f"report: {report.resolve().as_uri()}")


def run_actor(
    actor_input: object,
    storage: Path,
    env: Mapping[str, str] = os.environ,
    *,
    command: Sequence[str] = ("-m", PACKAGE),
    capture: bool = False,
    keep_storage: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the actor process on ``actor_input`` with local storage and Console prices.

    Storage starts empty unless ``keep_storage``, as a later run of the same Actor would see it.
    """
    if not keep_storage:
        shutil.rmtree(storage, ignore_errors=True)
    write_input(storage, actor_input)
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={**pricing_env(), **env, "APIFY_LOCAL_STORAGE_DIR": str(storage)},
        capture_output=capture,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass(frozen=True)
class StandbyServer:
    """A Standby process that answered its readiness probe."""

    url: str
    ready_s: float  # from spawn to the first 200 of the readiness probe
    log: Path  # everything the process printed


class StandbyFailed(RuntimeError):
    """The Standby process exited, or did not become ready in time."""


@contextmanager
def standby_server(
    actor_input: object,
    storage: Path,
    env: Mapping[str, str],
    *,
    cwd: Path = ROOT,
    ready_within_s: float = 60.0,
) -> Iterator[StandbyServer]:
    """The actor in Standby mode, as the platform starts it, on a free loopback port,
    with ``actor_input`` as the run's input and local storage in ``storage``; stopped on exit.

    Raises StandbyFailed, with the end of its log, if it exits or does not answer the
    readiness probe within ``ready_within_s``.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    write_input(storage, actor_input)
    log = storage / "standby.log"
    with log.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", PACKAGE],
            cwd=cwd,
            env={
                **env,
                **pricing_env(),
                "APIFY_LOCAL_STORAGE_DIR": str(storage),
                "APIFY_META_ORIGIN": "STANDBY",
                "ACTOR_WEB_SERVER_PORT": str(port),
            },
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        ready_s = _wait_ready(process, url, started, ready_within_s, log)
        yield StandbyServer(url, ready_s, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _wait_ready(
    process: subprocess.Popen[bytes], url: str, started: float, within_s: float, log: Path
) -> float:
    """Seconds from spawn to readiness, polling every 50 ms."""
    with httpx.Client(timeout=1) as http:
        while time.perf_counter() - started < within_s:
            try:
                if http.get(url, headers=READINESS_PROBE).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass  # not listening yet
            if process.poll() is not None:
                break
            time.sleep(0.05)
    code = process.poll()
    why = f"exited with code {code}" if code is not None else f"not ready in {within_s:g} s"
    raise StandbyFailed(f"Standby server {why}\n{log.read_text(errors='replace')[-2000:]}")


@contextmanager
def sandbox_process() -> Iterator[str]:
    """The bundled CoinGlass sandbox as a process on a free loopback port: its URL, until the
    block ends and the process is stopped."""
    process = subprocess.Popen(
        [sys.executable, str(SANDBOX_SCRIPT), "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        # The sandbox prints its URL once it listens, or exits, which ends its output.
        line = process.stdout.readline()
        if not line.startswith("SANDBOX_URL="):
            raise RuntimeError(f"The CoinGlass sandbox did not start (it printed {line!r}).")
        yield line.removeprefix("SANDBOX_URL=").strip()
    finally:
        process.terminate()
        process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the actor locally and print its results.")
    parser.add_argument("input", nargs="?", default="{}", help="the actor's input, as JSON")
    parser.add_argument("storage", nargs="?", default="storage", help="the local storage")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="run against the bundled CoinGlass sandbox instead of CoinGlass; no key needed",
    )
    args = parser.parse_args()
    actor_input = json.loads(args.input)
    storage = Path(args.storage)
    if not args.sandbox:
        done = run_actor(actor_input, storage)
        show(storage)
        sys.exit(done.returncode)
    with sandbox_process() as url:
        # A key in the input still wins over this one, as it does over the publisher's.
        env = {**os.environ, BASE_URL_ENV: url, API_KEY_ENV: SandboxServer.PRO_KEY}
        done = run_actor(actor_input, storage, env)
    print(SANDBOX_NOTE.format(url=url))
    show(storage, mark=SANDBOX_MARK)
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
