"""Input validation and the failure envelope."""

from __future__ import annotations

import pytest

from coinglass_liquidation_map.catalog import input_failure, parse_input
from coinglass_liquidation_map.errors import InvalidInput, RateLimited
from coinglass_liquidation_map.schemas.heatmaps import LiquidationHeatmapInput
from coinglass_liquidation_map.schemas.maps import LiquidationMapInput, MapTarget
from coinglass_liquidation_map.schemas.scans import MarketScanInput
from coinglass_liquidation_map.schemas.search import SearchSymbolsInput

BOT_TOKEN = "123456789:AAF-secret_token"
RULES = [{"type": "imbalance_beyond", "value": 0.3}]


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
    "symbol",
    ["Binance_BTCUSDT", "Binance_BTCUSD_PERP", "ApeX Omni_BTC-USDT", "BTC", "1000PEPE", "eth"],
)
def test_instruments_and_coins_are_accepted(symbol: str) -> None:
    request = parse_input({"symbol": f"  {symbol} "})
    assert isinstance(request, LiquidationMapInput)
    assert request.targets() == [MapTarget(symbol, "1d")]
    assert request.targets()[0].is_coin == ("_" not in symbol)


def test_symbols_and_ranges_give_every_pair_once_in_input_order() -> None:
    request = parse_input(
        {"symbols": ["OKX_BTC-USDT-SWAP", "BTC", "OKX_BTC-USDT-SWAP"], "ranges": ["7d", "1d"]}
    )
    assert isinstance(request, LiquidationMapInput)
    assert request.targets() == [
        MapTarget("OKX_BTC-USDT-SWAP", "7d"),
        MapTarget("OKX_BTC-USDT-SWAP", "1d"),
        MapTarget("BTC", "7d"),
        MapTarget("BTC", "1d"),
    ]
    only_ranges = parse_input({"symbol": "BTC", "ranges": ["30d"]})
    assert isinstance(only_ranges, LiquidationMapInput)
    assert only_ranges.targets() == [MapTarget("BTC", "30d")]


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
            "'mode' must be one of 'search_symbols', 'liquidation_map', 'liquidation_heatmap',"
            " 'market_scan', 'hyperliquid_positions', not 'heatmap'",
        ),
        (
            {"range": "2d"},
            "'range': Input should be '1d', '7d', '30d', '90d', '180d' or '365d' (got '2d')",
        ),
        ({"symbol": "BTC/USDT"}, "'symbol': must be <exchange>_<instrument id>"),
        ({"symbols": ["BTC", "x y"]}, "'symbols.1': must be <exchange>_<instrument id>"),
        ({"ranges": ["1d", "2w"]}, "'ranges.1': Input should be '1d'"),
        ({"symbols": ["BTC"] * 51}, "'symbols': List should have at most 50 items"),
        ({"priceStep": 0}, "'priceStep': Input should be greater than 0"),
        ({"maxConcurrency": 17}, "'maxConcurrency': Input should be less than or equal to 16"),
        ({"symbol": "_BTCUSDT"}, "'symbol': must be <exchange>_<instrument id>"),
        ({"symbol": 42}, "'symbol': Input should be a valid string (got 42)"),
        (
            {"requestTimeoutSecs": 0},
            "'requestTimeoutSecs': Input should be greater than or equal to 1",
        ),
        ({"maxRetries": 11}, "'maxRetries': Input should be less than or equal to 10"),
        ({"symbl": "Binance_BTCUSDT"}, "Unknown input field(s) 'symbl'; accepted fields are"),
        (
            {"mode": ["a"]},
            "'mode' must be one of 'search_symbols', 'liquidation_map', 'liquidation_heatmap',"
            " 'market_scan', 'hyperliquid_positions', not ['a']",
        ),
        ({"apiKey": "secret with spaces"}, "'apiKey': must be a CoinGlass API key"),
        ({"apiKey": 12345}, "'apiKey': Input should be a valid string."),
        (
            {"mode": "search_symbols", "keyword": "x" * 101},
            "'keyword': String should have at most 100",
        ),
        (
            {
                "alerts": [
                    {"type": "imbalance_beyond", "value": 0.3},
                    {"type": "cluster_within_pct"},
                ]
            },
            "'alerts.1.pct': Field required",
        ),
        (
            {"alerts": [{"type": "price_above", "value": 1}]},
            "'alerts.0': Input tag 'price_above' found using 'type' does not match",
        ),
        ({"alerts": [{"pct": 1}]}, "'alerts.0': Unable to extract tag using discriminator 'type'"),
        (
            {"alerts": [{"type": "imbalance_beyond", "value": 1.5}]},
            "'alerts.0.value': Input should be less than or equal to 1",
        ),
        (
            {"alerts": [{"type": "liquidity_within_pct", "pct": 1}]},
            "'alerts.0.minLevel': Field required",
        ),
        (
            {"alerts": [{"type": "cluster_within_pct", "pct": 1, "side": "up"}]},
            "'alerts.0.side': Input should be 'long', 'short' or 'any'",
        ),
        (
            {"alerts": [{"type": "new_cluster", "min_level": 5}]},
            "'alerts.0.min_level': Extra inputs are not permitted",
        ),
        (
            {"alerts": [{"type": "cluster_within_pct", "pct": 0}]},
            "'alerts.0.pct': Input should be greater than 0",
        ),
        (
            {"alerts": [{"type": "cluster_swept"}], "trackChanges": False},
            "'alerts': rule 0 (cluster_swept) reads what changed since the last run",
        ),
        ({"alertCooldownMins": -1}, "'alertCooldownMins': Input should be greater than or equal"),
        ({"snapshotStore": "my store"}, "'snapshotStore': String should match pattern"),
        ({"webhookFormat": "teams"}, "'webhookFormat': Input should be 'json', 'slack' or"),
        ({"clusterMatchPct": -0.1}, "'clusterMatchPct': Input should be greater than or equal"),
        (
            {"webhookUrl": "https://hooks.example.com/x"},
            "'webhookUrl': is set, but alerts has no rule, so nothing would ever be sent to it",
        ),
        (
            {"telegramBotToken": BOT_TOKEN, "telegramChatId": "42"},
            "'telegramBotToken': is set, but alerts has no rule, so nothing would ever be sent",
        ),
        (
            {"alerts": RULES, "telegramBotToken": BOT_TOKEN},
            "'telegramChatId': is required when telegramBotToken is set",
        ),
        (
            {"alerts": RULES, "telegramChatId": "42"},
            "'telegramChatId': is set, but telegramBotToken is not",
        ),
        (
            {"mode": "market_scan", "alerts": RULES, "telegramChatId": "42"},
            "'telegramChatId': is set, but telegramBotToken is not",
        ),
        (
            {"alerts": RULES, "telegramBotToken": BOT_TOKEN, "telegramChatId": "my group"},
            "'telegramChatId': must be a Telegram chat id, such as 123456789 or -1001234567890",
        ),
    ],
)
def test_bad_input_names_the_field_and_what_it_accepts(raw: object, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_input(raw)
    assert expected in caught.value.message


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/T0KEN-in-path",
        "hooks.example.com/T0KEN-in-path",
        "https://?T0KEN-in-path",
        "https://hooks.example.com/" + "T0KEN-in-path" * 200,
        "https://hooks.example.com/T0KEN-in-path\x7f",
        "https://hooks.example.com/T0KEN in path",
    ],
)
def test_a_bad_webhook_url_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_input({"webhookUrl": url})
    assert "'webhookUrl': must be an http:// or https:// URL" in caught.value.message
    assert "T0KEN" not in caught.value.message


@pytest.mark.parametrize(
    "token", ["AAF-no-bot-id", "123456789:", "123456789:AAF secret", "bot123456789:AAF-secret"]
)
def test_a_bad_bot_token_is_refused_without_echoing_it(token: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_input({"alerts": RULES, "telegramBotToken": token, "telegramChatId": "42"})
    assert caught.value.message == (
        "Invalid input field 'telegramBotToken': must be a Telegram bot token as @BotFather"
        " gives it: <bot id>:<secret>."
    )


@pytest.mark.parametrize("mode", ["liquidation_map", "market_scan"])
@pytest.mark.parametrize("chat_id", ["-1001234567890", "9007199254740993", "@liq_alerts"])
def test_a_telegram_chat_takes_long_ids_and_channel_names(mode: str, chat_id: str) -> None:
    request = parse_input(
        {"mode": mode, "alerts": RULES, "telegramBotToken": BOT_TOKEN, "telegramChatId": chat_id}
    )
    assert isinstance(request, LiquidationMapInput | MarketScanInput)
    assert request.telegram_chat_id == chat_id
    assert request.telegram_bot_token is not None
    assert request.telegram_bot_token.get_secret_value() == BOT_TOKEN
    assert "AAF" not in repr(request)


def test_a_webhook_url_is_kept_secret_in_the_model() -> None:
    rules = [{"type": "imbalance_beyond", "value": 0.3}]
    request = parse_input({"webhookUrl": "https://hooks.slack.com/services/T0KEN", "alerts": rules})
    assert isinstance(request, LiquidationMapInput)
    assert "T0KEN" not in repr(request)
    assert request.webhook_url is not None
    assert request.webhook_url.get_secret_value() == "https://hooks.slack.com/services/T0KEN"


def test_heatmap_targets_multiply_and_read_map_range_names() -> None:
    request = parse_input(
        {
            "mode": "liquidation_heatmap",
            "symbols": ["BTC", "btc", "OKX_ETH-USDT-SWAP"],
            "ranges": ["1d", "24h", "365d"],
            "models": ["model3", "model1"],
        }
    )
    assert isinstance(request, LiquidationHeatmapInput)
    made = [(t.symbol, t.range, t.upstream_range, t.model) for t in request.targets()]
    assert made == [
        (symbol, range_, upstream, model)
        for model in ("model3", "model1")
        for symbol in ("BTC", "OKX_ETH-USDT-SWAP")
        for range_, upstream in (("1d", "24h"), ("365d", "1y"))
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"model": "model4"}, "'model': Input should be 'model1', 'model2' or 'model3'"),
        ({"range": "2d"}, "'range': Input should be '1d', '7d', '30d', '90d', '180d', '365d',"),
        ({"models": ["model1"] * 4}, "'models': List should have at most 3 items"),
    ],
)
def test_bad_heatmap_input_names_the_field(raw: dict[str, object], expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_input({"mode": "liquidation_heatmap", **raw})
    assert expected in caught.value.message


def test_a_symbol_spelt_twice_is_one_map() -> None:
    request = parse_input({"symbols": ["BTC", "binance_btcusdt", "btc", "Binance_BTCUSDT"]})
    assert isinstance(request, LiquidationMapInput)
    assert request.targets() == [MapTarget("BTC", "1d"), MapTarget("binance_btcusdt", "1d")]


def test_failure_item_echoes_the_request_fields() -> None:
    error = RateLimited("slow down", upstream_code="429")
    item = input_failure(error, {"symbol": "OKX_BTC-USDT-SWAP"})
    assert item.model_dump(mode="json", exclude_unset=True) == {
        "success": False,
        "message": "slow down",
        "mode": "liquidation_map",
        "symbol": "OKX_BTC-USDT-SWAP",
        "range": "1d",
        "data": None,
        "error": {"type": "rate_limited", "upstream_code": "429", "retryable": True},
    }
    search = input_failure(error, {"mode": "search_symbols", "keyword": "eth", "symbol": "x"})
    assert search.model_dump(mode="json", exclude_unset=True)["keyword"] == "eth"
    assert "symbol" not in search.model_dump(mode="json", exclude_unset=True)


def test_failure_item_for_unreadable_input_keeps_the_envelope() -> None:
    item = input_failure(InvalidInput("bad"), {"mode": ["not", "a", "mode"]}).model_dump(
        mode="json", exclude_unset=True
    )
    assert item == {
        "success": False,
        "message": "bad",
        "mode": None,
        "data": None,
        "error": {"type": "invalid_input", "upstream_code": None, "retryable": False},
    }
