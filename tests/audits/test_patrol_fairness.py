"""The need-adjusted flag on patrol hours: it flags an allocation that gives a group more hours per unit of need,
and does not flag one in proportion to need (known truth), resampling zones; the audit configuration is the
deployment's."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from observatoire.api.deps import GridCache, StoreReader
from observatoire.api.routes import audits
from observatoire.audits.config import area_groups, load_audit_config
from observatoire.city.profile import CityProfile, load_city
from observatoire.errors import InputError
from observatoire.event.schema import EVENT_SCHEMA
from observatoire.sources.patrols import PATROL_SCHEMA
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore

START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 182


@pytest.fixture(scope="module")
def city() -> CityProfile:
    return load_city()


def _store(root: Path, city: CityProfile, factor: float, seed: int) -> ParquetStore:
    """Need per zone ∝ population × exp(2 × deprivation); independent reports Poisson of it; patrol hours per day
    in proportion to need, times ``factor`` in the zones of the "more_deprived" group (the truth)."""
    rng = np.random.default_rng(seed)
    groups = area_groups(city, load_audit_config().groups)
    zones = list(city.zones)
    need = np.array([z.population * np.exp(2 * z.covariates["deprivation"]) for z in zones])
    need = need / need.sum()
    rows = []
    for zi, z in enumerate(zones):
        for i in range(int(rng.poisson(4000 * need[zi]))):
            occurred = START + timedelta(seconds=int(rng.integers(DAYS * 86400)))
            rows.append({
                "event_id": "hospital:" + hashlib.sha256(f"{z.zone_id}:{i}".encode()).hexdigest()[:24],
                "source": "hospital", "category": "assault_injury", "occurred_at": occurred,
                "time_precision": "day", "reported_at": occurred, "lon": None, "lat": None,
                "location_precision_m": None, "zone_id": z.zone_id, "h3_r9": None, "h3_r8": None, "h3_r7": None,
                "discovery": "independent", "attributes": None, "pseudonyms": None, "batch_id": "t-hospital",
                "source_file": "hospital.csv", "source_row": len(rows) + 1,
                "ingested_at": datetime(2025, 3, 1, tzinfo=UTC), "retention_until": date(2030, 1, 1),
                "month": occurred.strftime("%Y-%m")})
    events = pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)
    weight = need * np.array([factor if groups[z.zone_id] == "more_deprived" else 1.0 for z in zones])
    shifts = []
    for d in range(DAYS):
        day = START + timedelta(days=d)
        hours = rng.multinomial(1200, weight / weight.sum()) * 0.5       # half hours, noisy by day
        shifts += [{"shift_start": day + timedelta(hours=6), "shift_end": day + timedelta(hours=14), "shift": "matin",
                    "zone_id": z.zone_id, "officers": int(h // 8), "patrol_hours": float(h)}
                   for z, h in zip(zones, hours)]
    store = ParquetStore(root, zone_ids=city.zone_ids)
    store.commit(Batch(batch_id="t-hospital", source="hospital", source_file="hospital.csv", file_sha256="0" * 64,
                       rows_read=events.num_rows, events=events))
    patrols = pa.Table.from_pylist(shifts, schema=PATROL_SCHEMA)
    store.commit(Batch(batch_id="t-patrols", source="patrols", source_file="patrols.csv", file_sha256="1" * 64,
                       rows_read=patrols.num_rows, reference=patrols))
    return store


def _client(store: ParquetStore, city: CityProfile, config=None) -> TestClient:
    app = FastAPI()
    app.state.city, app.state.store, app.state.grids = city, StoreReader(store), GridCache(city)
    if config is not None:
        app.state.audit_config = config
    app.add_exception_handler(InputError, lambda _r, exc: __import__("fastapi").responses.JSONResponse(
        {"detail": str(exc)}, status_code=422))
    app.include_router(audits.router)
    return TestClient(app)


def _per_need(body: dict) -> dict:
    [row] = [r for r in body["audit"]["ratios"] if r["measure"] == "per_need"]
    return row


@pytest.mark.parametrize("factor, flagged", [(1.5, True), (1.0, False)])
def test_patrol_hours_per_unit_of_need_flag_the_injected_bias_and_not_a_fair_allocation(
        tmp_path: Path, city: CityProfile, factor: float, flagged: bool) -> None:
    store = _store(tmp_path / "store", city, factor, seed=11)
    with _client(store, city) as client:
        r = client.get("/api/v1/audits/fairness", params={"allocation": "patrols", "train_days": DAYS,
                                                          "end": (START + timedelta(days=DAYS)).date().isoformat()})
    assert r.status_code == 200, r.text
    body = r.json()
    row = _per_need(body)
    assert row["ci_low"] <= factor <= row["ci_high"], row          # the truth inside the interval
    assert abs(row["ratio"] - factor) < 0.1 * factor
    assert row["flagged"] is flagged
    assert body["audit"]["resampled"] == "areas" and body["audit"]["areas"] == {"less_deprived": 11,
                                                                                "more_deprived": 5}
    assert body["allocation"]["kind"] == "patrols" and body["exposure_unit"] == "patrol hours"
    assert body["allocation"]["patrol_hours"] == pytest.approx(DAYS * 600)
    assert "selected" not in body["allocation"]


def test_without_patrol_records_the_audit_says_so(tmp_path: Path, city: CityProfile) -> None:
    with _client(ParquetStore(tmp_path / "empty", zone_ids=city.zone_ids), city) as client:
        r = client.get("/api/v1/audits/fairness", params={"allocation": "patrols"})
    assert r.status_code == 422 and "no patrol records" in r.json()["detail"]


# -- the deployment's configuration ------------------------------------------------------------------------------
def _config_file(tmp_path: Path, groups: str) -> Path:
    packaged = (Path(audits.__file__).parents[2] / "audits" / "audits.toml").read_text(encoding="utf-8")
    start = packaged.index("[groups]")
    stop = packaged.index("[fairness]")
    path = tmp_path / "audits.toml"
    path.write_text(packaged[:start] + groups + "\n" + packaged[stop:], encoding="utf-8")
    return path


def test_a_deployment_cuts_its_own_groups_by_quantiles_and_the_route_uses_them(tmp_path: Path,
                                                                             city: CityProfile) -> None:
    from observatoire.settings import Settings

    path = _config_file(tmp_path, '[groups]\nindicator = "deprivation"\nquantiles = 3\n'
                                  'labels = ["low", "middle", "high"]\nreference = "low"\n')
    config = Settings(audits_path=path).audit_config()
    groups = area_groups(city, config.groups)
    sizes = {g: list(groups.values()).count(g) for g in ("low", "middle", "high")}
    assert sum(sizes.values()) == 16 and all(5 <= n <= 6 for n in sizes.values()), sizes   # tertiles of 16 zones
    store = _store(tmp_path / "store", city, 1.0, seed=3)
    with _client(store, city, config) as client:
        body = client.get("/api/v1/audits/fairness", params={"allocation": "patrols", "train_days": DAYS}).json()
    assert body["groups_by"]["labels"] == ["low", "middle", "high"] and len(body["groups_by"]["cuts"]) == 2
    assert {g["group"] for g in body["audit"]["groups"]} == {"low", "middle", "high"}
    assert {(r["group"], r["reference"]) for r in body["audit"]["ratios"]} == {("middle", "low"), ("high", "low")}


def test_a_group_with_too_few_zones_is_refused_with_its_size(tmp_path: Path, city: CityProfile) -> None:
    path = _config_file(tmp_path, '[groups]\nindicator = "deprivation"\ncuts = [0.9]\n'
                                  'labels = ["rest", "most_deprived"]\nreference = "rest"\n')
    config = load_audit_config(path)
    with pytest.raises(InputError, match=r"most_deprived \(2 zones\).*at least 3"):
        area_groups(city, config.groups)
    store = _store(tmp_path / "store", city, 1.0, seed=4)
    with _client(store, city, config) as client:
        r = client.get("/api/v1/audits/fairness", params={"allocation": "patrols"})
    assert r.status_code == 422 and "fewer than 3 zones" in r.json()["detail"]


@pytest.mark.parametrize("groups, message", [
    ('cuts = [0.5]\nquantiles = 2\nlabels = ["a", "b"]', "either cuts"),
    ('quantiles = 1\nlabels = ["a"]', "integer >= 2"),
    ('quantiles = 3\nlabels = ["a", "b"]', "one distinct label per quantile"),
])
def test_a_bad_group_configuration_is_refused(tmp_path: Path, groups: str, message: str) -> None:
    path = _config_file(tmp_path, f'[groups]\nindicator = "deprivation"\n{groups}\nreference = "a"\n')
    with pytest.raises(InputError, match=message):
        load_audit_config(path)


@pytest.mark.slow       # two simulated city-years at half scale, about 8 s each
@pytest.mark.parametrize("factor, flagged", [(1.5, True), (1.0, False)])
def test_on_the_simulated_city_the_patrol_flag_follows_the_injected_over_deployment(
        tmp_path: Path, city: CityProfile, factor: float, flagged: bool) -> None:
    """The simulator over-deploys patrols ``factor`` times per unit of need in the zones whose deprivation reaches
    0.7 (the "more_deprived" group: the same five zones). Through the gate, the store and the route, the per-need
    ratio of patrol hours estimates the factor (hospital-recorded assaults as the need) and flags it only when it
    is there."""
    from observatoire.gate.admit import Gate
    from observatoire.gate.policy import load_policies
    from observatoire.gate.pseudonym import load_keyring
    from observatoire.ingest.pipeline import ingest
    from observatoire.simulate import simulate_city_year
    from observatoire.simulate.parameters import PatrolParameters, SimulationParameters
    from observatoire.sources.registry import load_sources

    params = SimulationParameters(patrols=PatrolParameters(over_deployment_factor=factor))
    exports = simulate_city_year(city, tmp_path / "sim", seed=7, year=2025, scale=0.5, parameters=params).exports
    store = ParquetStore(tmp_path / "store", zone_ids=city.zone_ids)
    gate = Gate(load_policies(), load_keyring(tmp_path / "keys" / "k.key", create=True), None)
    reports = ingest([exports["hospital"], exports["patrols"]], store=store, city=city, sources=load_sources(),
                     gate=gate, now=datetime(2026, 1, 15, tzinfo=UTC))
    assert all(r.committed for r in reports)
    with _client(store, city) as client:
        r = client.get("/api/v1/audits/fairness", params={"allocation": "patrols", "train_days": 365,
                                                          "end": "2026-01-01"})
    assert r.status_code == 200, r.text
    row = _per_need(r.json())
    assert row["ci_low"] <= factor <= row["ci_high"] and row["flagged"] is flagged, row


# -- a selection of cells against the selection need alone would make ---------------------------------------------
def _points_store(root: Path, city: CityProfile, directed_boost: float, seed: int) -> ParquetStore:
    """A year of located events: independent reports spread over each zone in proportion to its need (population
    × exp(2 × deprivation)), and as many directed discoveries again whose zones are weighted ``directed_boost``
    times more in the "more_deprived" group (where attention is sent beyond need)."""
    import shapely

    rng = np.random.default_rng(seed)
    groups = area_groups(city, load_audit_config().groups)
    zones = list(city.zones)
    need = np.array([z.population * np.exp(2 * z.covariates["deprivation"]) for z in zones])
    boost = np.array([directed_boost if groups[z.zone_id] == "more_deprived" else 1.0 for z in zones])
    rows = []
    for discovery, weight in (("independent", need), ("directed", need * boost)):
        counts = rng.multinomial(3000, weight / weight.sum())
        for z, n in zip(zones, counts):
            x0, y0, x1, y1 = z.geometry.bounds
            pts: list = []
            while len(pts) < n:
                cand = shapely.points(rng.uniform(x0, x1, 4 * n + 8), rng.uniform(y0, y1, 4 * n + 8))
                pts += [p for p in cand[shapely.contains(z.geometry, cand)]][: n - len(pts)]
            for p in pts:
                occurred = START + timedelta(seconds=int(rng.integers(365 * 86400)))
                rows.append({
                    "event_id": "mains_courantes:" + hashlib.sha256(f"{len(rows)}".encode()).hexdigest()[:24],
                    "source": "mains_courantes", "category": "violence", "occurred_at": occurred,
                    "time_precision": "minute", "reported_at": occurred, "lon": p.x, "lat": p.y,
                    "location_precision_m": 10.0, "zone_id": z.zone_id, "h3_r9": None, "h3_r8": None,
                    "h3_r7": None, "discovery": discovery, "attributes": None, "pseudonyms": None,
                    "batch_id": "t-mc", "source_file": "mc.csv", "source_row": len(rows) + 1,
                    "ingested_at": datetime(2025, 3, 1, tzinfo=UTC), "retention_until": date(2030, 1, 1),
                    "month": occurred.strftime("%Y-%m")})
    events = pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)
    store = ParquetStore(root, zone_ids=city.zone_ids)
    store.commit(Batch(batch_id="t-mc", source="mains_courantes", source_file="mc.csv", file_sha256="2" * 64,
                       rows_read=events.num_rows, events=events))
    return store


@pytest.mark.parametrize("boost, training, flagged", [(4.0, "all", True), (1.0, "all", False),
                                                      (4.0, "independent", False)])
def test_a_cell_selection_is_flagged_against_need_only_when_it_goes_beyond_need(
        tmp_path: Path, city: CityProfile, boost: float, training: str, flagged: bool) -> None:
    """Top cells chosen from all discoveries, where directed attention is sent 4 times beyond need to the deprived
    zones, are flagged against the cells need alone would choose; chosen from independent reports only, or with no
    directed excess, they are not (although the raw per-need ratio of any top-cell selection favours high need)."""
    store = _points_store(tmp_path / "store", city, boost, seed=5)
    with _client(store, city) as client:
        r = client.get("/api/v1/audits/fairness", params={"method": "historical_average", "cell_m": 1000, "k": 0.1,
                                                          "train_days": 300, "training": training,
                                                          "end": "2024-12-01"})
    assert r.status_code == 200, r.text
    against = r.json()["against_need_allocation"]
    [row] = against["audit"]["ratios"]
    raw = next(x for x in r.json()["audit"]["ratios"] if x["measure"] == "per_need")
    assert row["measure"] == "per_need" and row["flagged"] is flagged, row
    if not flagged:     # the raw per-need ratio favours high need (about 2) where the comparator's is about 1
        assert raw["ratio"] > 1.5 and 0.8 < row["ratio"] < 1.25, (raw, row)
    assert against["audit"]["resampled"] == "areas" and against["cells"] == len(r.json()["allocation"]["selected"])
