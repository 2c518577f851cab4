"""Input validation and the failure envelope."""

from __future__ import annotations

import pytest

from src.errors import InvalidInput, RateLimited
from src.models import LiquidationMapInput, SearchSymbolsInput, failure_item, parse_input


def test_defaults_give_the_btc_daily_map() -> None:
    request = parse_input({})
    assert isinstance(request, LiquidationMapInput)
    assert (request.symbol, request.range, request.request_timeout_secs) == (
        "Binance_BTCUSDT",
        "1d",
        30,
    )
    assert (request.max_retries, request.max_requests_per_minute, request.max_run_secs) == (
        3,
        1000,
        None,
    )
    assert request.api_key is None


@pytest.mark.parametrize(
    ("symbol", "exchange", "instrument_id"),
    [
        ("Binance_BTCUSDT", "Binance", "BTCUSDT"),
        ("Binance_BTCUSD_PERP", "Binance", "BTCUSD_PERP"),
        ("ApeX Omni_BTC-USDT", "ApeX Omni", "BTC-USDT"),
        ("  OKX_BTC-USDT-SWAP ", "OKX", "BTC-USDT-SWAP"),
    ],
)
def test_symbol_splits_at_the_first_underscore(
    symbol: str, exchange: str, instrument_id: str
) -> None:
    request = parse_input({"symbol": symbol})
    assert isinstance(request, LiquidationMapInput)
    assert (request.exchange, request.instrument_id) == (exchange, instrument_id)


def test_console_forms_send_the_other_modes_fields_too() -> None:
    request = parse_input(
        {"mode": "search_symbols", "keyword": "eth", "symbol": "Binance_BTCUSDT", "range": "7d"}
    )
    assert isinstance(request, SearchSymbolsInput)
    assert request.keyword == "eth"


def test_api_key_is_secret_in_reprs() -> None:
    request = parse_input({"apiKey": "hunter2"})
    assert "hunter2" not in repr(request)
    assert request.api_key is not None
    assert request.api_key.get_secret_value() == "hunter2"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], "must be a JSON object"),
        (
            {"mode": "heatmap"},
            "'mode' must be one of 'search_symbols', 'liquidation_map', not 'heatmap'",
        ),
        (
            {"range": "2d"},
            "'range': Input should be '1d', '7d', '30d', '90d', '180d' or '365d' (got '2d')",
        ),
        ({"symbol": "BTCUSDT"}, "'symbol': must be <exchange>_<instrument id>"),
        ({"symbol": "_BTCUSDT"}, "'symbol': must be <exchange>_<instrument id>"),
        ({"symbol": 42}, "'symbol': Input should be a valid string (got 42)"),
        (
            {"requestTimeoutSecs": 0},
            "'requestTimeoutSecs': Input should be greater than or equal to 1",
        ),
        ({"maxRetries": 11}, "'maxRetries': Input should be less than or equal to 10"),
        ({"symbl": "Binance_BTCUSDT"}, "Unknown input field(s) 'symbl'; accepted fields are"),
        ({"mode": ["a"]}, "'mode' must be one of 'search_symbols', 'liquidation_map', not ['a']"),
        ({"apiKey": "secret with spaces"}, "'apiKey': must be a CoinGlass API key"),
        ({"apiKey": 12345}, "'apiKey': Input should be a valid string."),
        (
            {"mode": "search_symbols", "keyword": "x" * 101},
            "'keyword': String should have at most 100",
        ),
    ],
)
def test_bad_input_names_the_field_and_what_it_accepts(raw: object, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_input(raw)
    assert expected in caught.value.message


def test_failure_item_echoes_the_request_fields() -> None:
    error = RateLimited("slow down", upstream_code="429")
    item = failure_item(error, {"symbol": "OKX_BTC-USDT-SWAP"})
    assert item.model_dump(mode="json", exclude_unset=True) == {
        "success": False,
        "message": "slow down",
        "mode": "liquidation_map",
        "symbol": "OKX_BTC-USDT-SWAP",
        "range": "1d",
        "data": None,
        "error": {"type": "rate_limited", "upstream_code": "429", "retryable": True},
    }
    search = failure_item(error, {"mode": "search_symbols", "keyword": "eth", "symbol": "x"})
    assert search.model_dump(mode="json", exclude_unset=True)["keyword"] == "eth"
    assert "symbol" not in search.model_dump(mode="json", exclude_unset=True)


def test_failure_item_for_unreadable_input_keeps_the_envelope() -> None:
    item = failure_item(InvalidInput("bad"), {"mode": ["not", "a", "mode"]}).model_dump(
        mode="json", exclude_unset=True
    )
    assert item == {
        "success": False,
        "message": "bad",
        "mode": None,
        "data": None,
        "error": {"type": "invalid_input", "upstream_code": None, "retryable": False},
    }
