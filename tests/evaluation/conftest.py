"""A store of weekly hospital assault admissions over Marseille's zones, with a known -30 % effect.

Three zones (13201, 13203, 13205) are treated from Monday 2025-01-06; counts per zone-week are
negative binomial (mean about 12, dispersion 0.02) from 2024-01-01 to 2025-04-28, with unit
levels and common weekly shocks. Plans are registered with the clock at 2024-12-20 and analysed
with the clock at 2025-05-05.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from observatoire.city.profile import CityProfile, load_city
from observatoire.evaluation.panel import simulate_panel
from observatoire.event.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from observatoire.settings import Settings
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore

FIRST = date(2024, 1, 1)            # a Monday
START = date(2025, 1, 6)            # a Monday
WEEKS = 70                          # up to 2025-05-05 (excluded)
TREATED = ("13201", "13203", "13205")
EFFECT = -0.30
REGISTERED = datetime(2024, 12, 20, 9, 0, tzinfo=UTC)
ANALYSED = datetime(2025, 5, 5, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def city() -> CityProfile:
    return load_city()


def hospital_events(city: CityProfile, seed: int = 7) -> tuple[pa.Table, np.ndarray]:
    rng = np.random.default_rng(seed)
    zones = [z.zone_id for z in city.zones]
    start_week = (START - FIRST).days // 7
    first = np.array([start_week if z in TREATED else -1 for z in zones])
    counts, _ = simulate_panel(len(zones), WEEKS, first_treated=first, effect=EFFECT, mean=12.0, dispersion=0.02,
                               unit_sd=0.3, period_sd=0.1, rng=rng)
    n = counts.astype(int)
    zone_col, times = [], []
    for i, z in enumerate(zones):
        for w in range(WEEKS):
            k = n[i, w]
            # Noon UTC on a day of the week: the same local day in Paris.
            days = rng.integers(0, 7, k)
            base = datetime(FIRST.year, FIRST.month, FIRST.day, 12, tzinfo=UTC) + timedelta(weeks=w)
            times += [base + timedelta(days=int(d)) for d in days]
            zone_col += [z] * k
    total = len(times)
    ids = [f"hospital:{hashlib.sha256(str(i).encode()).hexdigest()[:24]}" for i in range(total)]
    ts = pa.array(times, pa.timestamp("us", tz="UTC"))
    table = pa.table({
        "event_id": ids, "source": ["hospital"] * total, "category": ["assault_injury"] * total,
        "occurred_at": ts, "time_precision": ["hour"] * total, "reported_at": ts,
        "lon": pa.nulls(total, pa.float64()), "lat": pa.nulls(total, pa.float64()),
        "location_precision_m": pa.nulls(total, pa.float32()), "zone_id": zone_col,
        "h3_r9": pa.nulls(total, pa.int64()), "h3_r8": pa.nulls(total, pa.int64()),
        "h3_r7": pa.nulls(total, pa.int64()), "discovery": ["independent"] * total,
        "attributes": pa.nulls(total, EVENT_SCHEMA.field("attributes").type),
        "pseudonyms": pa.nulls(total, EVENT_SCHEMA.field("pseudonyms").type),
        "text": pa.nulls(total, pa.string()),
        "redactions": pa.nulls(total, EVENT_SCHEMA.field("redactions").type),
        "batch_id": ["eval-hospital"] * total, "source_file": ["hospital.csv"] * total,
        "source_row": np.arange(1, total + 1), "ingested_at": pa.array([ANALYSED] * total, pa.timestamp("us", tz="UTC")),
        "retention_until": pa.array([date(2030, 1, 1)] * total, pa.date32()),
        "month": [t.strftime("%Y-%m") for t in times],
    }, schema=EVENT_SCHEMA)
    return table, counts


@pytest.fixture(scope="session")
def hospital_store(tmp_path_factory: pytest.TempPathFactory, city: CityProfile) -> tuple[Path, np.ndarray]:
    root = tmp_path_factory.mktemp("eval_store")
    store = ParquetStore(root, zone_ids=city.zone_ids)
    events, counts = hospital_events(city)
    store.commit(Batch(batch_id="eval-hospital", source="hospital", source_file="hospital.csv", file_sha256="1" * 64,
                       rows_read=events.num_rows, events=events,
                       quarantine=pa.Table.from_pylist([], schema=QUARANTINE_SCHEMA)))
    return root, counts


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(REGISTERED)


@pytest.fixture
def settings(tmp_path: Path, hospital_store: tuple[Path, np.ndarray], clock: Clock) -> Settings:
    return Settings(store_dir=hospital_store[0], evaluations_dir=tmp_path / "evaluations", audit_dir=tmp_path / "audit",
                    auth_dir=tmp_path / "auth", clock=clock, secure_cookies=False)


def did_plan(**overrides) -> dict:
    plan = {
        "title": "Foot patrols in three arrondissements",
        "hypothesis": "Foot patrols reduce assault injuries treated in emergency departments in the treated zones",
        "outcome": {"source": "hospital", "categories": ["assault_injury"]},
        "design": "staggered_did",
        "period": "week",
        "pre_periods": 40,
        "end": "2025-06-30",
        "treated": [{"unit": z, "start": START.isoformat()} for z in TREATED],
        "buffer": [],
        "mde": 0.2,
        "power": 0.8,
        "alpha": 0.05,
    }
    plan.update(overrides)
    return plan
