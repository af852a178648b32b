"""Latency of the indicator and hotspot queries on 10 million stored events, beside plain DuckDB SQL.

Writes a synthetic store in the store's own layout (``events/source=<s>/month=<YYYY-MM>/<batch>.parquet``
and a manifest; canonical schema, no privacy gate: the texts are null), then times, in one process:

* **indicators**: ``indicators_from_events`` for one theme at a reference day, as ``GET /api/v1/indicators``
  runs it (bounds check, local-day counts per zone over the windows and the baseline years, the CompStat table);
  beside one DuckDB SQL query that counts the same events per zone and local day over the same days;
* **hotspots**: ``query_placed`` + ``cell_counts`` + ``masked_gi_star`` for one year on the 250 m grid, as
  ``GET /api/v1/hotspots`` runs it; beside one DuckDB SQL query that counts the same events per grid cell.

Each is run ``--repeat`` times after one warm-up; p50 and p95 in milliseconds.

    .venv/bin/python bench/query_latency.py               # 10,000,000 events (about a minute to write)
    .venv/bin/python bench/query_latency.py --events 1000000 --repeat 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from observatoire.analytics.indicators import indicators_from_events, required_start  # noqa: E402
from observatoire.analytics.places import cell_counts, city_grid, masked_gi_star, query_placed  # noqa: E402
from observatoire.city.geo import EARTH_M_PER_DEG_LAT, assign_zones  # noqa: E402
from observatoire.city.profile import CityProfile, load_city  # noqa: E402
from observatoire.event.schema import EVENT_SCHEMA  # noqa: E402
from observatoire.store.manifest import Manifest, write_manifest  # noqa: E402
from observatoire.store.parquet import ParquetStore  # noqa: E402

SOURCES = {  # share of the events, categories drawn uniformly
    "verbalisations": (0.55, ("parking_offence", "traffic_offence", "municipal_offence")),
    "mains_courantes": (0.25, ("violence", "theft", "burglary", "criminal_damage", "nuisance", "drugs")),
    "municipal_reports": (0.20, ("violence", "theft", "nuisance", "public_order")),
}
TZ = "Europe/Paris"


def point_pool(city: CityProfile, rng: np.random.Generator, n: int = 200_000) -> tuple[np.ndarray, ...]:
    """``n`` points inside the city (rejection in the bounding box), clustered around a few centres, with zones."""
    minlon, minlat, maxlon, maxlat = city.outline.bounds
    lons, lats, zones = [], [], []
    centres = np.column_stack([rng.uniform(minlon, maxlon, 60), rng.uniform(minlat, maxlat, 60)])
    got = 0
    while got < n:
        k = 4 * n
        c = centres[rng.integers(0, len(centres), k)]
        clustered = rng.random(k) < 0.6
        lon = np.where(clustered, c[:, 0] + rng.normal(0, 0.006, k), rng.uniform(minlon, maxlon, k))
        lat = np.where(clustered, c[:, 1] + rng.normal(0, 0.004, k), rng.uniform(minlat, maxlat, k))
        z = assign_zones(city, lon, lat)
        ok = np.array([v is not None for v in z])
        lons.append(lon[ok]); lats.append(lat[ok]); zones.append(np.asarray(z, dtype=object)[ok])
        got += int(ok.sum())
    return np.concatenate(lons)[:n], np.concatenate(lats)[:n], np.concatenate(zones)[:n]


def write_store(root: Path, city: CityProfile, n_events: int, last_day: dt.date, years: int, seed: int) -> int:
    """``n_events`` canonical events over ``years`` years ending on ``last_day``, one batch per source × month."""
    rng = np.random.default_rng(seed)
    lon_pool, lat_pool, zone_pool = point_pool(city, rng)
    t0 = int(np.datetime64(last_day - dt.timedelta(days=365 * years - 1), "s").astype(np.int64))
    t1 = int(np.datetime64(last_day + dt.timedelta(days=1), "s").astype(np.int64))
    manifest = Manifest(generation=1)
    ingested = pa.scalar(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), pa.timestamp("us", tz="UTC"))
    null_struct = pa.nulls(1, EVENT_SCHEMA.field("attributes").type)
    n_written = 0
    for source, (share, cats) in SOURCES.items():
        n = int(round(n_events * share))
        t = np.sort(rng.integers(t0, t1, n))
        month = t.astype("datetime64[s]").astype("datetime64[M]")
        bounds = np.flatnonzero(np.diff(month.astype(np.int64))) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, n]):
            m = str(month[lo])
            k = int(hi - lo)
            pick = rng.integers(0, len(lon_pool), k)
            has_point = rng.random(k) > 0.04
            batch = f"bench-{source}-{m}"
            lon = np.where(has_point, lon_pool[pick], np.nan)
            lat = np.where(has_point, lat_pool[pick], np.nan)
            table = pa.table({
                "event_id": pa.array([f"{source}:{i:024x}" for i in range(n_written, n_written + k)]),
                "source": pa.array(np.full(k, source, dtype=object), pa.string()),
                "category": pa.array(np.asarray(cats, dtype=object)[rng.integers(0, len(cats), k)], pa.string()),
                "occurred_at": pa.array(t[lo:hi] * 1_000_000, pa.timestamp("us", tz="UTC")),
                "time_precision": pa.array(np.full(k, "minute", dtype=object), pa.string()),
                "reported_at": pa.nulls(k, pa.timestamp("us", tz="UTC")),
                "lon": pa.array(lon, mask=~has_point),
                "lat": pa.array(lat, mask=~has_point),
                "location_precision_m": pa.array(np.full(k, 25.0, np.float32), mask=~has_point),
                "zone_id": pa.array(zone_pool[pick], pa.string()),
                "h3_r9": pa.nulls(k, pa.int64()), "h3_r8": pa.nulls(k, pa.int64()), "h3_r7": pa.nulls(k, pa.int64()),
                "discovery": pa.array(np.full(k, "unknown", dtype=object), pa.string()),
                "attributes": null_struct.take(pa.array(np.zeros(k, np.int64))),
                "pseudonyms": pa.nulls(k, EVENT_SCHEMA.field("pseudonyms").type),
                "text": pa.nulls(k, pa.string()),
                "redactions": pa.nulls(k, EVENT_SCHEMA.field("redactions").type),
                "batch_id": pa.array(np.full(k, batch, dtype=object), pa.string()),
                "source_file": pa.array(np.full(k, f"{source}_bench.csv", dtype=object), pa.string()),
                "source_row": pa.array(np.arange(1, k + 1, dtype=np.int64)),
                "ingested_at": pa.array(np.full(k, ingested.value, np.int64), pa.timestamp("us", tz="UTC")),
                "retention_until": pa.array(np.full(k, np.datetime64("2031-01-01", "D"))),
                "month": pa.array(np.full(k, m, dtype=object), pa.string()),
            }).cast(EVENT_SCHEMA)
            rel = f"events/source={source}/month={m}/{batch}.parquet"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, root / rel, compression="zstd")
            manifest.batches[batch] = {"source": source, "source_file": f"{source}_bench.csv", "file_sha256": "0" * 64,
                                       "rows_read": k, "events": k, "quarantined": 0, "reference_rows": 0,
                                       "files": {"events": [rel], "quarantine": []},
                                       "committed_at": "2026-01-01T00:00:00+00:00"}
            n_written += k
    write_manifest(root / "manifest.json", manifest)
    return n_written


def timed(fn, repeat: int) -> tuple[np.ndarray, object]:
    out = fn()  # warm-up
    ms = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        ms.append((time.perf_counter() - t) * 1000)
    return np.array(ms), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--store", type=Path, help="reuse or write the synthetic store here (default: a temp dir)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    console = Console()
    city = load_city()
    last_day = dt.date(2026, 6, 30)
    reference = last_day
    with tempfile.TemporaryDirectory() as tmp:
        root = args.store or Path(tmp) / "store"
        if not (root / "manifest.json").exists():
            t = time.perf_counter()
            n = write_store(root, city, args.events, last_day, 4, args.seed)
            console.print(f"wrote {n:,} events in {time.perf_counter() - t:.1f} s under {root}")
        store = ParquetStore(root)
        files = [str(p) for p in store.event_files()]
        n = duckdb.sql(f"SELECT count(*) FROM read_parquet({files!r})").fetchone()[0]
        con = duckdb.connect()
        con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet({files!r})")
        con.execute(f"SET TimeZone = '{TZ}'")
        cgrid = city_grid(city, 250.0)
        g = cgrid.grid
        kx = EARTH_M_PER_DEG_LAT * np.cos(np.radians(cgrid.lat0))
        first = required_start(reference, 3)
        year0, year1 = dt.date(2025, 7, 1), dt.date(2026, 7, 1)
        theme = ["mains_courantes"]

        def obs_indicators():
            return indicators_from_events(store.events(), reference=reference, city=city, sources=theme)

        def sql_indicators():
            return con.execute(
                "SELECT zone_id, CAST(timezone(?, occurred_at) AS DATE) AS day, count(*) AS n FROM events "
                "WHERE source IN ('mains_courantes') AND occurred_at >= ? AND occurred_at < ? GROUP BY ALL",
                [TZ, dt.datetime.combine(first, dt.time(), dt.UTC) - dt.timedelta(hours=2),
                 dt.datetime.combine(reference + dt.timedelta(days=1), dt.time(), dt.UTC)]).to_arrow_table()

        def obs_hotspots():
            placed = query_placed(store.events(), cgrid, start=year0, end=year1, sources=theme)
            counts = cell_counts(placed.events, g)
            return counts, masked_gi_star(counts, g, alpha=0.05)

        def sql_hotspots():
            return con.execute(
                "SELECT cy * ? + cx AS cell, n FROM (SELECT CAST(floor(((lon - ?) * ? - ?) / ?) AS BIGINT) AS cx, "
                "CAST(floor(((lat - ?) * ? - ?) / ?) AS BIGINT) AS cy, count(*) AS n FROM events "
                "WHERE source IN ('mains_courantes') AND occurred_at >= ? AND occurred_at < ? AND lon IS NOT NULL "
                "GROUP BY ALL) WHERE cx >= 0 AND cx < ? AND cy >= 0 AND cy < ?",
                [g.nx, cgrid.lon0, kx, g.x0, g.cell_size, cgrid.lat0, EARTH_M_PER_DEG_LAT, g.y0, g.cell_size,
                 dt.datetime.combine(year0, dt.time(), dt.UTC), dt.datetime.combine(year1, dt.time(), dt.UTC),
                 g.nx, g.ny]).to_arrow_table()

        rows = []
        for name, obs, sql in (("indicators (7d/28d/ytd, 3-year baseline)", obs_indicators, sql_indicators),
                               ("hotspots (Gi* on 250 m cells, one year)", obs_hotspots, sql_hotspots)):
            o_ms, o_out = timed(obs, args.repeat)
            s_ms, s_out = timed(sql, args.repeat)
            rows.append((name, o_ms, s_ms))
            if name.startswith("hotspots"):  # same counts both ways
                ref = np.zeros(g.n_cells, np.int64)
                cells = s_out["cell"].to_numpy()
                keep = g.mask[cells] if g.mask is not None else np.ones(len(cells), bool)
                np.add.at(ref, cells[keep], s_out["n"].to_numpy()[keep])
                assert np.array_equal(ref, o_out[0]), "hotspot counts differ from DuckDB's"
        table = Table(title=f"Query latency on {n:,} stored events ({args.repeat} runs each, ms)")
        for col in ("query", "observatoire p50", "p95", "plain DuckDB p50", "p95", "ratio p95"):
            table.add_column(col, justify="right" if col != "query" else "left")
        for name, o, s in rows:
            table.add_row(name, f"{np.percentile(o, 50):.0f}", f"{np.percentile(o, 95):.0f}",
                          f"{np.percentile(s, 50):.0f}", f"{np.percentile(s, 95):.0f}",
                          f"{np.percentile(o, 95) / np.percentile(s, 95):.1f}×")
        console.print(table)


if __name__ == "__main__":
    main()
