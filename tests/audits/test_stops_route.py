"""``GET /api/v1/audits/stops`` on stop records that went the whole way: simulated export, connector, gate,
store. With the simulator's injected disparity by area group the route flags it; with none it does not (at
the seeded sample). Degenerate input is refused with a 422 that says what is missing; group columns are
dropped by the packaged policy and kept only when a deployment declares them lawful with a legal basis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from observatoire.api.deps import GridCache, StoreReader
from observatoire.api.routes import audits
from observatoire.audits.stops import rate_test
from observatoire.city.profile import CityProfile, load_city
from observatoire.errors import InputError
from observatoire.gate.admit import Gate
from observatoire.gate.policy import load_policies
from observatoire.gate.pseudonym import KeyRing
from observatoire.ingest.pipeline import ingest
from observatoire.simulate.clock import make_clock
from observatoire.simulate.geography import make_frame
from observatoire.simulate.incidents import background_rates
from observatoire.simulate.parameters import SimulationParameters, StopParameters
from observatoire.simulate.patrols import simulate_patrols
from observatoire.simulate.stops import simulate_stops, write_stops
from observatoire.sources.registry import load_sources
from observatoire.store.parquet import ParquetStore
from tests.conftest import NOW

PACKAGED = Path(__file__).resolve().parents[2] / "src" / "observatoire" / "gate" / "policies.toml"
HEADER = "stop_id;occurred_at;zone;reason;initiated;person_searched;vehicle_searched;found;outcome"
FAIR = StopParameters(stops_per_year=8000.0, daylight_excess=0.0, search_ratio=1.0, hit_gap=0.0)
BIASED = StopParameters(stops_per_year=8000.0)          # the defaults: daylight ×1.5, searches ×1.5, hits −10 pts


def _client(store: ParquetStore, city: CityProfile, policy_path: Path | None = None) -> TestClient:
    app = FastAPI()
    app.state.city = city
    app.state.store = StoreReader(store)
    app.state.grids = GridCache(city)
    app.state.settings = SimpleNamespace(policy_path=policy_path)
    app.add_exception_handler(InputError, lambda _r, exc: JSONResponse({"detail": str(exc)}, status_code=422))
    app.include_router(audits.router)
    return TestClient(app)


def _ingest(tmp: Path, city: CityProfile, gate: Gate, files: list[Path]) -> ParquetStore:
    store = ParquetStore(tmp / "store", zone_ids=city.zone_ids)
    reports = ingest(files, store=store, city=city, sources=load_sources(), gate=gate, source_name="stops", now=NOW)
    assert all(r.quarantined == 0 for r in reports), [r.reasons for r in reports]
    return store


def _simulated(tmp: Path, city: CityProfile, gate: Gate, params: StopParameters, seed: int) -> ParquetStore:
    frame = make_frame(city)
    clock = make_clock(city.timezone, 2024)
    defaults = SimulationParameters()
    rates = background_rates(frame, defaults.incidents, 1.0)
    rng_patrols, rng_stops = np.random.default_rng(seed).spawn(2)
    patrols = simulate_patrols(rng_patrols, frame, clock, rates.need_share, defaults.patrols)
    centre = city.outline.centroid
    stops = simulate_stops(rng_stops, frame, clock, patrols, params, 1.0, lat=centre.y, lon=centre.x)
    path = tmp / "stops_2024.csv"
    write_stops(path, stops, frame, clock)
    return _ingest(tmp, city, gate, [path])


@pytest.fixture(scope="module")
def stop_city() -> CityProfile:
    return load_city()


@pytest.fixture(scope="module")
def stop_gate(keyring: KeyRing) -> Gate:
    return Gate(load_policies(), keyring, None)


@pytest.fixture(scope="module")
def biased(tmp_path_factory: pytest.TempPathFactory, stop_city: CityProfile, stop_gate: Gate) -> Iterator[TestClient]:
    with _client(_simulated(tmp_path_factory.mktemp("biased"), stop_city, stop_gate, BIASED, 4), stop_city) as c:
        yield c


@pytest.fixture(scope="module")
def fair(tmp_path_factory: pytest.TempPathFactory, stop_city: CityProfile, stop_gate: Gate) -> Iterator[TestClient]:
    with _client(_simulated(tmp_path_factory.mktemp("fair"), stop_city, stop_gate, FAIR, 4), stop_city) as c:
        yield c


def _comparison(body: dict, test: str) -> dict:
    [c] = body[test]["comparisons"]
    return c


def test_the_injected_disparity_is_flagged(biased: TestClient) -> None:
    r = biased.get("/api/v1/audits/stops")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["group_column"] == "area_group" and body["reference"] == "less_deprived"
    assert body["target"] == "more_deprived" and body["flagged"] and body["conclusive"]
    search, hit = _comparison(body, "search_rate"), _comparison(body, "hit_rate")
    assert search["flagged"] and search["ratio_low"] > 1 and search["ratio_low"] < 1.5 < search["ratio_high"]
    assert hit["flagged"] and hit["difference_high"] < 0 and hit["difference_low"] < -0.1 < hit["difference_high"]
    veil = body["veil_of_darkness"]
    assert veil["primary"]["key"] == "inter_twilight" and veil["primary"]["disparity"] is True
    assert veil["primary"]["ci_low"] < -np.log(1.5) < veil["primary"]["ci_high"]
    assert [w["key"] for w in veil["sensitivity"]] == ["inter_twilight", "narrow", "wide", "dst_30_days"]
    assert all(g["ci_low"] <= g["rate"] <= g["ci_high"] for g in body["search_rate"]["groups"])
    # Stops per 1,000 residents by area group: the hand computation from the groups' sums, zones resampled.
    area = body["stops_per_resident"]
    groups = {g["group"]: g for g in area["groups"]}
    assert sum(g["exposure"] for g in groups.values()) == body["stops"]
    assert sum(g["residents"] for g in groups.values()) == pytest.approx(870_731, rel=0.01)
    [ratio] = area["ratios"]
    more, less = groups["more_deprived"], groups["less_deprived"]
    assert ratio["measure"] == "per_resident" and ratio["ratio"] == pytest.approx(
        (more["exposure"] / more["residents"]) / (less["exposure"] / less["residents"]))
    assert ratio["ci_low"] <= ratio["ratio"] <= ratio["ci_high"]
    assert more["exposure_per_1000"] == pytest.approx(1000 * more["exposure"] / more["residents"])
    assert area["resampled"] == "areas" and area["areas"] == {"less_deprived": 11, "more_deprived": 5}


def test_no_injected_disparity_is_not_flagged(fair: TestClient) -> None:
    r = fair.get("/api/v1/audits/stops")
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body["flagged"] and body["conclusive"]
    search, hit = _comparison(body, "search_rate"), _comparison(body, "hit_rate")
    assert not search["flagged"] and search["ratio_low"] < 1 < search["ratio_high"]
    assert not hit["flagged"] and hit["difference_low"] < 0 < hit["difference_high"]
    assert body["veil_of_darkness"]["primary"]["disparity"] is False


def test_a_period_without_stops_and_an_undeclared_column_are_refused(fair: TestClient) -> None:
    r = fair.get("/api/v1/audits/stops", params={"start": "2030-01-01"})
    assert r.status_code == 422 and "no stop records" in r.json()["detail"]
    r = fair.get("/api/v1/audits/stops", params={"group_column": "perceived_origin"})
    assert r.status_code == 422 and "not declared lawful" in r.json()["detail"]


def _rows(n: int, zones: tuple[str, ...], person: str, found: str) -> list[str]:
    """``n`` stops; ``person``/``found``: a fixed value, or "mix" (every third stop searched; half the searches
    find something)."""
    out = []
    for i in range(n):
        day, minute = 1 + i % 28, i % 600
        p = ("true" if i % 3 == 0 else "false") if person == "mix" else person
        f = ("true" if (i // 6) % 2 == 0 else "false") if found == "mix" else found
        v = "" if person == "" else "false"
        out.append(f"S-{i};{day:02d}/0{1 + i % 9}/2024 {12 + minute // 60:02d}:{minute % 60:02d};{zones[i % len(zones)]};"
                   f"traffic;self;{p};{v};{f if p == 'true' else ''};no_action")
    return out


TWO = ("13203", "13208")                              # more deprived (0.95), less deprived (0.15)


@pytest.mark.parametrize(("rows", "message"), [
    (_rows(200, TWO, "", ""), "no stop record of the period says whether a search took place"),
    (_rows(200, TWO, "false", ""), "every one of the 200 stops is not searched"),
    (_rows(600, TWO, "mix", "true"), "every one of the 200 searches is successful"),
    (_rows(600, TWO, "mix", "false"), "every one of the 200 searches is not successful"),
    (_rows(200, ("13203",), "mix", "mix"), "the reference group 'less_deprived' has no stops"),
    (_rows(200, ("13208",) + ("13203",) * 9, "mix", "mix"), "fewer than 30 stops: less_deprived (20)"),
    (_rows(150, TWO, "mix", "mix"), "fewer than 30 searches"),
])
def test_degenerate_input_is_refused_with_what_is_missing(rows: list[str], message: str, tmp_path: Path,
                                                         stop_city: CityProfile, stop_gate: Gate) -> None:
    path = tmp_path / "stops_hand.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    with _client(_ingest(tmp_path, stop_city, stop_gate, [path]), stop_city) as client:
        r = client.get("/api/v1/audits/stops")
    assert r.status_code == 422 and message in r.json()["detail"], r.text


def _with_groups(tmp_path: Path) -> Path:
    """An export carrying perceived_origin: a few hundred stops, searches and hits in both groups."""
    rng = np.random.default_rng(0)
    lines = [HEADER + ";perceived_origin"]
    for i in range(400):
        group = "a" if i % 2 else "b"
        searched = rng.random() < 0.4
        found = ("true" if rng.random() < 0.3 else "false") if searched else ""
        lines.append(f"S-{i};{1 + i % 28:02d}/0{1 + i % 9}/2024 {17 + i % 5}:{i % 60:02d};13208;suspicion;self;"
                     f"{'true' if searched else 'false'};false;{found};no_action;{group}")
    path = tmp_path / "stops_groups.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_group_column_is_refused_by_default(tmp_path: Path, stop_city: CityProfile, stop_gate: Gate) -> None:
    store = ParquetStore(tmp_path / "store", zone_ids=stop_city.zone_ids)
    [report] = ingest([_with_groups(tmp_path)], store=store, city=stop_city, sources=load_sources(), gate=stop_gate,
                      source_name="stops", now=NOW)
    assert report.admitted == 0 and report.quarantined == 400 and report.reasons == {"refused_field": 400}
    quarantined = store.quarantine().to_pyarrow()
    assert set(quarantined["detail"].to_pylist()) == {"field perceived_origin must never be sent"}
    assert store.events().count().to_pyarrow().as_py() == 0
    assert not any(v in str(quarantined.to_pylist()) for v in ('"a"', "'a'", "'b'"))     # the values nowhere
    # An export that cannot leave the column out: the deployment drops it (read, never stored).
    dropping = tmp_path / "dropping.toml"
    dropping.write_text(PACKAGED.read_text(encoding="utf-8").replace('perceived_origin = "refuse"',
                                                                     'perceived_origin = "drop"'), encoding="utf-8")
    store = ParquetStore(tmp_path / "store2", zone_ids=stop_city.zone_ids)
    [report] = ingest([_with_groups(tmp_path)], store=store, city=stop_city, sources=load_sources(),
                      gate=Gate(load_policies(dropping), stop_gate.keyring, None), source_name="stops", now=NOW)
    assert report.admitted == 400 and report.dropped_fields.get("perceived_origin") == "drop"
    attrs = store.events().to_pyarrow()["attributes"].to_pylist()
    assert all(a["stops"]["perceived_origin"] is None for a in attrs)        # never stored
    with _client(store, stop_city) as client:
        r = client.get("/api/v1/audits/stops", params={"group_column": "perceived_origin"})
    assert r.status_code == 422 and "not declared lawful" in r.json()["detail"]


def _city_policy(tmp_path: Path, basis: str | None) -> Path:
    text = PACKAGED.read_text(encoding="utf-8").replace(
        'perceived_origin = "refuse"', 'perceived_origin = { action = "keep:vocabulary", values = ["a", "b"] }')
    if basis is not None:
        text = text.replace("[stops.lawful]\n", f'[stops.lawful]\nperceived_origin = "{basis}"\n')
    path = tmp_path / "city_policies.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_group_column_declared_lawful_is_kept_and_audited(tmp_path: Path, stop_city: CityProfile,
                                                             keyring: KeyRing) -> None:
    policy = _city_policy(tmp_path, "Loi n° 0000-00, art. 1 (exemple)")
    store = _ingest(tmp_path, stop_city, Gate(load_policies(policy), keyring, None), [_with_groups(tmp_path)])
    with _client(store, stop_city, policy) as client:
        r = client.get("/api/v1/audits/stops", params={"group_column": "perceived_origin", "reference_group": "a"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["legal_basis"].startswith("Loi n° 0000-00") and body["target"] == "b"
    assert {g["group"] for g in body["search_rate"]["groups"]} == {"a", "b"}
    assert body["search_rate"]["groups"][0]["records"] == 200


def test_a_group_column_kept_without_a_legal_basis_is_refused(tmp_path: Path, stop_city: CityProfile,
                                                               keyring: KeyRing) -> None:
    policy = _city_policy(tmp_path, None)
    store = _ingest(tmp_path, stop_city, Gate(load_policies(policy), keyring, None), [_with_groups(tmp_path)])
    with _client(store, stop_city, policy) as client:
        r = client.get("/api/v1/audits/stops", params={"group_column": "perceived_origin"})
    assert r.status_code == 422 and "without a legal basis" in r.json()["detail"]




def test_a_group_whose_every_search_found_something_is_refused_not_reported_as_infinite() -> None:
    groups = np.array(["a"] * 50 + ["b"] * 50, dtype=object)
    found = np.array([True] * 50 + [True, False] * 25)
    with pytest.raises(InputError, match="every one of the 50 searches of group a is successful"):
        rate_test(groups, found, reference="b", level=0.95, minimum=30, records="searches", event="successful")
