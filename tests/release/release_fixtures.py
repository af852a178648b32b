"""Synthetic stores for the release gate's tests: canonical events straight into a Parquet store.

``events_table(rows)`` turns ``(source, category, zone_id or None, occurred_at)`` tuples into a valid
canonical-event table; ``city_month_rows`` draws a month of a city with realistic zone sizes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from observatoire.city.profile import CityProfile
from observatoire.event.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore

Row = tuple[str, str, str | None, datetime]
# Monthly expected counts of the simulated logbook per category (a city the size of Marseille).
CATEGORY_RATES = {"violence": 260, "theft": 420, "burglary": 90, "vehicle_crime": 120, "criminal_damage": 150,
                  "public_order": 140, "nuisance": 300, "drugs": 60, "public_hygiene": 80, "robbery": 40,
                  "weapons": 12, "road_safety": 45, "other_crime": 8}


def events_table(rows: Sequence[Row], batch_id: str, city: CityProfile) -> pa.Table:
    points = {z.zone_id: z.geometry.representative_point() for z in city.zones}
    out = []
    for i, (source, category, zone_id, occurred) in enumerate(rows):
        point = points[zone_id] if zone_id else None
        out.append({
            "event_id": f"{source}:{hashlib.sha256(f'{batch_id}:{i}'.encode()).hexdigest()[:24]}",
            "source": source, "category": category, "occurred_at": occurred, "time_precision": "minute",
            "reported_at": occurred + timedelta(hours=1), "lon": point.x if point else None,
            "lat": point.y if point else None, "location_precision_m": 10.0 if point else None,
            "zone_id": zone_id, "h3_r9": None, "h3_r8": None, "h3_r7": None, "discovery": "independent",
            "attributes": None, "pseudonyms": None, "batch_id": batch_id, "source_file": f"{batch_id}.csv",
            "source_row": i + 1, "ingested_at": datetime(2025, 3, 1, tzinfo=UTC),
            "retention_until": date(2035, 1, 1), "month": occurred.strftime("%Y-%m"),
        })
    return pa.Table.from_pylist(out, schema=EVENT_SCHEMA)


def city_month_rows(city: CityProfile, month: str, rng: np.random.Generator, *, scale: float = 1.0,
                    source: str = "mains_courantes", unlocated_share: float = 0.05) -> list[Row]:
    """A month of events: Poisson counts per category, zones drawn by population times a zone effect."""
    start = datetime(int(month[:4]), int(month[5:]), 1, tzinfo=UTC)
    end = (start + timedelta(days=32)).replace(day=1)
    span = int((end - start).total_seconds())
    zones = [z.zone_id for z in city.zones]
    weights = np.array([z.population for z in city.zones], float) * np.linspace(0.4, 2.5, len(zones))
    weights /= weights.sum()
    rows: list[Row] = []
    for category, rate in CATEGORY_RATES.items():
        for _ in range(rng.poisson(rate * scale)):
            zone = None if rng.random() < unlocated_share else zones[rng.choice(len(zones), p=weights)]
            rows.append((source, category, zone, start + timedelta(seconds=int(rng.integers(span)))))
    return rows


def commit(store: ParquetStore, rows: Sequence[Row], batch_id: str, city: CityProfile) -> None:
    events = events_table(rows, batch_id, city)
    source = rows[0][0]
    store.commit(Batch(batch_id=batch_id, source=source, source_file=f"{batch_id}.csv", file_sha256="0" * 64,
                       rows_read=events.num_rows, events=events, quarantine=QUARANTINE_SCHEMA.empty_table()))


def city_store(root: Path, city: CityProfile, months: Iterable[str], *, seed: int = 7, scale: float = 1.0,
               **store_kw: object) -> ParquetStore:
    """A store with one batch of simulated logbook events per month."""
    rng = np.random.default_rng(seed)
    store = ParquetStore(root, zone_ids=city.zone_ids, **store_kw)  # type: ignore[arg-type]
    for month in months:
        commit(store, city_month_rows(city, month, rng, scale=scale), f"test-{month}", city)
    return store
