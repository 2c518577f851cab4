"""What the tests share: the sandbox's paths and key, the actor's run as a user sees it, stores
in memory, the store schema's collections, and the figures a trader works out by hand from the
sandbox's own data, with plain loops that share no code with the actor."""

from __future__ import annotations

import json
import logging
import math
import struct
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import local_run
import pytest
import sandbox_data
from jsonschema import Draft7Validator
from sandbox_server import RecordedRequest, SandboxServer

from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.run.watch import Watch
from coinglass_liquidation_map.schemas.maps import LiquidationMapInput, LiquidationMapItem, Realized

ROOT = Path(__file__).resolve().parent.parent
PRO_KEY = SandboxServer.PRO_KEY


ITEM_SCHEMA = Draft7Validator(
    json.loads((ROOT / ".actor" / "dataset_schema.json").read_text())["fields"]
)
# Where in-process tests mock CoinGlass with respx.
MOCKED_BASE_URL = "https://cg.test"
MAP_PATH = "/api/futures/liquidation/map"
COIN_MAP_PATH = "/api/futures/liquidation/aggregated-map"
PAIRS_PATH = "/api/futures/supported-exchange-pairs"
MARKETS_PATH = "/api/futures/pairs-markets"
SUBSCRIPTION_PATH = "/api/user/account/subscription"
PAIR_HISTORY_PATH = "/api/futures/liquidation/history"
COIN_HISTORY_PATH = "/api/futures/liquidation/aggregated-history"


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a PNG must start with."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@dataclass(frozen=True)
class StoredRecord:
    value: Any
    content_type: str | None


class MemoryStore:
    """A key-value store in memory, for what the run stores in Apify's."""

    def __init__(self) -> None:
        self.records: dict[str, StoredRecord] = {}
        self.opened = 0  # how often the store was opened

    async def open(self) -> MemoryStore:
        self.opened += 1
        return self

    async def get_value(self, key: str) -> Any:
        record = self.records.get(key)
        return None if record is None else record.value

    async def record_exists(self, key: str) -> bool:
        return key in self.records

    async def set_value(self, key: str, value: Any, content_type: str | None = None) -> None:
        self.records[key] = StoredRecord(value, content_type)

    async def get_public_url(self, key: str) -> str:
        return f"memory://store/{key}"


async def unknown_plan() -> None:
    """A key whose CoinGlass plan is not known."""


async def not_fetched(
    item: LiquidationMapItem, since: datetime, now: datetime
) -> tuple[Realized | None, str | None]:
    """A watch's source of realized liquidations that has none to give."""
    return None, None


# When in-process watches run, unless a test moves them.
WATCH_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def a_watch(
    request: LiquidationMapInput,
    snapshots: MemoryStore,
    at: datetime = WATCH_NOW,
    records: MemoryStore | None = None,
    *,
    charts: bool = False,
) -> Watch:
    """A watch of ``request`` in memory at ``at``, that stores its chart records under their
    usual keys when it ``charts``."""
    return Watch(
        request,
        Bucketing(),
        logging.getLogger("test"),
        not_fetched,
        snapshots=snapshots.open,
        run_records=(records or MemoryStore()).open,
        clock=lambda: at,
        chart_key=(lambda symbol, range_: f"chart-{symbol}-{range_}.png") if charts else None,
    )


def record(storage: Path, key: str) -> Path:
    """The file of a record in a run's default key-value store."""
    return storage / "key_value_stores" / "default" / key


STORE_SCHEMA = json.loads((ROOT / ".actor" / "key_value_store_schema.json").read_text())


def assert_records_fit_the_store_schema(storage: Path) -> None:
    """Every record the run wrote (its input aside) falls in one collection of the store
    schema, with a content type that collection allows, as the platform checks them."""
    folder = storage / "key_value_stores" / "default"
    for metadata_file in folder.glob("*.__metadata__.json"):
        metadata = json.loads(metadata_file.read_text())
        if metadata["key"] in ("INPUT", "INPUT.json"):
            continue
        collection = STORE_SCHEMA["collections"][collection_of(metadata["key"])]
        assert metadata["content_type"] in collection["contentTypes"], metadata


def collection_of(key: str) -> str:
    """The one collection of the key-value store schema that holds ``key``."""
    names: list[str] = [
        name
        for name, collection in STORE_SCHEMA["collections"].items()
        if collection.get("key") == key or key.startswith(collection.get("keyPrefix", "\0"))
    ]
    assert len(names) == 1, (key, names)
    return names[0]


def calls(sandbox: SandboxServer, path: str) -> list[RecordedRequest]:
    """The requests the sandbox received on one endpoint."""
    return [request for request in sandbox.requests if request.path == path]


@dataclass
class ActorRun:
    """What a user sees of one run: exit code, dataset items, charges and the log."""

    exit_code: int
    items: list[dict[str, Any]]
    charges: list[dict[str, Any]]
    log: str
    storage: Path

    @property
    def item(self) -> dict[str, Any]:
        assert len(self.items) == 1, self.items
        return self.items[0]

    @property
    def charged_events(self) -> list[str]:
        return charged_events(self.charges)


def charged_events(charges: list[dict[str, Any]]) -> list[str]:
    """Our own charged events in a charging log, one entry per charged unit."""
    return [
        charge["event_name"]
        for charge in charges
        for _ in range(charge["charged_count"])
        if not charge["event_name"].startswith("apify-")
    ]


def patched(scenario: str, *modules: str) -> tuple[str, ...]:
    """A command for ``run_actor``: the actor's run with a part replaced, as
    ``tests/patched_actor.py`` describes its scenarios."""
    return ("-m", "tests.patched_actor", local_run.PACKAGE, scenario, *modules)


# ---------------------------------------------------------------- maps worked out by hand


Row = list[Any]


def rows_of(liq_map: dict[str, list[Row]]) -> list[Row]:
    return [row for bucket in liq_map.values() for row in bucket]


def percentile_90(values: list[float]) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * 0.9
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def expected_summary(liq_map: dict[str, list[Row]], price: float, top: int) -> dict[str, Any]:
    """The summary of a map as a trader would work it out by hand."""
    rows = rows_of(liq_map)
    long_total = sum(r[1] for r in rows if r[0] < price)
    short_total = sum(r[1] for r in rows if r[0] > price)
    within = {}
    for pct in (1, 2, 5, 10):
        near = [r for r in rows if abs(r[0] - price) / price * 100 <= pct + 1e-9]  # inclusive
        within[str(pct)] = {
            "long": sum(r[1] for r in near if r[0] < price),
            "short": sum(r[1] for r in near if r[0] > price),
        }
    by_leverage: dict[str, float] = defaultdict(float)
    for r in rows:
        by_leverage["unknown" if r[2] is None else str(r[2])] += r[1]
    buckets = {key: sum(r[1] for r in bucket) for key, bucket in liq_map.items()}
    ranked = sorted(buckets, key=lambda key: -buckets[key])[:top]
    threshold = percentile_90(list(buckets.values()))
    big = [float(key) for key, level in buckets.items() if level >= threshold]
    return {
        "long": long_total,
        "short": short_total,
        "imbalance": (short_total - long_total) / (short_total + long_total),
        "within": within,
        "by_leverage": by_leverage,
        "top": [(float(key), buckets[key]) for key in ranked],
        "nearest_long": max(p for p in big if p < price),
        "nearest_short": min(p for p in big if p > price),
        "min": min(r[0] for r in rows),
        "max": max(r[0] for r in rows),
        "count": len(rows),
    }


def approx(value: float) -> Any:
    """Levels are rounded to cents."""
    return pytest.approx(value, abs=0.02)


# ---------------------------------------------------------------- a watch over several runs


SNAPSHOTS = "liquidation-map-snapshots"
PAIR = ("Binance", "BTCUSDT")
MOVE_PCT = 1.5
MATCH_PCT = 0.25  # clusterMatchPct's default
TOP = 10
WATCH = {"symbol": "Binance_BTCUSDT", "range": "1d", "apiKey": PRO_KEY}


def snapshot_records(storage: Path) -> dict[str, Any]:
    """The snapshot store's records by key, as JSON."""
    folder = storage / "key_value_stores" / SNAPSHOTS
    return {
        path.name: json.loads(path.read_text())
        for path in sorted(folder.iterdir())
        if "__metadata__" not in path.name
    }


def age_snapshots(storage: Path, minutes: float) -> None:
    """Make the stored snapshots and cooldowns ``minutes`` older, as if that much time had
    passed before the next run."""
    folder = storage / "key_value_stores" / SNAPSHOTS
    for name, record in snapshot_records(storage).items():
        older = timedelta(minutes=minutes)
        record["snapshot"]["at"] = _shifted(record["snapshot"]["at"], older)
        for sent in record["sent"]:
            sent["at"] = _shifted(sent["at"], older)
        (folder / name).write_text(json.dumps(record))


def _shifted(moment: str, older: timedelta) -> str:
    return (datetime.fromisoformat(moment) - older).isoformat().replace("+00:00", "Z")


def top_clusters(move_pct: float = 0.0) -> tuple[float, list[tuple[float, float]]]:
    """The pair's price and its top clusters (price, level), with its coin moved ``move_pct``."""
    liq_map = sandbox_data.liquidation_map(*PAIR, "1d", move_pct)
    price = sandbox_data.current_price(*PAIR, move_pct)
    return price, expected_summary(liq_map, price, TOP)["top"]
