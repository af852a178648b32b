"""The report as self-contained French HTML (inline style, charts as ``data:`` URIs, no script, no external
resource) and as PDF through WeasyPrint (A4, page numbers, the version on every page)."""

from __future__ import annotations

from html import escape
from typing import Any

from observatoire.report import fr

_STYLE = """
@page { size: A4; margin: 18mm 14mm 18mm 14mm;
  @top-center { content: "%(banner)s"; font-size: 8pt; color: %(banner_colour)s; }
  @bottom-right { content: "page " counter(page) " / " counter(pages); font-size: 8pt; color: #555; } }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 9.5pt; color: #1b1b1b;
  line-height: 1.4; max-width: 60rem; margin: 0 auto; }
h1 { font-size: 17pt; margin-bottom: .2em; }
h2 { font-size: 12.5pt; border-bottom: 1px solid #999; margin-top: 1.6em; page-break-after: avoid; }
h3 { font-size: 10.5pt; margin: 1em 0 .3em; page-break-after: avoid; }
.meta, .source { color: #555; font-size: 8.5pt; }
.banner { border: 1px solid %(banner_colour)s; color: %(banner_colour)s; padding: .3em .6em; font-weight: bold; }
table { border-collapse: collapse; width: 100%%; font-size: 8pt; margin: .4em 0 .8em; page-break-inside: auto; }
th, td { border: 1px solid #bbb; padding: .2em .35em; vertical-align: top; }
th { background: #eef1f5; text-align: left; }
td.n { text-align: right; white-space: nowrap; }
tr { page-break-inside: avoid; }
img { max-width: 100%%; display: block; margin: .4em auto; }
nav ol { font-size: 9pt; }
"""


def _cell(value: str) -> str:
    """A table cell; numbers (and « < k », intervals, dashes) right-aligned."""
    numeric = bool(value) and (value[0].isdigit() or value[0] in "<−–[")
    return f'<td class="n">{escape(value)}</td>' if numeric else f"<td>{escape(value)}</td>"


def _block(block: dict[str, Any]) -> str:
    if "text" in block:
        return f"<p>{escape(block['text'])}</p>"
    if "heading" in block:
        return f"<h3>{escape(block['heading'])}</h3>"
    if "chart" in block:
        if not block["chart"].startswith("data:image/png;base64,"):
            raise ValueError("a chart must be an embedded PNG")
        return f'<img src="{block["chart"]}" alt="{escape(block["alt"])}">'
    t = block["table"]
    head = "".join(f"<th>{escape(c)}</th>" for c in t["columns"])
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in t["rows"])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(doc: dict[str, Any]) -> str:
    """The document as one HTML page (UTF-8, French)."""
    restricted = doc["version"] == "restricted"
    banner = ("Version restreinte — DPO et comité de contrôle — ne pas diffuser" if restricted
              else "Version publique")
    style = _STYLE % {"banner": banner, "banner_colour": "#a50021" if restricted else "#1f4e79"}
    toc = "".join(f'<li><a href="#s{i}">{escape(s["title"])}</a></li>' for i, s in enumerate(doc["sections"], 1))
    sections = "".join(
        f'<section id="s{i}"><h2>{i}. {escape(s["title"])}</h2>'
        f'<p class="source">Source : {escape(s["source"])}.</p>' + "".join(_block(b) for b in s["blocks"])
        + "</section>" for i, s in enumerate(doc["sections"], 1))
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(doc['title'])}</title><style>{style}</style></head><body>"
        f"<h1>{escape(doc['title'])}</h1>"
        f'<p class="meta">{escape(doc["city"])} — {escape(doc["version_fr"])} — généré le '
        f"{escape(fr.day(doc['generated_at']))} à {escape(doc['generated_at'][11:16])} UTC</p>"
        f'<p class="banner">{escape(banner)}</p>'
        f"<nav><h2>Sommaire</h2><ol>{toc}</ol></nav>{sections}</body></html>\n"
    )


def to_pdf(html: str) -> bytes:
    """The HTML rendered to PDF by WeasyPrint (no base URL: nothing outside the page is fetched)."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf()
