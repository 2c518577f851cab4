"""Telegram alerts end to end: the actor run as a process against the CoinGlass sandbox, with a
Telegram-compatible server and a webhook on loopback. What was sent is read back from the run's
own items and stored charts, and the bot's token is looked for everywhere a user could see."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import WATCH, ActorRun, assert_records_fit_the_store_schema, record
from telegram_receiver import BLOCKED, CHAT_ID, MIGRATED_CHAT_ID, TOKEN, TelegramReceiver, flood
from webhook_receiver import WebhookReceiver

from coinglass_liquidation_map.run.telegram import API_BASE_URL_VARIABLE

# Each test runs the actor as a real process.
pytestmark = pytest.mark.process

RULES = [
    {"type": "imbalance_beyond", "value": 0},
    {"type": "cluster_within_pct", "pct": 2, "minLevel": 5e6},
]
TELEGRAM = {**WATCH, "alerts": RULES, "telegramBotToken": TOKEN, "telegramChatId": CHAT_ID}
SECRET = TOKEN.partition(":")[2]


def lines(alerts: list[dict[str, Any]]) -> str:
    """The alerts as a chat shows them: each map's sentence, then its alerts."""
    shown: list[str] = []
    for index, alert in enumerate(alerts):
        if index == 0 or alert["summary_text"] != alerts[index - 1]["summary_text"]:
            shown.append(alert["summary_text"])
        shown.append(f"• {alert['message']}")
    return "\n".join(shown)


def alerts_record(run: ActorRun) -> dict[str, Any]:
    outcome: dict[str, Any] = json.loads(record(run.storage, "ALERTS").read_text())
    return outcome


def assert_the_token_is_nowhere(run: ActorRun) -> None:
    """Not in the log (at DEBUG level), the dataset, or any record the run stored; the input
    the test wrote for it aside."""
    assert "DEBUG" in run.log
    for shown in (run.log, json.dumps(run.items)):
        assert SECRET not in shown
    for path in run.storage.rglob("*"):
        if path.is_file() and "INPUT" not in path.name:
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_watch_sends_its_alerts_and_charts_to_telegram_and_the_webhook(run_actor: Any) -> None:
    with TelegramReceiver(flood(0)) as telegram, WebhookReceiver() as hook:
        run = run_actor(
            {
                **TELEGRAM,
                "symbols": ["Binance_BTCUSDT", "BTC"],
                "chart": True,
                "webhookUrl": hook.url,
            },
            env={"APIFY_LOG_LEVEL": "DEBUG", API_BASE_URL_VARIABLE: telegram.url},
        )
    assert run.exit_code == 0, run.log
    assert run.charged_events == ["LIQUIDATION_MAP"] * 2  # alerts cost nothing
    sent = [alert for item in run.items for alert in item["alerts"]]
    assert len(sent) > 2
    # Flood control first, waited out; then one message, and a chart for each map.
    assert [(call.method, call.status) for call in telegram.calls] == [
        ("sendmessage", 429),
        ("sendmessage", 200),
        ("sendphoto", 200),
        ("sendphoto", 200),
    ]
    (message,) = telegram.sent("sendmessage")
    assert message.fields == {
        "chat_id": int(CHAT_ID),
        "text": lines(sent),
        "link_preview_options": {"is_disabled": True},
    }
    photos = {call.files["photo"].filename: call for call in telegram.sent("sendphoto")}
    for item in run.items:
        key = f"chart-{item['symbol']}-1d.png"
        upload = photos[key].files["photo"]
        assert upload.content == record(run.storage, key).read_bytes()
        assert upload.content_type == "image/png"
        assert photos[key].fields == {"chat_id": CHAT_ID, "caption": lines(item["alerts"])}
    assert hook.bodies == [{"alerts": sent, "text": lines(sent), "run": {}}]
    outcome = alerts_record(run)
    assert outcome["delivered"] is True
    assert outcome["telegram"] == {
        "delivered": True,
        "messages": 1,
        "messages_sent": 1,
        "charts": 2,
        "charts_sent": 2,
        "status": 200,
        "attempts": 4,
        "errors": [],
        "moved_to_chat_id": None,
    }
    assert (
        f"Sent {len(sent)} alert(s) to Telegram (1 of 1 message(s) and 2 of 2 chart(s) after"
        " 4 request(s))." in run.log
    )
    assert_records_fit_the_store_schema(run.storage)
    assert_the_token_is_nowhere(run)


def test_a_blocked_bot_fails_no_run_and_its_alerts_are_sent_by_the_next(run_actor: Any) -> None:
    with TelegramReceiver(BLOCKED) as telegram:
        env = {"APIFY_LOG_LEVEL": "DEBUG", API_BASE_URL_VARIABLE: telegram.url}
        blocked = run_actor(TELEGRAM, env=env)
        refusal = alerts_record(blocked)["telegram"]  # the runs share one storage folder
        assert_the_token_is_nowhere(blocked)
        unblocked = run_actor(TELEGRAM, env=env, keep_storage=True)
        quiet = run_actor(TELEGRAM, env=env, keep_storage=True)
    assert blocked.exit_code == 0
    assert blocked.item["success"] is True
    assert blocked.charged_events == ["LIQUIDATION_MAP"]
    error = (
        "Telegram refused sendMessage with HTTP 403: Forbidden: bot was blocked by the user;"
        " add the bot to the chat, or unblock it"
    )
    assert (refusal["delivered"], refusal["status"], refusal["errors"]) == (False, 403, [error])
    assert "could not be delivered to Telegram" in blocked.log
    assert error in blocked.log
    # Not taken, the alerts started no cooldown: the next run sends them, and they cool
    # down only then.
    assert [call.status for call in telegram.calls] == [403, 200]
    assert [alert["suppressed"] for alert in unblocked.item["alerts"]] == [False] * 3
    assert telegram.calls[1].fields["text"] == lines(blocked.item["alerts"])
    assert [alert["suppressed"] for alert in quiet.item["alerts"]] == [True] * 3
    assert "No alert to send: Telegram was not called." in quiet.log
    for run in (unblocked, quiet):
        assert_the_token_is_nowhere(run)


def test_a_group_that_became_a_supergroup_gets_its_alerts_at_its_new_id(run_actor: Any) -> None:
    with TelegramReceiver() as telegram:
        run = run_actor(
            {**TELEGRAM, "telegramChatId": MIGRATED_CHAT_ID, "chart": True},
            env={"APIFY_LOG_LEVEL": "DEBUG", API_BASE_URL_VARIABLE: telegram.url},
        )
    assert run.exit_code == 0, run.log
    # Refused at the old id, the message goes again to the id Telegram names, and the chart
    # straight there.
    assert [(call.method, str(call.fields["chat_id"]), call.status) for call in telegram.calls] == [
        ("sendmessage", MIGRATED_CHAT_ID, 400),
        ("sendmessage", CHAT_ID, 200),
        ("sendphoto", CHAT_ID, 200),
    ]
    assert telegram.calls[1].fields["text"] == lines(run.item["alerts"])
    outcome = alerts_record(run)["telegram"]
    assert (outcome["delivered"], outcome["errors"]) == (True, [])
    assert outcome["moved_to_chat_id"] == CHAT_ID
    assert f"Set telegramChatId to {CHAT_ID}, which the next runs will need." in run.log
    assert_the_token_is_nowhere(run)
