"""Markdown and self-contained HTML (inline style, no script, no external asset) of a regulator document."""

from __future__ import annotations

import json
from html import escape
from typing import Any

__all__ = ["FORMATS", "render", "to_html", "to_markdown"]

FORMATS = ("json", "md", "html")
MEDIA_TYPES = {"json": "application/json", "md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}
DPO_BADGE = "à compléter par le DPO"

_STYLE = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:72rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.45}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #ccc}table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #bbb;
padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f0f0f0}.basis{color:#555;font-size:.85rem}
.dpo{background:#fff3cd;border:1px solid #e0b400;padding:.1rem .4rem;border-radius:.3rem;font-size:.8rem}"""


def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: dict[str, Any]) -> str:
    """The document as Markdown (GitHub tables)."""
    out = [f"# {doc['title']}", "", f"Généré le {doc['generated_at']} depuis la configuration en service "
                                    f"(version {doc['version']}).", ""]
    for s in doc["sections"]:
        out += [f"## {s['title']}" + (f" *({DPO_BADGE})*" if s["to_complete"] else ""), ""]
        if s["basis"]:
            out += [f"*Référence : {s['basis']}*", ""]
        for block in s["blocks"]:
            if isinstance(block, str):
                out += [block, ""]
            elif "list" in block:
                out += [f"- {item}" for item in block["list"]] + [""]
            elif "fields" in block:
                out += [f"- **{name}** : {value}" for name, value in block["fields"]] + [""]
            elif "table" in block:
                cols = block["table"]["columns"]
                out += ["| " + " | ".join(map(_md_cell, cols)) + " |", "|" + "---|" * len(cols)]
                out += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in block["table"]["rows"]] + [""]
    return "\n".join(out).rstrip() + "\n"


def to_html(doc: dict[str, Any]) -> str:
    """The document as one self-contained HTML page (inline CSS; no script, image, font or link to fetch)."""
    e = escape
    out = ["<!DOCTYPE html>", '<html lang="fr"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(doc['title'])}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{e(doc['title'])}</h1>",
           f"<p>Généré le {e(doc['generated_at'])} depuis la configuration en service (version "
           f"{e(str(doc['version']))}).</p>"]
    for s in doc["sections"]:
        badge = f' <span class="dpo">{DPO_BADGE}</span>' if s["to_complete"] else ""
        out.append(f'<section id="{e(s["key"])}"><h2>{e(s["title"])}{badge}</h2>')
        if s["basis"]:
            out.append(f'<p class="basis">Référence : {e(s["basis"])}</p>')
        for block in s["blocks"]:
            if isinstance(block, str):
                out.append(f"<p>{e(block)}</p>")
            elif "list" in block:
                out.append("<ul>" + "".join(f"<li>{e(str(i))}</li>" for i in block["list"]) + "</ul>")
            elif "fields" in block:
                out.append("<dl>" + "".join(f"<dt><strong>{e(str(n))}</strong></dt><dd>{e(str(v))}</dd>"
                                            for n, v in block["fields"]) + "</dl>")
            elif "table" in block:
                head = "".join(f"<th>{e(str(c))}</th>" for c in block["table"]["columns"])
                rows = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>"
                               for row in block["table"]["rows"])
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render(doc: dict[str, Any], fmt: str) -> str:
    """``doc`` in ``fmt`` (json, md or html)."""
    from observatoire.errors import InputError

    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if fmt == "md":
        return to_markdown(doc)
    if fmt == "html":
        return to_html(doc)
    raise InputError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
