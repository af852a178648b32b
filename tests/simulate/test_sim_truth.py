"""The ground truth: its files, the incident process, and the documented parameters."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.city.geo import assign_zones, local_metres
from observatoire.city.profile import CityProfile
from observatoire.simulate import SimulationParameters
from observatoire.simulate.vocab import INCIDENT_CATEGORIES
from sim_helpers import read_parquet, within_binomial, within_poisson

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"


def test_parameters_json_holds_every_parameter_and_the_seed(run) -> None:
    p = run.params
    assert p["seed"] == 11 and p["year"] == 2025 and p["scale"] == 0.05
    assert _same(p["parameters"], SimulationParameters().as_dict())
    assert p["true_incidents"] == run.summary.incidents


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def test_every_parameter_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    params = SimulationParameters()
    for section in dataclasses.fields(params):
        for f in dataclasses.fields(getattr(params, section.name)):
            assert f"`{f.name}`" in text, f"{section.name}.{f.name} is not documented in docs/simulator.md"


def test_progress_is_reported_between_steps(run) -> None:
    steps = run.params["_progress"]
    fractions = [f for _, f in steps]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and steps[-1] == ("done", 1.0)
    assert "incidents" in [s for s, _ in steps]


def test_incidents_file_columns(run) -> None:
    inc = read_parquet(run.truth["incidents.parquet"])
    for col in ("incident_id", "occurred_at", "lon", "lat", "zone_id", "category", "parent_id", "generation",
                "recorded_logbook", "logbook_discovery", "hospital", "on_camera"):
        assert col in inc
    assert set(inc["category"]) <= set(INCIDENT_CATEGORIES)
    assert set(inc["logbook_discovery"]) <= {"directed", "independent", None}
    assert (inc["recorded_logbook"] == (inc["logbook_discovery"] != None)).all()  # noqa: E711
    bg = inc["generation"] == 0
    assert all(p is None for p in inc["parent_id"][bg]) and all(p is not None for p in inc["parent_id"][~bg])
    times = inc["occurred_at"].astype("datetime64[s]")
    assert times.min() >= np.datetime64("2024-12-31T23:00:00") and times.max() < np.datetime64("2025-12-31T23:00:00")
    assert len(inc["incident_id"]) == run.summary.incidents


def test_every_true_point_lies_in_its_zone_of_the_city(run, city: CityProfile) -> None:
    inc = read_parquet(run.truth["incidents.parquet"])
    zones = assign_zones(city, inc["lon"], inc["lat"])
    assert (zones == inc["zone_id"]).all()


def test_background_volume_and_category_shares_match_the_parameters(run) -> None:
    inc = read_parquet(run.truth["incidents.parquet"])
    p = run.params["parameters"]["incidents"]
    bg = inc["generation"] == 0
    assert within_poisson(bg.sum(), p["background_per_year"] * 0.05)
    n = int(bg.sum())
    for cat, share in p["category_shares"].items():
        assert within_binomial((inc["category"][bg] == cat).sum(), n, share), cat


def test_background_rate_rises_with_deprivation(run) -> None:
    z = read_parquet(run.truth["zone_rates.parquet"])
    per_capita = z["background_rate_per_year"] / z["population"]
    beta = run.params["parameters"]["incidents"]["deprivation_beta"]
    ratio = per_capita / np.exp(beta * z["deprivation"])
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    assert math.isclose(z["background_rate_per_year"].sum(), 150_000 * 0.05)


def test_offspring_per_incident_is_the_branching_ratio(run) -> None:
    inc = read_parquet(run.truth["incidents.parquet"])
    d = run.params["derived"]
    theta = run.params["parameters"]["incidents"]["branching_ratio"]
    drawn = (inc["generation"] > 0).sum() + d["dropped_offspring_after_year"] + d["dropped_offspring_outside_city"]
    assert within_poisson(drawn, theta * len(inc["generation"]))
    assert d["dropped_offspring_outside_city"] < 0.1 * drawn


def test_offspring_follow_their_parent_in_time_space_and_category(run, city: CityProfile) -> None:
    inc = read_parquet(run.truth["incidents.parquet"])
    index = {k: i for i, k in enumerate(inc["incident_id"])}
    child = np.flatnonzero(inc["generation"] > 0)
    parent = np.array([index[p] for p in inc["parent_id"][child]])
    assert (inc["category"][child] == inc["category"][parent]).all()
    assert (inc["generation"][child] == inc["generation"][parent] + 1).all()
    delay_days = (inc["occurred_at"][child] - inc["occurred_at"][parent]).astype("timedelta64[s]").astype(float) / 86400
    assert (delay_days > 0).all()
    # mean of an exponential truncated by the end of the year: a little under the parameter
    assert 1.5 < delay_days.mean() < 2.3
    x, y = local_metres(inc["lon"], inc["lat"], 5.4, 43.3)
    dist = np.hypot(x[child] - x[parent], y[child] - y[parent])
    # Rayleigh median of an isotropic Gaussian with sigma = 150 m: 176.6 m
    assert 150 < np.median(dist) < 205


def test_time_profiles_put_violence_at_night_and_theft_by_day(run) -> None:
    inc = read_parquet(run.truth["incidents.parquet"])
    local = pc.local_timestamp(pa.array(inc["occurred_at"]).cast(pa.timestamp("us", tz="Europe/Paris")))
    hour = pc.hour(local).to_numpy()
    month = pc.month(local).to_numpy()
    night = (hour >= 22) | (hour < 6)
    assert night[inc["category"] == "violence"].mean() > night[inc["category"] == "theft"].mean() + 0.15
    assert (month == 7).sum() > 1.15 * (month == 2).sum()


def test_zone_rates_and_over_deployment(run) -> None:
    z = read_parquet(run.truth["zone_rates.parquet"])
    factor = run.params["parameters"]["patrols"]["over_deployment_factor"]
    ratio = z["patrol_share"] / z["need_share"]
    over = z["over_deployed"]
    assert over.any() and (~over).any()
    assert (z["deprivation"][over] >= 0.7).all() and (z["deprivation"][~over] < 0.7).all()
    np.testing.assert_allclose(ratio[over] / ratio[~over].mean(), factor)


def test_pii_recorded_actually_occurs_in_the_text(run) -> None:
    from sim_helpers import read_csv, read_jsonl

    pii = read_parquet(run.truth["pii.parquet"])
    assert set(pii["kind"]) == {"name", "phone", "plate", "address", "birth_date", "email"}
    mc = read_csv(run.exports["mains_courantes"]).to_pydict()
    rows = {n: i for i, n in enumerate(mc["numero"])}
    notes = {r["id"]: r["note"] for r in read_jsonl(run.exports["municipal_reports"])}
    for source, rec, field, value in zip(pii["source"], pii["record_id"], pii["field"], pii["value"]):
        text = notes[rec] if source == "municipal_reports" else mc[field][rows[rec]]
        assert value in text, (rec, field)
    assert (pii["source"] == "municipal_reports").any()
    # personal data the way people write it
    values = pii["value"][pii["kind"] == "phone"].tolist()
    assert any(re.fullmatch(r"0\d( \d\d){4}", v) for v in values)
    assert any(re.fullmatch(r"0\d(\.\d\d){4}", v) for v in values)
    assert any(re.fullmatch(r"\+33 \d( \d\d){4}", v) for v in values)
    assert any(re.fullmatch(r"0\d{9}", v) for v in values)
    dates = pii["value"][pii["kind"] == "birth_date"].tolist()
    assert any(re.search(r"[a-zé]+ \d{4}$", v) for v in dates) and any("/" in v for v in dates)
    names = pii["value"][pii["kind"] == "name"].tolist()
    assert any(v == v.lower() for v in names) and any(v.split(" ")[0].isupper() for v in names)


def test_links_tie_records_to_the_truth(run) -> None:
    links = read_parquet(run.truth["links.parquet"])
    inc = read_parquet(run.truth["incidents.parquet"])
    mc = links["source"] == "mains_courantes"
    linked = set(links["incident_id"][mc & (links["kind"] == "incident")])
    assert linked == set(inc["incident_id"][inc["recorded_logbook"]])
    assert mc.sum() == run.summary.rows["mains_courantes"]
    hosp = links["source"] == "hospital"
    assert set(links["incident_id"][hosp]) == set(inc["incident_id"][inc["hospital"]])
