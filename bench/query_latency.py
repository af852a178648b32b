"""Latency of the indicator and hotspot queries on 10 million stored events, beside plain DuckDB SQL.

Writes a synthetic store in the store's own layout (``events/source=<s>/month=<YYYY-MM>/<batch>.parquet``
and a manifest; canonical schema, no privacy gate: the texts are null), builds its rollups
(``ParquetStore.build_rollups``, the maintenance step of a store written without them), then times, in one
process, what the routes call and one plain DuckDB SQL query doing the same counting over the raw files:

* **indicators**: ``daily_counts(..., store=store)`` + ``indicators_from_daily`` for one theme at a reference
  day, as ``GET /api/v1/indicators`` runs them (local-day counts per zone over every day of the theme's data,
  then the CompStat table); beside one DuckDB SQL query counting the same events per zone and local day over
  the days the windows and the 3-year baseline need;
* **hotspots**: ``query_cell_counts(..., store=store)`` + ``masked_gi_star`` for one year on the 250 m grid,
  as ``GET /api/v1/hotspots`` runs them (whole UTC months: answered by the monthly 250 m cell rollup; and a
  year that starts and ends mid-month: the days around the whole months come from the raw events); beside
  one DuckDB SQL query counting the same events per grid cell;
* the same functions without the store (the raw-event path, what a store without rollups gets), and the
  whole route functions (with their response: the hotspot route's is the JSON body itself).

Each is run ``--repeat`` times after one warm-up; p50 and p95 in milliseconds. The rollup counts are checked
equal to the raw path's.

    .venv/bin/python bench/query_latency.py               # 10,000,000 events (a few minutes to write)
    .venv/bin/python bench/query_latency.py --events 1000000 --repeat 20
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
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from observatoire.analytics.indicators import daily_counts, indicators_from_daily, required_start  # noqa: E402
from observatoire.analytics.places import city_grid, masked_gi_star, query_cell_counts  # noqa: E402
from observatoire.api.deps import GridCache, StoreReader  # noqa: E402
from observatoire.api.params import CountFilters  # noqa: E402
from observatoire.api.routes.hotspots import hotspots as hotspots_route  # noqa: E402
from observatoire.api.routes.indicators import indicators as indicators_route  # noqa: E402
from observatoire.city.geo import EARTH_M_PER_DEG_LAT, assign_zones  # noqa: E402
from observatoire.city.profile import CityProfile, load_city  # noqa: E402
from observatoire.event.schema import EVENT_SCHEMA  # noqa: E402
from observatoire.store.manifest import Manifest, write_manifest  # noqa: E402
from observatoire.store.parquet import ParquetStore  # noqa: E402
from observatoire.store.rollup import DEFAULT_CELL_M, RollupSpec  # noqa: E402

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
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--raw-repeat", type=int, default=None, help="runs of the raw-event paths (default: --repeat)")
    ap.add_argument("--store", type=Path, help="reuse or write the synthetic store here (default: a temp dir)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cell-rollup", type=float, default=DEFAULT_CELL_M,
                    help="base cell of the cell rollup, metres (default 250; 0: no cell rollup)")
    args = ap.parse_args()
    console = Console(width=200)
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
        t = time.perf_counter()
        done = store.build_rollups(RollupSpec.for_city(city, cell_m=args.cell_rollup or None))
        if done:
            console.print(f"built the rollups of {done} batches in {time.perf_counter() - t:.1f} s")
        kinds = ("rollup_daily", "rollup_months") + (("rollup_cells",) if args.cell_rollup else ())
        sizes = {k: sum((root / f).stat().st_size for f in store.manifest().files(k)) for k in ("events", *kinds)}
        rows = {k: pq_rows(root, store.manifest().files(k)) for k in kinds}
        console.print("on disk: " + ", ".join(f"{k} {v / 2**20:,.1f} MiB" for k, v in sizes.items())
                      + "; rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
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
        reader = StoreReader(store)
        grids = GridCache(city)

        def api_indicators(use_rollups: bool = True):
            def run(events):
                daily = daily_counts(events, city=city, sources=theme, store=store if use_rollups else None)
                return indicators_from_daily(daily, reference=reference, city=city)
            return reader.query(run)

        def sql_indicators():
            return con.execute(
                "SELECT zone_id, CAST(timezone(?, occurred_at) AS DATE) AS day, count(*) AS n FROM events "
                "WHERE source IN ('mains_courantes') AND occurred_at >= ? AND occurred_at < ? GROUP BY ALL",
                [TZ, dt.datetime.combine(first, dt.time(), dt.UTC) - dt.timedelta(hours=2),
                 dt.datetime.combine(reference + dt.timedelta(days=1), dt.time(), dt.UTC)]).to_arrow_table()

        def api_hotspots(use_rollups: bool = True, period=(year0, year1)):
            counts, _ = reader.query(lambda events: query_cell_counts(
                events, cgrid, start=period[0], end=period[1], sources=theme, store=store if use_rollups else None))
            return counts, masked_gi_star(counts, g, alpha=0.05)

        def sql_hotspots(period=(year0, year1)):
            return con.execute(
                "SELECT cy * ? + cx AS cell, n FROM (SELECT CAST(floor(((lon - ?) * ? - ?) / ?) AS BIGINT) AS cx, "
                "CAST(floor(((lat - ?) * ? - ?) / ?) AS BIGINT) AS cy, count(*) AS n FROM events "
                "WHERE source IN ('mains_courantes') AND occurred_at >= ? AND occurred_at < ? AND lon IS NOT NULL "
                "GROUP BY ALL) WHERE cx >= 0 AND cx < ? AND cy >= 0 AND cy < ?",
                [g.nx, cgrid.lon0, kx, g.x0, g.cell_size, cgrid.lat0, EARTH_M_PER_DEG_LAT, g.y0, g.cell_size,
                 dt.datetime.combine(period[0], dt.time(), dt.UTC), dt.datetime.combine(period[1], dt.time(), dt.UTC),
                 g.nx, g.ny]).to_arrow_table()

        def route_indicators():
            return indicators_route(city, reader, CountFilters(None, None, tuple(theme), ()),
                                    reference=reference.isoformat(), baseline_years=3, method="poisson")

        def route_hotspots(period=(year0, year1)):
            return hotspots_route(city, reader, grids, CountFilters(period[0], period[1], tuple(theme), ()),
                                  method="gi_star", cell_m=250.0, alpha=0.05, bandwidth_m=500.0, seed=0)

        mid = (dt.date(2025, 7, 15), dt.date(2026, 6, 16))      # a year from mid-month to mid-month
        raw_repeat = args.raw_repeat or args.repeat
        results = []
        for name, api, raw, sql, route in (
                ("indicators (7d/28d/ytd, 3-year baseline)", api_indicators, lambda: api_indicators(False),
                 sql_indicators, route_indicators),
                ("hotspots (Gi* on 250 m cells, one year of whole months)", api_hotspots,
                 lambda: api_hotspots(False), sql_hotspots, route_hotspots),
                ("hotspots (Gi* on 250 m cells, one year from mid-month)", lambda: api_hotspots(period=mid),
                 lambda: api_hotspots(False, mid), lambda: sql_hotspots(mid), lambda: route_hotspots(mid))):
            a_ms, a_out = timed(api, args.repeat)
            r_ms, r_out = timed(raw, raw_repeat)
            s_ms, s_out = timed(sql, raw_repeat)
            w_ms, w_out = timed(route, args.repeat)
            results.append((name, a_ms, r_ms, s_ms, w_ms))
            if name.startswith("hotspots"):  # same counts all three ways (four with the route's body)
                ref = np.zeros(g.n_cells, np.int64)
                cells = s_out["cell"].to_numpy()
                keep = g.mask[cells] if g.mask is not None else np.ones(len(cells), bool)
                np.add.at(ref, cells[keep], s_out["n"].to_numpy()[keep])
                assert np.array_equal(ref, a_out[0]) and np.array_equal(ref, r_out[0]), "hotspot counts differ"
                body = orjson.loads(w_out.body)
                got = np.zeros(g.n_cells, np.int64)
                got[[f["id"] for f in body["features"]]] = [f["properties"]["count"] for f in body["features"]]
                assert np.array_equal(ref, got), "the route's counts differ"
            else:
                assert a_out.equals(r_out), "indicators differ between the rollups and the raw events"
        table = Table(title=f"Query latency on {n:,} stored events (ms; {args.repeat} runs each, "
                            f"{raw_repeat} for the raw paths)")
        for col in ("query", "API path p50", "p95", "raw path p50", "p95", "plain DuckDB p50", "p95",
                    "API / DuckDB p95", "whole route p50", "p95", "route / DuckDB p95"):
            table.add_column(col, justify="right" if col != "query" else "left")
        for name, a, r, s_, w in results:
            p = lambda x, q: f"{np.percentile(x, q):,.0f}"  # noqa: E731
            table.add_row(name, p(a, 50), p(a, 95), p(r, 50), p(r, 95), p(s_, 50), p(s_, 95),
                          f"{np.percentile(a, 95) / np.percentile(s_, 95):.2f}×", p(w, 50), p(w, 95),
                          f"{np.percentile(w, 95) / np.percentile(s_, 95):.2f}×")
        console.print(table)


def pq_rows(root: Path, files: list[str]) -> int:
    return sum(pq.ParquetFile(root / f).metadata.num_rows for f in files)


if __name__ == "__main__":
    main()
