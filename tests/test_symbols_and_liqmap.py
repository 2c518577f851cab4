"""The pure core: instrument search and the liquidation-map normalisation."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from src import liqmap, symbols
from src.outputs import Instrument

PAIRS = symbols.SupportedPairs.model_validate(
    {
        "Binance": [
            {"instrument_id": "BTCUSDT", "base_asset": "BTC", "quote_asset": "USDT"},
            {"instrument_id": "BTCUSD_PERP", "base_asset": "BTC", "quote_asset": "USD"},
            {"instrument_id": "WBTCUSDT", "base_asset": "WBTC", "quote_asset": "USDT"},
            {"instrument_id": "ETHBTC", "base_asset": "ETH", "quote_asset": "BTC"},
            {
                "instrument_id": "ETHUSDT",
                "base_asset": "ETH",
                "quote_asset": "USDT",
                "max_leverage": 125,
            },
        ],
        "ApeX Omni": [{"instrument_id": "BTC-USDT", "base_asset": "BTC", "quote_asset": "USDT"}],
        "BTCC": [{"instrument_id": "SOLUSDT", "base_asset": "SOL", "quote_asset": "USDT"}],
    }
)
ALL = symbols.instruments(PAIRS)


def test_instruments_are_named_exchange_underscore_id() -> None:
    assert ALL[1] == Instrument(
        base_asset="BTC", quote_asset="USD", exchange="Binance", symbol="Binance_BTCUSD_PERP"
    )
    assert [i.symbol for i in ALL][-2:] == ["ApeX Omni_BTC-USDT", "BTCC_SOLUSDT"]


def test_search_ranks_exact_base_then_prefix_then_substring() -> None:
    found = [i.symbol for i in symbols.search(ALL, " btc ")]
    assert found == [
        # exact base asset, by exchange then symbol
        "ApeX Omni_BTC-USDT",
        "Binance_BTCUSD_PERP",
        "Binance_BTCUSDT",
        # a field starts with it (quote asset BTC, exchange BTCC)
        "Binance_ETHBTC",
        "BTCC_SOLUSDT",
        # merely contains it
        "Binance_WBTCUSDT",
    ]


def test_empty_keyword_returns_everything() -> None:
    assert len(symbols.search(ALL, "")) == len(ALL) == 7


def test_search_is_case_insensitive_and_matches_exchanges() -> None:
    assert [i.symbol for i in symbols.search(ALL, "APEX")] == ["ApeX Omni_BTC-USDT"]
    assert symbols.search(ALL, "doge") == []


def test_resolve_ignores_case_and_spaces() -> None:
    found = symbols.resolve(ALL, " binance_btcusdt ")
    assert found is not None
    assert found.symbol == "Binance_BTCUSDT"
    assert symbols.resolve(ALL, "Binance_DOGEUSDT") is None


def test_suggestions_for_a_misspelt_symbol() -> None:
    assert symbols.suggestions(ALL, "Binance_BTCUSDTT") == [
        "Binance_BTCUSDT",
        "Binance_WBTCUSDT",
        "Binance_ETHUSDT",
        "Binance_BTCUSD_PERP",
        "Binance_ETHBTC",
    ]
    assert symbols.suggestions(ALL, "Bybit_SOLUSDT") == ["BTCC_SOLUSDT"]
    assert len(symbols.suggestions(ALL, "Binance_BTC")) <= symbols.MAX_SUGGESTIONS


def parse(data: object) -> liqmap.PairMapPayload:
    """As the client reads a map that does not fit the published shape."""
    return liqmap.PairMapPayload.salvaged({"data": data})


def test_the_published_shape_needs_no_salvage_and_salvage_agrees() -> None:
    published = {"data": {"48935": [[48935, 1579370.77, 25, None], [48935, 2.5, 100, "h2"]]}}
    fast = liqmap.PairMapPayload.model_validate_json(json.dumps(published))
    assert fast.data == {"48935": [(48935, 1579370.77, 25, None), (48935, 2.5, 100, "h2")]}
    assert fast.skipped_rows == 0
    assert liqmap.PairMapPayload.salvaged(published).data == fast.data


def test_only_salvage_repairs_a_short_row() -> None:
    with pytest.raises(ValidationError):
        liqmap.PairMapPayload.model_validate({"data": {"1": [[1, 2]]}})


def test_normalise_keeps_every_published_variant_as_four_members() -> None:
    payload = parse(
        {
            "103404": [[103394, 1465772.55, 10, "h2"], [103401, 220000.5, 100, "h3"]],
            "48935": [[48935, 1579370.77, 25, None]],
            "50000.5": [["50000.5", "12.25", "50", None], [50001, 3], [50002, 4, 5]],
            "60000": [[60000, 1, None, 7, "extra"]],
        }
    )
    assert liqmap.normalise(payload.data) == {
        "48935": [(48935, 1579370.77, 25, None)],
        "50000.5": [(50000.5, 12.25, 50, None), (50001, 3, None, None), (50002, 4, 5, None)],
        "60000": [(60000, 1, None, "7")],
        "103404": [(103394, 1465772.55, 10, "h2"), (103401, 220000.5, 100, "h3")],
    }


def test_normalise_sorts_decimal_price_keys_numerically() -> None:
    payload = liqmap.PairMapPayload.model_validate(
        {
            "data": {
                "0.5231": [[0.5231, 1, 5, None]],
                "0.00001234": [[0.00001234, 2, 5, None]],
                "10": [],
            }
        }
    )
    assert list(liqmap.normalise(payload.data)) == ["0.00001234", "0.5231", "10"]


@pytest.mark.parametrize(
    "bad_row",
    [
        [1],  # no level
        ["x", 1],  # not a number
        [float("nan"), 1],  # not a JSON number
        [10**400, 1],  # no float holds it
        [1, None],  # level missing
        "row",
    ],
)
def test_unreadable_rows_are_left_out_and_counted(bad_row: object) -> None:
    payload = parse({"1": [bad_row, [1, 2, 5, None]], "2": [[2, 3]]})
    assert liqmap.normalise(payload.data) == {"1": [(1, 2, 5, None)], "2": [(2, 3, None, None)]}
    assert payload.skipped_rows == 1


def test_a_bucket_whose_key_is_not_a_price_is_left_out() -> None:
    payload = parse({"abc": [[1, 2], [1, 3]], "2": [[2, 3]]})
    assert list(payload.data) == ["2"]
    assert payload.skipped_rows == 2


@pytest.mark.parametrize("empty", [None, [], {}])
def test_an_absent_map_is_an_empty_map(empty: object) -> None:
    assert parse(empty).data == {}
    assert liqmap.PairMapPayload.salvaged(empty).data == {}


@pytest.mark.parametrize("data", ["rows", 5, [[1, 2]]])
def test_a_map_that_is_not_an_object_is_refused(data: object) -> None:
    with pytest.raises(ValidationError):
        parse(data)
