"""A small synthetic store for the audit routes, and a bare app mounting only the audit router.

The app is built by hand (city, store, grids on ``app.state``, the InputError
handler) so that these tests do not depend on authentication: the access
table is tested by its own suite.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from observatoire.api.deps import GridCache, StoreReader
from observatoire.api.routes import audits
from observatoire.city.profile import CityProfile, load_city
from observatoire.errors import InputError
from observatoire.event.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore

SEED = 6
START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 366


def _events(city: CityProfile, rng: np.random.Generator, source: str, n: int, located: bool) -> pa.Table:
    zones = list(city.zones)
    w = np.array([z.population * np.exp(z.covariates["deprivation"]) for z in zones])
    rows = []
    for i in range(n):
        z = zones[rng.choice(len(zones), p=w / w.sum())]
        p = z.geometry.representative_point()
        occurred = START + timedelta(seconds=int(rng.integers(DAYS * 86400)))
        digest = hashlib.sha256(f"{source}:{i}".encode()).hexdigest()[:24]
        discovery = "independent" if source == "hospital" else ("directed" if rng.random() < 0.5 else "independent")
        rows.append({
            "event_id": f"{source}:{digest}", "source": source,
            "category": "assault_injury" if source == "hospital" else ("violence" if rng.random() < 0.5 else "theft"),
            "occurred_at": occurred, "time_precision": "minute", "reported_at": occurred,
            "lon": p.x + rng.normal(0, 0.001) if located else None,
            "lat": p.y + rng.normal(0, 0.001) if located else None,
            "location_precision_m": 10.0 if located else None, "zone_id": z.zone_id,
            "h3_r9": None, "h3_r8": None, "h3_r7": None, "discovery": discovery, "attributes": None,
            "pseudonyms": None, "batch_id": f"t-{source}", "source_file": f"{source}.csv", "source_row": i + 1,
            "ingested_at": datetime(2025, 3, 1, tzinfo=UTC), "retention_until": date(2030, 1, 1),
            "month": occurred.strftime("%Y-%m"),
        })
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


@pytest.fixture(scope="session")
def audit_city() -> CityProfile:
    return load_city()


@pytest.fixture(scope="session")
def audit_store(tmp_path_factory: pytest.TempPathFactory, audit_city: CityProfile) -> ParquetStore:
    root: Path = tmp_path_factory.mktemp("audit_store")
    store = ParquetStore(root, zone_ids=audit_city.zone_ids)
    rng = np.random.default_rng(SEED)
    for source, n, located in (("mains_courantes", 3000, True), ("hospital", 600, False)):
        events = _events(audit_city, rng, source, n, located)
        store.commit(Batch(batch_id=f"t-{source}", source=source, source_file=f"{source}.csv",
                           file_sha256="0" * 64, rows_read=events.num_rows, events=events,
                           quarantine=QUARANTINE_SCHEMA.empty_table()))
    return store


@pytest.fixture(scope="session")
def audit_client(audit_store: ParquetStore, audit_city: CityProfile) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.city = audit_city
    app.state.store = StoreReader(audit_store)
    app.state.grids = GridCache(audit_city)
    app.add_exception_handler(InputError, lambda _r, exc: __import__("fastapi").responses.JSONResponse(
        {"detail": str(exc)}, status_code=422))
    app.include_router(audits.router)
    with TestClient(app) as client:
        yield client
