"""The pure core of a watch: changes between two snapshots, and the alert cooldown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from coinglass_liquidation_map.analysis import alerts, changes
from coinglass_liquidation_map.market_data import Number
from coinglass_liquidation_map.outputs import Side
from coinglass_liquidation_map.records import SentAlert, Snapshot
from coinglass_liquidation_map.schemas.alerts import Alert, ImbalanceBeyond, LiquidityWithinPct
from coinglass_liquidation_map.schemas.maps import Cluster

THEN = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def a_cluster(price: Number, level: float, side: Side | None = None) -> Cluster:
    return Cluster(price=price, level=level, side=side, distance_pct=None, leverage_mix={})


def a_snapshot(
    at: datetime, price: Number | None, tops: list[Cluster], long_total: float = 100.0
) -> Snapshot:
    return Snapshot(
        at=at,
        current_price=price,
        long_level_total=long_total if price else None,
        short_level_total=50.0 if price else None,
        imbalance=-0.333333 if price else None,
        within_pct=None,
        top_clusters=tops,
    )


def test_changes_between_two_snapshots() -> None:
    previous = a_snapshot(
        THEN, 100, [a_cluster(103, 9), a_cluster(90, 8), a_cluster(110, 7)], long_total=80
    )
    current = a_snapshot(THEN + timedelta(minutes=15), 104, [a_cluster(110.2, 9), a_cluster(95, 6)])
    found = changes.changes(previous, current, match_pct=0.25)  # 0.26 in price
    assert found.elapsed_secs == 900
    assert found.previous_price == 100
    assert found.price_change_pct == 4.0
    assert found.long_level_total_change_pct == 25.0
    assert found.short_level_total_change_pct == 0.0
    assert found.imbalance_change == 0.0
    assert [c.price for c in found.swept_clusters or []] == [103]  # 100 <= 103 <= 104
    assert [c.price for c in found.new_clusters or []] == [95]  # 110.2 is 110, moved a little
    assert [c.price for c in found.faded_clusters or []] == [90]


def test_changes_need_both_prices() -> None:
    previous = a_snapshot(THEN, None, [a_cluster(103, 9)])
    current = a_snapshot(THEN + timedelta(seconds=1), 104, [a_cluster(103, 9)])
    for first, second in ((previous, current), (current, previous)):
        found = changes.changes(first, second, 0.25)
        assert found.price_change_pct is None
        assert found.imbalance_change is None
        assert found.new_clusters is found.swept_clusters is found.faded_clusters is None


RULE = LiquidityWithinPct.model_validate({"type": "liquidity_within_pct", "pct": 1, "minLevel": 0})


def an_alert(price: Number | None, side: Side = "long") -> Alert:
    return Alert(
        rule=0,
        type=RULE.type,
        symbol="BTC",
        range="1d",
        side=side,
        price=price,
        level=5.0,
        distance_pct=None,
        current_price=1000,
        message="",
    )


def test_the_cooldown_matches_rule_side_and_cluster_price() -> None:
    sent = [alerts.sent_at(alerts.owed(an_alert(990), RULE, THEN), THEN)]
    now = THEN + timedelta(minutes=59)
    held = alerts.held_back(
        [an_alert(992), an_alert(993), an_alert(990, "short"), an_alert(None)],
        [RULE],
        sent,
        now=now,
        cooldown_mins=60,
        match_pct=0.25,  # 2.5 in price
    )
    assert [alert.suppressed for alert in held] == [True, False, False, False]
    later = alerts.held_back(
        [an_alert(990)],
        [RULE],
        sent,
        now=THEN + timedelta(minutes=60),
        cooldown_mins=60,
        match_pct=0.25,
    )
    assert [alert.suppressed for alert in later] == [False]


def test_an_edited_rule_has_no_cooldown() -> None:
    sent = [
        alerts.sent_at(
            alerts.owed(an_alert(None), ImbalanceBeyond(type="imbalance_beyond", value=0.2), THEN),
            THEN,
        )
    ]
    other = ImbalanceBeyond(type="imbalance_beyond", value=0.3)
    held = alerts.held_back(
        [an_alert(None)], [other], sent, now=THEN, cooldown_mins=60, match_pct=0.25
    )
    assert held[0].suppressed is False
    assert alerts.still_cooling(sent, now=THEN + timedelta(hours=2), cooldown_mins=60) == []
    assert alerts.still_cooling(sent, now=THEN, cooldown_mins=60) == [
        SentAlert(
            rule='{"type":"imbalance_beyond","value":0.2}',
            symbol="BTC",
            side="long",
            price=None,
            at=THEN,
        )
    ]
