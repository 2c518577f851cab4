"""Alert rules, their cooldown and the webhook, end to end: the actor run as real processes over
one storage folder, the sandbox's market moved between runs, a loopback webhook receiving the
alerts. Which alert fires, and with what figures, is worked out here from the sandbox's data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sandbox_data
from helpers import (
    MATCH_PCT,
    MOVE_PCT,
    PAIR,
    PRO_KEY,
    TOP,
    WATCH,
    ActorRun,
    age_snapshots,
    approx,
    assert_records_fit_the_store_schema,
    expected_summary,
    record,
    top_clusters,
)
from sandbox_server import SandboxServer
from webhook_receiver import TOKEN, WebhookReceiver

# Each test runs the actor, or a server, as a real process.
pytestmark = pytest.mark.process

NEVER = 1e15  # a level no bucket reaches
ALERT_FIELDS = [
    "rule",
    "type",
    "symbol",
    "range",
    "side",
    "price",
    "level",
    "distance_pct",
    "current_price",
    "message",
    "suppressed",
    "summary_text",
    "realized_usd",
]


def buckets(move_pct: float = 0.0) -> tuple[float, dict[float, float]]:
    """The pair's price and each price bucket's total level."""
    liq_map = sandbox_data.liquidation_map(*PAIR, "1d", move_pct)
    price = sandbox_data.current_price(*PAIR, move_pct)
    return price, {float(key): sum(row[1] for row in rows) for key, rows in liq_map.items()}


def by_rule(run: ActorRun) -> dict[int, list[dict[str, Any]]]:
    alerts = run.item["alerts"]
    assert all(list(alert) == ALERT_FIELDS for alert in alerts)
    grouped: dict[int, list[dict[str, Any]]] = {}
    for alert in alerts:
        grouped.setdefault(alert["rule"], []).append(alert)
    return grouped


def test_each_rule_fires_when_its_condition_holds_and_only_then(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    price, levels = buckets()
    summary = expected_summary(sandbox_data.liquidation_map(*PAIR, "1d"), price, TOP)
    min_level = 5e6
    rules = [
        {"type": "cluster_within_pct", "pct": 2, "minLevel": min_level},
        {"type": "cluster_within_pct", "pct": 2, "minLevel": NEVER},
        {"type": "liquidity_within_pct", "pct": 1, "minLevel": 1, "side": "short"},
        {"type": "liquidity_within_pct", "pct": 1, "minLevel": NEVER},
        {"type": "imbalance_beyond", "value": round(abs(summary["imbalance"]) - 0.001, 6)},
        {"type": "imbalance_beyond", "value": 1},
        {"type": "cluster_swept"},
        {"type": "cluster_swept", "minLevel": NEVER},
        {"type": "new_cluster"},
        {"type": "new_cluster", "pct": 0.0001},
    ]
    actor_input = {**WATCH, "alerts": rules, "alertCooldownMins": 0}
    first = run_actor(actor_input)
    fired = by_rule(first)
    assert sorted(fired) == [0, 2, 4]  # nothing changed yet on a first run

    reach = price * 0.02
    nearest_long = max(p for p, lv in levels.items() if price - reach <= p < price and lv >= 5e6)
    nearest_short = min(p for p, lv in levels.items() if price < p <= price + reach and lv >= 5e6)
    long_alert, short_alert = fired[0]
    assert (long_alert["side"], long_alert["price"]) == ("long", nearest_long)
    assert (short_alert["side"], short_alert["price"]) == ("short", nearest_short)
    assert short_alert["level"] == approx(levels[nearest_short])
    distance = (nearest_short - price) / price * 100
    assert short_alert["distance_pct"] == pytest.approx(distance, abs=1e-4)
    assert short_alert["current_price"] == price
    level = levels[nearest_short]
    assert 1e6 <= level < 1e9
    assert short_alert["message"] == (
        f"Binance_BTCUSDT 1d: {float(f'{level:.3g}') / 1e6:.3g}M of shorts at"
        f" {nearest_short:,.0f}, {distance:.2f}% above the price ({price:,.0f})"
    )
    assert short_alert["suppressed"] is False
    (liquidity,) = fired[2]
    assert (liquidity["side"], liquidity["price"]) == ("short", None)
    assert liquidity["level"] == approx(summary["within"]["1"]["short"])
    (imbalance,) = fired[4]
    assert imbalance["side"] == ("short" if summary["imbalance"] > 0 else "long")
    assert imbalance["level"] == pytest.approx(summary["imbalance"], abs=1e-6)

    sandbox.move_market("BTC", MOVE_PCT)
    second = run_actor(actor_input, keep_storage=True)
    changes = second.item["changes"]
    moved = by_rule(second)
    now_price = sandbox_data.current_price(*PAIR, MOVE_PCT)
    swept = [p for p, _ in top_clusters()[1] if price <= p <= now_price]
    assert [alert["price"] for alert in moved[6]] == swept
    assert [c["price"] for c in changes["swept_clusters"]] == swept
    assert {alert["side"] for alert in moved[6]} == {"short"}  # the side they were liquidated on
    assert (
        f"swept: the price went from {price:,.0f} to {now_price:,.0f}; " in moved[6][0]["message"]
    )
    tolerance = now_price * MATCH_PCT / 100
    _, now_top = top_clusters(MOVE_PCT)
    new = [p for p, _ in now_top if all(abs(p - q) > tolerance for q, _ in top_clusters()[1])]
    assert new
    assert [alert["price"] for alert in moved[8]] == new
    assert {1, 3, 5, 7, 9}.isdisjoint(moved)
    # Alerts are free: one charge per map.
    assert first.charged_events == second.charged_events == ["LIQUIDATION_MAP"]


COOLING = {
    **WATCH,
    "alerts": [
        {"type": "imbalance_beyond", "value": 0},
        {"type": "cluster_within_pct", "pct": 2, "minLevel": 5e6},
    ],
    "alertCooldownMins": 60,
}


def suppressed(run: ActorRun) -> list[bool]:
    return [alert["suppressed"] for alert in run.item["alerts"]]


def test_the_cooldown_holds_across_runs_and_lifts_after_it(run_actor: Any) -> None:
    first = run_actor(COOLING)
    assert suppressed(first) == [False, False, False]
    second = run_actor(COOLING, keep_storage=True)
    third = run_actor(COOLING, keep_storage=True)
    assert suppressed(second) == suppressed(third) == [True, True, True]
    assert [a["message"] for a in third.item["alerts"]] == [
        a["message"] for a in first.item["alerts"]
    ]
    age_snapshots(third.storage, minutes=61)
    fourth = run_actor(COOLING, keep_storage=True)
    assert suppressed(fourth) == [False, False, False]
    # An edited rule is another rule: its alert is new.
    edited = {**COOLING, "alerts": [{"type": "imbalance_beyond", "value": 0.0001}]}
    assert suppressed(run_actor(edited, keep_storage=True)) == [False]


def test_a_cluster_the_price_moves_along_with_stays_in_its_cooldown(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    rule = {"type": "cluster_within_pct", "pct": 2, "minLevel": 5e6, "side": "long"}
    watch = {**WATCH, "alerts": [rule]}
    first = run_actor(watch)
    (alert,) = first.item["alerts"]
    price, levels = buckets()
    # Move the price so little that the same bucket stays the nearest, a little farther off.
    sandbox.move_market("BTC", MATCH_PCT / 10)
    moved = run_actor(watch, keep_storage=True)
    (again,) = moved.item["alerts"]
    assert again["price"] == alert["price"]
    assert again["current_price"] != price
    assert again["suppressed"] is True
    assert levels[alert["price"]] == approx(alert["level"])


def test_a_swept_cluster_the_webhook_missed_is_sent_by_the_next_run(
    run_actor: Any, sandbox: SandboxServer
) -> None:
    rules = [{"type": "cluster_swept"}]
    with WebhookReceiver(500, 500, 500, 500) as receiver:
        watch = {**WATCH, "alerts": rules, "webhookUrl": receiver.url}
        run_actor(watch)
        sandbox.move_market("BTC", MOVE_PCT)
        missed = run_actor(watch, keep_storage=True)
        assert receiver.statuses == [500] * 4
        # Nothing moves now, so this run sweeps nothing itself: it sends what it owes.
        owing = run_actor(watch, keep_storage=True)
        assert owing.item["alerts"] == []
        settled = run_actor(watch, keep_storage=True)
    swept = missed.item["alerts"]
    assert len(swept) >= 2
    assert receiver.statuses == [500] * 4 + [200]
    assert receiver.bodies[-1]["alerts"] == swept
    assert f"Sent {len(swept)} alert(s)" in owing.log
    assert "No alert to send" in settled.log


def stored_files(storage: Path) -> list[Path]:
    """Every file the run stored, but the input the caller wrote for it."""
    return [path for path in storage.rglob("*") if path.is_file() and "INPUT" not in path.name]


def alerts_record(storage: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(record(storage, "ALERTS").read_text())
    return result


@pytest.mark.parametrize("format_", ["json", "slack", "discord"])
def test_each_webhook_format_gets_one_post_with_every_alert(run_actor: Any, format_: str) -> None:
    with WebhookReceiver() as receiver:
        run = run_actor(
            {
                **COOLING,
                "symbols": ["Binance_BTCUSDT", "BTC"],
                "webhookUrl": receiver.url,
                "webhookFormat": format_,
            },
            env={"APIFY_LOG_LEVEL": "DEBUG"},
        )
    assert run.exit_code == 0, run.log
    sent = [alert for item in run.items for alert in item["alerts"]]
    assert len(sent) > 2
    # Each map's sentence leads its alerts.
    lines = []
    for item in run.items:
        assert all(alert["summary_text"] == item["summary_text"] for alert in item["alerts"])
        lines += [item["summary_text"], *(f"• {alert['message']}" for alert in item["alerts"])]
    text = "\n".join(lines)
    (body,) = receiver.bodies
    expected = {
        "json": {"alerts": sent, "text": text, "run": {}},  # a local run has no Console page
        "slack": {"text": text},
        "discord": {"content": text},
    }[format_]
    assert body == expected
    outcome = alerts_record(run.storage)
    assert outcome == {
        "alerts": sent,
        "format": format_,
        "delivered": True,
        "status": 200,
        "attempts": 1,
        "error": None,
        "telegram": None,  # no Telegram chat
    }
    assert f"Sent {len(sent)} alert(s) to the webhook ({format_}): HTTP 200" in run.log
    assert_records_fit_the_store_schema(run.storage)
    # The URL's token is in no log line at DEBUG level, and in no stored file.
    assert "DEBUG" in run.log
    assert TOKEN not in run.log
    for path in stored_files(run.storage):
        assert TOKEN.encode() not in path.read_bytes(), path


def test_a_webhook_that_fails_twice_then_answers_gets_the_alerts(run_actor: Any) -> None:
    with WebhookReceiver(503, 429) as receiver:
        run = run_actor({**COOLING, "webhookUrl": receiver.url})
    assert receiver.statuses == [503, 429, 200]
    assert receiver.bodies[0] == receiver.bodies[2]
    outcome = alerts_record(run.storage)
    assert (outcome["delivered"], outcome["status"], outcome["attempts"]) == (True, 200, 3)


def test_a_webhook_that_always_fails_costs_nothing_and_is_sent_again(run_actor: Any) -> None:
    with WebhookReceiver(500, 500, 500, 500) as receiver:
        watch = {**COOLING, "webhookUrl": receiver.url}
        failed = run_actor(watch)
        outcome = alerts_record(failed.storage)
        assert receiver.statuses == [500] * 4  # the first attempt and three retries
        again = run_actor(watch, keep_storage=True)
        assert receiver.statuses == [500] * 4 + [200]
        quiet = run_actor(watch, keep_storage=True)
    assert failed.exit_code == 0
    assert failed.item["success"] is True
    assert failed.charged_events == ["LIQUIDATION_MAP"]
    assert (outcome["delivered"], outcome["status"], outcome["attempts"]) == (False, 500, 4)
    assert outcome["error"] == "The webhook answered HTTP 500"
    assert "could not be delivered to the webhook after 4 attempt(s)" in failed.log
    # Undelivered alerts start no cooldown: the next run sends them again, and only then
    # do they cool down.
    assert suppressed(again) == [False, False, False]
    assert receiver.bodies[4] == receiver.bodies[0]
    assert suppressed(quiet) == [True, True, True]
    assert len(receiver.bodies) == 5
    assert "No alert to send: the webhook was not called." in quiet.log


def test_a_webhook_that_refuses_is_not_retried(run_actor: Any) -> None:
    with WebhookReceiver(404) as receiver:
        run = run_actor({**COOLING, "webhookUrl": receiver.url})
    assert receiver.statuses == [404]
    outcome = alerts_record(run.storage)
    assert (outcome["delivered"], outcome["attempts"]) == (False, 1)
    assert outcome["error"] == "The webhook refused the alerts with HTTP 404"


def test_no_alert_no_post(run_actor: Any) -> None:
    quiet_rules = [{"type": "imbalance_beyond", "value": 1}]
    with WebhookReceiver() as receiver:
        run = run_actor({**WATCH, "alerts": quiet_rules, "webhookUrl": receiver.url})
    assert run.item["alerts"] == []
    assert receiver.bodies == []
    outcome = alerts_record(run.storage)
    assert (outcome["alerts"], outcome["delivered"], outcome["attempts"]) == ([], None, 0)


def test_a_search_ignores_the_watch(run_actor: Any) -> None:
    with WebhookReceiver() as receiver:
        run = run_actor(
            {
                "mode": "search_symbols",
                "keyword": "btc",
                "trackChanges": True,
                "alerts": [{"type": "imbalance_beyond", "value": 0}],
                "webhookUrl": receiver.url,
                "apiKey": PRO_KEY,
            }
        )
    assert run.item["success"] is True
    assert receiver.bodies == []
    assert not (run.storage / "key_value_stores" / "liquidation-map-snapshots").exists()
