"""Throughput of the privacy gate on structured sources (no free text), one core.

For each structured export of a simulated city-year, times ``Gate.admit``
(policy check, refusal checks, keyed pseudonyms) and, in the same process on
the same table, the baseline of copying the kept columns only (what a gate
that did nothing would cost), each the median of ``--runs`` runs. Target: at
least 200,000 rows per second.

    .venv/bin/python bench/gate_structured.py [--scale 1.0] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pyarrow as pa  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from observatoire.city.profile import load_city  # noqa: E402
from observatoire.gate.admit import Gate  # noqa: E402
from observatoire.gate.policy import load_policies  # noqa: E402
from observatoire.gate.pseudonym import init_keyring  # noqa: E402
from observatoire.simulate import simulate_city_year  # noqa: E402
from observatoire.sources.registry import load_sources, resolve  # noqa: E402

T = TypeVar("T")
STRUCTURED = ("verbalisations", "patrols", "cctv_cameras", "hospital", "cctv_events")   # planned_events: scrubbed text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3, help="runs per source; the median time is kept")
    args = parser.parse_args()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    city = load_city()
    sources = load_sources()
    table = Table(title="Privacy gate on structured sources (one core)")
    for col in ("source", "rows", "gate s", "gate rows/s", "baseline s", "× baseline"):
        table.add_column(col, justify="left" if col == "source" else "right")
    with tempfile.TemporaryDirectory() as tmp:
        summary = simulate_city_year(city, Path(tmp) / "sim", scale=args.scale)
        gate = Gate(load_policies(), init_keyring(Path(tmp) / "keys" / "k.key"))
        total_rows = total_s = 0.0
        for path in sorted(summary.exports.values()):
            source = resolve(path, sources)
            if source.name not in STRUCTURED:
                continue
            raw = source.read(path, city.timezone)
            admitted, t_gate = _median_time(lambda: gate.admit(source, raw), args.runs)
            kept = [c for c in admitted.table.schema.names if not c.startswith("__")]
            _, t_base = _median_time(lambda: pa.RecordBatch.from_arrays([raw.table[c].combine_chunks() for c in kept],
                                                                        names=kept), args.runs)
            n = raw.table.num_rows
            total_rows += n
            total_s += t_gate
            table.add_row(source.name, f"{n:,}", f"{t_gate:.3f}", f"{n / t_gate:,.0f}", f"{t_base:.3f}",
                          f"{t_gate / max(t_base, 1e-6):.0f}")
        table.add_row("[bold]all structured[/bold]", f"{int(total_rows):,}", f"{total_s:.3f}",
                      f"{total_rows / total_s:,.0f}", "", "")
    Console(width=120).print(table)


def _median_time(fn: Callable[[], T], runs: int) -> tuple[T, float]:
    """The output of ``fn`` and the median of ``runs`` timings (the first run, which also pays for first
    touches of memory, counts as one of them)."""
    times, out = [], None
    for _ in range(max(1, runs)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)  # type: ignore[return-value]


if __name__ == "__main__":
    main()
