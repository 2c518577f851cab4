"""Every upstream fault CoinGlass publishes, end to end: what the user gets, and pays.

Each row runs the actor as a real process against the sandbox with a marker API key and debug
logging, with the fault on the map endpoint, and checks the exit code, the single item, the
number of map requests, the charges, and that the key appears nowhere in output or storage.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import local_run
import matplotlib.image
import pytest
import sandbox_data
from helpers import (
    MAP_PATH,
    PAIRS_PATH,
    ActorRun,
    assert_records_fit_the_store_schema,
    calls,
    patched,
    record,
)
from sandbox_server import Fault, SandboxServer

# Each test runs the actor, or a server, as a real process.
pytestmark = pytest.mark.process

MARKER_KEY = "marker-key-7d1e0b93c4"


@dataclass(frozen=True)
class Case:
    """One row: what the sandbox does, and what the user must see."""

    name: str
    queued: tuple[Fault | str, ...] = ()
    always: Fault | str | None = None
    actor_input: dict[str, Any] = field(default_factory=dict)
    error_type: str | None = None  # None: a success
    retryable: bool = False
    upstream_code: str | None = None
    says: str = ""
    map_requests: int = 1


MATRIX = [
    Case("429 then success", queued=("http_429",), map_requests=2),
    Case(
        "429 with Retry-After",
        queued=(Fault("http_429_retry_after", retry_after=1),),
        map_requests=2,
    ),
    Case(
        "429 forever",
        always="http_429",
        actor_input={"maxRetries": 1},
        error_type="rate_limited",
        retryable=True,
        upstream_code="429",
        says="rate-limiting this API key (HTTP 429)",
        map_requests=2,
    ),
    Case(
        "500 with a Spring body",
        always="http_500_spring",
        actor_input={"maxRetries": 1},
        error_type="upstream_unavailable",
        retryable=True,
        upstream_code="500",
        says="HTTP 500",
        map_requests=2,
    ),
    Case(
        "502 with an HTML body",
        always="http_502_html",
        actor_input={"maxRetries": 1},
        error_type="upstream_unavailable",
        retryable=True,
        upstream_code="502",
        says="HTTP 502",
        map_requests=2,
    ),
    Case(
        "connection reset",
        always="reset",
        actor_input={"maxRetries": 1},
        error_type="network_error",
        retryable=True,
        says="Could not reach CoinGlass",
        map_requests=2,
    ),
    Case(
        "slower than requestTimeoutSecs",
        always=Fault("slow", seconds=2.5),
        actor_input={"requestTimeoutSecs": 1, "maxRetries": 0},
        error_type="upstream_timeout",
        retryable=True,
        says="within 1 s (requestTimeoutSecs)",
    ),
    Case(
        "truncated JSON",
        always="truncated_json",
        actor_input={"maxRetries": 1},
        error_type="bad_response",
        retryable=True,
        upstream_code="200",
        says="not valid JSON",
        map_requests=2,
    ),
    Case(
        "JSON of an unknown shape",
        always="unknown_shape",
        error_type="bad_response",
        upstream_code="200",
        says="shape it does not publish",
    ),
    Case(
        "Upgrade plan on HTTP 200",
        always="upgrade_plan",
        error_type="plan_too_low",
        upstream_code="401",
        says='"Upgrade plan"',
    ),
    Case(
        "API key missing.",
        always="key_missing",
        error_type="invalid_api_key",
        upstream_code="400",
        says="API key missing.",
    ),
    Case(
        "Invalid API key on HTTP 200",
        always="invalid_key_200",
        error_type="invalid_api_key",
        upstream_code="400",
        says="Invalid API key provided",
    ),
    Case(
        "Invalid API key on HTTP 401",
        always="invalid_key_401",
        error_type="invalid_api_key",
        upstream_code="401",
        says="Invalid API key provided",
    ),
    Case(
        "code 400 for a parameter",
        always="bad_param",
        error_type="invalid_parameter",
        upstream_code="400",
        says="symbol is invalid",
    ),
    Case(
        "Endpoint not found",
        always="endpoint_not_found",
        error_type="endpoint_not_found",
        upstream_code="404",
        says="Endpoint not found",
    ),
    Case(
        "a symbol that does not exist",
        actor_input={"symbol": "Binance_NOSUCHUSDT"},
        error_type="unknown_symbol",
        says="no futures instrument 'Binance_NOSUCHUSDT'",
        map_requests=0,
    ),
    Case(
        "an empty map for a listed symbol",
        queued=("empty_map",),
        error_type="no_data",
        says="empty liquidation map for Binance_BTCUSDT over 1d",
    ),
    Case("50,000-row map", queued=(Fault("huge_map", rows=50_000),)),
]


def assert_key_hidden(run: ActorRun) -> None:
    assert MARKER_KEY not in run.log
    for path in run.storage.rglob("*"):
        # INPUT is the user's own input record (encrypted on the platform).
        if path.is_file() and not path.name.startswith("INPUT"):
            assert MARKER_KEY not in path.read_text(errors="replace"), path


@pytest.mark.parametrize("case", MATRIX, ids=[case.name for case in MATRIX])
def test_fault_matrix(run_actor: Any, sandbox: SandboxServer, case: Case) -> None:
    sandbox.add_key(MARKER_KEY)
    sandbox.add_faults(*case.queued, path=MAP_PATH)
    if case.always is not None:
        sandbox.set_fault(case.always, path=MAP_PATH)
    run = run_actor({"apiKey": MARKER_KEY, **case.actor_input}, env={"APIFY_LOG_LEVEL": "DEBUG"})

    assert run.exit_code == 0, run.log
    item = run.item
    assert len(calls(sandbox, MAP_PATH)) == case.map_requests
    assert len(calls(sandbox, PAIRS_PATH)) == 1
    assert_key_hidden(run)
    if case.error_type is None:
        assert item["success"] is True, item
        assert run.charged_events == ["LIQUIDATION_MAP"]
        return
    assert item["success"] is False
    assert item["data"] is None
    assert item["error"] == {
        "type": case.error_type,
        "upstream_code": case.upstream_code,
        "retryable": case.retryable,
    }
    assert case.says in item["message"]
    assert run.charged_events == []
    if case.map_requests > 1:
        assert item["message"].endswith(f"Gave up after {case.map_requests} attempts.")
        assert f"({case.error_type}); attempt 2 of {case.map_requests}" in run.log


def test_retry_after_is_obeyed(run_actor: Any, sandbox: SandboxServer) -> None:
    sandbox.add_faults(Fault("http_429_retry_after", retry_after=1), path=MAP_PATH)
    run = run_actor({"apiKey": SandboxServer.PRO_KEY})
    assert run.item["success"] is True
    first, second = calls(sandbox, MAP_PATH)
    assert (
        "CoinGlass /api/futures/liquidation/map failed (rate_limited); attempt 2 of 4 in 1.0 s."
        in run.log
    )
    assert second.received_at - first.received_at >= 1.0


def test_huge_map_keeps_every_row(run_actor: Any, sandbox: SandboxServer) -> None:
    sandbox.add_faults(Fault("huge_map", rows=50_000), path=MAP_PATH)
    run = run_actor({"apiKey": SandboxServer.PRO_KEY})
    rows = [row for bucket in run.item["data"].values() for row in bucket]
    assert len(rows) == 50_000
    assert all(len(row) == 4 for row in rows)


def test_search_is_retried_on_a_hobby_plan(run_actor: Any, sandbox: SandboxServer) -> None:
    # A Hobbyist key (30 requests a minute) on the free pair list: the search still works.
    sandbox.add_faults("http_503")
    run = run_actor({"mode": "search_symbols", "apiKey": SandboxServer.HOBBY_KEY})
    assert run.item["success"] is True
    assert [request.path for request in sandbox.requests] == [PAIRS_PATH, PAIRS_PATH]
    assert run.charged_events == ["SEARCH_SYMBOLS"]


def test_deadline_stops_a_hung_upstream(run_actor: Any, sandbox: SandboxServer) -> None:
    sandbox.set_fault(Fault("slow", seconds=20))
    run = run_actor({"apiKey": SandboxServer.PRO_KEY, "maxRunSecs": 1, "requestTimeoutSecs": 60})
    assert run.exit_code == 0, run.log
    assert run.item["error"] == {
        "type": "deadline_exceeded",
        "upstream_code": None,
        "retryable": True,
    }
    assert "maxRunSecs (1 s)" in run.item["message"]
    assert run.item["symbol"] == "Binance_BTCUSDT"
    assert run.charged_events == []


@pytest.mark.parametrize(("budget", "fetched"), [("0.005", False), ("0.01", True)])
def test_budget_is_checked_before_spending_quota(
    run_actor: Any, sandbox: SandboxServer, budget: str, fetched: bool
) -> None:
    run = run_actor({"apiKey": SandboxServer.PRO_KEY}, env={"ACTOR_MAX_TOTAL_CHARGE_USD": budget})
    assert run.exit_code == 0, run.log
    if fetched:
        assert run.item["success"] is True
        assert run.charged_events == ["LIQUIDATION_MAP"]
        return
    assert run.item["error"]["type"] == "budget_exhausted"
    assert "maximum total charge" in run.item["message"]
    assert sandbox.requests == []
    assert run.charged_events == []


def test_a_search_fits_a_budget_too_small_for_a_map(run_actor: Any) -> None:
    run = run_actor(
        {"mode": "search_symbols", "keyword": "sol", "apiKey": SandboxServer.PRO_KEY},
        env={"ACTOR_MAX_TOTAL_CHARGE_USD": "0.005"},
    )
    assert run.item["success"] is True
    assert run.charged_events == ["SEARCH_SYMBOLS"]


def test_an_aborted_run_says_so_and_charges_nothing(run_actor: Any, sandbox: SandboxServer) -> None:
    sandbox.set_fault(Fault("slow", seconds=20))
    run = run_actor({"apiKey": SandboxServer.PRO_KEY}, command=patched("aborted_midway"))
    assert run.exit_code == 0, run.log
    assert run.item["error"] == {"type": "aborted", "upstream_code": None, "retryable": True}
    assert "aborted" in run.item["message"]
    assert run.charged_events == []


def test_a_map_too_big_for_one_item_keeps_its_data_and_drops_its_levels(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    sandbox.add_faults(Fault("huge_map", rows=100_000), path=MAP_PATH)
    run = run_actor({"apiKey": SandboxServer.PRO_KEY})
    item = run.item
    assert item["success"] is True
    assert sum(len(bucket) for bucket in item["data"].values()) == 100_000
    assert item["levels"] is None
    assert "exceed the platform's 9 MB item limit" in item["message"]
    assert len(json.dumps(item)) < 9_000_000
    assert run.charged_events == ["LIQUIDATION_MAP"]


def colourful_share(png: bytes) -> float:
    """The share of a picture's pixels in strong colour: bars and curves, not text or axes."""
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]
    return float(((pixels.max(axis=2) - pixels.min(axis=2)) > 0.3).mean())


def test_a_map_whose_data_passes_the_item_limit_is_stored_apart_and_charged(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    sandbox.add_faults(Fault("huge_map", rows=400_000), path=MAP_PATH)
    run = run_actor({"priceStep": 500, "chart": True, "apiKey": SandboxServer.PRO_KEY})
    item = run.item
    assert item["success"] is True
    assert item["data"] is None
    key = item["data_url"].rpartition("/")[2]
    assert re.fullmatch(r"map-Binance_BTCUSDT-1d-[0-9a-f]{12}\.json", key)
    assert item["data_url"] == record(run.storage, key).as_uri()
    assert item["message"].startswith(
        "Liquidation map data fetched successfully. Its data (400,000 rows,"
    )
    assert item["message"].endswith(
        f"exceeds the platform's 9 MB item limit, so it is stored in the run's key-value store"
        f" as {key}: data_url links it."
    )
    huge = sandbox_data.huge_map(400_000)
    assert json.loads(record(run.storage, key).read_text()) == {
        k: huge[k] for k in sorted(huge, key=float)
    }
    assert item["summary"]["level_count"] == 400_000
    # Re-bucketed 500 wide from the current price, the levels are small enough to deliver.
    price = sandbox_data.current_price("Binance", "BTCUSDT")
    tiers = {
        (price + (math.floor((row[0] - price) / 500) + 0.5) * 500, row[2])
        for rows in huge.values()
        for row in rows
    }
    assert len(item["levels"]) == len(tiers)
    assert len(json.dumps(item)) < 9_000_000
    assert run.charged_events == ["LIQUIDATION_MAP"]
    # The chart is drawn from every row, although the item could not carry them.
    chart = record(run.storage, "chart-Binance_BTCUSDT-1d.png").read_bytes()
    assert colourful_share(chart) > 0.2
    assert_records_fit_the_store_schema(run.storage)


def test_a_map_too_large_even_without_data_leaves_its_levels_out_too(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    sandbox.add_faults(Fault("huge_map", rows=400_000), path=MAP_PATH)
    item = run_actor({"apiKey": SandboxServer.PRO_KEY}).item
    assert item["success"] is True
    assert (item["data"], item["levels"]) == (None, None)
    assert re.search(r"/map-Binance_BTCUSDT-1d-[0-9a-f]{12}\.json$", item["data_url"])
    assert item["message"].endswith(
        "The levels were left out too; set priceStep to re-bucket them."
    )


def priced_items(dataset_item_usd: float, max_charge_usd: str) -> dict[str, str]:
    """Prices as a publisher who left Apify's per-item event priced, and the run's budget."""
    return {
        **local_run.pricing_env(dataset_item_usd),
        "ACTOR_MAX_TOTAL_CHARGE_USD": max_charge_usd,
    }


TWO_MAPS = {"symbols": ["Binance_BTCUSDT", "Binance_ETHUSDT"], "apiKey": SandboxServer.PRO_KEY}
BOTH_REFUSED = [("Binance_BTCUSDT", "budget_exhausted"), ("Binance_ETHUSDT", "budget_exhausted")]


def test_priced_dataset_items_are_warned_of_at_start(run_actor: Any) -> None:
    run = run_actor({"apiKey": SandboxServer.PRO_KEY}, env=priced_items(0.001, "1"))
    assert run.item["success"] is True
    warning = "Every dataset item of this actor is priced (apify-default-dataset-item, $0.001)"
    assert warning in run.log
    unpriced = run_actor({"apiKey": SandboxServer.PRO_KEY})
    assert "Every dataset item" not in unpriced.log


def test_a_failure_the_dataset_refuses_is_kept_in_output_and_the_status(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    # A map costs 0.01 + 0.001 and a failure item 0.001: a budget of 0.0005 pays for neither.
    run = run_actor(TWO_MAPS, env=priced_items(0.001, "0.0005"))
    assert run.exit_code == 0, run.log
    assert run.items == []  # what a run-sync-get-dataset-items caller would get
    output = json.loads(record(run.storage, "OUTPUT").read_text())
    assert [(item["symbol"], item["error"]["type"]) for item in output] == BOTH_REFUSED
    assert all(item["success"] is False and item["mode"] == "liquidation_map" for item in output)
    assert "[Status message]: 2 failure(s) could not be stored in the dataset" in run.log
    assert_records_fit_the_store_schema(run.storage)
    assert sandbox.requests == []
    assert run.charged_events == []


def test_a_map_the_budget_cannot_push_after_all_is_reported_not_lost(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    # Each map holds 0.011 of the 0.011 budget: the second is refused before it is fetched,
    # and its failure item's 0.001 leaves the first too little to be pushed once fetched.
    run = run_actor(TWO_MAPS, env=priced_items(0.001, "0.011"))
    assert run.exit_code == 0, run.log
    assert sorted((item["symbol"], item["error"]["type"]) for item in run.items) == BOTH_REFUSED
    assert run.charged_events == []
