"""The Standby run's own input: its settings serve every request, a null one taking its
default as in a batch run's input."""

from __future__ import annotations

import pytest

from coinglass_liquidation_map.standby.service import Service


def test_a_null_setting_takes_its_default_and_the_rest_are_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    Service({"apiKey": "key-1", "standbyCacheSecs": None, "requestTimeoutSecs": 7})
    assert "ignored" not in caplog.text


def test_a_bad_setting_is_said_without_echoing_the_key(caplog: pytest.LogCaptureFixture) -> None:
    Service({"apiKey": "key-1", "requestTimeoutSecs": 0})
    assert "The Standby input is ignored: Invalid input field 'requestTimeoutSecs'" in caplog.text
    assert "key-1" not in caplog.text
