"""Telegram's delivery of a run's alerts, in-process: the messages split at Telegram's limit,
the charts' captions, flood control and refusals, the token kept out of every log line, error
and record, and the rule that an alert is delivered only once every channel took it."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from helpers import WATCH_NOW, MemoryStore, a_watch
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from telegram_receiver import BLOCKED, CHAT_ID, MIGRATED_CHAT_ID, TOKEN, TelegramReceiver, flood

from coinglass_liquidation_map.analysis.buckets import Bucketing
from coinglass_liquidation_map.catalog import parse_input
from coinglass_liquidation_map.run.scan_alerts import ScanAlerts
from coinglass_liquidation_map.run.telegram import (
    API_BASE_URL,
    API_BASE_URL_VARIABLE,
    MAX_CAPTION_CHARS,
    MAX_MESSAGE_CHARS,
    Photo,
    TelegramChat,
    messages,
)
from coinglass_liquidation_map.schemas.alerts import Alert
from coinglass_liquidation_map.schemas.maps import LiquidationMapInput
from coinglass_liquidation_map.schemas.scans import MarketScanInput

SEND_MESSAGE = f"{API_BASE_URL}/bot{TOKEN}/sendMessage"
SEND_PHOTO = f"{API_BASE_URL}/bot{TOKEN}/sendPhoto"
HOOK = "https://hooks.example.com/services/T0KEN-secret"
SECRET = TOKEN.partition(":")[2]  # the part of the token that must never show
NOW = WATCH_NOW
PNG = b"\x89PNG\r\n\x1a\n-a-chart"
OK = {"ok": True, "result": {"message_id": 1}}


def an_alert(message: str, symbol: str = "BTC") -> Alert:
    return Alert(
        rule=0,
        type="imbalance_beyond",
        symbol=symbol,
        range="1d",
        side="short",
        price=None,
        level=0.2,
        distance_pct=None,
        current_price=97_000,
        message=message,
    )


class Waits:
    """A stand-in for asyncio.sleep that records the waits instead of taking them."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


def a_chat(waits: Waits | None = None, chat_id: str = CHAT_ID) -> TelegramChat:
    return TelegramChat(SecretStr(TOKEN), chat_id, sleep=waits or Waits())


def refused(status: int, description: str, **parameters: Any) -> httpx.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return httpx.Response(status, json=body)


# ---------------------------------------------------------------- messages and captions


def test_messages_split_between_lines_at_telegram_s_limit() -> None:
    lines = [f"{n:03} " + "x" * 95 for n in range(100)]  # 99 characters each
    split = messages(lines)
    # 40 lines and their 39 line breaks take 3,999 characters; a 41st would take 4,099.
    assert [text.splitlines() for text in split] == [lines[:40], lines[40:80], lines[80:]]


@given(st.lists(st.text(alphabet=st.characters(exclude_characters="\n\r"), max_size=9000)))
def test_messages_never_exceed_the_limit_nor_lose_a_character(lines: list[str]) -> None:
    split = messages(lines)
    assert all(0 < len(text) <= MAX_MESSAGE_CHARS for text in split)
    assert "".join(split).replace("\n", "") == "".join(lines)


@respx.mock
async def test_many_alerts_go_out_in_several_messages_none_cut() -> None:
    route = respx.post(SEND_MESSAGE).mock(return_value=httpx.Response(200, json=OK))
    alerts = [an_alert(f"BTC 1d: alert {n:03} " + "x" * 200) for n in range(60)]
    delivery = await a_chat().send(alerts, [])
    bodies = [json.loads(call.request.read()) for call in route.calls]
    assert [len(body["text"]) <= MAX_MESSAGE_CHARS for body in bodies] == [True] * 4
    sent = [line for body in bodies for line in body["text"].splitlines()]
    assert sent == [alert.message for alert in alerts]
    assert bodies[0]["chat_id"] == int(CHAT_ID)  # more than 32 bits, as a JSON number
    assert bodies[0]["link_preview_options"] == {"is_disabled": True}
    assert "parse_mode" not in bodies[0]  # plain text: nothing to escape
    assert (delivery.delivered, delivery.messages, delivery.messages_sent) == (True, 4, 4)


@respx.mock
async def test_each_chart_goes_as_a_photo_captioned_within_telegram_s_limit() -> None:
    respx.post(SEND_MESSAGE).mock(return_value=httpx.Response(200, json=OK))
    photos = respx.post(SEND_PHOTO).mock(return_value=httpx.Response(200, json=OK))
    many = [an_alert(f"BTC 1d: {n:02} " + "y" * 96) for n in range(30)]
    few = [an_alert("ETH 1d: imbalance +0.300", "ETH")]
    delivery = await a_chat(chat_id="@liq_alerts").send(
        [*many, *few],
        [Photo("chart-BTC-1d.png", PNG, many), Photo("chart-ETH-1d.png", PNG, few)],
    )
    assert (delivery.charts, delivery.charts_sent, delivery.attempts) == (2, 2, 3)
    first, second = (call.request for call in photos.calls)
    assert first.headers["content-type"].startswith("multipart/form-data")
    body = first.read()
    assert b'name="chat_id"\r\n\r\n@liq_alerts\r\n' in body
    assert b'name="photo"; filename="chart-BTC-1d.png"\r\nContent-Type: image/png' in body
    assert PNG in body
    caption = body.split(b'name="caption"\r\n\r\n')[1].split(b"\r\n--")[0].decode()
    lines = caption.splitlines()
    # Each alert's line takes 100 characters and its line break: ten fit with the last line.
    assert len(caption) <= MAX_CAPTION_CHARS
    assert lines == [alert.message for alert in many[:9]] + ["… and 21 more alert(s)"]
    assert b"ETH 1d: imbalance +0.300" in second.read()


# ---------------------------------------------------------------- flood control and refusals


@respx.mock
async def test_flood_control_is_waited_out_as_telegram_asks() -> None:
    route = respx.post(SEND_MESSAGE).mock(
        side_effect=[
            refused(429, "Too Many Requests: retry after 7", retry_after=7),
            httpx.Response(502),
            httpx.Response(200, json=OK),
        ]
    )
    waits = Waits()
    delivery = await a_chat(waits).send([an_alert("BTC 1d: imbalance")], [])
    assert (delivery.delivered, delivery.status, delivery.attempts) == (True, 200, 3)
    assert route.call_count == 3
    assert waits.taken[0] == 7
    assert 0 <= waits.taken[1] <= 2.0


@respx.mock
async def test_a_flood_wait_longer_than_a_run_waits_is_not_taken() -> None:
    respx.post(SEND_MESSAGE).mock(
        return_value=refused(429, "Too Many Requests: retry after 600", retry_after=600)
    )
    waits = Waits()
    delivery = await a_chat(waits).send([an_alert("BTC 1d: imbalance")], [])
    assert (delivery.delivered, delivery.attempts, waits.taken) == (False, 1, [])
    assert delivery.errors == [
        "Telegram refused sendMessage with HTTP 429: Too Many Requests: retry after 600 (it"
        " asked for a wait of 600 s, longer than a run waits)"
    ]


@pytest.mark.parametrize(
    ("status", "description", "said"),
    [
        (403, "Forbidden: bot was blocked by the user", "add the bot to the chat, or unblock it"),
        (400, "Bad Request: chat not found", "check telegramChatId"),
        (401, "Unauthorized", "check telegramBotToken"),
    ],
)
@respx.mock
async def test_a_refusal_is_not_retried_and_no_chart_follows(
    status: int, description: str, said: str
) -> None:
    route = respx.post(SEND_MESSAGE).mock(return_value=refused(status, description))
    photos = respx.post(SEND_PHOTO).mock(return_value=httpx.Response(200, json=OK))
    alert = an_alert("BTC 1d: imbalance")
    delivery = await a_chat().send([alert], [Photo("chart.png", PNG, [alert])])
    assert route.call_count == 1
    assert photos.call_count == 0
    assert (delivery.delivered, delivery.status, delivery.messages_sent) == (False, status, 0)
    assert delivery.errors == [
        f"Telegram refused sendMessage with HTTP {status}: {description}; {said}"
    ]


# ---------------------------------------------------------------- the token


@respx.mock
async def test_the_token_is_in_no_error_even_where_telegram_or_httpx_quote_it() -> None:
    respx.post(SEND_MESSAGE).mock(
        side_effect=[
            httpx.ConnectError(f"cannot reach {SEND_MESSAGE}"),
            httpx.ConnectError(f"cannot reach {SEND_MESSAGE}"),
            httpx.ConnectError(f"cannot reach {SEND_MESSAGE}"),
            httpx.ConnectError(f"cannot reach {SEND_MESSAGE}"),
        ]
    )
    unreachable = await a_chat().send([an_alert("BTC 1d: imbalance")], [])
    assert unreachable.errors == ["ConnectError reaching Telegram (sendMessage)"]
    assert unreachable.attempts == 4

    respx.post(SEND_MESSAGE).mock(
        return_value=refused(400, f"Bad Request: wrong path /bot{TOKEN}/x, token {TOKEN}")
    )
    quoted = await a_chat().send([an_alert("BTC 1d: imbalance")], [])
    assert quoted.errors == [
        "Telegram refused sendMessage with HTTP 400: Bad Request: wrong path"
        " /bot<redacted>/x, token <redacted>; check telegramChatId"
    ]


@respx.mock
async def test_httpx_never_logs_the_token(caplog: pytest.LogCaptureFixture) -> None:
    respx.post(SEND_MESSAGE).mock(return_value=httpx.Response(200, json=OK))
    respx.post(HOOK).mock(return_value=httpx.Response(200))
    httpx_logger = logging.getLogger("httpx")
    with caplog.at_level(logging.DEBUG):
        await a_chat().send([an_alert("BTC 1d: imbalance")], [])
        # The webhook beside it still logs its request (with its URL redacted): the quiet
        # lasts as long as Telegram's calls.
        request = a_request(webhookUrl=HOOK, telegramBotToken=TOKEN, telegramChatId=CHAT_ID)
        watch = a_watch(request, MemoryStore(), records=MemoryStore())
        await watch.keep((await watch.observe(a_map())).item)
        await watch.finish()
    assert SECRET not in caplog.text
    assert TOKEN.partition(":")[0] not in caplog.text  # not even the bot's id
    assert [record.getMessage() for record in caplog.records if record.name == "httpx"] == [
        'HTTP Request: POST <webhook URL> "HTTP/1.1 200 OK"'
    ]
    assert httpx_logger.level == logging.NOTSET  # as it was before


# ---------------------------------------------------------------- a watch's and a scan's alerts


def a_request(**fields: Any) -> LiquidationMapInput:
    rules = [{"type": "imbalance_beyond", "value": 0}]
    request = parse_input({"symbol": "BTC", "alerts": rules, **fields})
    assert isinstance(request, LiquidationMapInput)
    return request


def a_map(price: float = 100) -> Any:
    from coinglass_liquidation_map.analysis.liqmap import analysed_map  # noqa: PLC0415
    from coinglass_liquidation_map.analysis.markets import CurrentPrice  # noqa: PLC0415

    data: Any = {"97": [(97, 40.0, 10, None)], "103": [(103, 50.0, 100, None)]}
    return analysed_map(
        "BTC", "1d", data, price=CurrentPrice(price, "test"), missing="", bucketing=Bucketing()
    )


@respx.mock
async def test_an_alert_telegram_missed_is_owed_until_every_channel_took_it() -> None:
    hook = respx.post(HOOK).mock(return_value=httpx.Response(200))
    telegram = respx.post(SEND_MESSAGE).mock(
        return_value=refused(403, "Forbidden: bot was blocked by the user")
    )
    snapshots = MemoryStore()
    request = a_request(webhookUrl=HOOK, telegramBotToken=TOKEN, telegramChatId=CHAT_ID)

    async def run(at: datetime, price: float) -> MemoryStore:
        records = MemoryStore()
        watch = a_watch(request, snapshots, at, records)
        await watch.keep((await watch.observe(a_map(price))).item)
        await watch.finish()
        return records

    failed = await run(NOW, 100)
    (key,) = snapshots.records
    assert [owed["alert"]["side"] for owed in snapshots.records[key].value["pending"]] == ["short"]
    assert snapshots.records[key].value["sent"] == []
    outcome = failed.records["ALERTS"].value
    assert outcome["delivered"] is True  # the webhook took it
    assert outcome["telegram"] == {
        "delivered": False,
        "messages": 1,
        "messages_sent": 0,
        "charts": 0,
        "charts_sent": 0,
        "status": 403,
        "attempts": 1,
        "errors": [
            "Telegram refused sendMessage with HTTP 403: Forbidden: bot was blocked by the"
            " user; add the bot to the chat, or unblock it"
        ],
        "moved_to_chat_id": None,
    }
    # The bot is unblocked; the price has moved, so the imbalance is the other side's now:
    # the owed alert goes out with the new one, to both channels.
    telegram.mock(return_value=httpx.Response(200, json=OK))
    await run(NOW + timedelta(minutes=15), 110)
    text = json.loads(telegram.calls.last.request.read())["text"]
    owed = json.loads(hook.calls[0].request.read())["alerts"][0]
    # Each map's sentence leads its alerts: the owed one's, then the new one's.
    assert text.splitlines()[:2] == [owed["summary_text"], f"• {owed['message']}"]
    assert len(text.splitlines()) == 4
    assert json.loads(hook.calls.last.request.read())["text"] == text
    record = snapshots.records[key].value
    assert record["pending"] == []
    assert len(record["sent"]) == 2


@respx.mock
async def test_a_watch_sends_each_alerting_map_s_stored_chart() -> None:
    respx.post(SEND_MESSAGE).mock(return_value=httpx.Response(200, json=OK))
    photos = respx.post(SEND_PHOTO).mock(return_value=httpx.Response(200, json=OK))
    records = MemoryStore()
    await records.set_value("chart-BTC-1d.png", PNG, "image/png")
    request = a_request(telegramBotToken=TOKEN, telegramChatId=CHAT_ID)
    watch = a_watch(request, MemoryStore(), records=records, charts=True)
    item = (await watch.observe(a_map())).item
    await watch.keep(item)
    await watch.finish()
    (call,) = photos.calls
    body = call.request.read()
    assert b'filename="chart-BTC-1d.png"' in body
    assert PNG in body
    assert item.alerts[0].message.encode() in body
    assert records.records["ALERTS"].value["telegram"]["charts_sent"] == 1


@respx.mock
async def test_a_chart_the_run_did_not_store_costs_no_alert_its_delivery() -> None:
    telegram = respx.post(SEND_MESSAGE).mock(return_value=httpx.Response(200, json=OK))
    photos = respx.post(SEND_PHOTO).mock(return_value=httpx.Response(200, json=OK))
    records = MemoryStore()
    request = a_request(telegramBotToken=TOKEN, telegramChatId=CHAT_ID)
    watch = a_watch(request, MemoryStore(), records=records, charts=True)
    await watch.keep((await watch.observe(a_map())).item)
    await watch.finish()
    assert (telegram.call_count, photos.call_count) == (1, 0)
    outcome = records.records["ALERTS"].value["telegram"]
    assert (outcome["delivered"], outcome["charts"]) == (True, 0)


async def test_a_scan_s_alerts_go_with_its_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    records, snapshots = MemoryStore(), MemoryStore()
    await records.set_value("scan.png", PNG, "image/png")
    request = parse_input(
        {
            "mode": "market_scan",
            "alerts": [{"type": "max_pain_within_pct", "pct": 5}],
            "telegramBotToken": TOKEN,
            "telegramChatId": CHAT_ID,
        }
    )
    assert isinstance(request, MarketScanInput)
    alerts = [
        an_alert("BTC: long max pain at 95,000, 2.06% below the price", "BTC"),
        an_alert("ETH: short max pain at 3,300, 3.12% above the price", "ETH"),
    ]
    with TelegramReceiver(flood(0)) as receiver:
        monkeypatch.setenv(API_BASE_URL_VARIABLE, receiver.url)
        scan = ScanAlerts(
            request,
            logging.getLogger("test"),
            snapshots=snapshots.open,
            run_records=records.open,
            clock=lambda: NOW,
            chart_key="scan.png",
        )
        await scan.raised(alerts)
        await scan.finish()
    assert [(call.method, call.status) for call in receiver.calls] == [
        ("sendmessage", 429),
        ("sendmessage", 200),
        ("sendphoto", 200),
    ]
    (message,) = receiver.sent("sendmessage")
    assert message.fields == {
        "chat_id": int(CHAT_ID),
        "text": "\n".join(alert.message for alert in alerts),
        "link_preview_options": {"is_disabled": True},
    }
    (photo,) = receiver.sent("sendphoto")
    assert photo.fields == {"chat_id": CHAT_ID, "caption": message.fields["text"]}
    assert (photo.files["photo"].filename, photo.files["photo"].content) == ("scan.png", PNG)
    assert (photo.files["photo"].content_type) == "image/png"
    outcome = records.records["ALERTS"].value["telegram"]
    assert (outcome["delivered"], outcome["attempts"], outcome["charts_sent"]) == (True, 3, 1)
    (key,) = snapshots.records
    assert len(snapshots.records[key].value["sent"]) == 2


async def test_the_receiver_refuses_a_wrong_token(monkeypatch: pytest.MonkeyPatch) -> None:
    with TelegramReceiver(BLOCKED) as receiver:
        monkeypatch.setenv(API_BASE_URL_VARIABLE, receiver.url)
        wrong = TelegramChat(SecretStr("987654321:AAF-not-this-bot"), CHAT_ID, sleep=Waits())
        delivery = await wrong.send([an_alert("BTC 1d: imbalance")], [])
    assert [call.status for call in receiver.calls] == [401]
    assert delivery.errors == [
        "Telegram refused sendMessage with HTTP 401: Unauthorized; check telegramBotToken"
    ]


async def test_a_group_that_became_a_supergroup_is_sent_to_by_its_new_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with TelegramReceiver() as receiver:
        monkeypatch.setenv(API_BASE_URL_VARIABLE, receiver.url)
        many = [an_alert(f"BTC 1d: {n:04} " + "z" * 200) for n in range(25)]
        delivery = await a_chat(chat_id=MIGRATED_CHAT_ID).send(
            many, [Photo("chart-BTC-1d.png", PNG, many)]
        )
    # Two messages and a chart: the first message once more at the new id, then the rest
    # straight there.
    assert [(call.method, str(call.fields["chat_id"])) for call in receiver.calls] == [
        ("sendmessage", MIGRATED_CHAT_ID),
        ("sendmessage", CHAT_ID),
        ("sendmessage", CHAT_ID),
        ("sendphoto", CHAT_ID),
    ]
    assert (delivery.delivered, delivery.messages_sent, delivery.charts_sent) == (True, 2, 1)
    assert (delivery.moved_to_chat_id, delivery.errors, delivery.attempts) == (CHAT_ID, [], 4)


@respx.mock
async def test_a_chat_moved_twice_is_followed_once() -> None:
    moved = refused(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to_chat_id=-1009,
    )
    route = respx.post(SEND_MESSAGE).mock(return_value=moved)
    delivery = await a_chat().send([an_alert("BTC 1d: imbalance")], [])
    assert route.call_count == 2
    assert json.loads(route.calls.last.request.read())["chat_id"] == -1009
    assert (delivery.delivered, delivery.moved_to_chat_id) == (False, "-1009")
    assert delivery.errors == [
        "Telegram refused sendMessage with HTTP 400: Bad Request: group chat was upgraded to a"
        " supergroup chat; its new chat id is -1009"
    ]


@pytest.mark.parametrize(
    ("at_the_new_id", "went"),
    [
        (httpx.Response(200, json=OK), "the alerts went there"),
        (refused(403, "Forbidden: bot is not a member of the supergroup chat"), "sending them"),
    ],
)
@respx.mock
async def test_the_log_asks_for_the_chat_id_telegram_names(
    caplog: pytest.LogCaptureFixture, at_the_new_id: httpx.Response, went: str
) -> None:
    moved = refused(400, "Bad Request: group chat was upgraded", migrate_to_chat_id=-1009)
    respx.post(SEND_MESSAGE).mock(side_effect=[moved, at_the_new_id])
    records = MemoryStore()
    request = a_request(telegramBotToken=TOKEN, telegramChatId=CHAT_ID)
    watch = a_watch(request, MemoryStore(), records=records)
    await watch.keep((await watch.observe(a_map())).item)
    with caplog.at_level(logging.WARNING):
        await watch.finish()
    told = "Telegram says the group telegramChatId names became a supergroup"
    (said,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith(told)]
    assert said.startswith(f"{told}, with chat id -1009, and {went}")
    assert said.endswith("Set telegramChatId to -1009, which the next runs will need.")
    assert records.records["ALERTS"].value["telegram"]["moved_to_chat_id"] == "-1009"
