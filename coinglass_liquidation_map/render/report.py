"""One self-contained HTML page for a run: each result's chart and its section, which its mode
gives (``map_section``, ``heatmap_section``), and the tables they are made of.

The page is opened from a key-value store or a mail attachment, often offline, so it carries
everything inline: no scripts, no fonts or stylesheets from the network, charts as data URIs.
"""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from html import escape
from string import Template

from coinglass_liquidation_map.formatting import format_utc


@dataclass(frozen=True)
class ReportEntry:
    """One result of the report: what it is ("map"), its heading, its chart's PNG (None when
    it could not be drawn) and text, and its section's HTML."""

    kind: str
    heading: str
    alt: str
    png: bytes | None
    body: list[str]


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
    counts = Counter(entry.kind for entry in entries)  # in the order the kinds first come
    title = "Liquidation " + " and ".join(f"{kind}s" for kind in counts)
    count = ", ".join(f"{n} {kind}" + ("" if n == 1 else "s") for kind, n in counts.items())
    return _PAGE.substitute(
        title=escape(title),
        style=_STYLE,
        generated=escape(format_utc(generated_at)),
        count=escape(count),
        toc="\n".join(
            f'<li><a href="#{_anchor(number)}">{escape(entry.heading)}</a></li>'
            for number, entry in enumerate(entries, 1)
        ),
        sections="\n".join(_section(number, entry) for number, entry in enumerate(entries, 1)),
    )


def _anchor(number: int) -> str:
    # Numbered, not named after the symbol: symbols may hold anything and repeat across ranges.
    return f"map-{number}"


def _section(number: int, entry: ReportEntry) -> str:
    return "\n".join(
        [
            f'<section id="{_anchor(number)}">',
            f"<h2>{escape(entry.heading)}</h2>",
            _figure(entry),
            *entry.body,
            '<p class="back"><a href="#top">Back to contents</a></p>',
            "</section>",
        ]
    )


def _figure(entry: ReportEntry) -> str:
    if entry.png is None:
        return f'<p class="missing">The chart of this {entry.kind} could not be drawn.</p>'
    alt = entry.alt
    data = base64.b64encode(entry.png).decode("ascii")
    return (
        # The chart's own size, so the page keeps its place before the image decodes.
        f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}"'
        ' width="1600" height="900"></figure>'
    )


def table(
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


def th(text: str) -> str:
    return f'<th scope="row">{escape(text)}</th>'


def td(text: str, css_class: str | None = None) -> str:
    attribute = f' class="{escape(css_class)}"' if css_class else ""
    return f"<td{attribute}>{escape(text)}</td>"
