"""The pure core: instrument search and the liquidation-map normalisation."""

from __future__ import annotations

import json
import statistics

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import to_json
from sandbox_data import huge_map

from coinglass_liquidation_map.analysis import buckets, liqmap, symbols
from coinglass_liquidation_map.analysis.markets import CurrentPrice
from coinglass_liquidation_map.coinglass.payloads import PairMapPayload, SupportedPairs
from coinglass_liquidation_map.market_data import Instrument, LiquidationRow, PriceKeyedMap
from coinglass_liquidation_map.outputs import record
from coinglass_liquidation_map.run import item_limit
from coinglass_liquidation_map.schemas.maps import LiquidationMapItem

PAIRS = SupportedPairs.model_validate(
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
ALL = PAIRS.instruments().root


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


def parse(data: object) -> PairMapPayload:
    """As the client reads a map that does not fit the published shape."""
    return PairMapPayload.salvaged({"data": data})


def test_the_published_shape_needs_no_salvage_and_salvage_agrees() -> None:
    published = {"data": {"48935": [[48935, 1579370.77, 25, None], [48935, 2.5, 100, "h2"]]}}
    fast = PairMapPayload.model_validate_json(json.dumps(published))
    assert fast.data == {"48935": [(48935, 1579370.77, 25, None), (48935, 2.5, 100, "h2")]}
    assert fast.skipped_rows == 0
    assert PairMapPayload.salvaged(published).data == fast.data


def test_only_salvage_repairs_a_short_row() -> None:
    with pytest.raises(ValidationError):
        PairMapPayload.model_validate({"data": {"1": [[1, 2]]}})


def test_normalise_keeps_every_published_variant_as_four_members() -> None:
    payload = parse(
        {
            "103404": [[103394, 1465772.55, 10, "h2"], [103401, 220000.5, 100, "h3"]],
            "48935": [[48935, 1579370.77, 25, None]],
            "50000.5": [["50000.5", "12.25", "50", None], [50001, 3], [50002, 4, 5]],
            "60000": [[60000, 1, None, 7, "extra"]],
        }
    )
    assert payload.liquidation_map().data == {
        "48935": [(48935, 1579370.77, 25, None)],
        "50000.5": [(50000.5, 12.25, 50, None), (50001, 3, None, None), (50002, 4, 5, None)],
        "60000": [(60000, 1, None, "7")],
        "103404": [(103394, 1465772.55, 10, "h2"), (103401, 220000.5, 100, "h3")],
    }


def test_a_band_of_any_kind_is_kept_as_its_text() -> None:
    payload = parse({"1": [[1, 2, 5, True], [1, 3, 5, ["a"]], [1, 4, 5, 2.5]]})
    assert payload.data == {"1": [(1, 2, 5, "True"), (1, 3, 5, "['a']"), (1, 4, 5, "2.5")]}
    assert payload.skipped_rows == 0


def test_price_keys_are_read_as_float_reads_them_but_never_as_nan_or_infinity() -> None:
    keys = [".5", "+5", " 7", "5.", "1e3", "nan", "inf", "1_000"]
    payload = parse({key: [[1, 2]] for key in keys})
    assert list(payload.data) == [".5", "+5", " 7", "5.", "1e3"]
    assert payload.skipped_rows == 3
    assert list(payload.liquidation_map().data) == [".5", "+5", "5.", " 7", "1e3"]


def test_cumulative_levels_are_floats_even_when_every_level_is_an_integer() -> None:
    data = parse({"99": [[99, 7, 10, None]], "101": [[101, 2, 10, None]]}).liquidation_map().data
    summary, placement = liqmap.analyse(data, 100, buckets.Bucketing())
    cumulative = [level["cumulative_level"] for level in placement.levels()]
    assert cumulative == [7.0, 2.0]
    assert all(type(total) is float for total in cumulative)
    assert type(summary.long_level_total) is float


def test_normalise_sorts_decimal_price_keys_numerically() -> None:
    payload = PairMapPayload.model_validate(
        {
            "data": {
                "0.5231": [[0.5231, 1, 5, None]],
                "0.00001234": [[0.00001234, 2, 5, None]],
                "10": [],
            }
        }
    )
    assert list(payload.liquidation_map().data) == ["0.00001234", "0.5231", "10"]


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
    assert payload.liquidation_map().data == {"1": [(1, 2, 5, None)], "2": [(2, 3, None, None)]}
    assert payload.skipped_rows == 1


def test_a_bucket_whose_key_is_not_a_price_is_left_out() -> None:
    payload = parse({"abc": [[1, 2], [1, 3]], "2": [[2, 3]]})
    assert list(payload.data) == ["2"]
    assert payload.skipped_rows == 2


@pytest.mark.parametrize("empty", [None, [], {}])
def test_an_absent_map_is_an_empty_map(empty: object) -> None:
    assert parse(empty).data == {}
    assert PairMapPayload.salvaged(empty).data == {}


@pytest.mark.parametrize("data", ["rows", 5, [[1, 2]]])
def test_a_map_that_is_not_an_object_is_refused(data: object) -> None:
    with pytest.raises(ValidationError):
        parse(data)


def huge_item(
    rows: int, bucketing: buckets.Bucketing | None = None
) -> tuple[LiquidationMapItem, liqmap.Placement]:
    """The item of a ``rows``-row map, and the placement its levels are made from."""
    data = PairMapPayload.model_validate({"data": huge_map(rows)}).liquidation_map().data
    price = CurrentPrice(50_000, "test")
    bucketing = bucketing or buckets.Bucketing()
    analysed = liqmap.analysed_map(
        "Binance_BTCUSDT", "1d", data, price=price, missing="", bucketing=bucketing
    )
    return item_limit.fitted(analysed).item, analysed.placement


def json_size(item: LiquidationMapItem) -> int:
    return len(json.dumps(record(item), separators=(",", ":")))


@pytest.mark.parametrize(
    ("rows", "bucketing", "kept"),
    [
        (40_000, buckets.Bucketing(), True),  # 7 MB with its levels
        (60_000, buckets.Bucketing(), False),  # its least possible size fits: only the built
        # levels tell
        (100_000, buckets.Bucketing(), False),  # known too big from its row count alone
        # Few levels (19,170), but data holds all 230,000 rows: 9.4 MB with them.
        (230_000, buckets.Bucketing(price_step=30), False),
    ],
)
def test_levels_are_kept_exactly_when_the_item_fits_the_platform_limit(
    rows: int, bucketing: buckets.Bucketing, kept: bool
) -> None:
    item, placement = huge_item(rows, bucketing)
    assert json_size(item) <= item_limit.MAX_ITEM_BYTES
    assert item.summary.level_count == rows
    assert len(placement.rows) <= item_limit.LARGE_MAP_ROWS or bucketing.price_step is None
    complete = item.model_copy(update={"levels": placement.levels()})
    if kept:
        assert item.levels == complete.levels
        assert "left out" not in item.message
    else:
        assert item.levels is None
        assert "exceed the platform's 9 MB item limit" in item.message
        assert json_size(complete) > item_limit.MAX_ITEM_BYTES


def test_an_item_keeps_room_for_what_it_gains_after_it_is_measured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = PairMapPayload.model_validate({"data": huge_map(40_000)}).liquidation_map().data
    analysed = liqmap.analysed_map(
        "Binance_BTCUSDT",
        "1d",
        data,
        price=CurrentPrice(50_000, "test"),
        missing="",
        bucketing=buckets.Bucketing(),
    )
    complete = analysed.item.model_copy(update={"levels": analysed.placement.levels()})
    # A limit the complete item fits by a hair, as measured: its chart link would pass it.
    monkeypatch.setattr(item_limit, "MAX_ITEM_BYTES", json_size(complete) + 100)
    item = item_limit.fitted(analysed).item
    url = "https://api.apify.com/v2/key-value-stores/a1b2c3/records/" + "k" * 256
    drawn = item.model_copy(
        update={"chart_url": url, "message": f"{item.message} The chart could not be drawn."}
    )
    assert json_size(drawn) <= item_limit.MAX_ITEM_BYTES
    assert item.levels is None


finite = st.floats(allow_nan=False, allow_infinity=False, width=32)


@given(
    rows=st.lists(
        st.tuples(finite, finite, st.none() | st.integers(1, 125), st.none() | st.text()),
        min_size=1,
        max_size=20,
    ),
    price=st.none() | st.floats(min_value=1e-6, max_value=1e9, allow_nan=False),
)
def test_no_level_takes_fewer_bytes_than_the_item_limit_check_assumes(
    rows: list[LiquidationRow], price: float | None
) -> None:
    rows.sort(key=lambda row: row[0])
    for level in liqmap.Placement.of(rows, price).levels():
        assert len(json.dumps(level, separators=(",", ":"))) >= item_limit.MIN_LEVEL_BYTES


@settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(
        st.text(min_size=1, max_size=12),
        st.lists(
            st.tuples(
                st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**20), 10**20),
                st.floats(allow_nan=False, allow_infinity=False),
                st.none() | st.integers(1, 125) | st.floats(allow_nan=False, allow_infinity=False),
                st.none() | st.text(),
            ),
            max_size=8,
        ),
        max_size=8,
    )
)
@example(data={"-2.2250738585072014e-308": [(-2.2250738585072014e-308,) * 3 + (None,)] * 3})
@example(data={"1": [(1, 1.0, None, '"\x00\u2603')]})
def test_the_data_size_bound_is_never_below_the_data_as_json(data: PriceKeyedMap) -> None:
    assert item_limit.data_bytes_at_most(data) >= len(to_json(data))


@given(st.lists(st.floats(min_value=0, max_value=1e12), min_size=2, max_size=200))
def test_the_cluster_threshold_is_the_standard_libraries_percentile(levels: list[float]) -> None:
    expected = statistics.quantiles(levels, n=100, method="inclusive")[89]
    assert buckets.percentile(levels, 90) == expected


# A map of a pair quoted in BTC, as CoinGlass sends ETHBTC's: levels in BTC, about 0.033.
BTC_QUOTED: PriceKeyedMap = {
    "0.0321": [(0.0321, 5000.0, 10, None)],
    "0.0333": [(0.0333, 9000.0, 25, None)],
    "0.0345": [(0.0345, 7000.0, 50, None)],
}


@pytest.mark.parametrize(
    ("price", "read"),
    # The rule reads a price within the map's prices widened three times either way.
    [(0.033, True), (0.011, True), (0.1, True), (0.0105, False), (0.11, False)],
)
def test_a_price_is_read_against_the_map_only_within_its_widened_prices(
    price: float, read: bool
) -> None:
    analysed = liqmap.analysed_map(
        "Binance_ETHBTC",
        "1d",
        BTC_QUOTED,
        price=CurrentPrice(price, "test"),
        missing="",
        bucketing=buckets.Bucketing(),
    )
    assert (analysed.item.summary.current_price == price) is read


def test_a_price_in_another_unit_leaves_the_map_without_a_price_and_says_why() -> None:
    analysed = liqmap.analysed_map(
        "Binance_ETHBTC",
        "1d",
        BTC_QUOTED,
        # pairs-markets gives ETHBTC's current_price in USD.
        price=CurrentPrice(3194.87, "pairs-markets Binance ETHBTC"),
        missing="",
        bucketing=buckets.Bucketing(top_clusters=1),
    )
    item = analysed.item
    assert item.message == (
        "Liquidation map data fetched successfully. The current price is unavailable"
        " (pairs-markets Binance ETHBTC gives 3,194.87, far outside the prices 0.0321 to 0.0345"
        " it would be read against: a price in another unit, such as USD for a pair quoted in"
        " BTC), so sides are not computed."
    )
    summary = item.summary.model_dump()
    unknown = [
        "current_price",
        "price_source",
        "long_level_total",
        "short_level_total",
        "imbalance",
        "within_pct",
        "top_long_clusters",
        "top_short_clusters",
        "nearest_long_cluster",
        "nearest_short_cluster",
    ]
    assert {name: summary[name] for name in unknown} == dict.fromkeys(unknown)
    assert summary["top_clusters"] == [
        {"price": 0.0333, "level": 9000.0, "side": None, "distance_pct": None,
         "leverage_mix": {"25": 9000.0}}
    ]  # fmt: skip
    levels = analysed.placement.levels()
    assert [(lv["price"], lv["side"], lv["distance_pct"]) for lv in levels] == [
        (0.0321, None, None),
        (0.0333, None, None),
        (0.0345, None, None),
    ]
