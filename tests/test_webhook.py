"""The webhook's POST: its retries, what it refuses to retry, and the URL kept out of the log."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx
from pydantic import SecretStr

from coinglass_liquidation_map.run.webhook import DISCORD_MAX_CHARS, Webhook, body
from coinglass_liquidation_map.schemas.alerts import Alert

URL = "https://hooks.example.com/services/T0KEN-secret"
ALERT = Alert(
    rule=0,
    type="imbalance_beyond",
    symbol="BTC",
    range="1d",
    side="short",
    price=None,
    level=0.2,
    distance_pct=None,
    current_price=97_000,
    message="BTC 1d: imbalance +0.200, shorts heavier, at the price (97,000)",
)


class Waits:
    """A stand-in for asyncio.sleep that records the waits instead of taking them."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


def webhook(waits: Waits, format_: str = "json") -> Webhook:
    return Webhook(SecretStr(URL), format_, sleep=waits)  # type: ignore[arg-type]


@respx.mock
async def test_network_errors_429_and_5xx_are_retried_with_backoff() -> None:
    route = respx.post(URL).mock(
        side_effect=[
            httpx.ConnectError(f"cannot reach {URL}"),
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(502),
            httpx.Response(204),
        ]
    )
    waits = Waits()
    delivery = await webhook(waits).post([ALERT], {})
    assert (delivery.delivered, delivery.status, delivery.attempts) == (True, 204, 4)
    assert route.call_count == 4
    assert waits.taken[1] == 7  # Retry-After is obeyed
    assert 0 <= waits.taken[0] <= 1.0
    assert 0 <= waits.taken[2] <= 4.0


@respx.mock
async def test_a_network_error_is_reported_without_the_url() -> None:
    respx.post(URL).mock(side_effect=httpx.ConnectError(f"cannot reach {URL}"))
    delivery = await webhook(Waits()).post([ALERT], {})
    assert (delivery.delivered, delivery.status, delivery.attempts) == (False, None, 4)
    assert delivery.error == "ConnectError reaching the webhook"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
@respx.mock
async def test_other_4xx_are_not_retried(status: int) -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(status))
    waits = Waits()
    delivery = await webhook(waits).post([ALERT], {})
    assert (delivery.delivered, delivery.status, delivery.attempts) == (False, status, 1)
    assert route.call_count == 1
    assert waits.taken == []


@pytest.mark.parametrize(
    ("format_", "body"),
    [
        ("slack", {"text": ALERT.message}),
        ("discord", {"content": ALERT.message}),
        (
            "json",
            {
                "alerts": [ALERT.model_dump(mode="json")],
                "text": ALERT.message,
                "run": {"id": "r1"},
            },
        ),
    ],
)
@respx.mock
async def test_each_format_posts_its_body(format_: str, body: object) -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(200))
    await webhook(Waits(), format_).post([ALERT], {"id": "r1"})
    assert route.calls.last.request.read() == httpx.Request("POST", URL, json=body).read()


@respx.mock
async def test_httpx_never_logs_the_url(caplog: pytest.LogCaptureFixture) -> None:
    respx.post(URL).mock(return_value=httpx.Response(200))
    with caplog.at_level(logging.DEBUG):
        await webhook(Waits()).post([ALERT], {})
    assert any(record.name == "httpx" for record in caplog.records)
    assert "T0KEN" not in caplog.text
    assert "<webhook URL>" in caplog.text
    assert logging.getLogger("httpx").filters == []  # the filter leaves with the POST


@pytest.mark.parametrize(
    "spelled",
    [
        "https://HOOKS.Example.com/services/T0KEN-secret",
        "https://hooks.example.com:443/services/T0KEN-secret",
        "https://hooks.example.com/services/T0KEN-secret?note=a b",
    ],
)
@respx.mock
async def test_httpx_never_logs_the_url_however_it_is_spelled(
    spelled: str, caplog: pytest.LogCaptureFixture
) -> None:
    respx.post(httpx.URL(spelled)).mock(return_value=httpx.Response(200))
    with caplog.at_level(logging.DEBUG):
        delivery = await Webhook(SecretStr(spelled), "json").post([ALERT], {})
    assert delivery.delivered is True
    assert "T0KEN" not in caplog.text


async def test_a_url_httpx_cannot_send_fails_the_delivery_not_the_run() -> None:
    waits = Waits()
    delivery = await Webhook(
        SecretStr("https://hooks.example.com:99999/T0KEN"), "json", sleep=waits
    ).post([ALERT], {})
    assert delivery.delivered is False
    assert delivery.error is not None
    assert "T0KEN" not in delivery.error


def test_a_discord_message_stays_within_discord_s_limit() -> None:
    many = [ALERT.model_copy(update={"message": f"{n:03} " + "x" * 96}) for n in range(40)]
    content = body(many, "discord", {})["content"]
    assert len(content) <= DISCORD_MAX_CHARS
    lines = content.splitlines()
    assert lines[:-1] == [alert.message for alert in many[: len(lines) - 1]]
    assert lines[-1] == f"… and {40 - (len(lines) - 1)} more alert(s)"
    assert body(many[:3], "discord", {})["content"] == "\n".join(a.message for a in many[:3])
