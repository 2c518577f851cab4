"""Hostile input: whatever arrives, a clear failure item naming the field, never a traceback;
and whatever CoinGlass sends, rows in the published shape or a bad_response, never a crash."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import pytest
import respx
from helpers import COIN_MAP_PATH, MAP_PATH
from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox_server import SandboxServer

from coinglass_liquidation_map.catalog import BY_NAME, input_failure, known_fields, parse_input
from coinglass_liquidation_map.coinglass.client import CoinGlassClient
from coinglass_liquidation_map.coinglass.payloads import CoinMapPayload, MapPayloadT, PairMapPayload
from coinglass_liquidation_map.errors import BadResponse, InvalidInput
from coinglass_liquidation_map.market_data import LiquidationRow
from coinglass_liquidation_map.retry import RetryPolicy

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
field_names = st.sampled_from(sorted(known_fields())) | st.text(max_size=300)
plausible = {
    "mode": st.sampled_from([*BY_NAME, "MAP", ""]),
    "symbol": st.text(max_size=200)
    | st.sampled_from(["Binance_BTCUSDT", "binance_btcusdt ", "_", "A_"]),
    "range": st.sampled_from(["1d", "7d", "2d", "1D", "", " 30d"]),
    "requestTimeoutSecs": st.integers(-5, 400) | st.floats(allow_nan=False) | st.text(max_size=5),
    "maxRetries": st.integers(-3, 20),
    "maxRequestsPerMinute": st.integers(-3, 10_000),
    "maxRunSecs": st.integers(-3, 5000),
    "apiKey": st.text(max_size=600),
    "keyword": st.text(max_size=150),
}
inputs = st.dictionaries(field_names, json_values, max_size=6) | st.fixed_dictionaries(
    {}, optional=plausible
)


def assert_clear_failure(error: InvalidInput, raw: object) -> None:
    message = error.message
    assert message.endswith(".")
    if isinstance(raw, dict):
        named = [name for name in raw if isinstance(name, str) and f"'{name[:20]}" in message]
        assert named or "'mode'" in message, message
    item = input_failure(error, raw).model_dump(mode="json", exclude_unset=True)
    assert item["success"] is False
    assert item["error"]["type"] == "invalid_input"
    json.dumps(item)


@settings(max_examples=400, deadline=None)
@given(inputs | json_values)
def test_any_input_is_accepted_or_refused_by_name(raw: Any) -> None:
    try:
        request = parse_input(raw)
    except InvalidInput as error:
        assert_clear_failure(error, raw)
    else:
        assert request.mode in BY_NAME


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {"apiKey": st.text(min_size=4, max_size=600)},
        optional={name: value for name, value in plausible.items() if name != "apiKey"},
    )
)
def test_a_secret_is_never_echoed_in_a_refusal(raw: dict[str, Any]) -> None:
    key = raw["apiKey"].strip()
    others = json.dumps(
        {name: value for name, value in raw.items() if name != "apiKey"}, ensure_ascii=False
    )
    try:
        parse_input(raw)
    except InvalidInput as error:
        message = error.message
    else:
        return
    if len(key) >= 4 and key not in others:
        assert key not in message


def test_nulls_take_the_defaults() -> None:
    request = parse_input({"mode": None, "symbol": None, "range": None, "maxRunSecs": None})
    assert request.mode == "liquidation_map"
    assert request.symbol == "Binance_BTCUSDT"


@pytest.mark.process
@pytest.mark.parametrize(
    ("actor_input", "says"),
    [
        (["not", "an", "object"], "must be a JSON object"),
        ("Binance_BTCUSDT", "must be a JSON object"),
        ({"symbol": "x" * 100_000}, "'symbol': String should have at most 100 characters"),
        ({"range": {"$gt": ""}}, "'range': Input should be '1d'"),
        ({"maxRetries": True, "requestTimeoutSecs": 1e308}, "'requestTimeoutSecs'"),
        ({"\u202e\u0000evil": 1}, "Unknown input field(s)"),
    ],
)
def test_hostile_input_end_to_end(
    run_actor: Any, sandbox: SandboxServer, actor_input: Any, says: str
) -> None:
    run = run_actor(actor_input)
    assert run.exit_code == 0, run.log
    assert run.item["success"] is False
    assert run.item["error"]["type"] == "invalid_input"
    assert says in run.item["message"]
    assert "Traceback" not in run.log
    assert sandbox.requests == []
    assert run.charged_events == []


@pytest.mark.process
@pytest.mark.parametrize(
    "symbol",
    [
        "Binance_BTC/USDT",
        "Binance_BTCUSDT\u0000",
        "Binance_ビットコイン",
        "Binance_BTCUSDT' OR 1=1",
    ],
)
def test_odd_symbols_are_refused_with_suggestions(run_actor: Any, symbol: str) -> None:
    run = run_actor({"symbol": symbol, "apiKey": SandboxServer.PRO_KEY})
    assert run.exit_code == 0, run.log
    assert run.item["error"]["type"] == "unknown_symbol"
    assert "Run mode search_symbols" in run.item["message"]
    assert run.charged_events == []


WRONG_VALUES = {
    "mode": st.sampled_from(["map", 3, ["liquidation_map"]]),
    "symbol": st.sampled_from(["BTC/USDT", "", 5, {"a": 1}, "x" * 101]),
    "range": st.sampled_from(["2d", 1, "", "1D"]),
    "symbols": st.sampled_from(["BTC", [1], ["a b"], ["BTC"] * 51]),
    "ranges": st.sampled_from(["1d", ["2d"], [None]]),
    "requestTimeoutSecs": st.sampled_from([0, 301, "x", 1.5]),
    "maxRetries": st.sampled_from([-1, 11, "3x"]),
    "maxConcurrency": st.sampled_from([0, 17]),
    "topClusters": st.sampled_from([-1, 101]),
    "priceStep": st.sampled_from([0, -5, "wide"]),
    "chart": st.sampled_from(["maybe", [True], 2]),
}


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(WRONG_VALUES)).flatmap(lambda f: st.tuples(st.just(f), WRONG_VALUES[f]))
)
def test_one_bad_field_is_named_with_what_it_accepts(bad: tuple[str, Any]) -> None:
    field, value = bad
    with pytest.raises(InvalidInput) as refused:
        parse_input({field: value})
    message = refused.value.message
    assert f"'{field}" in message  # 'symbols.0' names the list's member
    assert any(
        hint in message
        for hint in ("should be", "must be", "at most", "at least", "greater", "less", "one of")
    ), message


# ---------------------------------------------------------------- hostile upstream maps

numbers_or_text = (
    st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["48935", "0.5", "1e3", "abc", "", "nan"])
)
published_row = st.tuples(
    st.integers(1, 10**6) | st.floats(1, 1e6),
    st.floats(0, 1e9),
    st.sampled_from([5, 10, 25, 100, None]),
    st.sampled_from(["h1", None]),
).map(list)
rows = (
    published_row
    | st.lists(numbers_or_text | st.none(), min_size=2, max_size=5)
    | st.lists(numbers_or_text | st.none() | json_values, max_size=6)
    | json_values
)
buckets = st.dictionaries(
    st.sampled_from(["48935", "0.5231", "1e-5", "-3", "abc", "", " 7"]) | st.text(max_size=6),
    st.lists(rows, min_size=1, max_size=4) | json_values,
    max_size=5,
)
map_bodies = buckets | json_values


async def read_map(path: str, payload: type[MapPayloadT], data: object) -> MapPayloadT:
    """``data`` as the client reads it from a successful response of ``path``."""
    with respx.mock:
        respx.get(f"https://cg.test{path}").respond(json={"code": "0", "data": data})
        async with CoinGlassClient(
            "key", base_url="https://cg.test", retry=RetryPolicy(max_retries=0)
        ) as client:
            return await client.get(path, {}, payload, salvage=payload.salvaged)


def assert_published_rows(liq_map: dict[str, list[LiquidationRow]]) -> None:
    for key, bucket in liq_map.items():
        assert math.isfinite(float(key))
        for price, level, leverage, band in bucket:
            for number in (price, level, leverage):
                assert number is None or type(number) in (int, float)
                assert number is None or math.isfinite(number)
            assert price is not None
            assert level is not None
            assert band is None or isinstance(band, str)


@settings(max_examples=150, deadline=None)
@given(data=st.fixed_dictionaries({"data": map_bodies}) | json_values)
def test_any_pair_map_is_read_to_published_rows_or_refused_as_a_bad_response(
    data: object,
) -> None:
    try:
        payload = asyncio.run(read_map(MAP_PATH, PairMapPayload, data))
    except BadResponse:
        return
    assert_published_rows(payload.data)
    sent = data.get("data") if isinstance(data, dict) else None
    if isinstance(sent, dict):  # every row sent is either kept or counted as left out
        rows_sent = sum(len(rows) if isinstance(rows, list) else 1 for rows in sent.values())
        rows_kept = sum(len(rows) for rows in payload.data.values())
        assert rows_kept + payload.skipped_rows == rows_sent


@settings(max_examples=150, deadline=None)
@given(
    data=st.fixed_dictionaries(
        {
            "last_price": numbers_or_text | st.none(),
            "data": st.lists(
                st.fixed_dictionaries(
                    {
                        "instrument": st.fixed_dictionaries(
                            {"exName": st.text(max_size=8), "instrumentId": st.text(max_size=8)}
                        ),
                        "liqMapV2": map_bodies,
                    }
                )
                | json_values,
                max_size=3,
            ),
        }
    )
    | st.fixed_dictionaries({"data": map_bodies})
)
def test_any_coin_map_is_read_to_published_rows_or_refused_as_a_bad_response(
    data: object,
) -> None:
    try:
        payload = asyncio.run(read_map(COIN_MAP_PATH, CoinMapPayload, data))
    except BadResponse:
        return
    assert_published_rows(payload.liquidation_map().data)
