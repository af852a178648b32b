"""Readers for the simulator's outputs, written independently of the simulator's code."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def read_csv(path: Path) -> pa.Table:
    """A French export as the connectors read it: ``;``, every column as text."""
    with path.open("rb") as fh:
        header = fh.readline().decode("utf-8").strip().split(";")
    names = [h.strip('"') for h in header]
    return pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=";"),
                          convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                               strings_can_be_null=True))


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line]


def read_parquet(path: Path) -> dict[str, np.ndarray]:
    t = pq.read_table(path)
    return {c: t[c].to_numpy(zero_copy_only=False) for c in t.column_names}


def french_float(values: list[str | None]) -> np.ndarray:
    return np.array([float(v.replace(",", ".")) if v else math.nan for v in values])


def within_poisson(observed: float, expected: float, k: float = 4.0) -> bool:
    """``observed`` within ``k`` standard deviations of a Poisson mean ``expected``."""
    return abs(observed - expected) <= k * math.sqrt(max(expected, 1.0))


def within_binomial(successes: float, n: int, p: float, k: float = 4.0) -> bool:
    return abs(successes - n * p) <= k * math.sqrt(max(n * p * (1 - p), 1.0))
