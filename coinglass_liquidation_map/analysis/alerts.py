"""Alert rules read against a map and what changed since the last run, and the cooldown that
keeps an alert from being sent again too soon. Pure: the time is given, never read."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from coinglass_liquidation_map.analysis.buckets import (
    Bucket,
    Bucketing,
    bucket_price_of,
    by_side,
    cluster,
    distance_pct,
    price_buckets,
    reach,
)
from coinglass_liquidation_map.analysis.changes import match_tolerance
from coinglass_liquidation_map.analysis.liqmap import AnalysedMap
from coinglass_liquidation_map.formatting import format_compact, format_price
from coinglass_liquidation_map.market_data import Number
from coinglass_liquidation_map.outputs import Side
from coinglass_liquidation_map.records import PendingAlert, SentAlert
from coinglass_liquidation_map.schemas.alerts import (
    Alert,
    AlertSide,
    ClusterSwept,
    ClusterWithinPct,
    ImbalanceBeyond,
    LiquidityWithinPct,
    NewCluster,
    Rule,
)
from coinglass_liquidation_map.schemas.maps import Changes, Cluster


def fired(
    rules: Sequence[Rule],
    analysed: AnalysedMap,
    bucketing: Bucketing,
    changes: Changes | None,
) -> list[Alert]:
    """Every alert ``rules`` raise on a map, in rule order. Rules that read the price stay
    silent without one; rules that read changes stay silent on a first run."""
    item = analysed.item
    price = item.summary.current_price
    if price is None:
        return []
    buckets = price_buckets(item.data, bucketing, price) if item.data is not None else []
    read = _Read(analysed, buckets, price, changes)
    return [
        Alert(
            rule=index,
            type=rule.type,
            symbol=item.symbol,
            range=item.range,
            side=found.side,
            price=found.price,
            level=found.level,
            distance_pct=found.distance_pct,
            current_price=price,
            message=f"{item.symbol} {item.range}: {found.said}",
            summary_text=item.summary_text,
            realized_usd=found.realized_usd,
        )
        for index, rule in enumerate(rules)
        for found in _raised(rule, read)
    ]


@dataclass(frozen=True)
class _Found:
    """What a rule found: the side, the cluster's price if it is about one, the level, the
    distance from the price, and all that in words."""

    side: Side | None
    price: Number | None
    level: float
    distance_pct: float | None
    said: str
    realized_usd: float | None = None


@dataclass(frozen=True)
class _Read:
    """What the rules read a map by: the map, its price buckets, its price, what changed."""

    analysed: AnalysedMap
    buckets: list[Bucket]
    price: Number
    changes: Changes | None


def _raised(rule: Rule, read: _Read) -> Iterator[_Found]:
    """What a map rule finds; a rule about something else (a scan's max pain) finds nothing
    on a map."""
    if isinstance(rule, ClusterWithinPct):
        return _cluster_within(rule, read)
    if isinstance(rule, LiquidityWithinPct):
        return _liquidity_within(rule, read)
    if isinstance(rule, ImbalanceBeyond):
        return _imbalance_beyond(rule, read)
    if isinstance(rule, ClusterSwept):
        return _swept(rule, read)
    if isinstance(rule, NewCluster):
        return _new(rule, read)
    return iter(())


def _cluster_within(rule: ClusterWithinPct, read: _Read) -> Iterator[_Found]:
    price = read.price
    longs, shorts = by_side(read.buckets, price)
    first_long = bisect.bisect_left(longs, price - reach(price, rule.pct), key=bucket_price_of)
    last_short = bisect.bisect_right(shorts, price + reach(price, rule.pct), key=bucket_price_of)
    near = {"long": longs[first_long:][::-1], "short": shorts[:last_short]}  # nearest first
    for side in _sides(rule.side):
        nearest = next((b for b in near[side] if b.level >= rule.min_level), None)
        if nearest is not None:
            yield _at_cluster("", cluster(nearest, price), side, price)


def _liquidity_within(rule: LiquidityWithinPct, read: _Read) -> Iterator[_Found]:
    # From the rows, as the summary's totals within a distance are.
    within = read.analysed.placement.within(rule.pct)
    for side in _sides(rule.side):
        total = within.long if side == "long" else within.short
        if total >= rule.min_level and total > 0:
            said = (
                f"{format_compact(total)} of {side}s within {rule.pct:g}% of the price"
                f" ({format_price(read.price)})"
            )
            yield _Found(side, None, total, -rule.pct if side == "long" else rule.pct, said)


def _imbalance_beyond(rule: ImbalanceBeyond, read: _Read) -> Iterator[_Found]:
    imbalance = read.analysed.item.summary.imbalance
    if imbalance is not None and abs(imbalance) >= rule.value:
        heavier: Side | None = "short" if imbalance > 0 else "long" if imbalance else None
        leaning = f"{heavier}s heavier" if heavier else "balanced"
        said = f"imbalance {imbalance:+.3f}, {leaning}, at the price ({format_price(read.price)})"
        yield _Found(heavier, None, imbalance, None, said)


def _swept(rule: ClusterSwept, read: _Read) -> Iterator[_Found]:
    changes, price = read.changes, read.price
    then = changes.previous_price if changes else None
    if changes is None or then is None:
        return
    realized = changes.realized
    for found in changes.swept_clusters or []:
        if found.level >= rule.min_level:
            # A swept cluster keeps the side it was liquidated on; its distance is now's.
            said = (
                f"{_amount(found, found.side)} swept: the price went from"
                f" {format_price(then)} to {format_price(price)}"
            )
            liquidated = None
            if realized is not None and found.side is not None:
                liquidated = (
                    realized.long_liquidations_usd
                    if found.side == "long"
                    else realized.short_liquidations_usd
                )
                said += (
                    f"; {format_compact(liquidated)} USD of {found.side}s were liquidated in"
                    f" between ({realized.interval} liquidation history)"
                )
            distance = distance_pct(found.price, price)
            yield _Found(found.side, found.price, found.level, distance, said, liquidated)


def _new(rule: NewCluster, read: _Read) -> Iterator[_Found]:
    listed = read.changes.new_clusters if read.changes else None
    for found in listed or []:
        near_enough = rule.pct is None or abs(found.distance_pct or 0) <= rule.pct
        if found.level >= rule.min_level and near_enough:
            yield _at_cluster("new cluster: ", found, found.side, read.price)


def _at_cluster(what: str, found: Cluster, side: Side | None, price: Number) -> _Found:
    distance = distance_pct(found.price, price)
    where = ""
    if distance is not None:
        direction = "above" if distance > 0 else "below"
        where = f", {abs(distance):.2f}% {direction} the price ({format_price(price)})"
    said = f"{what}{_amount(found, side)}{where}"
    return _Found(side, found.price, found.level, distance, said)


def _amount(found: Cluster, side: Side | None) -> str:
    sides = f"{side}s" if side else "liquidations"
    return f"{format_compact(found.level)} of {sides} at {format_price(found.price)}"


def _sides(side: AlertSide) -> tuple[Side, ...]:
    return ("long", "short") if side == "any" else (side,)


# ---------------------------------------------------------------- cooldown


def rule_key(rule: Rule) -> str:
    """A rule's identity across runs: its parameters, so an edited rule starts afresh."""
    return rule.model_dump_json(by_alias=True)


def held_back(
    alerts: list[Alert],
    rules: Sequence[Rule],
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


def sent_at(owed: PendingAlert, at: datetime) -> SentAlert:
    """What the cooldown remembers of an alert delivered at ``at``."""
    return SentAlert(
        rule=owed.rule, symbol=owed.alert.symbol, side=owed.side, price=owed.price, at=at
    )


def not_raised_again(
    pending: list[PendingAlert], raised: list[Alert], rules: Sequence[Rule], match_pct: float
) -> list[PendingAlert]:
    """The alerts still owed to the alert channels whose rule is still set, numbered as the rules
    are now, less those this run raised again itself."""
    index_of = {rule_key(rule): index for index, rule in reversed(list(enumerate(rules)))}
    return [
        owed.model_copy(
            update={"alert": owed.alert.model_copy(update={"rule": index_of[owed.rule]})}
        )
        for owed in pending
        if owed.rule in index_of
        and not any(_same(alert, rule_key(rules[alert.rule]), owed, match_pct) for alert in raised)
    ]


def owed(alert: Alert, rule: Rule, at: datetime) -> PendingAlert:
    """An alert an alert channel did not take, to be sent by the next run."""
    return PendingAlert(
        rule=rule_key(rule),
        symbol=alert.symbol,
        side=alert.side,
        price=alert.price,
        at=at,
        alert=alert,
    )


def _same(alert: Alert, key: str, past: SentAlert, match_pct: float) -> bool:
    """The same rule, coin and side, and the same cluster, matched by price."""
    if past.rule != key or past.side != alert.side or past.symbol not in (None, alert.symbol):
        return False
    if alert.price is None or past.price is None:
        return alert.price is None and past.price is None
    if alert.current_price is None:
        return alert.price == past.price
    return abs(alert.price - past.price) <= match_tolerance(alert.current_price, match_pct)


# Alerts owed to a channel that keeps failing: the newest are kept, so a record stays small.
MAX_PENDING = 200


@dataclass(frozen=True)
class Reckoning:
    """One record's alerts for this run: those raised (each marked if its cooldown holds it
    back), what the record keeps of those sent and owed, and what goes out now."""

    raised: list[Alert]
    sent: list[SentAlert]
    pending: list[PendingAlert]
    to_send: list[PendingAlert]


def reckoned(
    fired_now: list[Alert],
    rules: Sequence[Rule],
    sent: list[SentAlert],
    pending: list[PendingAlert],
    *,
    now: datetime,
    cooldown_mins: int,
    match_pct: float,
    has_channel: bool,
) -> Reckoning:
    """The alerts ``rules`` fired now, read against what a record remembers of the alerts sent
    (``sent``) and still owed (``pending``) by earlier runs."""
    raised = held_back(
        fired_now, rules, sent, now=now, cooldown_mins=cooldown_mins, match_pct=match_pct
    )
    # What an earlier run owes the channels, unless its rule is gone or this run raised it
    # again itself. A run without a channel (webhook, Telegram) sends none of it, and leaves
    # it owed.
    owed_now = not_raised_again(pending, raised, rules, match_pct)
    fresh = [owed(alert, rules[alert.rule], now) for alert in raised if not alert.suppressed]
    return Reckoning(
        raised=raised,
        sent=still_cooling(sent, now=now, cooldown_mins=cooldown_mins),
        pending=owed_now if has_channel else pending,
        to_send=[*(owed_now if has_channel else []), *fresh],
    )


def settled(
    sent: list[SentAlert],
    to_send: list[PendingAlert],
    *,
    delivered: bool,
    has_channel: bool,
    now: datetime,
) -> dict[str, list[Any]]:
    """What a record keeps once its alerts went out: delivered (taken by every channel), they
    start their cooldown; undelivered, they are owed (the newest ``MAX_PENDING``), and the next
    run sends them again, to every channel."""
    if not delivered:
        return {"pending": to_send[-MAX_PENDING:]}
    kept: dict[str, list[Any]] = {"sent": [*sent, *(sent_at(each, now) for each in to_send)]}
    if has_channel:
        kept["pending"] = []
    return kept
