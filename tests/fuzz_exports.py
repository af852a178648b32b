"""Hostile exports for the connector fuzz suite (``tests/test_fuzz_connectors.py``, ``bench/fuzz.py``).

Each example starts from a source's documented sample (``docs/samples/``) and applies a few of the
mutations real exports and attackers produce: a cell replaced by any text (control characters, quotes,
delimiters, newlines, formulas, huge or signed numbers), a JSON value replaced by any JSON (nested, huge
integers, lists of objects), unknown or reserved keys and columns, blank lines, repeated byte-order
marks, CR or CRLF line endings, UTF-16 or Windows-1252 encodings, a header alone, a truncated tail.

What must hold whatever the bytes (``check_prepared``, ``check_ingest``): no exception escapes but
the documented refusal of a whole file (an ``ObservatoireError``, one line); every row read is either
admitted or quarantined with a reason; and a refused file leaves the store byte-identical.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st

SAMPLES = Path(__file__).resolve().parents[1] / "docs" / "samples"
SAMPLE_OF = {
    "mains_courantes": "mains_courantes_sample.csv", "verbalisations": "verbalisations_sample.csv",
    "municipal_reports": "municipal_reports_sample.jsonl", "cctv_cameras": "cctv_cameras_sample.csv",
    "cctv_events": "cctv_events_sample.jsonl", "hospital": "hospital_sample.csv",
    "hospital_counts": "hospital_counts_sample.csv", "social_media": "social_media_sample.jsonl",
    "planned_events": "planned_events_sample.csv", "patrols": "patrols_sample.csv",
    "police_uk": "police_uk_sample-street.csv", "ssmsi": "ssmsi_sample.csv",
}
ROWS = 4   # sample rows per example: enough for duplicates and mixes, small enough to be fast

HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "+5", "-0", "1e999", "NaN", "18446744073709551616", "-9223372036854775809",
                     "=cmd|' /C calc'!A0", "@SUM(1)", "\ufeff", "\u200b", '"', '""', ";", ",", "\r", "\n", "\r\n",
                     "\x00", "0612345678", "Jean DUPONT", "__row", "x" * 2000, "01/13/2025 25:61", "2025-02-30"]),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False)
    | HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def sample_lines(source: str) -> tuple[str, list[str]]:
    """(header or "" for JSON Lines, the first ROWS data lines) of a source's sample."""
    lines = (SAMPLES / SAMPLE_OF[source]).read_text(encoding="utf-8").splitlines()
    if SAMPLE_OF[source].endswith(".jsonl"):
        return "", lines[:ROWS]
    return lines[0], lines[1:ROWS + 1]


@st.composite
def hostile_export(draw: Callable, source: str) -> tuple[str, bytes]:
    """(file name, bytes) of a mutated export of ``source``."""
    header, lines = sample_lines(source)
    jsonl = not header
    name = SAMPLE_OF[source].replace("_sample", "_fuzz")
    rows = [list(_split(line)) if not jsonl else json.loads(line) for line in lines]
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(rows) - 1))
        if jsonl:
            obj = rows[i]
            key = draw(st.sampled_from([*obj, "__row", "__extra", "extra", "author", "geo"]))
            if draw(st.booleans()):
                obj[key] = draw(JSON_VALUES)
            else:
                depth = draw(st.integers(1, 400))
                obj[key] = json.loads("[" * depth + "]" * depth)
        else:
            j = draw(st.integers(0, len(rows[i]) - 1))
            rows[i][j] = draw(HOSTILE_TEXT)
    if jsonl:
        body = [json.dumps(r, ensure_ascii=draw(st.booleans())) if isinstance(r, dict) else str(r) for r in rows]
    else:
        sep = ";" if header.count(";") >= header.count(",") else ","
        head = header + (draw(st.sampled_from(["", f"{sep}__row", f"{sep}inconnu", f"{sep}{header.split(sep)[0]}"]))
                         if draw(st.integers(0, 5)) == 0 else "")
        body = [head, *(sep.join(_quote(c, sep) for c in r) for r in rows)]
        if draw(st.integers(0, 9)) == 0:
            body = [head]                                           # a header alone
    if draw(st.integers(0, 5)) == 0:
        body.insert(draw(st.integers(0, len(body))), draw(st.sampled_from(["", "   ", "\ufeff", "garbage"])))
    newline = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    text = newline.join(body) + draw(st.sampled_from([newline, ""]))
    data = _encode(text, draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "bom2", "utf-16", "cp1252"])))
    if draw(st.integers(0, 7)) == 0:
        data = data[: draw(st.integers(0, len(data)))]               # a truncated download
    return name, data


def _split(line: str) -> list[str]:
    import csv
    sep = ";" if line.count(";") >= line.count(",") else ","
    return next(csv.reader([line], delimiter=sep))


def _quote(cell: str, sep: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(ch in cell for ch in (sep, '"', "\n", "\r")) else cell


def _encode(text: str, how: str) -> bytes:
    if how == "bom2":
        return b"\xef\xbb\xbf\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if how == "cp1252":
        return text.encode("cp1252", errors="replace")
    return text.encode(how, "surrogatepass")


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with the SHA-256 of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
