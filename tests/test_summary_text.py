"""Each successful item's one sentence for people and agents, worked out by hand from small
results, and the alerts it leads wherever they are sent."""

from __future__ import annotations

from coinglass_liquidation_map.analysis import scan
from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.analysis.heatmap import analysed_heatmap
from coinglass_liquidation_map.analysis.liqmap import analysed_map
from coinglass_liquidation_map.analysis.markets import CurrentPrice
from coinglass_liquidation_map.coinglass.heatmap_payloads import HeatmapPayload
from coinglass_liquidation_map.market_data import Instrument, MaxPain, PriceKeyedMap
from coinglass_liquidation_map.outputs import record
from coinglass_liquidation_map.run.webhook import body
from coinglass_liquidation_map.schemas.alerts import Alert
from coinglass_liquidation_map.schemas.scans import MarketScanItem
from coinglass_liquidation_map.schemas.search import SearchSymbolsItem

# Longs: 40M at 97,000 and 100M at 99,000; shorts: 150M at 101,000 and 60M at 103,000.
MAP: PriceKeyedMap = {
    "97000": [(97000, 40e6, 25, None)],
    "99000": [(99000, 100e6, 10, None)],
    "101000": [(101000, 150e6, 50, None)],
    "103000": [(103000, 60e6, 100, None)],
}


def test_a_map_says_its_price_heavier_side_and_largest_cluster() -> None:
    price = CurrentPrice(100_000, "test")
    item = analysed_map("BTC", "1d", MAP, price=price, missing="", bucketing=Bucketing()).item
    # Imbalance (210 - 140) / 350 = +0.20; the largest cluster, 150M at 101,000, is +1.0%.
    assert item.summary_text == (
        "BTC at 100,000: 210M of shorts above and 140M of longs below (imbalance +0.20);"
        " the largest cluster is 150M at 101,000 (+1.0%)."
    )
    assert record(item)["summary_text"] == item.summary_text


def test_a_map_without_a_price_says_so() -> None:
    item = analysed_map("BTC", "1d", MAP, price=None, missing="", bucketing=Bucketing()).item
    assert item.summary_text == (
        "BTC 1d: 4 liquidation levels between 97,000 and 103,000; no current price, so no side"
        " is known."
    )


def test_a_heatmap_says_its_latest_column() -> None:
    prices = [90, 95, 100, 105, 110]
    candles = [[1_764_590_400, 99, 101, 98, 100, 1000.0]]
    cells = [[0, 0, 30.0], [0, 1, 10.0], [0, 3, 5.0], [0, 4, 7.0]]
    heatmap = HeatmapPayload.model_validate(
        {"y_axis": prices, "liquidation_leverage_data": cells, "price_candlesticks": candles}
    ).heatmap()
    item = analysed_heatmap(heatmap, top=5).item("BTC", "24h", "model1")
    # Below 40, above 12: imbalance (12 - 40) / 52 = -0.54; the 90th percentile of the column
    # is 24, so the one hot level is 30 at 90 (-10.0%).
    assert item.summary_text == (
        "BTC 24h model1 heatmap at 100: 40 below and 12 above the price in its latest column"
        " (imbalance -0.54); the nearest hot level is 30 at 90 (-10.0%)."
    )


def test_a_scan_row_says_its_nearer_max_pain() -> None:
    pain = MaxPain(
        coin="ETH", price=2000, long_price=1990, long_level=3e6, short_price=2100, short_level=9e6
    )
    row = scan.scanned(pain, None).row
    item = MarketScanItem(
        coin="ETH", rank=3, sort_by="open_interest", max_pain_range="24h", data=row
    )
    assert item.summary_text == (
        "ETH (#3) at 2,000: the nearer max pain is 3M of longs at 1,990 (-0.50%, 24h)."
    )


def test_a_search_says_how_many_match_and_the_first() -> None:
    found = Instrument(
        base_asset="ETH", quote_asset="USDT", exchange="Binance", symbol="Binance_ETHUSDT"
    )
    item = SearchSymbolsItem(keyword="eth", data=[found])
    assert (
        item.summary_text == "1 instrument(s) match 'eth'; the first is Binance_ETHUSDT (ETH/USDT)."
    )


def an_alert(symbol: str, message: str, sentence: str) -> Alert:
    return Alert(
        rule=0,
        type="imbalance_beyond",
        symbol=symbol,
        range="1d",
        side=None,
        price=None,
        level=0.3,
        distance_pct=None,
        current_price=100,
        message=message,
        summary_text=sentence,
    )


def test_each_result_s_sentence_leads_its_alerts() -> None:
    alerts = [
        an_alert("BTC", "BTC 1d: first", "BTC at 100: ..."),
        an_alert("BTC", "BTC 1d: second", "BTC at 100: ..."),
        an_alert("ETH", "ETH 1d: third", "ETH at 10: ..."),
    ]
    text = "BTC at 100: ...\n• BTC 1d: first\n• BTC 1d: second\nETH at 10: ...\n• ETH 1d: third"
    assert body(alerts, "slack", {}) == {"text": text}
    assert body(alerts, "discord", {}) == {"content": text}
