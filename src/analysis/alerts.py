"""Alert rules read against a map and what changed since the last run, and the cooldown that
keeps an alert from being sent again too soon. Pure: the time is given, never read."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from src.analysis.buckets import (
    Bucket,
    Bucketing,
    bucket_price_of,
    by_side,
    cluster,
    distance_pct,
    price_buckets,
)
from src.analysis.changes import match_tolerance
from src.analysis.liqmap import AnalysedMap
from src.inputs import (
    AlertRule,
    AlertSide,
    ClusterSwept,
    ClusterWithinPct,
    ImbalanceBeyond,
    LiquidityWithinPct,
    NewCluster,
)
from src.outputs import Alert, Changes, Cluster, LiquidationMapItem, Number, SentAlert, Side
from src.render.formatting import format_compact, format_price

# Reaching exactly pct away counts, whatever float rounding makes of the edge.
_EDGE = 1 + 1e-12


def fired(
    rules: list[AlertRule],
    analysed: AnalysedMap,
    bucketing: Bucketing,
    changes: Changes | None,
) -> list[Alert]:
    """Every alert ``rules`` raise on a map, in rule order. Rules that read the price stay
    silent without one; rules that read changes stay silent on a first run."""
    item = analysed.item
    price = item.summary.current_price
    buckets = (
        price_buckets(item.data, bucketing, price)
        if price is not None and item.data is not None
        else []
    )
    return [
        _alert(index, rule, item, found, changes)
        for index, rule in enumerate(rules)
        for found in _raised(rule, analysed, buckets, changes)
    ]


@dataclass(frozen=True)
class _Found:
    """What a rule found: the side, the cluster if it is about one, the level, the distance."""

    side: Side | None
    cluster: Cluster | None
    level: float | None
    distance_pct: float | None


def _raised(
    rule: AlertRule, analysed: AnalysedMap, buckets: list[Bucket], changes: Changes | None
) -> Iterator[_Found]:
    summary, price = analysed.item.summary, analysed.item.summary.current_price
    if isinstance(rule, ClusterWithinPct | LiquidityWithinPct):
        if price is None:
            return
        longs, shorts = by_side(buckets, price)
        reach = price * rule.pct / 100 * _EDGE
        first_long = bisect.bisect_left(longs, price - reach, key=bucket_price_of)
        last_short = bisect.bisect_right(shorts, price + reach, key=bucket_price_of)
        near = {"long": longs[first_long:][::-1], "short": shorts[:last_short]}  # nearest first
        for side in _sides(rule.side):
            if isinstance(rule, ClusterWithinPct):
                nearest = next((b for b in near[side] if b.level >= rule.min_level), None)
                if nearest is not None:
                    found = cluster(nearest, price)
                    yield _Found(side, found, found.level, found.distance_pct)
            else:
                # From the rows, as the summary's totals within a distance are.
                within = analysed.placement.within(rule.pct)
                total = within.long if side == "long" else within.short
                if total >= rule.min_level and total > 0:
                    yield _Found(side, None, total, rule.pct)
    elif isinstance(rule, ImbalanceBeyond):
        if summary.imbalance is not None and abs(summary.imbalance) >= rule.value:
            heavier: Side = "short" if summary.imbalance > 0 else "long"
            yield _Found(heavier, None, summary.imbalance, None)
    elif changes is not None:
        listed = changes.swept_clusters if isinstance(rule, ClusterSwept) else changes.new_clusters
        for found in listed or []:
            if found.level >= rule.min_level and _within(rule, found):
                # A swept cluster keeps the side it was liquidated on; its distance is now's.
                distance = distance_pct(found.price, price)
                yield _Found(found.side, found, found.level, distance)


def _within(rule: ClusterSwept | NewCluster, found: Cluster) -> bool:
    if isinstance(rule, ClusterSwept) or rule.pct is None:
        return True
    return found.distance_pct is not None and abs(found.distance_pct) <= rule.pct


def _sides(side: AlertSide) -> tuple[Side, ...]:
    return ("long", "short") if side == "any" else (side,)


def _alert(
    index: int, rule: AlertRule, item: LiquidationMapItem, found: _Found, changes: Changes | None
) -> Alert:
    price = item.summary.current_price
    previous_price = changes.previous_price if changes else None
    return Alert(
        rule=index,
        type=rule.type,
        symbol=item.symbol,
        range=item.range,
        side=found.side,
        price=found.cluster.price if found.cluster else None,
        level=found.level,
        distance_pct=found.distance_pct,
        current_price=price,
        message=f"{item.symbol} {item.range}: {_said(rule, found, price, previous_price)}",
    )


def _said(
    rule: AlertRule, raised: _Found, price: Number | None, previous_price: Number | None
) -> str:
    """The alert in words, as a person reads it in a chat."""
    sides = f"{raised.side}s" if raised.side else "liquidations"
    now = f"the price ({format_price(price)})" if price is not None else "the price"
    level, found = raised.level or 0, raised.cluster
    if isinstance(rule, ImbalanceBeyond):
        return f"imbalance {level:+.3f}, {sides} heavier, at {now}"
    if isinstance(rule, LiquidityWithinPct):
        return f"{format_compact(level)} of {sides} within {rule.pct:g}% of {now}"
    if found is None:
        return f"{format_compact(level)} of {sides}"
    at = f"{format_compact(found.level)} of {sides} at {format_price(found.price)}"
    if isinstance(rule, ClusterSwept):
        then = format_price(previous_price) if previous_price is not None else "?"
        return f"{at} swept: the price went from {then} to {format_price(price or 0)}"
    where = ""
    if raised.distance_pct is not None:
        direction = "above" if raised.distance_pct > 0 else "below"
        where = f", {abs(raised.distance_pct):.2f}% {direction} {now}"
    return f"{'new cluster: ' if isinstance(rule, NewCluster) else ''}{at}{where}"


# ---------------------------------------------------------------- cooldown


def rule_key(rule: AlertRule) -> str:
    """A rule's identity across runs: its parameters, so an edited rule starts afresh."""
    return rule.model_dump_json(by_alias=True)


def held_back(
    alerts: list[Alert],
    rules: list[AlertRule],
    sent: list[SentAlert],
    *,
    now: datetime,
    cooldown_mins: int,
    match_pct: float,
) -> list[Alert]:
    """``alerts`` with ``suppressed`` set on those sent within the cooldown: same rule and
    side, and the same cluster (matched by price as clusters are across runs)."""
    recent = still_cooling(sent, now=now, cooldown_mins=cooldown_mins)
    return [
        alert.model_copy(update={"suppressed": True})
        if any(_same(alert, rule_key(rules[alert.rule]), past, match_pct) for past in recent)
        else alert
        for alert in alerts
    ]


def still_cooling(sent: list[SentAlert], *, now: datetime, cooldown_mins: int) -> list[SentAlert]:
    """The alerts sent recently enough to hold back their repeats."""
    since = now - timedelta(minutes=cooldown_mins)
    return [past for past in sent if past.at > since]


def as_sent(alert: Alert, rule: AlertRule, at: datetime) -> SentAlert:
    """What the cooldown remembers of an alert delivered at ``at``."""
    return SentAlert(rule=rule_key(rule), side=alert.side, price=alert.price, at=at)


def _same(alert: Alert, key: str, past: SentAlert, match_pct: float) -> bool:
    if past.rule != key or past.side != alert.side:
        return False
    if alert.price is None or past.price is None:
        return alert.price is None and past.price is None
    if alert.current_price is None:
        return alert.price == past.price
    return abs(alert.price - past.price) <= match_tolerance(alert.current_price, match_pct)
