"""`make run SANDBOX=1`: any input against the bundled sandbox, without a key, printed as a
local run prints it, and every printed item saying where its data came from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import httpx
import local_run
import pytest
import sandbox_heatmaps
from helpers import ROOT, charged_events, png_size

HEATMAP_FIELDS = [
    "success",
    "message",
    "mode",
    "symbol",
    "range",
    "model",
    "data",
    "summary",
    "levels",
    "chart_url",
    "data_url",
    "provenance",
    "summary_text",
]


@pytest.mark.process
def test_any_input_runs_against_the_sandbox_and_says_so(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    actor_input = {
        "mode": "liquidation_heatmap",
        "symbol": "BTC",
        "range": "3d",
        "models": ["model1", "model2"],
        "chart": True,
    }
    done = subprocess.run(
        [sys.executable, "scripts/local_run.py", "--sandbox", json.dumps(actor_input), storage],
        cwd=ROOT,
        env=local_run.isolated_env(),  # no key, no CoinGlass address of the developer's
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    prefix = "Data from the bundled CoinGlass sandbox at "
    assert lines[0].startswith(prefix)
    assert "not CoinGlass's market data" in lines[0]
    items = local_run.read_items(storage)
    marked = [line for line in lines if line.startswith("[sandbox] ")]
    assert len(marked) == len(items) == 2
    # Each in the order it was ready, as a live run pushes them.
    assert sorted(item["model"] for item in items) == ["model1", "model2"]
    for line, item in zip(marked, items, strict=True):
        model = item["model"]
        assert list(item) == HEATMAP_FIELDS  # the item is as a live run stores it
        heatmap = sandbox_heatmaps.coin_heatmap("BTC", "3d", model)
        close = heatmap["price_candlesticks"][-1][4]
        assert item["summary"]["current_price"] == close
        assert line.startswith(
            f"[sandbox] Liquidation heatmap data fetched successfully. BTC 3d {model}:"
            f" {len(heatmap['price_candlesticks'])} columns x {len(heatmap['y_axis'])} price"
            " levels"
        )
        assert f"current price {close:,}" in done.stdout
        # The picture is printed, and is there.
        assert f"  chart: {item['chart_url']}" in lines
        assert png_size(Path(urlparse(item["chart_url"]).path).read_bytes()) == (1600, 900)
    report = next(line for line in lines if line.startswith("report: "))
    assert Path(urlparse(report.removeprefix("report: ")).path).is_file()
    assert "charged: LIQUIDATION_HEATMAP x1 ($0.01), LIQUIDATION_HEATMAP x1 ($0.01)" in lines
    assert (
        charged_events(local_run.read_items(storage, "charging-log")) == ["LIQUIDATION_HEATMAP"] * 2
    )
    # The sandbox was started for the run and is gone with it.
    url = lines[0].removeprefix(prefix).partition(",")[0]
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=5)
