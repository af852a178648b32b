"""Writing exports as a French city would: ``;`` CSV with decimal commas, JSON Lines, and Parquet truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CSV_OPTIONS = pacsv.WriteOptions(delimiter=";", quoting_style="needed", include_header=True)


def decimal_comma(values: np.ndarray, decimals: int, *, fixed: bool = False) -> pa.Array:
    """Numbers as French strings (``5,374123``); NaN becomes a null (an empty field).

    ``fixed`` keeps trailing zeros (``35,00``) for amounts; otherwise the
    shortest form of the rounded value is written (``43,2``).
    """
    v = np.asarray(values, dtype=float)
    missing = ~np.isfinite(v)
    if fixed:
        rounded = np.round(np.where(missing, 0.0, v), decimals)
        uniq, inverse = np.unique(rounded, return_inverse=True)  # amounts: a handful of values
        labels = np.array([f"{u:.{decimals}f}".replace(".", ",") for u in uniq], dtype=object)
        text = pa.array(labels[inverse.ravel()], type=pa.string())
    else:
        text = pc.cast(pc.round(pa.array(np.where(missing, 0.0, v)), decimals), pa.string())
        text = pc.replace_substring(text, ".", ",")
    if missing.any():
        text = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)
    return text


def write_csv(path: Path, columns: Mapping[str, Any]) -> int:
    """Write ``columns`` (name -> array-like) as a ``;`` CSV; returns the row count."""
    table = pa.table({name: _arrow(values) for name, values in columns.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path, CSV_OPTIONS)
    return table.num_rows


def _arrow(values: Any) -> pa.Array:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    arr = np.asarray(values)
    if arr.dtype == object:
        return pa.array(arr, type=pa.string())
    return pa.array(arr)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """One JSON object per line (orjson); returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("wb") as fh:
        chunk: list[bytes] = []
        for row in rows:
            chunk.append(orjson.dumps(row))
            n += 1
            if len(chunk) >= 50_000:
                fh.write(b"\n".join(chunk) + b"\n")
                chunk = []
        if chunk:
            fh.write(b"\n".join(chunk) + b"\n")
    return n


def write_parquet(path: Path, table: pa.Table) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return table.num_rows


def write_json(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
                                  | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS) + b"\n")


def nullable(values: np.ndarray, mask: np.ndarray) -> list[Any]:
    """``values`` as a Python list with ``None`` where ``mask`` is true (for JSON)."""
    out = values.tolist()
    for i in np.flatnonzero(mask).tolist():
        out[i] = None
    return out
