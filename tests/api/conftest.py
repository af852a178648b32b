"""A small synthetic store and an app over it, for the API and page tests.

The events are generated with a fixed seed: three sources, sixteen UTC months
(2023-11 to 2025-02, so 2024 is the last full year), points at the
representative point of their zone, about one event in ten without a zone,
and a few events on UTC month boundaries.

Access: the app keeps its accounts, sessions and audit log in temporary folders;
one account per role (login = the role's name, password ``PASSWORD``; argon2 at
its cheapest so that tests stay fast). ``client`` is logged in as a supervisor
(the role that reads every existing data route); ``anonymous`` is not logged in;
``login_as(client, role)`` logs any TestClient in through the form.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from observatoire.api.app import create_app
from observatoire.city.profile import CityProfile, load_city
from observatoire.event.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from observatoire.settings import Settings
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore

SEED = 20240917
MONTHS = [f"{y}-{m:02d}" for y, m in [(2023, 11), (2023, 12)] + [(2024, m) for m in range(1, 13)]
          + [(2025, 1), (2025, 2)]]
SOURCES: dict[str, tuple[str, ...]] = {
    "mains_courantes": ("violence", "theft", "nuisance", "public_order"),
    "verbalisations": ("parking_offence", "traffic_offence", "municipal_offence"),
    "municipal_reports": ("intervention", "assistance", "operator_report"),
}
EVENTS_PER_SOURCE = {"mains_courantes": 320, "verbalisations": 240, "municipal_reports": 160}
# Events on UTC month boundaries (mains_courantes, zone 13201): 23:30 UTC on 31 March is March in UTC.
BOUNDARY_TIMES = (
    datetime(2024, 3, 31, 23, 30, tzinfo=UTC),
    datetime(2024, 4, 1, 0, 0, tzinfo=UTC),
    datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2025, 1, 1, 0, 0, tzinfo=UTC),
)
NO_ZONE_SHARE = 0.1
EMPTY_ZONE = "13216"      # no verbalisations there: a zone with a zero count


@dataclass(frozen=True, slots=True)
class Spec:
    """What one synthetic batch contains."""

    source: str
    n: int
    categories: tuple[str, ...]
    extra_times: tuple[datetime, ...] = ()


def _month_start(month: str) -> datetime:
    return datetime(int(month[:4]), int(month[5:]), 1, tzinfo=UTC)


def _random_times(rng: np.random.Generator, n: int, months: Sequence[str]) -> list[datetime]:
    out = []
    for i in range(n):
        # Cycle through the months first so that every month has events, then draw.
        month = months[i % len(months)] if i < 2 * len(months) else months[rng.integers(len(months))]
        start = _month_start(month)
        following = (start + timedelta(days=32)).replace(day=1)
        span = (following - start).total_seconds()
        out.append(start + timedelta(seconds=int(rng.integers(int(span)))))
    return out


def synthetic_events(city: CityProfile, spec: Spec, rng: np.random.Generator, batch_id: str) -> pa.Table:
    """A valid canonical-event table of ``spec.n`` random events plus ``spec.extra_times`` events.

    Located events carry the representative point of their zone; about
    ``NO_ZONE_SHARE`` have neither zone nor point.
    """
    zones = [z for z in city.zones if not (spec.source == "verbalisations" and z.zone_id == EMPTY_ZONE)]
    weights = np.array([z.population for z in zones], float) * rng.uniform(0.3, 3.0, len(zones))
    weights /= weights.sum()
    points = {z.zone_id: z.geometry.representative_point() for z in zones}
    times = _random_times(rng, spec.n, MONTHS) + list(spec.extra_times)
    n = len(times)
    rows = []
    for i, occurred in enumerate(times):
        extra = i >= spec.n
        located = extra or rng.random() >= NO_ZONE_SHARE
        zone_id = "13201" if extra else (zones[rng.choice(len(zones), p=weights)].zone_id if located else None)
        point = points[zone_id] if zone_id else None
        digest = hashlib.sha256(f"{batch_id}:{i}".encode()).hexdigest()[:24]
        rows.append({
            "event_id": f"{spec.source}:{digest}",
            "source": spec.source,
            "category": spec.categories[int(rng.integers(len(spec.categories)))],
            "occurred_at": occurred,
            "time_precision": "minute",
            "reported_at": occurred + timedelta(hours=1),
            "lon": point.x if point else None,
            "lat": point.y if point else None,
            "location_precision_m": 10.0 if point else None,
            "zone_id": zone_id,
            "h3_r9": None, "h3_r8": None, "h3_r7": None,
            "discovery": "independent",
            "attributes": None,
            "pseudonyms": None,
            "batch_id": batch_id,
            "source_file": f"{spec.source}.csv",
            "source_row": i + 1,
            "ingested_at": datetime(2025, 3, 1, tzinfo=UTC),
            "retention_until": date(2030, 1, 1),
            "month": occurred.strftime("%Y-%m"),
        })
    assert len(rows) == n
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def _quarantine(batch_id: str, source: str) -> pa.Table:
    return pa.Table.from_pylist([{
        "batch_id": batch_id, "source": source, "source_file": f"{source}.csv", "source_row": 9999,
        "reason": "bad_timestamp", "detail": "occurred_at: not a date",
        "quarantined_at": datetime(2025, 3, 1, tzinfo=UTC),
    }], schema=QUARANTINE_SCHEMA)


def build_store(root: Path, city: CityProfile) -> ParquetStore:
    """Commit one synthetic batch per source under ``root`` and return the store."""
    rng = np.random.default_rng(SEED)
    store = ParquetStore(root, zone_ids=city.zone_ids)
    for source, categories in SOURCES.items():
        spec = Spec(source, EVENTS_PER_SOURCE[source], categories,
                    BOUNDARY_TIMES if source == "mains_courantes" else ())
        batch_id = f"test-{source}"
        events = synthetic_events(city, spec, rng, batch_id)
        # Each batch carries one quarantined row as well (a real ingest usually has some).
        store.commit(Batch(batch_id=batch_id, source=source, source_file=f"{source}.csv",
                           file_sha256="0" * 64, rows_read=events.num_rows + 1,
                           events=events, quarantine=_quarantine(batch_id, source)))
    return store


def duckdb_counts(
    files: Sequence[Path],
    *,
    start: date | None = None,
    end: date | None = None,
    sources: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
) -> dict[str | None, int]:
    """Counts per zone straight from the Parquet files with DuckDB SQL (the reference for the API)."""
    def quoted(values: Sequence[str | Path]) -> str:
        return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)

    where = ["TRUE"]
    if start:
        where.append(f"occurred_at >= TIMESTAMPTZ '{start.isoformat()} 00:00:00+00'")
    if end:
        where.append(f"occurred_at < TIMESTAMPTZ '{end.isoformat()} 00:00:00+00'")
    if sources:
        where.append(f"source IN ({quoted(sources)})")
    if categories:
        where.append(f"category IN ({quoted(categories)})")
    sql = (f"SELECT zone_id, count(*) AS n FROM read_parquet([{quoted(files)}], hive_partitioning = false) "
           f"WHERE {' AND '.join(where)} GROUP BY zone_id")
    with duckdb.connect() as con:
        return {zone: int(n) for zone, n in con.sql(sql).fetchall()}


@pytest.fixture(scope="session")
def city() -> CityProfile:
    return load_city()


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory, city: CityProfile) -> Path:
    root = tmp_path_factory.mktemp("store")
    build_store(root, city)
    return root


@pytest.fixture(scope="session")
def store(store_dir: Path, city: CityProfile) -> ParquetStore:
    return ParquetStore(store_dir, zone_ids=city.zone_ids)


@pytest.fixture(scope="session")
def reference_counts(store: ParquetStore) -> Callable[..., dict[str | None, int]]:
    """:func:`duckdb_counts` over the store's files: ``reference_counts(start=..., sources=[...])``."""
    return partial(duckdb_counts, store.event_files())


@pytest.fixture(scope="session")
def months() -> list[str]:
    """The UTC months the synthetic store covers, in order."""
    return list(MONTHS)


@pytest.fixture(scope="session")
def empty_zone() -> str:
    """A zone without any verbalisation in the synthetic store."""
    return EMPTY_ZONE


# The tests' "now": the day the synthetic batches were ingested (every record within its retention).
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
ROLES = ("analyst", "operator", "supervisor", "dpo", "auditor", "admin")
# argon2id at its cheapest (tests only): the packaged parameters cost ~0.1 s a hash.
FAST_AUTH_TOML = "[passwords]\ntime_cost = 1\nmemory_kib = 8\nparallelism = 1\n"


def governance_settings(root: Path, **overrides: object) -> Settings:
    """Settings whose accounts, sessions, audit log and registries live under ``root`` (cookies not Secure:
    the test server speaks plain http)."""
    (root / "auth").mkdir(parents=True, exist_ok=True, mode=0o700)
    (root / "auth" / "auth.toml").write_text(FAST_AUTH_TOML)
    values: dict[str, object] = dict(auth_dir=root / "auth", audit_dir=root / "audit", registry_dir=root / "registry",
                                     evaluations_dir=root / "evaluations", holds_path=root / "holds.json",
                                     releases_dir=root / "releases",
                                     secure_cookies=False, clock=lambda: NOW)
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def add_role_accounts(app: FastAPI) -> None:
    """One account per role: login = role name, password = PASSWORD."""
    for role in ROLES:
        if app.state.auth.accounts.get(role) is None:
            app.state.auth.accounts.add(role, role, PASSWORD)


def login_as(client: TestClient, login: str, password: str = PASSWORD) -> TestClient:
    """Log ``client`` in through the form (GET /login for its CSRF token, then POST /login)."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "the login form carries no CSRF token"
    response = client.post("/login", data={"login": login, "password": password, "csrf_token": token.group(1)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture(scope="session")
def settings(store_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return governance_settings(tmp_path_factory.mktemp("governance"), store_dir=store_dir)


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    add_role_accounts(app)
    return app


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    """Logged in as a supervisor (reads the analysts' and the operators' routes)."""
    with TestClient(app) as c:
        yield login_as(c, "supervisor")


@pytest.fixture(scope="session")
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def browser_login() -> Callable[..., None]:
    """``browser_login(page, base_url, role="supervisor")``: log a Playwright page in through the form."""
    def log_in(page: object, base_url: str, role: str = "supervisor") -> None:
        page.goto(f"{base_url}/login")                       # type: ignore[attr-defined]
        page.fill("#login", role)                            # type: ignore[attr-defined]
        page.fill("#password", PASSWORD)                     # type: ignore[attr-defined]
        page.click("#submit")                                # type: ignore[attr-defined]
        page.wait_for_url(f"{base_url}/")                    # type: ignore[attr-defined]
    return log_in


def wait_until(page: object, expression: str, *, arg: object = None, timeout: float = 30000) -> None:
    """Poll ``expression`` (a JavaScript expression or function of ``arg``) until it is truthy.

    Playwright's ``wait_for_function`` polls with ``eval``, which the pages' Content-Security-Policy forbids (no
    ``'unsafe-eval'``, as it should); ``page.evaluate`` goes through the DevTools protocol, which the policy does
    not govern. The browser tests thus run the pages under the policy they are served with."""
    import time

    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression, arg):                # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout:g} ms: {expression[:120]}")
        page.wait_for_timeout(50)                            # type: ignore[attr-defined]

