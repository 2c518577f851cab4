"""The actor as a real process against the CoinGlass sandbox: what a user gets, and pays."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import sandbox_data
import sandbox_heatmaps
from helpers import (
    COIN_MAP_PATH,
    MAP_PATH,
    MARKETS_PATH,
    PAIRS_PATH,
    PRO_KEY,
    SUBSCRIPTION_PATH,
    ActorRun,
    calls,
    expected_summary,
    patched,
    record,
)
from sandbox_server import COIN_HEATMAP_PATH, PAIR_HEATMAP_PATH, SandboxServer

# Each test runs the actor, or a server, as a real process.
pytestmark = pytest.mark.process


def expected_map(exchange: str, instrument_id: str, range_: str) -> dict[str, list[list[Any]]]:
    """The sandbox's own map for the pair, buckets in ascending price order, rows as JSON."""
    raw = sandbox_data.liquidation_map(exchange, instrument_id, range_)
    return {key: [list(row) for row in raw[key]] for key in sorted(raw, key=float)}


def all_symbols() -> list[str]:
    return [
        f"{exchange}_{row['instrument_id']}"
        for exchange, rows in sandbox_data.supported_pairs().items()
        for row in rows
    ]


def assert_failed(
    run: ActorRun, error_type: str, *, retryable: bool, code: str | None
) -> dict[str, Any]:
    """A failure a user can act on: exit 0, one uncharged item with the stable error."""
    assert run.exit_code == 0, run.log
    item: dict[str, Any] = run.item
    assert item["success"] is False
    assert item["data"] is None
    assert item["error"] == {"type": error_type, "upstream_code": code, "retryable": retryable}
    assert run.charged_events == []
    return item


# ---------------------------------------------------------------- liquidation_map


def test_map_is_the_sandbox_map_and_is_charged_once(run_actor: Any, sandbox: SandboxServer) -> None:
    run = run_actor({"symbol": "Binance_BTCUSDT", "range": "7d", "apiKey": PRO_KEY})
    assert run.exit_code == 0, run.log
    assert list(run.item) == [
        "success",
        "message",
        "mode",
        "symbol",
        "range",
        "data",
        "summary",
        "levels",
        "chart_url",
        "data_url",
        "changes",
        "alerts",
        "provenance",
        "source",
        "summary_text",
    ]
    assert (run.item["provenance"], run.item["source"]) == ("modeled", "liquidation map")
    assert run.item["changes"] is None  # the first run of a watch has nothing to compare with
    assert run.item["alerts"] == []  # no rules, no alerts
    assert "First snapshot of Binance_BTCUSDT 7d saved" in run.log
    assert run.item["chart_url"] is None  # charts only when asked for
    assert run.item["data_url"] is None  # the data is in the item
    assert run.item["success"] is True
    assert run.item["message"] == "Liquidation map data fetched successfully."
    assert (run.item["mode"], run.item["symbol"], run.item["range"]) == (
        "liquidation_map",
        "Binance_BTCUSDT",
        "7d",
    )
    assert run.item["data"] == expected_map("Binance", "BTCUSDT", "7d")
    assert len(run.item["data"]) > 100
    assert run.charged_events == ["LIQUIDATION_MAP"]
    [request] = calls(sandbox, MAP_PATH)
    assert request.path == MAP_PATH
    assert request.query == {"exchange": "Binance", "symbol": "BTCUSDT", "range": "7d"}
    assert request.headers["cg-api-key"] == PRO_KEY


def test_defaults_fetch_the_binance_btc_daily_map(run_actor: Any) -> None:
    run = run_actor({}, env={"COINGLASS_API_KEY": PRO_KEY})
    assert run.item["symbol"] == "Binance_BTCUSDT"
    assert run.item["range"] == "1d"
    assert run.item["data"] == expected_map("Binance", "BTCUSDT", "1d")
    # The sentence, worked out by hand: the heavier side first, then the largest cluster.
    price = sandbox_data.current_price("Binance", "BTCUSDT")
    want = expected_summary(sandbox_data.liquidation_map("Binance", "BTCUSDT", "1d"), price, 10)
    (top_price, top_level), imbalance = want["top"][0], want["imbalance"]
    assert want["short"] > want["long"]  # the sandbox's BTC leans short
    assert run.item["summary_text"] == (
        f"Binance_BTCUSDT at {price:,.0f}: {want['short'] / 1e6:.0f}M of shorts above and"
        f" {want['long'] / 1e6:.0f}M of longs below (imbalance {imbalance:+.2f}); the largest"
        f" cluster is {top_level / 1e6:.3g}M at {top_price:,.0f}"
        f" ({(top_price - price) / price * 100:+.1f}%)."
    )


@pytest.mark.parametrize(
    ("symbol", "exchange", "instrument_id"),
    [
        ("Binance_BTCUSD_PERP", "Binance", "BTCUSD_PERP"),
        ("ApeX Omni_BTC-USDT", "ApeX Omni", "BTC-USDT"),
    ],
)
def test_symbol_splits_at_the_first_underscore(
    run_actor: Any, sandbox: SandboxServer, symbol: str, exchange: str, instrument_id: str
) -> None:
    run = run_actor({"symbol": symbol, "apiKey": PRO_KEY})
    assert run.item["success"] is True, run.item
    assert run.item["data"] == expected_map(exchange, instrument_id, "1d")
    [request] = calls(sandbox, MAP_PATH)
    assert request.query["exchange"] == exchange
    assert request.query["symbol"] == instrument_id


@pytest.mark.parametrize("variant", ["strings", "short_rows", "bands", "decimal_keys"])
def test_every_published_row_variant_becomes_four_json_members(
    run_actor: Any, sandbox: SandboxServer, variant: str
) -> None:
    sandbox.map_variant = variant
    run = run_actor({"symbol": "Binance_ETHUSDT", "apiKey": PRO_KEY})
    assert run.item["success"] is True, run.item
    standard = expected_map("Binance", "ETHUSDT", "1d")
    rows = [row for bucket in run.item["data"].values() for row in bucket]
    assert len(rows) == sum(len(bucket) for bucket in standard.values())
    for price, level, leverage, band in rows:
        assert isinstance(price, int | float)
        assert isinstance(level, int | float)
        assert leverage is None or isinstance(leverage, int | float)
        assert band is None or isinstance(band, str)
    prices = [float(key) for key in run.item["data"]]
    assert prices == sorted(prices)
    if variant == "strings":
        assert run.item["data"] == standard


def test_sub_cent_coin_keeps_decimal_keys_and_prices(run_actor: Any) -> None:
    run = run_actor({"symbol": "Binance_PEPEUSDT", "apiKey": PRO_KEY})
    assert run.item["success"] is True, run.item
    assert run.item["data"] == expected_map("Binance", "PEPEUSDT", "1d")
    first_key, first_bucket = next(iter(run.item["data"].items()))
    assert first_key.startswith("0.0000")
    assert first_bucket[0][0] < 0.0001


def test_lower_case_symbol_is_resolved_to_the_real_instrument(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor({"symbol": " binance_btcusdt ", "apiKey": PRO_KEY})
    assert run.item["success"] is True, run.item
    assert run.item["symbol"] == "Binance_BTCUSDT"
    assert run.item["data"] == expected_map("Binance", "BTCUSDT", "1d")
    assert [r.query["symbol"] for r in calls(sandbox, MAP_PATH)] == ["BTCUSDT"]
    assert run.charged_events == ["LIQUIDATION_MAP"]


def test_a_map_run_loads_no_module_only_charts_histories_or_mistyped_symbols_need(
    run_actor: Any,
) -> None:
    run = run_actor(
        {"apiKey": PRO_KEY},
        command=patched("spy", "matplotlib", "difflib", "coinglass_liquidation_map.run.history"),
    )
    assert run.item["success"] is True
    assert "LOADED matplotlib False" in run.log
    assert "LOADED difflib False" in run.log
    assert "LOADED coinglass_liquidation_map.run.history False" in run.log
    assert not record(run.storage, "report.html").exists()


def test_unknown_symbol_is_refused_with_close_suggestions(run_actor: Any) -> None:
    run = run_actor(
        {"symbol": "Binance_BTCUSDTX", "apiKey": PRO_KEY}, command=patched("spy", "difflib")
    )
    assert "LOADED difflib True" in run.log  # the suggestions below need it
    item = assert_failed(run, "unknown_symbol", retryable=False, code=None)
    assert item["symbol"] == "Binance_BTCUSDTX"
    assert "'Binance_BTCUSDTX'" in item["message"]
    suggested = item["message"].split("Did you mean ")[1].split("?")[0].split(", ")
    assert suggested[0] == "Binance_BTCUSDT"
    assert 1 <= len(suggested) <= 5
    assert set(suggested) <= set(all_symbols())


def test_an_instrument_id_typed_alone_suggests_its_instruments_then_the_coin(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor({"symbol": "BTCUSDT", "apiKey": PRO_KEY})
    item = assert_failed(run, "unknown_symbol", retryable=False, code=None)
    pairs = sandbox_data.supported_pairs()
    exact = sorted(
        ex for ex, rows in pairs.items() for r in rows if r["instrument_id"] == "BTCUSDT"
    )
    spelled_otherwise = sorted(
        (ex, r["instrument_id"])
        for ex, rows in pairs.items()
        for r in rows
        if r["instrument_id"] != "BTCUSDT"
        and r["instrument_id"].replace("-", "").replace("_", "") == "BTCUSDT"
    )
    want = [f"{ex}_BTCUSDT" for ex in exact] + [f"{ex}_{iid}" for ex, iid in spelled_otherwise]
    # The sandbox lists the id as typed on several exchanges, and spelled otherwise on others.
    assert len(exact) >= 2
    assert spelled_otherwise
    assert item["message"] == (
        "CoinGlass has no futures on a coin named 'BTCUSDT'. Did you mean "
        + ", ".join(want)
        + ", the coin BTC (its map across exchanges)? Run mode search_symbols to list the"
        " supported instruments."
    )
    assert calls(sandbox, MAP_PATH) == calls(sandbox, COIN_MAP_PATH) == []
    assert run.charged_events == []


def test_a_mistyped_coin_is_still_offered_close_coins(run_actor: Any) -> None:
    item = assert_failed(
        run_actor({"symbol": "BTCC", "apiKey": PRO_KEY}),
        "unknown_symbol",
        retryable=False,
        code=None,
    )
    assert "Did you mean BTC" in item["message"]


def test_a_map_range_coinglass_refuses_comes_from_its_heatmap_and_is_remembered(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    actor_input = {"symbol": "Binance_BTCUSDT", "range": "90d", "apiKey": PRO_KEY}
    run = run_actor(actor_input, keep_storage=True)
    item = run.item
    # The sandbox's own heatmap, its latest column read by hand: one row per cell.
    heatmap = sandbox_heatmaps.pair_heatmap("Binance", "BTCUSDT", "90d", "model1")
    last = len(heatmap["price_candlesticks"]) - 1
    column = sorted((y, value) for x, y, value in heatmap["liquidation_leverage_data"] if x == last)
    prices = heatmap["y_axis"]
    assert item["data"] == {str(prices[y]): [[prices[y], value, None, None]] for y, value in column}
    assert (item["provenance"], item["source"]) == ("modeled", "heatmap model1, latest column")
    assert item["message"] == (
        "Liquidation map data fetched successfully. CoinGlass does not serve maps over 90d (it"
        " refuses that range), so this map is the latest column of its model1 liquidation"
        " heatmap over 90d: each level is a cell's value at its price, without leverage."
    )
    close = float(heatmap["price_candlesticks"][-1][4])
    assert (item["summary"]["current_price"], item["summary"]["price_source"]) == (
        close,
        "heatmap model1 last candle close",
    )
    below = sum(value for y, value in column if prices[y] < close)
    assert item["summary"]["long_level_total"] == pytest.approx(below, abs=0.01)
    assert run.charged_events == ["LIQUIDATION_MAP"]
    # A refusal is asked once more, not retried as an outage.
    assert len(calls(sandbox, MAP_PATH)) == 2
    assert [r.query["range"] for r in calls(sandbox, f"{PAIR_HEATMAP_PATH}/model1")] == ["90d"]
    # The next run remembers the refusal and goes straight to the heatmap.
    sandbox.reset()
    again = run_actor(actor_input, keep_storage=True)
    assert again.item["data"] == item["data"]
    assert calls(sandbox, MAP_PATH) == []
    assert again.charged_events == ["LIQUIDATION_MAP"]


def test_a_young_coin_s_map_over_more_history_than_it_has_is_not_available_and_free(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    young = min(sandbox_data.LISTED_DAYS, key=sandbox_data.LISTED_DAYS.__getitem__)
    run = run_actor({"symbol": young, "range": "90d", "apiKey": PRO_KEY})
    item = run.item
    assert (item["success"], item["error"]["type"]) == (False, "invalid_parameter")
    # The map's range is refused for every coin, then this coin's heatmap for its own history.
    assert "CoinGlass keeps a 90d heatmap only of what has traded that long" in item["message"]
    assert item["message"].endswith(
        "(CoinGlass does not serve maps over 90d, so this map was asked of its model1 liquidation"
        " heatmap over 90d.)"
    )
    assert len(calls(sandbox, COIN_MAP_PATH)) == 2
    assert len(calls(sandbox, f"{COIN_HEATMAP_PATH}/model1")) == 2
    assert run.charged_events == []


# ---------------------------------------------------------------- search_symbols


def test_search_returns_every_match_best_first_and_is_charged(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor({"mode": "search_symbols", "keyword": "ETH", "apiKey": PRO_KEY})
    assert run.exit_code == 0, run.log
    item = run.item
    assert list(item) == ["success", "message", "mode", "keyword", "data", "summary_text"]
    assert item["message"] == "Futures symbols fetched successfully."
    assert (item["mode"], item["keyword"]) == ("search_symbols", "ETH")
    pairs = sandbox_data.supported_pairs()
    matching = {
        f"{exchange}_{row['instrument_id']}"
        for exchange, rows in pairs.items()
        for row in rows
        if any(
            "eth" in field.lower()
            for field in (row["base_asset"], row["quote_asset"], exchange, row["instrument_id"])
        )
    }
    found = [instrument["symbol"] for instrument in item["data"]]
    assert set(found) == matching
    assert len(found) == len(matching)
    exact = [i for i in item["data"] if i["base_asset"] == "ETH"]
    assert item["data"][: len(exact)] == exact
    assert set(item["data"][0]) == {"base_asset", "quote_asset", "exchange", "symbol"}
    assert run.charged_events == ["SEARCH_SYMBOLS"]
    assert [(r.path, r.query) for r in sandbox.requests] == [
        (PAIRS_PATH, {}),
        (MARKETS_PATH, {"symbol": "ETH"}),
    ]


def by_open_interest(coin: str) -> list[str]:
    """The coin's instruments, the largest open interest first, from the sandbox's markets."""
    listed = {
        (exchange, row["instrument_id"])
        for exchange, rows in sandbox_data.supported_pairs().items()
        for row in rows
        if row["base_asset"] == coin
    }
    ranked = sorted(sandbox_data.pairs_markets(coin), key=lambda m: -m["open_interest_usd"])
    symbols = []
    for market in ranked:
        # pairs-markets spells some exchanges otherwise: "Gate.io" for "Gate".
        name = market["exchange_name"].lower().replace(".", "").replace(" ", "")
        for exchange, instrument_id in listed:
            loose = exchange.lower().replace(".", "").replace(" ", "")
            if instrument_id == market["instrument_id"] and name.startswith(loose):
                symbols.append(f"{exchange}_{instrument_id}")
    assert len(symbols) == len(listed)
    return symbols


def test_search_for_a_coin_lists_its_most_traded_instruments_first(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    run = run_actor(
        {"mode": "search_symbols", "keyword": "sol", "maxResults": 3, "apiKey": PRO_KEY},
        keep_storage=True,
    )
    item = run.item
    assert item["message"] == "Futures symbols fetched successfully."
    assert [i["symbol"] for i in item["data"]] == by_open_interest("SOL")[:3]
    assert item["data"][0]["symbol"] == "Binance_SOLUSDT"
    # The next run within symbolCacheTtlSecs ranks from the kept markets: no request at all.
    sandbox.reset()
    again = run_actor(
        {"mode": "search_symbols", "keyword": "SOL", "apiKey": PRO_KEY}, keep_storage=True
    )
    assert [i["symbol"] for i in again.item["data"]][:3] == by_open_interest("SOL")[:3]
    assert sandbox.requests == []


def test_search_without_open_interest_says_why_and_stays_alphabetical(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    # Every plan may call pairs-markets, but an answer can still refuse it.
    sandbox.set_fault("upgrade_plan", path=MARKETS_PATH)
    run = run_actor({"mode": "search_symbols", "keyword": "sol", "apiKey": PRO_KEY})
    item = run.item
    assert item["success"] is True
    assert item["message"] == (
        "Futures symbols fetched successfully. Open interest is unavailable (pairs-markets"
        " failed: plan_too_low), so SOL's instruments are in alphabetical order."
    )
    exact = [i for i in item["data"] if i["base_asset"] == "SOL"]
    assert item["data"][: len(exact)] == exact
    assert [(i["exchange"].lower(), i["symbol"].lower()) for i in exact] == sorted(
        (i["exchange"].lower(), i["symbol"].lower()) for i in exact
    )
    assert run.charged_events == ["SEARCH_SYMBOLS"]


def test_search_without_keyword_lists_every_instrument(run_actor: Any) -> None:
    run = run_actor({"mode": "search_symbols", "apiKey": PRO_KEY})
    assert run.item["keyword"] == ""
    assert sorted(i["symbol"] for i in run.item["data"]) == sorted(all_symbols())


def test_search_works_on_a_hobby_plan(run_actor: Any) -> None:
    run = run_actor({"mode": "search_symbols", "keyword": "okx", "apiKey": SandboxServer.HOBBY_KEY})
    assert run.item["success"] is True
    assert {i["exchange"] for i in run.item["data"]} == {"OKX"}


# ---------------------------------------------------------------- failures


def test_missing_key_sends_no_request(run_actor: Any, sandbox: SandboxServer) -> None:
    item = assert_failed(
        run_actor({"symbol": "OKX_BTC-USDT-SWAP"}), "missing_api_key", retryable=False, code=None
    )
    assert "apiKey" in item["message"]
    assert "COINGLASS_API_KEY" in item["message"]
    assert "make run SANDBOX=1 INPUT=" in item["message"]  # how to try it without a key
    assert (item["mode"], item["symbol"], item["range"]) == (
        "liquidation_map",
        "OKX_BTC-USDT-SWAP",
        "1d",
    )
    assert sandbox.requests == []


def test_input_key_wins_over_the_publishers_key(run_actor: Any, sandbox: SandboxServer) -> None:
    run = run_actor({"apiKey": PRO_KEY}, env={"COINGLASS_API_KEY": "publisher-key"})
    assert run.item["success"] is True
    assert {r.headers["cg-api-key"] for r in sandbox.requests} == {PRO_KEY}


@pytest.mark.parametrize("publishers_key", ["has spaces", "ключ", "line\nbreak"])
def test_a_malformed_publishers_key_is_refused_before_any_request(
    run_actor: Any, sandbox: SandboxServer, publishers_key: str
) -> None:
    run = run_actor({}, env={"COINGLASS_API_KEY": publishers_key})
    item = assert_failed(run, "invalid_api_key", retryable=False, code=None)
    assert "COINGLASS_API_KEY" in item["message"]
    assert sandbox.requests == []


def test_invalid_key(run_actor: Any) -> None:
    item = assert_failed(
        run_actor({"apiKey": "wrong-key"}), "invalid_api_key", retryable=False, code="400"
    )
    assert "Invalid API key provided" in item["message"]


@pytest.mark.parametrize(
    ("key", "plan", "can"),
    [
        # What each plan runs with the actor, from CoinGlass's plan table.
        (
            SandboxServer.STANDARD_KEY,
            "Standard",
            "searches, the market scan's market columns and Hyperliquid positions",
        ),
        (SandboxServer.HOBBY_KEY, "Hobbyist", "searches"),
    ],
)
def test_a_plan_too_low_says_what_the_keys_plan_runs(
    run_actor: Any, sandbox: SandboxServer, key: str, plan: str, can: str
) -> None:
    # CoinGlass answers "Upgrade plan" with HTTP 200; the key's plan comes from its subscription.
    run = run_actor({"apiKey": key})
    item = assert_failed(run, "plan_too_low", retryable=False, code="401")
    assert item["message"] == (
        'Your CoinGlass plan does not include this data (CoinGlass says "Upgrade plan"):'
        f" upgrade the plan or use a key that has it. This key is on CoinGlass's {plan} plan:"
        f" with this actor it can run {can}. Liquidation maps need the Professional plan or"
        " higher."
    )
    assert len(calls(sandbox, MAP_PATH)) == 1
    assert len(calls(sandbox, SUBSCRIPTION_PATH)) == 1
    # Kept for the next runs under the key's hash, never the key itself.
    cache = run.storage / "key_value_stores" / "coinglass-cache"
    digest = hashlib.sha256(key.encode()).hexdigest()
    assert (cache / f"plan-{digest[:32]}").exists()
    assert not any(key in path.name or key in path.read_text() for path in cache.iterdir())


@pytest.mark.parametrize(
    ("actor_input", "field"),
    [
        ({"range": "2d"}, "'range'"),
        ({"mode": "maps"}, "'mode'"),
        ({"symbol": "BTC/USDT"}, "'symbol'"),
        ({"requestTimeoutSecs": "soon"}, "'requestTimeoutSecs'"),
        ({"symbl": "Binance_BTCUSDT"}, "'symbl'"),
    ],
)
def test_bad_input_is_an_uncharged_failure_item(
    run_actor: Any, sandbox: SandboxServer, actor_input: dict[str, Any], field: str
) -> None:
    item = assert_failed(
        run_actor({**actor_input, "apiKey": PRO_KEY}), "invalid_input", retryable=False, code=None
    )
    assert field in item["message"]
    assert sandbox.requests == []


def test_a_bug_still_leaves_an_uncharged_item_and_fails_the_run(run_actor: Any) -> None:
    run = run_actor({"apiKey": PRO_KEY}, command=patched("broken"))
    assert run.exit_code not in (0, None)
    item = run.item
    assert item["success"] is False
    assert item["error"] == {"type": "internal_error", "upstream_code": None, "retryable": False}
    assert "nothing was charged" in item["message"]
    assert run.charged_events == []
    assert "RuntimeError: a bug" in run.log


def test_a_bug_in_one_map_spares_the_others_and_still_fails_the_run(run_actor: Any) -> None:
    run = run_actor(
        {"symbols": ["Binance_BTCUSDT", "BTC", "Binance_ETHUSDT"], "apiKey": PRO_KEY},
        command=patched("broken_for_btc"),
    )
    assert run.exit_code not in (0, None)
    outcome = {item["symbol"]: item["success"] for item in run.items}
    assert outcome == {"Binance_BTCUSDT": True, "BTC": False, "Binance_ETHUSDT": True}
    [broken] = [item for item in run.items if not item["success"]]
    assert broken["error"]["type"] == "internal_error"
    assert run.charged_events == ["LIQUIDATION_MAP"] * 2
