"""Charts and the report, end to end: what a user opens after a run with ``chart: true``."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from helpers import PRO_KEY, assert_records_fit_the_store_schema, patched, png_size, record

# Each test runs the actor, or a server, as a real process.
pytestmark = pytest.mark.process


def test_each_map_gets_a_chart_and_the_run_a_report(run_actor: Any) -> None:
    run = run_actor(
        {"symbols": ["Binance_BTCUSDT", "BTC", "Binance_NOSUCH"], "chart": True, "apiKey": PRO_KEY}
    )
    assert run.exit_code == 0, run.log
    maps = {item["symbol"]: item for item in run.items}
    assert maps["Binance_NOSUCH"]["success"] is False
    pngs = {}
    for symbol in ("Binance_BTCUSDT", "BTC"):
        url = maps[symbol]["chart_url"]
        path = Path(unquote(urlparse(url).path))
        assert url.startswith("file://")
        assert path == record(run.storage, f"chart-{symbol}-1d.png")
        pngs[symbol] = path.read_bytes()
        width, height = png_size(pngs[symbol])
        assert width >= 1600
        assert height >= 900
    report = record(run.storage, "report.html").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', report)
    assert sorted(base64.b64decode(data) for data in embedded) == sorted(pngs.values())
    assert "Binance_NOSUCH" not in report
    assert "<script" not in report
    assert_records_fit_the_store_schema(run.storage)
    assert run.charged_events == ["LIQUIDATION_MAP"] * 2  # charts cost no extra event


def test_matplotlib_is_loaded_for_charts(run_actor: Any) -> None:
    # test_actor_e2e: a run without a chart does not load it.
    with_chart = run_actor({"apiKey": PRO_KEY, "chart": True}, command=patched("spy", "matplotlib"))
    assert "LOADED matplotlib True" in with_chart.log
    assert with_chart.item["chart_url"].endswith("chart-Binance_BTCUSDT-1d.png")
