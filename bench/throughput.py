"""Throughput of a simulated city-year: simulation, then ingest, in events per second.

Prints one table. The baseline, run in the same process on the same files, is
what reading the exports costs with nothing else done (pyarrow's CSV reader,
orjson for JSON Lines): the ratio says what the gate, canonicalisation, zone
and H3 assignment, validation and the atomic Parquet commit add to parsing.

    .venv/bin/python bench/throughput.py [--scale 1.0] [--seed 2025]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow.csv as pacsv
from rich.console import Console
from rich.table import Table

from observatoire.city.profile import load_city
from observatoire.ingest.pipeline import ingest
from observatoire.settings import Settings
from observatoire.simulate import simulate_city_year
from observatoire.sources.registry import load_sources
from observatoire.store.parquet import ParquetStore


def parse_only(exports: Path) -> int:
    rows = 0
    for path in sorted(exports.iterdir()):
        if path.suffix == ".csv":
            rows += pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=";")).num_rows
        elif path.suffix == ".jsonl":
            rows += sum(1 for line in path.read_bytes().splitlines() if orjson.loads(line) is not None)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    city = load_city()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        summary = simulate_city_year(city, out, seed=args.seed, scale=args.scale)
        t_sim = time.perf_counter() - t0
        n_sim = sum(summary.rows.values())

        t0 = time.perf_counter()
        n_parse = parse_only(out / "exports")
        t_parse = time.perf_counter() - t0

        store = ParquetStore(out / "store", zone_ids=city.zone_ids)
        gate = Settings(store_dir=out / "store", key_path=out / "keys" / "k.key").gate(create_keys=True)
        t0 = time.perf_counter()
        reports = ingest([out / "exports"], store=store, city=city, sources=load_sources(), gate=gate,
                         retention_days=dict(Settings().retention_days), now=datetime.now(UTC))
        t_ingest = time.perf_counter() - t0
        n_read = sum(r.rows_read for r in reports)
        n_admitted = sum(r.admitted for r in reports)
        size_mb = sum(p.stat().st_size for p in (out / "store").rglob("*.parquet")) / 1e6

    table = Table(title=f"City-year throughput (scale {args.scale:g}, seed {args.seed}, 2 cores)")
    for col in ("step", "rows", "seconds", "rows / s", "× baseline time"):
        table.add_column(col, justify="left" if col == "step" else "right")
    table.add_row("simulate (write exports + truth)", f"{n_sim:,}", f"{t_sim:.1f}", f"{n_sim / t_sim:,.0f}", "")
    table.add_row("baseline: parse exports only", f"{n_parse:,}", f"{t_parse:.1f}", f"{n_parse / t_parse:,.0f}", "1.0")
    table.add_row("ingest (gate incl. PII scrubbing, canonical, zones, H3, commit)", f"{n_read:,}", f"{t_ingest:.1f}",
                  f"{n_read / t_ingest:,.0f}", f"{t_ingest / t_parse:.1f}")
    console = Console(width=120)
    console.print(table)
    console.print(f"admitted {n_admitted:,} of {n_read:,} rows read; store {size_mb:.0f} MB of Parquet")


if __name__ == "__main__":
    main()
