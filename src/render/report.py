"""One self-contained HTML page for a run: each map's chart, summary and top clusters.

The page is opened from a key-value store or a mail attachment, often offline, so it carries
everything inline: no scripts, no fonts or stylesheets from the network, charts as data URIs.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from html import escape
from string import Template

from src.outputs import (
    Cluster,
    HeatLevel,
    LiquidationHeatmapItem,
    LiquidationMapItem,
    Number,
    Summary,
)
from src.render.formatting import (
    format_imbalance,
    format_level,
    format_pct,
    format_price,
    format_tier,
    format_utc,
)


@dataclass(frozen=True)
class ReportEntry:
    """One map or heatmap of the report, with its chart's PNG (None when it could not be
    drawn)."""

    item: LiquidationMapItem | LiquidationHeatmapItem
    png: bytes | None


# ---------------------------------------------------------------- the page


_PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
$style
</style>
</head>
<body>
<header id="top">
<h1>$title</h1>
<p class="meta">Generated $generated · $count</p>
<nav><h2>Contents</h2>
<ol>
$toc
</ol>
</nav>
</header>
<main>
$sections
</main>
</body>
</html>
"""
)

_STYLE = """
:root { color-scheme: light; --long: #c62f34; --short: #1f8a57; --line: #d8dee6; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1280px; padding: 16px; color: #1c2430; background: #fff;
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
h1 { font-size: 1.8rem; margin: 0.2em 0; }
h2 { font-size: 1.4rem; margin: 1.2em 0 0.4em; }
.meta { color: #5a6675; margin: 0 0 0.8em; }
nav h2 { font-size: 1.1rem; margin: 0.5em 0 0.2em; }
nav ol { margin: 0; padding-left: 1.6em; columns: 18rem; }
a { color: #2d5bd0; }
section { border-top: 2px solid var(--line); margin-top: 1.5em; padding-top: 0.5em; }
figure { margin: 0.5em 0; }
img { display: block; width: 100%; height: auto; border: 1px solid var(--line); }
.missing { padding: 2em; background: #f6f7f9; color: #5a6675; text-align: center; }
.tables { display: flex; flex-wrap: wrap; gap: 1em 2em; align-items: flex-start; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 0.5em 0; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 0.3em 0; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
thead th { background: #f3f5f8; }
tbody th { font-weight: 500; color: #3d4755; }
.clusters thead th:nth-child(4), .clusters thead th:last-child { text-align: left; }
.long { color: var(--long); }
.short { color: var(--short); }
.back { font-size: 0.9rem; }
""".strip()


def render_report(entries: list[ReportEntry], generated_at: datetime) -> str:
    """The HTML page of ``entries``, in the order given."""
    heatmaps = sum(isinstance(entry.item, LiquidationHeatmapItem) for entry in entries)
    counts = ((len(entries) - heatmaps, "map"), (heatmaps, "heatmap"))
    title = "Liquidation heatmaps" if heatmaps == len(entries) else "Liquidation maps"
    count = ", ".join(f"{n} {name}" + ("" if n == 1 else "s") for n, name in counts if n)
    return _PAGE.substitute(
        title=escape(title),
        style=_STYLE,
        generated=escape(format_utc(generated_at)),
        count=escape(count),
        toc="\n".join(
            f'<li><a href="#{_anchor(number)}">{escape(_heading(entry.item))}</a></li>'
            for number, entry in enumerate(entries, 1)
        ),
        sections="\n".join(_section(number, entry) for number, entry in enumerate(entries, 1)),
    )


def _anchor(number: int) -> str:
    # Numbered, not named after the symbol: symbols may hold anything and repeat across ranges.
    return f"map-{number}"


def _heading(item: LiquidationMapItem | LiquidationHeatmapItem) -> str:
    model = f" · {item.model}" if isinstance(item, LiquidationHeatmapItem) else ""
    return f"{item.symbol} · {item.range}{model}"


def _section(number: int, entry: ReportEntry) -> str:
    item = entry.item
    body = _heatmap_body(item) if isinstance(item, LiquidationHeatmapItem) else _map_body(item)
    return "\n".join(
        [
            f'<section id="{_anchor(number)}">',
            f"<h2>{escape(_heading(item))}</h2>",
            _figure(entry),
            *body,
            '<p class="back"><a href="#top">Back to contents</a></p>',
            "</section>",
        ]
    )


def _heatmap_body(item: LiquidationHeatmapItem) -> list[str]:
    summary, latest = item.summary, item.summary.latest

    def level(found: HeatLevel | None) -> str:
        if found is None:
            return "none"
        return f"{format_price(found['price'])} ({format_pct(found['distance_pct'] or 0)})"

    rows = [
        ["Current price", f"{format_price(summary.current_price)} ({summary.price_source})"],
        ["Above the price", format_level(latest.total_above)],
        ["Below the price", format_level(latest.total_below)],
        ["Imbalance", "n/a" if latest.imbalance is None else f"{latest.imbalance:+.3f}"],
        ["Nearest above", level(latest.nearest_above)],
        ["Nearest below", level(latest.nearest_below)],
        ["Span", f"{format_utc(summary.start_time)} – {format_utc(summary.end_time)}"],
        ["Grid", f"{summary.columns:,} candles × {summary.price_levels:,} prices"],
        ["Cells", f"{summary.cells:,}"],
    ]
    within = [
        [
            _th(f"±{pct}%"),
            _td(format_level(sides.below)),
            _td(format_level(sides.above)),
        ]
        for pct, sides in latest.within_pct.items()
    ]
    zones = [
        [
            _td(f"{format_price(zone.price_low)} – {format_price(zone.price_high)}"),
            _td(format_level(zone.total)),
            _td(zone.side or "at the price", zone.side),
            _td(format_pct(zone.distance_pct)),
        ]
        for zone in summary.hot_zones
    ]
    return [
        '<div class="tables">',
        _table("Latest column", None, [[_th(name), _td(value)] for name, value in rows]),
        _table("Within a distance of the price", ["Distance", "Below", "Above"], within),
        "</div>",
        _table("Hot zones", ["Prices", "Total", "Side", "Distance"], zones),
    ]


def _map_body(item: LiquidationMapItem) -> list[str]:
    summary = item.summary
    tables = [
        _summary_table(summary),
        _within_table(summary),
        _leverage_table(summary),
        _changes_table(item),
        _alerts_table(item),
    ]
    if summary.by_exchange:
        tables.append(_share_table("By exchange", "Exchange", summary.by_exchange))
    return [
        '<div class="tables">',
        *(table for table in tables if table),
        "</div>",
        _clusters_table("Top clusters", summary.top_clusters),
        *(
            _clusters_table(f"Top {side} clusters", clusters)
            for side, clusters in (
                ("long", summary.top_long_clusters),
                ("short", summary.top_short_clusters),
            )
            if clusters is not None
        ),
    ]


def _figure(entry: ReportEntry) -> str:
    kind = "heatmap" if isinstance(entry.item, LiquidationHeatmapItem) else "map"
    if entry.png is None:
        return f'<p class="missing">The chart of this {kind} could not be drawn.</p>'
    alt = f"Liquidation {kind} chart of {entry.item.symbol}, range {entry.item.range}"
    data = base64.b64encode(entry.png).decode("ascii")
    return (
        # The chart's own size, so the page keeps its place before the image decodes.
        f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}"'
        ' width="1600" height="900"></figure>'
    )


def _summary_table(summary: Summary) -> str:
    price = summary.current_price
    rows = [
        ["Current price", _price_text(summary)],
        ["Longs below the price", _optional_level(summary.long_level_total)],
        ["Shorts above the price", _optional_level(summary.short_level_total)],
        ["Imbalance", format_imbalance(summary.imbalance)],
        ["Nearest long cluster", _cluster_text(summary.nearest_long_cluster, price)],
        ["Nearest short cluster", _cluster_text(summary.nearest_short_cluster, price)],
        ["Price range", _range_text(summary)],
        ["Rows", f"{summary.level_count:,}"],
        [
            "Buckets",
            "CoinGlass's own"
            if summary.bucket_width is None
            else f"{format_price(summary.bucket_width)} wide",
        ],
    ]
    return _table("Summary", None, [[_th(name), _td(value)] for name, value in rows])


def _changes_table(item: LiquidationMapItem) -> str:
    """What moved since the last run's map, for a run that tracks changes."""
    changes = item.changes
    if changes is None:
        return ""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else format_pct(value)

    def prices(clusters: list[Cluster] | None) -> str:
        if clusters is None:
            return "n/a"
        return ", ".join(format_price(cluster.price) for cluster in clusters) or "none"

    then = "n/a" if changes.previous_price is None else format_price(changes.previous_price)
    imbalance = changes.imbalance_change
    rows = [
        ["Price then", f"{then} ({pct(changes.price_change_pct)} since)"],
        ["Longs total", pct(changes.long_level_total_change_pct)],
        ["Shorts total", pct(changes.short_level_total_change_pct)],
        ["Imbalance", "n/a" if imbalance is None else f"{imbalance:+.3f}"],
        ["New clusters", prices(changes.new_clusters)],
        ["Swept clusters", prices(changes.swept_clusters)],
        ["Faded clusters", prices(changes.faded_clusters)],
    ]
    caption = f"Since {format_utc(changes.previous_at)}"
    return _table(caption, None, [[_th(name), _td(value)] for name, value in rows])


def _alerts_table(item: LiquidationMapItem) -> str:
    if not item.alerts:
        return ""
    rows = [
        [_td(alert.message), _td("held back" if alert.suppressed else "sent")]
        for alert in item.alerts
    ]
    return _table("Alerts", ["Alert", "Cooldown"], rows)


def _price_text(summary: Summary) -> str:
    if summary.current_price is None:
        return "unavailable"
    price = format_price(summary.current_price)
    return f"{price} ({summary.price_source})" if summary.price_source else price


def _optional_level(level: float | None) -> str:
    return "n/a" if level is None else format_level(level)


def _cluster_text(cluster: Cluster | None, current_price: Number | None) -> str:
    if cluster is None:
        return "none" if current_price is not None else "n/a"
    distance = "" if cluster.distance_pct is None else f" ({format_pct(cluster.distance_pct)})"
    return f"{format_price(cluster.price)}{distance}, level {format_level(cluster.level)}"


def _range_text(summary: Summary) -> str:
    if summary.price_min is None or summary.price_max is None:
        return "n/a"
    return f"{format_price(summary.price_min)} – {format_price(summary.price_max)}"


def _within_table(summary: Summary) -> str:
    if summary.within_pct is None:
        return ""
    rows = [
        [_th(f"±{pct}%"), _td(format_level(totals.long)), _td(format_level(totals.short))]
        for pct, totals in summary.within_pct.items()
    ]
    return _table("Within a distance of the price", ["Distance", "Longs", "Shorts"], rows)


def _leverage_table(summary: Summary) -> str:
    tiers = {format_tier(name): level for name, level in summary.by_leverage.items()}
    return _share_table("By leverage", "Leverage", tiers)


def _share_table(caption: str, name: str, totals: dict[str, float]) -> str:
    if not totals:
        return ""
    whole = sum(totals.values())
    rows = [
        [_th(key), _td(format_level(level)), _td(f"{level / whole:.1%}" if whole else "n/a")]
        for key, level in totals.items()
    ]
    return _table(caption, [name, "Level", "Share"], rows)


def _clusters_table(caption: str, clusters: list[Cluster]) -> str:
    if not clusters:
        return f"<p>{escape(caption)}: none.</p>"
    rows = [
        [
            _th(str(rank)),
            _td(format_price(cluster.price)),
            _td(format_level(cluster.level)),
            _td(cluster.side or "n/a", f"text {cluster.side}" if cluster.side else "text"),
            _td("n/a" if cluster.distance_pct is None else format_pct(cluster.distance_pct)),
            _td(_mix_text(cluster), "text"),
        ]
        for rank, cluster in enumerate(clusters, 1)
    ]
    head = ["#", "Price", "Level", "Side", "Distance", "Leverage mix"]
    return f'<div class="scroll">{_table(caption, head, rows, "clusters")}</div>'


def _mix_text(cluster: Cluster) -> str:
    """Each tier's share of the cluster, biggest first: ``25x 54%, 5x 46%``."""
    if not cluster.level:
        return ""
    shares = sorted(cluster.leverage_mix.items(), key=lambda tier: -tier[1])
    return ", ".join(f"{format_tier(name)} {level / cluster.level:.0%}" for name, level in shares)


def _table(
    caption: str, head: list[str] | None, rows: list[list[str]], css_class: str | None = None
) -> str:
    thead = (
        "<thead><tr>" + "".join(f'<th scope="col">{escape(h)}</th>' for h in head) + "</tr></thead>"
        if head
        else ""
    )
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    attribute = f' class="{escape(css_class)}"' if css_class else ""
    caption_html = f"<caption>{escape(caption)}</caption>"
    return f"<table{attribute}>{caption_html}{thead}<tbody>{body}</tbody></table>"


def _th(text: str) -> str:
    return f'<th scope="row">{escape(text)}</th>'


def _td(text: str, css_class: str | None = None) -> str:
    attribute = f' class="{escape(css_class)}"' if css_class else ""
    return f"<td{attribute}>{escape(text)}</td>"
